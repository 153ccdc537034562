"""One suite for every store backend: SQLite, and etcd (a real 3-member cluster on
loopback, marked ``etcd``: deselected by the quick run, run by ``scripts/test-all``).

What the service's allocation relies on is checked here, the same way for both:
compare-and-swap on mod_revision, compares on absent keys, prefix ranges that stop
at the prefix, reads at one revision, revisions that only grow, and exactly one
winner per revision among committers in threads and in separate processes. The
etcd-only tests at the end are about its members: failover, a commit whose answer
is lost, and the message when no member answers.
"""

from __future__ import annotations

import itertools
import multiprocessing
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest

from netc.service.store import Compare, Entry, Store, StoreUnavailable, open_store
from netc.service.store.etcd import EtcdStore

BACKENDS = ["sqlite", pytest.param("etcd", marks=pytest.mark.etcd)]
_namespaces = itertools.count()


@pytest.fixture(scope="module")
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("etcd") is None:
        pytest.skip("etcd is not installed here (apt-get install etcd-server; scripts/setup)")
    from netc.devtools.etcd import EtcdCluster
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd"), members=3).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'state.db'}"
    cluster = request.getfixturevalue("etcd_cluster")
    cluster.wait_ready()  # a member another test killed is back
    return f"etcd:{cluster.endpoint}"


@pytest.fixture
def store(store_url: str):
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def ns() -> str:
    """A key prefix of this test's own: the etcd cluster is shared by the module."""
    return f"/t{next(_namespaces)}-{multiprocessing.current_process().pid}"


def test_open_store_routes_by_scheme(store_url: str, store: Store):
    assert type(store).__name__ == ("SqliteStore" if store_url.startswith("sqlite:") else "EtcdStore")
    assert store.url == store_url
    store.ping()


def test_put_get_and_revisions(store: Store, ns: str):
    first = store.commit([], {f"{ns}/a": '"1"', f"{ns}/b": '"2"'})
    assert first is not None and first > 0
    entries = store.get([f"{ns}/a", f"{ns}/b", f"{ns}/missing"])
    assert sorted(entries) == [f"{ns}/a", f"{ns}/b"]
    assert entries[f"{ns}/a"].value == '"1"' and entries[f"{ns}/b"].value == '"2"'
    assert {e.mod_revision for e in entries.values()} == {first}
    second = store.commit([], {f"{ns}/a": '"3"'})
    assert second > first
    entries = store.get([f"{ns}/a", f"{ns}/b"])
    assert (entries[f"{ns}/a"].mod_revision, entries[f"{ns}/b"].mod_revision) == (second, first)
    assert store.get([]) == {}


def test_compare_and_swap_on_mod_revision(store: Store, ns: str):
    key = f"{ns}/k"
    revision = store.commit([Compare(key, 0)], {key: "1"})
    assert revision is not None
    assert store.commit([Compare(key, revision - 1)], {key: "stale"}) is None
    assert store.get([key])[key].value == "1"
    newer = store.commit([Compare(key, revision)], {key: "2"})
    assert newer is not None and newer > revision
    assert store.commit([Compare(key, revision)], {key: "again"}) is None  # already moved
    assert store.get([key])[key].value == "2"


def test_one_failing_compare_fails_the_whole_commit(store: Store, ns: str):
    a, b = f"{ns}/a", f"{ns}/b"
    revision = store.commit([], {a: "1", b: "1"})
    assert store.commit([Compare(a, revision), Compare(b, revision - 1)],
                        {a: "2", f"{ns}/c": "2"}, [b]) is None
    assert {k: e.value for k, e in store.range([f"{ns}/"]).items()} == {a: "1", b: "1"}


def test_absent_key_compares(store: Store, ns: str):
    key = f"{ns}/absent"
    assert store.commit([Compare(key, 0)], {key: "x"}) is not None   # absent: holds
    assert store.commit([Compare(key, 0)], {key: "y"}) is None       # present now
    revision = store.get([key])[key].mod_revision
    assert store.commit([Compare(key, revision)], {}, [key]) is not None
    assert store.get([key]) == {}
    assert store.commit([Compare(key, 0)], {key: "z"}) is not None   # absent again


def test_deletes_and_puts_in_one_commit(store: Store, ns: str):
    store.commit([], {f"{ns}/old": "1"})
    revision = store.commit([], {f"{ns}/new": "2"}, [f"{ns}/old", f"{ns}/never"])
    assert {k: (e.value, e.mod_revision) for k, e in store.range([f"{ns}/"]).items()} == \
        {f"{ns}/new": ("2", revision)}


def test_prefix_ranges_do_not_leak_into_neighbours(store: Store, ns: str):
    keys = [f"{ns}/ports/acme/web/p1", f"{ns}/ports/acme/web/p2", f"{ns}/ports/acme/web2/p3",
            f"{ns}/ports/acme/web-x/p4", f"{ns}/ports/acme/we", f"{ns}/ports/acme/web",
            f"{ns}/ports/acme0/web/p5"]
    store.commit([], {key: "{}" for key in keys})
    assert sorted(store.range([f"{ns}/ports/acme/web/"])) == keys[:2]
    assert sorted(store.range([f"{ns}/ports/acme/web2/", f"{ns}/ports/acme/web-"])) == sorted(keys[2:4])
    assert sorted(store.range([f"{ns}/ports/acme/we"])) == sorted(keys[:6])
    assert sorted(store.range([f"{ns}/ports/acme/"])) == sorted(keys[:6])
    assert store.range([f"{ns}/nothing/"]) == {}


