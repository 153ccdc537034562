"""The store interface: revisions, prefix reads, guarded transactions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Mapping


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time."""


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    value: str
    mod_revision: int
    """The store revision at which this key was last written (etcd's mod_revision)."""


@dataclass(frozen=True, slots=True)
class Compare:
    """A transaction's guard: ``key`` was last modified at ``mod_revision`` (0: the key
    does not exist), exactly as read."""

    key: str
    mod_revision: int


class Store(ABC):
    """A revisioned key-value store. Keys and values are text (values JSON)."""

    url: str

    @abstractmethod
    def get(self, keys: Iterable[str]) -> dict[str, Entry]:
        """The entries of those ``keys`` that exist, read at one revision."""

    @abstractmethod
    def range(self, prefixes: Iterable[str]) -> dict[str, Entry]:
        """Every entry whose key starts with one of ``prefixes``, read at one revision."""

    @abstractmethod
    def commit(self, compares: Iterable[Compare], puts: Mapping[str, str],
               deletes: Iterable[str] = ()) -> int | None:
        """Apply ``puts`` and ``deletes`` atomically iff every compare holds: the new
        store revision, or None (nothing written) when a compare fails. Raises
        StoreUnavailable."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""

    def close(self) -> None:
        """Release connections."""


def open_store(url: str) -> Store:
    """``sqlite:PATH`` or ``etcd:http://HOST:PORT[,http://...]``."""
    scheme, _, rest = url.partition(":")
    if scheme == "sqlite" and rest:
        from netc.service.store.sqlite import SqliteStore
        return SqliteStore(rest)
    if scheme == "etcd" and rest:
        from netc.service.store.etcd import EtcdStore
        return EtcdStore(rest)
    raise ValueError(f"unknown store {url!r}: expected sqlite:PATH or etcd:http://HOST:PORT")
