"""Read a snapshot of the Northbound DB: the owned rows, as a RowSet.

Two formats, told apart by their first byte of JSON:

- a ``netc compile`` output (``{"format": "netc.rows/v1", ...}``);
- ``ovsdb-client -f json dump REMOTE OVN_Northbound``: one JSON object per table and
  line, ``{"caption": "ACL table", "headings": [...], "data": [[...], ...]}``, values
  in OVSDB's JSON notation (RFC 7047 5.1: ``["uuid", U]``, ``["set", [...]]``,
  ``["map", [[k, v], ...]]``, a one-element set written as its atom).

Only rows whose ``external_ids:netc:owner`` is ``owner`` are kept, and only the columns
netc writes; references become the target's netc:key (a reference to a row netc does
not own stays visible as ``uuid:U``, so a plan shows it rather than hiding it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from netc.compiler.rows import FORMAT, KEY_KEY, OWNER_KEY, Ref, Row, RowSet
from netc.compiler.schema import TABLES, Column, ref_columns


class SnapshotError(ValueError):
    """The file is neither a netc.rows/v1 document nor an ovsdb-client JSON dump."""


def load_snapshot(path: str | Path, owner: str) -> RowSet:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc
    return parse_snapshot(text, owner)


def parse_snapshot(text: str, owner: str) -> RowSet:
    if not text.strip():
        return RowSet()
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict) and "format" in document:
        try:
            rows = RowSet.from_json_obj(document, ref_columns())
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"not a valid {FORMAT} document: {exc}") from exc
        return _owned(rows, owner)
    return rows_from_ovsdb(_dump_tables(text), owner)


def _owned(rows: RowSet, owner: str) -> RowSet:
    owned = RowSet()
    for row in rows:
        if row.columns.get("external_ids", {}).get(OWNER_KEY) == owner:
            owned.add(row)
    return owned


def _dump_tables(text: str) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            table = json.loads(line)
            name = table["caption"].removesuffix(" table")
            tables[name] = [dict(zip(table["headings"], data)) for data in table["data"]]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise SnapshotError(f"line {number}: not an ovsdb-client -f json dump "
                                f"table ({exc})") from exc
    return tables


def rows_from_ovsdb(tables: dict[str, list[dict[str, Any]]], owner: str) -> RowSet:
    """Owned rows of OVSDB-JSON tables (column name -> OVSDB JSON value)."""
    keys: dict[str, str] = {}
    owned: list[tuple[str, dict[str, Any]]] = []
    for table, records in tables.items():
        if table not in TABLES:
            continue
        for record in records:
            ids = _map(record.get("external_ids", ["map", []]))
            if ids.get(OWNER_KEY) == owner and KEY_KEY in ids:
                keys[record["_uuid"][1]] = ids[KEY_KEY]
                owned.append((table, record))
    rows = RowSet()
    for table, record in owned:
        columns = {name: _value(record[name], column, keys)
                   for name, column in TABLES[table].items() if name in record}
        columns = {k: v for k, v in columns.items() if v is not None}
        rows.add(Row(table, columns["external_ids"][KEY_KEY], columns))
    return rows


def _atoms(value: Any) -> list:
    if isinstance(value, list) and value and value[0] == "set":
        return list(value[1])
    return [value]


def _map(value: Any) -> dict:
    return {k: v for k, v in value[1]} if isinstance(value, list) and value[0] == "map" else {}


def _ref(atom: Any, keys: dict[str, str]) -> Ref:
    uuid = atom[1]
    return Ref(keys.get(uuid, f"uuid:{uuid}"))


def _value(value: Any, column: Column, keys: dict[str, str]) -> Any:
    if column.kind == "map":
        return _map(value)
    atoms = _atoms(value)
    if column.kind == "refs":
        return sorted(_ref(a, keys) for a in atoms)
    if column.kind == "ref":
        return _ref(atoms[0], keys) if atoms else None
    if column.kind == "set":
        return sorted(atoms)
    if column.kind == "optional":
        return atoms[0] if atoms else None
    return value
