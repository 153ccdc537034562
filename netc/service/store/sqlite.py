"""The store on one machine: one SQLite file in WAL mode.

One table ``kv(key, value, mod_revision)`` and a one-row table holding the store's
revision. A commit is one ``BEGIN IMMEDIATE`` transaction: the compares are checked
and the writes made under SQLite's write lock, so two processes sharing the file are
serialised exactly as two etcd clients are. Each thread has its own connection
(sqlite3 connections are not shared across threads).

**Checkpoints off the request path.** SQLite copies the WAL back into the database
file (a checkpoint, with an fsync) in whichever commit takes the WAL past 1,000
pages: at a batch's pace (16 ports every 20 ms) one commit in 50 took over 4 ms, up
to 48, instead of 0.5, and with it every request of its batch. Here a thread of the
store checkpoints (``PASSIVE``: it never blocks a writer) once commits pause for
``CHECKPOINT_SECONDS``, and SQLite's own checkpoint only backs it up past
``BACKSTOP_PAGES``, for a write storm the thread cannot keep up with (measured in
docs/service.md).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Iterable, Mapping

from netc.service.store.base import Compare, Entry, Store, StoreUnavailable

BUSY_TIMEOUT_SECONDS = 10.0
CHECKPOINT_SECONDS = 0.2
"""The pause in the commits the background checkpoint waits for ..."""
CHECKPOINT_LATEST_SECONDS = 0.5
"""... or at most this long after a commit (a steady stream has no pause)."""
CHECKPOINT_PASSES = 4
"""Checkpoints in a row while commits appended to the WAL during the last one: the WAL
starts over only after a checkpoint that copied all of it."""
BACKSTOP_PAGES = 4_000
"""WAL pages (4 KiB) at which a commit checkpoints itself after all (SQLite's default:
1,000)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL,
                               mod_revision INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 0),
                                     value INTEGER NOT NULL);
INSERT OR IGNORE INTO revision VALUES (0, 0);
"""


class SqliteStore(Store):
    def __init__(self, path: str) -> None:
        self.path = path
        self.url = f"sqlite:{path}"
        self._local = threading.local()
        self._connect().executescript(SCHEMA)
        self._committed = threading.Condition()
        self._commits = 0
        self._checkpointed = 0
        """``_commits`` when the last checkpoint began."""
        self._closed = False
        self._checkpointer: threading.Thread | None = None

    def _connect(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                             isolation_level=None, check_same_thread=False)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            except sqlite3.Error as error:
                raise StoreUnavailable(f"{self.url}: {error}") from error
            self._local.connection = connection
        return connection

    def get(self, keys: Iterable[str]) -> dict[str, Entry]:
        keys = list(keys)
        return self._read([(f"SELECT key, value, mod_revision FROM kv WHERE key IN "
                            f"({','.join('?' * len(chunk))})", chunk)
                           for chunk in (keys[i:i + 500] for i in range(0, len(keys), 500))])

    def range(self, prefixes: Iterable[str]) -> dict[str, Entry]:
        # key >= prefix AND key < prefix + U+10FFFF: an index range, not a scan
        return self._read([("SELECT key, value, mod_revision FROM kv WHERE key >= ? AND key < ?",
                            (prefix, prefix + "\U0010ffff")) for prefix in prefixes])

    def _read(self, queries: list[tuple[str, Iterable]]) -> dict[str, Entry]:
        """The entries the queries select, all read in one transaction (one revision)."""
        found: dict[str, Entry] = {}
        if not queries:
            return found
        connection = self._connect()
        several = len(queries) > 1  # one statement is its own read transaction already
        try:
            if several:
                connection.execute("BEGIN")
            for sql, parameters in queries:
                for key, value, revision in connection.execute(sql, list(parameters)):
                    found[key] = Entry(key, value, revision)
            if several:
                connection.execute("COMMIT")
        except sqlite3.Error as error:
            _rollback(connection)
            raise StoreUnavailable(f"{self.url}: {error}") from error
        return found

    def commit(self, compares: Iterable[Compare], puts: Mapping[str, str],
               deletes: Iterable[str] = ()) -> int | None:
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            for compare in compares:
                row = connection.execute("SELECT mod_revision FROM kv WHERE key = ?",
                                         (compare.key,)).fetchone()
                if (row[0] if row else 0) != compare.mod_revision:
                    connection.execute("ROLLBACK")
                    return None
            revision = connection.execute(
                "UPDATE revision SET value = value + 1 WHERE id = 0 RETURNING value").fetchone()[0]
            connection.executemany(
                "INSERT INTO kv VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = excluded.value, mod_revision = excluded.mod_revision",
                [(key, value, revision) for key, value in puts.items()])
            connection.executemany("DELETE FROM kv WHERE key = ?", [(key,) for key in deletes])
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            _rollback(connection)
            raise StoreUnavailable(f"{self.url}: {error}") from error
        self._note_commit()
        return revision

    def _note_commit(self) -> None:
        with self._committed:
            self._commits += 1
            if self._commits == self._checkpointed + 1:  # the checkpointer sleeps: wake it
                self._committed.notify()
            if self._checkpointer is None and not self._closed:
                self._checkpointer = threading.Thread(target=self._checkpoints, daemon=True,
                                                      name="sqlite-checkpoint")
                self._checkpointer.start()

    def _checkpoints(self) -> None:
        """Checkpoint the WAL in a pause of the commits (module docstring), looking at
        them every ``CHECKPOINT_SECONDS``, not woken by each."""
        while True:
            with self._committed:
                while self._commits == self._checkpointed and not self._closed:
                    self._committed.wait()
                latest = time.monotonic() + CHECKPOINT_LATEST_SECONDS
                seen = None
                while not self._closed and self._commits != seen \
                        and time.monotonic() < latest:  # until a pause, or at the latest
                    seen = self._commits
                    self._committed.wait(min(CHECKPOINT_SECONDS, latest - time.monotonic()))
                if self._closed:
                    break
                self._checkpointed = self._commits
            try:
                for _ in range(CHECKPOINT_PASSES):
                    busy, log, copied = self._connect().execute(
                        "PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0]
                    if busy or copied >= log:
                        break  # done: the next commit starts the WAL from its beginning
            except (sqlite3.Error, StoreUnavailable):
                pass  # failing: the next round or the backstop checkpoints
        self._disconnect()

    def ping(self) -> None:
        try:
            self._connect().execute("SELECT value FROM revision").fetchone()
        except sqlite3.Error as error:
            raise StoreUnavailable(f"{self.url}: {error}") from error

    def close(self) -> None:
        with self._committed:
            self._closed = True
            self._committed.notify_all()
            checkpointer = self._checkpointer
        if checkpointer is not None and checkpointer is not threading.current_thread():
            checkpointer.join()
        self._disconnect()

    def _disconnect(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def _rollback(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("ROLLBACK")
    except sqlite3.Error:
        pass
