"""What netc owns in a live Northbound DB: read in one round trip, as a RowSet.

Only rows whose ``external_ids`` hold ``netc:owner = OWNER`` are read (the server
filters with an ``includes`` condition), from every table netc writes, so a foreign
row is never even looked at. References between owned rows come back as netc:keys; the UUID of every owned row and its ``_version`` are kept aside: the
UUIDs address the transaction's updates and deletes, the versions feed its ``wait``
guard and the fingerprint a saved plan is checked against.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

from netc.backends.ovn_nb.codec import reader
from netc.backends.ovn_nb.schema import NbSchema
from netc.compiler.rows import KEY_KEY, OWNER_KEY, Row, RowSet
from netc.compiler.schema import TABLES as MANAGED_COLUMNS

Transact = Callable[[list[dict]], list[dict]]
"""Runs OVSDB operations as one transaction on the Northbound DB, returns the results."""


def owner_condition(owner: str) -> list:
    return ["external_ids", "includes", ["map", [[OWNER_KEY, owner]]]]


def owned_tables(schema: NbSchema) -> list[str]:
    """The tables netc writes (and so the only ones where it can own rows)."""
    return sorted(name for name in MANAGED_COLUMNS if name in schema.tables)


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A second owned row with a netc:key already seen (left by a past race or by hand)."""

    table: str
    key: str
    uuid: str


@dataclass
class OwnedState:
    rows: RowSet
    owner: str
    uuids: dict[tuple[str, str], str] = field(default_factory=dict)
    """(table, netc:key) -> UUID of the row in the DB."""
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    """table -> UUID -> _version, for every owned row read (duplicates included)."""
    duplicates: list[Duplicate] = field(default_factory=list)

    def uuid(self, table: str, key: str) -> str | None:
        return self.uuids.get((table, key))

    def fingerprint(self) -> str:
        """A hash naming exactly this state: any write to an owned row changes it."""
        digest = hashlib.sha256()
        for table in sorted(self.versions):
            for uuid, version in sorted(self.versions[table].items()):
                digest.update(f"{table} {uuid} {version}\n".encode())
        return "sha256:" + digest.hexdigest()

    def wait_operations(self) -> list[dict]:
        """``wait`` operations that fail the transaction if any owned row changed, appeared
        or vanished since this state was read (optimistic concurrency)."""
        return [{"op": "wait", "timeout": 0, "table": table,
                 "where": [owner_condition(self.owner)], "columns": ["_version"],
                 "until": "==",
                 "rows": [{"_version": ["uuid", version]}
                          for version in sorted(self.versions[table].values())]}
                for table in sorted(self.versions)]


def read_columns(table: str) -> list[str]:
    """The columns netc writes in ``table`` (all it compares), plus identity: reading
    only these halves the bytes of a large read."""
    return sorted({"_uuid", "_version", "external_ids", *MANAGED_COLUMNS[table]})


def read_operations(schema: NbSchema, owner: str) -> list[dict]:
    condition = owner_condition(owner)
    return [{"op": "select", "table": table, "where": [condition],
             "columns": read_columns(table)}
            for table in owned_tables(schema)]


def read_owned(transact: Transact, schema: NbSchema, owner: str) -> OwnedState:
    """Every row ``owner`` owns, in one transaction of selects (a consistent snapshot)."""
    tables = owned_tables(schema)
    results = transact(read_operations(schema, owner))
    return state_from_results(schema, owner, dict(zip(tables, (r["rows"] for r in results))))


def state_from_results(schema: NbSchema, owner: str,
                       raw: dict[str, list[dict[str, Any]]]) -> OwnedState:
    """Build the state from selected rows (``{table: [row JSON, ...]}``)."""
    key_by_uuid: dict[str, str] = {}
    state = OwnedState(RowSet(), owner)
    for table, rows in raw.items():
        versions = state.versions.setdefault(table, {})
        for row in rows:
            uuid = row["_uuid"][1]
            versions[uuid] = row["_version"][1]
            key = _external_id(row, KEY_KEY)
            if key is None:
                continue
            if (table, key) in state.uuids:
                state.duplicates.append(Duplicate(table, key, uuid))
                continue
            state.uuids[(table, key)] = uuid
            key_by_uuid[uuid] = key
    for table, rows in raw.items():
        readers = {name: reader(ctype, key_by_uuid.get)
                   for name, ctype in schema.table(table).columns.items()}
        for row in rows:
            uuid = row["_uuid"][1]
            key = key_by_uuid.get(uuid)
            if key is None or state.uuids.get((table, key)) != uuid:
                continue
            values = {name: readers[name](datum)
                      for name, datum in row.items() if name in readers}
            state.rows.add(Row(table, key, values))
    return state


def _external_id(row: dict[str, Any], name: str) -> str | None:
    ids = row.get("external_ids")
    if not (isinstance(ids, list) and ids and ids[0] == "map"):
        return None
    for key, value in ids[1]:
        if key == name:
            return value
    return None

