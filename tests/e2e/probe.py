"""The two ends of a TCP probe, run inside a fake VM's namespace (``ip netns exec``).

``probe.py listen PORT...`` accepts (and closes) connections on every port, printing
``listening`` once all are bound. ``probe.py connect HOST PORT TIMEOUT [SOURCE_IP]``
prints how one connection attempt ended: ``open`` (handshake done), ``refused`` (a
reset came back), ``timeout`` (nothing came back: dropped) or ``error: ...``.
"""

from __future__ import annotations

import selectors
import socket
import sys


def listen(ports: list[int]) -> None:
    selector = selectors.DefaultSelector()
    for port in ports:
        server = socket.create_server(("0.0.0.0", port), reuse_port=True)
        selector.register(server, selectors.EVENT_READ)
    print("listening", flush=True)
    while True:
        for key, _ in selector.select():
            connection, _ = key.fileobj.accept()
            connection.close()


def connect(host: str, port: int, timeout: float, source: str | None) -> str:
    with socket.socket() as sock:
        sock.settimeout(timeout)
        if source:
            sock.bind((source, 0))
        try:
            sock.connect((host, port))
        except TimeoutError:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
        except OSError as error:
            return f"error: {error}"
    return "open"


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "listen":
        listen([int(port) for port in arguments])
    else:
        host, port, timeout, *source = arguments
        print(connect(host, int(port), float(timeout), source[0] if source else None))
