"""A change of one project's records, built in memory and committed as one guarded
store transaction.

A :class:`ChangeSet` starts from the project's records as read (with their
revisions) and collects the writes of one or more requests. Each request works in a
:meth:`child`, merged only when the request succeeds, so a refused request leaves
nothing behind even when it shares a batch with others. Keys outside the project
(the pool, the MAC and external-IP indexes) are read on first use and compared too.

The commit compares every key written or read beyond the project, plus the VPC key
that every change of the project rewrites: whatever another process did to the
project or to a shared index in between, the commit fails as a whole and the batch
is computed again from a fresh read.
"""

from __future__ import annotations

from typing import Any, Iterator

from netc.service import records
from netc.service.store import Compare, Entry, Store

_DELETED = object()


class ChangeSet:
    def __init__(self, store: Store, org: str, project: str, entries: dict[str, Entry],
                 parent: "ChangeSet | None" = None) -> None:
        self.store = store
        self.org = org
        self.project = project
        self.entries = entries
        """Entries as read: the project's, then each shared key when first used."""
        self.parent = parent
        self.writes: dict[str, Any] = {}
        self._own_prefixes = tuple(records.project_prefixes(org, project))
        self._own_keys = frozenset(records.project_keys(org, project))
        self.shared_reads: set[str] = set()
        """Keys beyond the project read by this change (the root's set is the one used)."""
        self._encoded: dict[str, str] = {}
        """What :meth:`commit` wrote, as stored."""

    @classmethod
    def load(cls, store: Store, org: str, project: str,
             known: tuple[int, dict[str, Entry]] | None = None) -> "ChangeSet":
        """The project as the store holds it. ``known``: (the VPC key's revision, the
        project's entries at it), from :meth:`committed`; when the VPC key still has
        that revision nothing of the project changed (every change rewrites it), and
        one key is read instead of the whole project."""
        if known is not None:
            vpc = records.vpc_key(org, project)
            entry = store.get([vpc]).get(vpc)
            if entry is not None and entry.mod_revision == known[0]:
                return cls(store, org, project, dict(known[1]))
        entries = store.range(records.project_prefixes(org, project))
        entries.update(store.get(records.project_keys(org, project)))
        return cls(store, org, project, entries)

    # -- reading -------------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The value at ``key`` as this change leaves it (None: absent)."""
        changeset: ChangeSet | None = self
        while changeset is not None:
            if key in changeset.writes:
                value = changeset.writes[key]
                return None if value is _DELETED else value
            changeset = changeset.parent
        root = self.root
        if key not in root.entries and key not in root.shared_reads and not self._is_own(key):
            root.entries.update(self.store.get([key]))
            root.shared_reads.add(key)  # read once, present or not: what the commit compares
        entry = root.entries.get(key)
        if entry is None:
            return None
        return records.decode(entry)

    def under(self, prefix: str) -> Iterator[tuple[str, Any]]:
        """(key, value) of every present key under ``prefix`` (within the project)."""
        keys = {key for key in self.root.entries if key.startswith(prefix)}
        changeset: ChangeSet | None = self
        while changeset is not None:
            keys.update(key for key in changeset.writes if key.startswith(prefix))
            changeset = changeset.parent
        for key in sorted(keys):
            value = self.get(key)
            if value is not None:
                yield key, value

    def values(self) -> dict[str, Any]:
        """Every present project key and its value, as this change leaves them."""
        found = {}
        for prefix in (*records.project_prefixes(self.org, self.project),
                       *records.project_keys(self.org, self.project)):
            found.update(self.under(prefix))
        return found

    # -- writing -------------------------------------------------------------------

    def put(self, key: str, value: Any) -> None:
        self._read_before_write(key)
        self.writes[key] = value

    def delete(self, key: str) -> None:
        self._read_before_write(key)
        self.writes[key] = _DELETED

    def _read_before_write(self, key: str) -> None:
        """A shared key is read before it is written, so the commit compares the
        revision it really has."""
        root = self.root
        if not self._is_own(key) and key not in root.entries and key not in root.shared_reads:
            self.get(key)

    def child(self) -> "ChangeSet":
        return ChangeSet(self.store, self.org, self.project, self.entries, parent=self)

    def merge_into_parent(self) -> None:
        self.parent.writes.update(self.writes)

    # -- committing ----------------------------------------------------------------

    @property
    def root(self) -> "ChangeSet":
        changeset = self
        while changeset.parent is not None:
            changeset = changeset.parent
        return changeset

    def _is_own(self, key: str) -> bool:
        """Whether ``key`` is the project's, so that it was read whole by :meth:`load`."""
        return key in self._own_keys or key.startswith(self._own_prefixes)

    @property
    def changed(self) -> bool:
        return bool(self.writes)

    def commit(self) -> int | None:
        """Write this (root) change set; the store's new revision, or None when another
        writer got there first (nothing written)."""
        vpc = records.vpc_key(self.org, self.project)
        guarded = set(self.writes) | self.shared_reads | {vpc}
        compares = [Compare(key, self.entries[key].mod_revision if key in self.entries else 0)
                    for key in sorted(guarded)]
        puts = self._encoded = {key: records.encode(value) for key, value in self.writes.items()
                                if value is not _DELETED}
        deletes = [key for key, value in self.writes.items() if value is _DELETED]
        return self.store.commit(compares, puts, deletes)

    def committed(self, revision: int) -> tuple[int, dict[str, Entry]]:
        """The project's entries once :meth:`commit` wrote this change at ``revision``,
        for the next :meth:`load`."""
        entries = dict(self.entries)
        for key in self.shared_reads:  # the only keys read beyond the project
            entries.pop(key, None)
        for key, value in self.writes.items():
            if not self._is_own(key):
                continue
            if value is _DELETED:
                entries.pop(key, None)
            else:
                entries[key] = Entry(key, self._encoded[key], revision)
        return revision, entries

    def revert(self, revision: int) -> bool:
        """Undo a commit made at ``revision`` (its OVN half failed): put back what was
        read, unless another writer changed one of those keys since (then the store's
        newer state stands and the reconciler brings OVN to it). True if undone."""
        compares = [Compare(key, 0 if value is _DELETED else revision)
                    for key, value in sorted(self.writes.items())]
        puts = {key: self.entries[key].value for key in self.writes if key in self.entries}
        deletes = [key for key in self.writes if key not in self.entries]
        return self.store.commit(compares, puts, deletes) is not None