def test_values_are_text_round_trips(store: Store, ns: str):
    value = '{"name":"caf\\u00e9","note":"ünïcode ✓","empty":""}'
    store.commit([], {f"{ns}/ü": value, f"{ns}/empty": ""})
    assert {k: e.value for k, e in store.range([f"{ns}/"]).items()} == \
        {f"{ns}/ü": value, f"{ns}/empty": ""}


def test_many_keys_are_read_and_written_at_one_revision(store: Store, ns: str):
    keys = [f"{ns}/many/{i:04d}" for i in range(300)]  # more than one etcd Txn may hold
    revision = store.commit([Compare(k, 0) for k in keys], {k: str(i) for i, k in enumerate(keys)})
    got = store.get(keys)
    assert len(got) == 300 and {e.mod_revision for e in got.values()} == {revision}
    assert len(store.range([f"{ns}/many/"])) == 300


def test_reads_see_one_revision_while_a_writer_runs(store_url: str, store: Store, ns: str):
    """A writer always writes a and b together; no read may see them differ."""
    a, b = f"{ns}/pair/a", f"{ns}/pair/b"
    store.commit([], {a: "0", b: "0"})
    stop = threading.Event()

    def write() -> None:
        writer = open_store(store_url)
        for i in itertools.count(1):
            if stop.is_set():
                break
            writer.commit([], {a: str(i), b: str(i)})
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for _ in range(100):
            got = store.get([a, b])
            assert got[a].value == got[b].value and got[a].mod_revision == got[b].mod_revision
            ranged = store.range([f"{ns}/pair/"])
            assert ranged[a].value == ranged[b].value
    finally:
        stop.set()
        thread.join()


def _increment(store: Store, key: str) -> tuple[int, int] | None:
    """Read the counter, commit +1 guarded by the revision read: (value, revision) or None."""
    entry = store.get([key]).get(key)
    value = int(entry.value) + 1 if entry else 1
    revision = store.commit([Compare(key, entry.mod_revision if entry else 0)], {key: str(value)})
    return None if revision is None else (value, revision)


