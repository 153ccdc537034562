"""The SQLite store checkpoints its WAL in a background thread, in a pause of the
commits, instead of in the commit that takes the WAL past SQLite's 1,000 pages
(netc.service.store.sqlite): that commit, and every request of its batch, used to
wait for the copy and its fsync.

Both tests fail on a store left to SQLite's own checkpoints: the first because the
WAL would start over at 1,000 pages, the second because nothing would checkpoint a
WAL of fewer pages."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from netc.service.store import open_store
from netc.service.store import sqlite as sqlite_store

PORT = "x" * 400


def _commit_pages(store, commits: int) -> None:
    """About ten WAL pages per commit: sixteen port-sized values."""
    for number in range(commits):
        store.commit([], {f"/ports/{number}/{index}": PORT for index in range(16)})


def _wal_index(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of them checkpointed), read from the WAL index (the
    ``-shm`` file: ``mxFrame`` and ``nBackfill``, native byte order, sqlite.org's
    walformat.html): asking SQLite would checkpoint them."""
    data = Path(f"{path}-shm").read_bytes()[:136]
    return struct.unpack_from("=I", data, 16)[0], struct.unpack_from("=I", data, 96)[0]


def test_commits_do_not_checkpoint_at_sqlites_threshold(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_SECONDS", 60.0)  # no pause comes
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_LATEST_SECONDS", 60.0)
    path = tmp_path / "state.db"
    store = open_store(f"sqlite:{path}")
    try:
        _commit_pages(store, 200)
        frames, copied = _wal_index(path)
        assert 1500 < frames < sqlite_store.BACKSTOP_PAGES and copied == 0
    finally:
        store.close()


def test_the_wal_is_checkpointed_in_a_pause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_SECONDS", 0.05)
    path = tmp_path / "state.db"
    store = open_store(f"sqlite:{path}")
    try:
        _commit_pages(store, 50)  # some 500 pages: below SQLite's own threshold
        deadline = time.monotonic() + 10
        while _wal_index(path)[1] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        frames, copied = _wal_index(path)
        assert frames > 0 and copied == frames  # (a slow machine may pause mid-loop too)
        _commit_pages(store, 1)  # a WAL checkpointed whole starts over
        assert _wal_index(path)[0] < 50
    finally:
        store.close()
    assert not store._checkpointer.is_alive()
