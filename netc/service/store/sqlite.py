"""The store on one machine: one SQLite file in WAL mode.

One table ``kv(key, value, mod_revision)`` and a one-row table holding the store's
revision. A commit is one ``BEGIN IMMEDIATE`` transaction: the compares are checked
and the writes made under SQLite's write lock, so two processes sharing the file are
serialised exactly as two etcd clients are. Each thread has its own connection
(sqlite3 connections are not shared across threads).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Iterable, Mapping

from netc.service.store.base import Compare, Entry, Store, StoreUnavailable

BUSY_TIMEOUT_SECONDS = 10.0

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

    def _connect(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                             isolation_level=None, check_same_thread=False)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
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
        return revision

    def ping(self) -> None:
        try:
            self._connect().execute("SELECT value FROM revision").fetchone()
        except sqlite3.Error as error:
            raise StoreUnavailable(f"{self.url}: {error}") from error

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def _rollback(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("ROLLBACK")
    except sqlite3.Error:
        pass
