"""The two ends of a probe, run inside a fake VM's namespace (``ip netns exec``).

``probe.py listen PORT...`` serves every port on TCP and UDP, printing ``listening``
once all are bound: a TCP connection gets the address its peer is seen from (one
line) and is closed; a UDP datagram is echoed back.

``probe.py connect HOST PORT TIMEOUT [SOURCE_IP]`` prints how one TCP connection
attempt ended: ``open`` (handshake done), ``refused`` (a reset came back),
``timeout`` (nothing came back: dropped) or ``error: ...``.
``probe.py seen HOST PORT TIMEOUT`` connects and prints the address the listener saw
it come from (``timeout`` ...): what NAT made of the source.
``probe.py udp HOST PORT TIMEOUT`` sends one datagram and prints ``reply`` when the
echo comes back, else ``timeout``.
"""

from __future__ import annotations

import selectors
import socket
import sys


def listen(ports: list[int]) -> None:
    selector = selectors.DefaultSelector()
    for port in ports:
        server = socket.create_server(("0.0.0.0", port), reuse_port=True)
        selector.register(server, selectors.EVENT_READ, "tcp")
        datagrams = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        datagrams.bind(("0.0.0.0", port))
        selector.register(datagrams, selectors.EVENT_READ, "udp")
    print("listening", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "udp":
                data, peer = key.fileobj.recvfrom(2048)
                key.fileobj.sendto(data, peer)
                continue
            connection, peer = key.fileobj.accept()
            try:
                connection.sendall(f"{peer[0]}\n".encode())
            except OSError:
                pass
            connection.close()


def connect(host: str, port: int, timeout: float, source: str | None,
            read: bool = False) -> str:
    with socket.socket() as sock:
        sock.settimeout(timeout)
        if source:
            sock.bind((source, 0))
        try:
            sock.connect((host, port))
            if read:
                return sock.makefile().readline().strip() or "nothing"
        except OSError as error:
            return _failure(error)
    return "open"


def udp(host: str, port: int, timeout: float) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((host, port))
            sock.send(b"netc probe")
            return "reply" if sock.recv(2048) == b"netc probe" else "garbled"
        except OSError as error:
            return _failure(error)


def _failure(error: OSError) -> str:
    """What a probe prints for a socket error: the verdicts the tests read."""
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    return f"error: {error}"


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "listen":
        listen([int(port) for port in arguments])
    elif command == "udp":
        host, port, timeout = arguments
        print(udp(host, int(port), float(timeout)))
    else:
        host, port, timeout, *source = arguments
        print(connect(host, int(port), float(timeout), source[0] if source else None,
                      read=command == "seen"))