def test_concurrent_committers_in_threads_one_winner_per_revision(store_url: str, ns: str):
    key = f"{ns}/counter"
    threads, rounds = 8, 10
    stores = [open_store(store_url) for _ in range(threads)]
    barrier = threading.Barrier(threads)
    wins: list[list[tuple[int, int]]] = [[] for _ in range(threads)]
    read_revisions: list[list[int]] = [[] for _ in range(threads)]

    def contend(n: int) -> None:
        store = stores[n]
        for _ in range(rounds):
            barrier.wait()
            entry = store.get([key]).get(key)
            read_revisions[n].append(entry.mod_revision if entry else 0)
            value = int(entry.value) + 1 if entry else 1
            barrier.wait()  # everyone has read: all commit against the same revision
            revision = store.commit([Compare(key, entry.mod_revision if entry else 0)],
                                    {key: str(value)})
            if revision is not None:
                wins[n].append((value, revision))

    workers = [threading.Thread(target=contend, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for store in stores:
        store.close()
    won = sorted(w for per_thread in wins for w in per_thread)
    # every round all threads read the same revision, and exactly one of them won it
    assert all(len(set(r[i] for r in read_revisions)) == 1 for i in range(rounds))
    assert [value for value, _ in won] == list(range(1, rounds + 1))
    revisions = [revision for _, revision in won]
    assert revisions == sorted(set(revisions))  # distinct and growing with the value


def _process_worker(url: str, key: str, wins: int, queue) -> None:
    store = open_store(url)
    won = []
    while len(won) < wins:
        result = _increment(store, key)
        if result is not None:
            won.append(result)
    store.close()
    queue.put(won)


def test_concurrent_committers_in_two_processes(store_url: str, ns: str):
    key = f"{ns}/counter"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    per_process = 40
    processes = [context.Process(target=_process_worker, args=(store_url, key, per_process, queue))
                 for _ in range(2)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    values = sorted(value for won in results for value, _ in won)
    revisions = [revision for won in results for _, revision in won]
    assert values == list(range(1, 2 * per_process + 1))  # no increment lost or doubled
    assert len(set(revisions)) == len(revisions)
    assert all(a[1] < b[1] for won in results for a, b in zip(won, won[1:]))
    store = open_store(store_url)
    assert store.get([key])[key].value == str(2 * per_process)
    store.close()


def test_revisions_only_grow(store: Store, ns: str):
    seen = [store.commit([], {f"{ns}/r{i % 3}": str(i)}) for i in range(20)]
    assert seen == sorted(set(seen))
    latest = max(e.mod_revision for e in store.range([f"{ns}/"]).values())
    assert latest == seen[-1]


# -- etcd's members ---------------------------------------------------------------------


@pytest.mark.etcd
def test_etcd_store_fails_over_when_members_die(etcd_cluster, ns: str):
    store = EtcdStore(etcd_cluster.endpoint)
    key = f"{ns}/failover"
    try:
        revision = store.commit([Compare(key, 0)], {key: "1"})
        follower = next(m for m in (1, 2, 3) if m != etcd_cluster.leader())
        etcd_cluster.kill_member(follower)
        revision = store.commit([Compare(key, revision)], {key: "2"})
        assert revision is not None
        leader = etcd_cluster.wait_for_leader()
        etcd_cluster.kill_member(leader)  # two of three gone: no quorum
        etcd_cluster.start_member(follower)
        assert store.get([key])[key].value == "2"  # a new leader once two are back
        assert store.commit([Compare(key, revision)], {key: "3"}) is not None
        etcd_cluster.start_member(leader)
        etcd_cluster.wait_ready()
        assert store.get([key])[key].value == "3"
    finally:
        store.close()


@pytest.mark.etcd
def test_etcd_commit_whose_answer_is_lost_is_recognised(etcd_cluster, ns: str, monkeypatch):
    """The member applies the Txn, then the answer is lost: the store re-sends it to
    the next member, finds its own values there and returns their revision, rather
    than calling its own write a conflict."""
    store = EtcdStore(etcd_cluster.endpoint)
    key, other = f"{ns}/lost", f"{ns}/lost-other"
    real_post = EtcdStore._post
    calls = Counter()

    def lose_first_answer(self, client, path, body):
        answer = real_post(self, client, path, body)
        calls[path] += 1
        if path == "kv/txn" and calls[path] == 1:
            from netc.service.store.etcd import _Retry
            raise _Retry("connection lost: injected", True)
        return answer

    try:
        monkeypatch.setattr(EtcdStore, "_post", lose_first_answer)
        revision = store.commit([Compare(key, 0)], {key: "mine", other: "too"})
        assert revision is not None
        got = store.get([key, other])
        assert {k: (e.value, e.mod_revision) for k, e in got.items()} == \
            {key: ("mine", revision), other: ("too", revision)}
        calls.clear()
        # a lost answer of a commit that did NOT apply and then loses: a conflict
        assert store.commit([Compare(key, 0)], {key: "theirs"}) is None
        assert store.get([key])[key].value == "mine"
    finally:
        store.close()


@pytest.mark.etcd
@pytest.mark.parametrize("creates", [True, False], ids=["creating", "updating"])
def test_etcd_lost_answer_then_another_writer(etcd_cluster, ns: str, monkeypatch, creates):
    """The member applies the Txn, its answer is lost, and before the re-send another
    writer (a second replica serving the project) changes a key the commit wrote. A
    commit that created a key still knows itself by that key; one that created
    nothing cannot tell, and says so rather than "conflict" (its caller would write
    again)."""
    store, rival = EtcdStore(etcd_cluster.endpoint), EtcdStore(etcd_cluster.endpoint)
    new, shared = f"{ns}/port-{creates}", f"{ns}/vpc-{creates}"
    shared_revision = rival.commit([], {shared: "0"})
    if not creates:
        rival.commit([], {new: "old"})
    current = {k: e.mod_revision for k, e in rival.get([new, shared]).items()}
    real_post = EtcdStore._post
    calls = Counter()

    def rival_writes_then_answer_lost(self, client, path, body):
        answer = real_post(self, client, path, body)
        if self is store and path == "kv/txn" and not calls[path]:
            calls[path] += 1
            latest = rival.get([shared])[shared].mod_revision
            assert rival.commit([Compare(shared, latest)], {shared: "theirs"}) is not None
            from netc.service.store.etcd import _Retry
            raise _Retry("connection lost: injected", True)
        return answer

    try:
        monkeypatch.setattr(EtcdStore, "_post", rival_writes_then_answer_lost)
        compares = [Compare(new, current.get(new, 0)), Compare(shared, shared_revision)]
        writes = {new: "mine", shared: "mine"}
        if creates:
            revision = store.commit(compares, writes)
            assert revision is not None and revision > shared_revision
            assert store.get([new])[new] == Entry(new, "mine", revision)
        else:
            with pytest.raises(StoreUnavailable, match="outcome unknown"):
                store.commit(compares, writes)
        assert store.get([shared])[shared].value == "theirs"
    finally:
        store.close()
        rival.close()


@pytest.mark.etcd
def test_etcd_store_unavailable_names_every_member():
    from netc.devtools.sandbox import free_ports
    ports = free_ports(2)
    store = EtcdStore(",".join(f"http://127.0.0.1:{p}" for p in ports), deadline=0.5)
    with pytest.raises(StoreUnavailable) as raised:
        store.get(["/networks/vpcs/a/b"])
    message = str(raised.value)
    assert all(f"http://127.0.0.1:{p}: connection refused" in message for p in ports)
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(ValueError):
        EtcdStore(" , ")
