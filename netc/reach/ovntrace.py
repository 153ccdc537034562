"""One long-running ``ovn-trace`` for many questions, and the packets netc asks it about.

Starting ``ovn-trace`` reads the whole Southbound database, which is what a trace
costs at scale, so netc runs one as a daemon (``ovn-trace --detach``) and speaks
JSON-RPC to its control socket directly, with requests pipelined: a trace then costs
a fraction of a millisecond instead of a process start and a database read.

Two facts of OVN 23.03's daemon mode shape this (checked on this machine and in
``utilities/ovn-trace.c``):

- its ``trace`` command takes only the output options (``--minimal`` ...); ``--ct``
  and ``--no-friendly-names`` are accepted only when the daemon starts, and apply to
  every trace;
- the ``--ct`` flags are consumed one per ``ct_next`` action *across* traces, never
  reset. The daemon is therefore started with :data:`CT_STATES` ``--ct=new`` flags,
  and a trace that shows the default (``ct_state=est|trk /* default ...``) means they
  ran out: the daemon is restarted and the trace asked again.

It also reads the Southbound once, when it starts: a daemon answers about the
database as it was then.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CT_STATES = 100_000
"""``--ct=new`` flags given to each daemon (about 900 KB of command line, under
Linux's 2 MB): some twenty thousand traces before it is restarted."""
BATCH = 64
"""Requests in flight on the control socket at once."""
PACKETS_PER_WORKER = 5_000
"""Below this many packets per daemon, one daemon is faster than reading the
Southbound twice."""
START_TIMEOUT = 60.0
DEFAULT_CT = "default (use --ct to customize)"
_OUTPUT = re.compile(r'output\("([^"]*)"\)')


class TraceError(RuntimeError):
    """ovn-trace could not be started, or refused a microflow."""


@dataclass(frozen=True)
class Packet:
    """One microflow on one datapath: what :meth:`OvnTrace.trace_many` takes."""

    datapath: str
    microflow: str


def delivered_to(output: str) -> list[str]:
    """The logical ports a ``--minimal`` trace outputs the packet to."""
    return _OUTPUT.findall(output)


class OvnTrace:
    """``ovn-trace --detach`` against ``db`` (a Southbound remote), until :meth:`close`."""

    def __init__(self, db: str, ssl: tuple[str, str, str] | None = None,
                 ct_states: int = CT_STATES) -> None:
        if shutil.which("ovn-trace") is None:
            raise TraceError("ovn-trace is not installed (Debian package ovn-common)")
        self.db = db
        self.ssl = ssl
        self.ct_states = ct_states
        self.directory = Path(tempfile.mkdtemp(prefix="netc-trace-"))
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.starts = 0
        self.traces = 0
        self._buffer = ""
        self._decoder = json.JSONDecoder()
        self._next_id = 0

    def __enter__(self) -> OvnTrace:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- the daemon
    @property
    def control(self) -> Path:
        return self.directory / "ovn-trace.ctl"

    def start(self) -> None:
        pidfile = self.directory / "ovn-trace.pid"
        argv = ["ovn-trace", f"--db={self.db}", "--detach", "--no-chdir",
                f"--pidfile={pidfile}", f"--unixctl={self.control}",
                f"--log-file={self.directory / 'ovn-trace.log'}", "--no-friendly-names"]
        if self.ssl:
            argv += [f"--private-key={self.ssl[0]}", f"--certificate={self.ssl[1]}",
                     f"--ca-cert={self.ssl[2]}"]
        argv += ["--ct=new"] * self.ct_states
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill_from(pidfile)
            raise TraceError(f"ovn-trace did not read the Southbound {self.db} within "
                             f"{START_TIMEOUT:g}s") from None
        if done.returncode != 0:
            raise TraceError(f"ovn-trace --detach failed: {done.stderr.strip()[-2000:]}")
        self.pid = int(pidfile.read_text().strip())
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(str(self.control))
        self._buffer = ""
        self.starts += 1

    def _kill_from(self, pidfile: Path) -> None:
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            pass

    def _stop(self) -> None:
        if self.sock is not None:
            try:
                self._send({"method": "exit", "params": [], "id": "exit"})
            except OSError:
                pass
            self.sock.close()
            self.sock = None
        if self.pid is not None:
            deadline = time.monotonic() + 5
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
            self.pid = None

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- tracing
    def trace_many(self, packets: list[Packet]) -> list[str]:
        """The ``--minimal`` trace of every packet, in order."""
        outputs: list[str] = []
        fresh = True  # nothing traced since the daemon started
        while len(outputs) < len(packets):
            chunk = packets[len(outputs):len(outputs) + BATCH]
            for packet, answer in zip(chunk, self._pipeline(chunk)):
                if DEFAULT_CT in answer:  # the --ct=new flags ran out: restart, ask again
                    if fresh:
                        raise TraceError(f"one trace needs more than {self.ct_states} "
                                         "ct_next states")
                    self._stop()
                    self.start()
                    fresh = True
                    break
                if answer.startswith(("error parsing flow", "unknown datapath")):
                    raise TraceError(f"ovn-trace refused {packet.microflow!r} on "
                                     f"{packet.datapath}: {answer.strip()}")
                outputs.append(answer)
                fresh = False
        self.traces += len(packets)
        return outputs

    def _pipeline(self, chunk: list[Packet]) -> list[str]:
        ids = []
        for packet in chunk:
            self._next_id += 1
            ids.append(self._next_id)
            self._send({"method": "trace", "params": ["--minimal", packet.datapath,
                                                      packet.microflow],
                        "id": self._next_id})
        answers = []
        for expected in ids:
            reply = self._receive()
            if reply.get("id") != expected:
                raise TraceError(f"ovn-trace answered request {reply.get('id')} when "
                                 f"{expected} was due")
            if reply.get("error") is not None:
                raise TraceError(f"ovn-trace: {reply['error']}")
            answers.append(reply["result"])
        return answers

    def _send(self, message: dict) -> None:
        assert self.sock is not None
        self.sock.sendall(json.dumps(message).encode())

    def _receive(self) -> dict:
        assert self.sock is not None
        while True:
            text = self._buffer.lstrip()
            if text:
                try:
                    message, end = self._decoder.raw_decode(text)
                    self._buffer = text[end:]
                    return message
                except ValueError:
                    pass
            data = self.sock.recv(1 << 16)
            if not data:
                raise TraceError("ovn-trace closed its control socket")
            self._buffer = text + data.decode()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def trace_in_parallel(db: str, packets: list[Packet], workers: int,
                      ssl: tuple[str, str, str] | None = None) -> tuple[list[str], int]:
    """Every packet's trace, by ``workers`` daemons at once (each reads the Southbound
    itself: worth it only for many packets); the outputs in order and the number of
    daemons started (restarts included)."""
    workers = max(1, min(workers, len(packets) // PACKETS_PER_WORKER or 1))
    if workers == 1:
        with OvnTrace(db, ssl=ssl) as tracer:
            return tracer.trace_many(packets), tracer.starts
    size = -(-len(packets) // workers)
    chunks = [packets[i:i + size] for i in range(0, len(packets), size)]
    tracers = [OvnTrace(db, ssl=ssl) for _ in chunks]
    results: list[list[str] | BaseException] = [[] for _ in chunks]

    def work(index: int) -> None:
        try:
            tracers[index].start()
            results[index] = tracers[index].trace_many(chunks[index])
        except BaseException as error:  # re-raised below, in the caller's thread
            results[index] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(chunks))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for tracer in tracers:
            tracer.close()
    outputs: list[str] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        outputs.extend(result)
    return outputs, sum(t.starts for t in tracers)
