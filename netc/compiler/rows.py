"""Desired Northbound rows: the compiler's output and every backend's input.

A :class:`Row` is one row of one OVN Northbound table, identified by its ``netc:key``
(never by a UUID OVN chose). Column values are plain JSON-able Python values:

- atoms: ``str``, ``int``, ``bool``;
- sets: ``list`` (kept sorted, so output is byte-stable);
- maps: ``dict`` with string keys (``external_ids``, ``options``, ...);
- references to other rows: :class:`Ref` (a ``str`` holding the target's netc:key),
  alone or in a list. In JSON a reference is just that key; a reader tells it from a
  string by the column's type in the OVN schema.

``external_ids`` always carries ``netc:owner`` and ``netc:key`` (contract section 6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

FORMAT = "netc.rows/v1"
OWNER_KEY = "netc:owner"
KEY_KEY = "netc:key"
ORG_KEY = "netc:org"
PROJECT_KEY = "netc:project"


def json_encoder(separators: tuple[str, str] = (", ", ": ")) -> Callable[[Any], str]:
    """``json.JSONEncoder(sort_keys=True, separators=separators).encode``, the same text,
    made once: ``encode`` builds a new C encoder on every call, which was a third of
    the time of encoding tens of thousands of small rows one at a time. Values have
    no cycles (rows are trees), so the encoder does not look for them."""
    plain = json.JSONEncoder(sort_keys=True, ensure_ascii=True, separators=separators,
                             check_circular=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return plain.encode
    iterencode = make(None, plain.default, json.encoder.encode_basestring_ascii, None,
                      plain.key_separator, plain.item_separator, True, False, True)
    return lambda value: "".join(iterencode(value, 0))


class Ref(str):
    """A reference to the row whose netc:key is this string."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Row:
    table: str
    key: str
    columns: dict[str, Any]

    @property
    def project(self) -> str | None:
        ids = self.columns.get("external_ids", {})
        if PROJECT_KEY in ids:
            return f"{ids[ORG_KEY]}/{ids[PROJECT_KEY]}"
        return None


@dataclass
class RowSet:
    """Rows by table, then by key; insertion order is irrelevant to output."""

    tables: dict[str, dict[str, Row]] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        table = self.tables.setdefault(row.table, {})
        if row.key in table:
            raise ValueError(f"two rows in {row.table} with netc:key {row.key!r}")
        table[row.key] = row

    def get(self, table: str, key: str) -> Row | None:
        return self.tables.get(table, {}).get(key)

    def __iter__(self) -> Iterator[Row]:
        for table in sorted(self.tables):
            rows = self.tables[table]
            for key in sorted(rows):
                yield rows[key]

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def count(self, table: str) -> int:
        return len(self.tables.get(table, {}))

    def to_json_obj(self) -> dict:
        return {"format": FORMAT,
                "tables": {table: [self.tables[table][key].columns
                                   for key in sorted(self.tables[table])]
                           for table in sorted(self.tables)}}

    def dumps(self) -> str:
        """Canonical JSON, one row per line with sorted keys, so two compiles are
        byte-identical and a diff of two outputs shows whole rows.

        Written row by row because ``json.dumps(indent=...)`` falls back to Python's
        pure-Python encoder, several times slower on a 10 MB output.
        """
        return "".join(self.chunks())

    def chunks(self) -> Iterator[str]:
        """:meth:`dumps` in pieces of about a row each, to write without holding the
        whole text (9 MB for the 200 x 50 bench world, and as much again encoded)."""
        encode = json_encoder()
        if not self.tables:
            yield f'{{"format": {encode(FORMAT)}, "tables": {{}}}}\n'
            return
        yield f'{{"format": {encode(FORMAT)}, "tables": {{\n'
        for index, table in enumerate(sorted(self.tables)):
            rows = self.tables[table]
            yield (",\n" if index else "") + f"{encode(table)}: [\n"
            for position, key in enumerate(sorted(rows)):
                yield (",\n" if position else "") + encode(rows[key].columns)
            yield "\n]"
        yield "\n}}\n"

    @classmethod
    def from_json_obj(cls, data: dict, ref_columns: dict[str, set[str]]) -> "RowSet":
        """Read a ``netc.rows/v1`` document; ``ref_columns`` names the reference columns
        of each table (from the OVN schema) so their strings become :class:`Ref`."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        rows = cls()
        for table, items in data["tables"].items():
            refs = ref_columns.get(table, set())
            for columns in items:
                columns = {name: _as_ref(value) if name in refs else value
                           for name, value in columns.items()}
                rows.add(Row(table, columns["external_ids"][KEY_KEY], columns))
        return rows


def _as_ref(value: Any) -> Any:
    if isinstance(value, list):
        return [Ref(v) for v in value]
    return Ref(value) if isinstance(value, str) else value
