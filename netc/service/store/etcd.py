"""The store of several machines: etcd, through its grpc-gateway JSON API (etcd3gw).

Why etcd3gw: it speaks etcd's HTTP/JSON gateway (``/v3/kv/txn`` ...), so it needs
no generated gRPC stubs and no protobuf version of its own (the ``etcd3`` package
pins an old protobuf and is unmaintained; this process already has grpcio and
protobuf 7 for the NetworkService). It is kept by OpenStack (tooz, Neutron use it).
Only its transport is used here, one client per member: the transaction bodies are
built here, since etcd3gw's helpers cover neither several ranges read at one
revision nor a transaction of puts and deletes guarded by mod_revisions.

Mapping onto etcd:

- ``get``/``range``: one read-only Txn whose requests are the ranges, answered at one
  revision (a read of more requests than a Txn may hold is split, the later parts
  pinned to the first part's revision). Reads are linearizable.
- ``commit``: one Txn. A compare ``mod_revision == N`` is etcd's ``MOD EQUAL N``; for
  N = 0 (the key must be absent) ``VERSION EQUAL 0``, which etcd evaluates on a
  missing key as on a zero key. The puts and deletes are the Txn's success branch.
- failover: ``etcd_endpoint`` lists the members; a request that meets a dead member
  (refused, reset, timed out) or one that cannot serve it now (no leader, leader
  changed: HTTP 503/504 from the gateway) goes to the next, round the list, until
  :data:`DEADLINE` passes; then StoreUnavailable names every member and its error.

A commit whose answer was lost (the member died after receiving it) may have been
applied. It is re-sent to the next member with its failure branch reading the keys
it writes; when the compares now fail, the keys read back tell whose failure it is
(:func:`_own_revision`). A key the commit creates (compared absent) that now holds
the commit's value was created by it: the commit applied at that key's
``create_revision``, even if another writer has changed the project's shared keys
since (replicas serving one project do, within the seconds a failover takes).
Without such a key, the store holding exactly the commit's values at one revision
says the same. A created key holding nothing or another value says the commit lost
to another writer (None, as usual). A commit that creates nothing and whose keys
another writer has changed since cannot be told apart from one that never applied:
that is StoreUnavailable ("outcome unknown"), never "conflict", since a caller that
takes a conflict recomputes and writes again. A write is therefore never applied
twice, and a writer is never told "conflict" about its own write.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

import requests
from etcd3gw.client import Etcd3Client
from requests.adapters import HTTPAdapter

from netc.service.store.base import Compare, Entry, Store, StoreUnavailable

log = logging.getLogger(__name__)

API_PATH = "/v3/"
"""etcd 3.4 and later serve the gateway at /v3/ (3.3 only at /v3beta/)."""
CONNECT_TIMEOUT = 1.0
REQUEST_TIMEOUT = 2.0
"""Seconds one member has to answer before the request goes to the next. A follower
that forwarded a write to a leader that just died holds it until etcd's own timeout
(7 s with the default election timeout); going to another member after 2 s lets the
write through as soon as a new leader is elected. Re-sending is safe: reads are
idempotent and a re-sent commit recognises its own earlier success."""
DEADLINE = 10.0
"""Seconds one store call keeps going round the members before StoreUnavailable:
longer than an election (about 1-2 s with etcd's default timing)."""
PING_DEADLINE = 2.0
"""Seconds ``ping`` (behind ``/ready``) keeps trying members."""
MAX_TXN_OPS = 128
"""etcd's default --max-txn-ops: a read of more keys is split into several Txns."""
POOL_SIZE = 64
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Gateway answers meaning "this member cannot serve it now": ResourceExhausted,
Unavailable (no leader, leader changed), DeadlineExceeded (request timed out)."""
RETRY_MESSAGES = ("etcdserver: leader changed", "etcdserver: no leader",
                  "etcdserver: request timed out", "etcdserver: too many requests",
                  "etcdserver: server stopped", "raft: stopped")


def _b64(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(data).decode("ascii")


def _text(data: str) -> str:
    return base64.b64decode(data).decode("utf-8")


def prefix_end(prefix: str) -> bytes:
    """The smallest key after every key starting with ``prefix`` (etcd's range_end)."""
    data = bytearray(prefix.encode("utf-8"))
    while data:
        if data[-1] < 0xFF:
            data[-1] += 1
            return bytes(data)
        data.pop()
    return b"\0"  # every key


class _Retry(Exception):
    """This member could not serve the request now: try the next one."""

    def __init__(self, reason: str, sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        """Whether the request may have reached the member (a write may be applied)."""


class EtcdStore(Store):
    def __init__(self, endpoints: str, *, request_timeout: float = REQUEST_TIMEOUT,
                 deadline: float = DEADLINE) -> None:
        urls = [url.strip() for url in endpoints.split(",") if url.strip()]
        if not urls:
            raise ValueError("etcd endpoint: no member URL given")
        self.url = "etcd:" + ",".join(urls)
        self.endpoints = urls
        self.request_timeout = request_timeout
        self.deadline = deadline
        self._clients = [self._client(url) for url in urls]
        self._current = 0
        self._lock = threading.Lock()

    @staticmethod
    def _client(url: str) -> Etcd3Client:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"etcd endpoint {url!r}: expected http://HOST:PORT")
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return Etcd3Client(host=parsed.hostname, port=parsed.port or 2379,
                           protocol=parsed.scheme, api_path=API_PATH, session=session)

    # -- one request, failing over between members ---------------------------------

    def request(self, path: str, body: dict, *, on_resend=None,
                deadline: float | None = None) -> dict:
        """POST ``body`` to ``/v3/PATH`` on a member that can serve it, trying members
        for ``deadline`` seconds (default :attr:`deadline`). ``on_resend`` (if given)
        is called with the body before it is sent again after a failure that may have
        reached a member, and returns the body to send instead."""
        deadline = self.deadline if deadline is None else deadline
        started = time.monotonic()
        reasons: dict[str, str] = {}
        pause = 0.02
        sent = False
        while True:
            for _ in range(len(self._clients)):
                index = self._current
                client = self._clients[index]
                if sent and on_resend is not None:
                    body, on_resend = on_resend(body), None
                try:
                    return self._post(client, path, body)
                except _Retry as failure:
                    sent = sent or failure.sent
                    reasons[self.endpoints[index]] = failure.reason
                    with self._lock:
                        if self._current == index:
                            self._current = (index + 1) % len(self._clients)
                if time.monotonic() - started > deadline:
                    raise StoreUnavailable(self._unavailable(reasons, started))
            time.sleep(pause)  # every member failed: give an election time to finish
            pause = min(pause * 2, 0.5)

    def _unavailable(self, reasons: dict[str, str], started: float) -> str:
        listed = "; ".join(f"{url}: {reason}" for url, reason in reasons.items())
        return (f"etcd: no member of {','.join(self.endpoints)} served the request within "
                f"{time.monotonic() - started:.1f}s ({listed})")

    def _post(self, client: Etcd3Client, path: str, body: dict) -> dict:
        try:
            answer = client.session.post(client.base_url + API_PATH + path, data=json.dumps(body),
                                         timeout=(CONNECT_TIMEOUT, self.request_timeout))
        except requests.exceptions.ConnectTimeout as error:
            raise _Retry(f"connect timed out ({error.__class__.__name__})", False) from error
        except requests.exceptions.ConnectionError as error:
            refused = "Connection refused" in str(error) or "NewConnectionError" in str(error)
            raise _Retry("connection refused" if refused else f"connection lost: {error}",
                         not refused) from error
        except requests.exceptions.Timeout as error:
            raise _Retry(f"no answer within {self.request_timeout:g}s", True) from error
        except requests.exceptions.RequestException as error:  # e.g. cut off mid-answer
            raise _Retry(f"broken answer: {error.__class__.__name__}: {error}", True) from error
        if answer.status_code == 200:
            try:
                return answer.json()
            except ValueError as error:
                raise _Retry(f"unreadable answer: {error}", True) from error
        message = _error_message(answer)
        if answer.status_code in RETRY_STATUSES or any(m in message for m in RETRY_MESSAGES):
            raise _Retry(f"HTTP {answer.status_code}: {message}", True)
        raise StoreUnavailable(f"etcd {client.base_url} refused the request: "
                               f"HTTP {answer.status_code}: {message}")

    def txn(self, body: dict, *, on_resend=None) -> dict:
        return self.request("kv/txn", body, on_resend=on_resend)

    # -- the Store interface ---------------------------------------------------------

    def get(self, keys: Iterable[str]) -> dict[str, Entry]:
        return self._read([{"key": _b64(key)} for key in dict.fromkeys(keys)])

    def range(self, prefixes: Iterable[str]) -> dict[str, Entry]:
        return self._read([{"key": _b64(prefix), "range_end": _b64(prefix_end(prefix))}
                           for prefix in dict.fromkeys(prefixes)])

    def _read(self, ranges: list[dict]) -> dict[str, Entry]:
        """Every entry the ranges hold, at one revision."""
        found: dict[str, Entry] = {}
        revision = None
        for start in range(0, len(ranges), MAX_TXN_OPS):
            chunk = ranges[start:start + MAX_TXN_OPS]
            if revision is not None:
                chunk = [dict(r, revision=revision) for r in chunk]
            answer = self.txn({"compare": [],
                               "success": [{"request_range": r} for r in chunk],
                               "failure": []})
            revision = revision or int(answer["header"]["revision"])
            for response in answer.get("responses", []):
                for kv in response.get("response_range", {}).get("kvs", []):
                    key = _text(kv["key"])
                    found[key] = Entry(key, _text(kv.get("value", "")), int(kv["mod_revision"]))
        return found

    def commit(self, compares: Iterable[Compare], puts: Mapping[str, str],
               deletes: Iterable[str] = ()) -> int | None:
        compares, deletes = list(compares), list(deletes)
        body: dict[str, Any] = {
            "compare": [_compare(c) for c in compares],
            "success": [{"request_put": {"key": _b64(k), "value": _b64(v)}}
                        for k, v in puts.items()]
                       + [{"request_delete_range": {"key": _b64(k)}} for k in deletes],
            "failure": []}
        resent = False

        def read_back(sent_body: dict) -> dict:
            nonlocal resent
            resent = True
            return dict(sent_body, failure=[{"request_range": {"key": _b64(k)}}
                                            for k in [*puts, *deletes]])

        answer = self.txn(body, on_resend=read_back)
        if answer.get("succeeded"):
            return int(answer["header"]["revision"])
        if resent:
            created = [c.key for c in compares if c.mod_revision == 0 and c.key in puts]
            return _own_revision(answer, puts, deletes, created)
        return None

    def ping(self) -> None:
        # a linearizable read: answers only while the cluster has a leader and quorum;
        # soon, since /ready is asked by health checks with their own short timeouts
        self.request("kv/range", {"key": _b64("/networks/"), "limit": 1, "keys_only": True},
                     deadline=PING_DEADLINE)

    def close(self) -> None:
        for client in self._clients:
            client.session.close()


def _compare(compare: Compare) -> dict:
    if compare.mod_revision == 0:
        return {"key": _b64(compare.key), "result": "EQUAL", "target": "VERSION", "version": 0}
    return {"key": _b64(compare.key), "result": "EQUAL", "target": "MOD",
            "mod_revision": compare.mod_revision}


def _own_revision(answer: dict, puts: Mapping[str, str], deletes: list[str],
                  created: list[str]) -> int | None:
    """Whose failure a re-sent commit's failed compares are, from the keys its failure
    branch read back: this commit's own earlier success (its revision), another
    writer's (None), or nobody can tell (StoreUnavailable). See the module's text."""
    seen: dict[str, dict] = {}
    for response in answer.get("responses", []):
        for kv in response.get("response_range", {}).get("kvs", []):
            seen[_text(kv["key"])] = kv

    def holds_ours(key: str) -> bool:
        return key in seen and _text(seen[key].get("value", "")) == puts[key]

    revision = None
    mine = [key for key in created if holds_ours(key)]
    if mine:
        revision = int(seen[mine[0]]["create_revision"])
    elif puts and all(holds_ours(key) for key in puts) and not any(k in seen for k in deletes):
        revisions = {int(seen[key]["mod_revision"]) for key in puts}
        revision = revisions.pop() if len(revisions) == 1 else None
    if revision is not None:
        log.info("etcd: a commit whose answer was lost had been applied at revision %d",
                 revision)
        return revision
    if created:
        return None  # what it would have created is absent or another's: it lost
    raise StoreUnavailable("etcd: the answer to a commit was lost and its keys have changed "
                           "since; whether it was applied cannot be told (outcome unknown)")


def _error_message(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text.strip()[:300]
    return str(body.get("error") or body.get("message") or body)[:300]
