"""The OVN Northbound schema, as much of it as the backend needs to read and write rows.

Everything the backend does to a row depends on its columns' OVSDB types: which
strings are references (so a netc:key on our side, a UUID on the wire), which
columns are sets or maps, which tables are roots (deleted explicitly) and which are
garbage-collected children (they live only while a parent refers to them), and
which columns are unique indexes (Port_Group and Address_Set names). The schema is
read from the installed ``ovn-nb.ovsschema`` or from the server's ``get_schema``
answer, never restated by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_SCHEMA_PATH = Path("/usr/share/ovn/ovn-nb.ovsschema")
DATABASE = "OVN_Northbound"


@dataclass(frozen=True, slots=True)
class ColumnType:
    """An OVSDB column type: a key atom, an optional value atom (maps), min/max size."""

    key: str
    value: str | None = None
    min: int = 1
    max: int | None = 1          # None: unlimited
    key_ref: str | None = None   # refTable of the key, when it is a reference
    value_ref: str | None = None
    strong: bool = True          # refType of the key reference

    @property
    def is_map(self) -> bool:
        return self.value is not None

    @property
    def is_scalar(self) -> bool:
        """Exactly one atom: the column always holds a value."""
        return not self.is_map and self.min == 1 and self.max == 1

    @property
    def is_optional(self) -> bool:
        """Zero or one atom (``min 0, max 1``)."""
        return not self.is_map and self.min == 0 and self.max == 1

    @property
    def refers_to(self) -> str | None:
        return self.key_ref or self.value_ref

    @classmethod
    def from_json(cls, data: str | dict) -> "ColumnType":
        if isinstance(data, str):
            return cls(key=data)
        key, key_ref, strong = _base(data["key"])
        value, value_ref = (None, None)
        if "value" in data:
            value, value_ref, _ = _base(data["value"])
        maximum = data.get("max", 1)
        return cls(key=key, value=value, min=data.get("min", 1),
                   max=None if maximum == "unlimited" else maximum,
                   key_ref=key_ref, value_ref=value_ref, strong=strong)


def _base(data: str | dict) -> tuple[str, str | None, bool]:
    if isinstance(data, str):
        return data, None, True
    return data["type"], data.get("refTable"), data.get("refType", "strong") == "strong"


@dataclass(frozen=True, slots=True)
class TableSchema:
    name: str
    columns: dict[str, ColumnType]
    is_root: bool
    indexes: tuple[tuple[str, ...], ...]

    @property
    def ref_columns(self) -> frozenset[str]:
        return frozenset(name for name, ctype in self.columns.items() if ctype.refers_to)


@dataclass(frozen=True, slots=True)
class NbSchema:
    version: str
    tables: dict[str, TableSchema]

    def table(self, name: str) -> TableSchema:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"table {name!r} is not in the {DATABASE} schema "
                           f"{self.version}") from None

    def column(self, table: str, column: str) -> ColumnType:
        try:
            return self.table(table).columns[column]
        except KeyError:
            raise KeyError(f"column {table}.{column} is not in the {DATABASE} schema "
                           f"{self.version}") from None

    def ref_columns(self) -> dict[str, set[str]]:
        """Reference columns of every table: what :meth:`RowSet.from_json_obj` needs."""
        return {name: set(table.ref_columns) for name, table in self.tables.items()}

    def parents(self, child: str) -> list[tuple[str, str]]:
        """``(table, column)`` pairs holding strong references to rows of ``child``."""
        return [(table.name, column)
                for table in self.tables.values()
                for column, ctype in table.columns.items()
                if ctype.key_ref == child and ctype.strong]

    @classmethod
    def from_json(cls, data: dict) -> "NbSchema":
        tables = {
            name: TableSchema(
                name=name,
                columns={column: ColumnType.from_json(spec["type"])
                         for column, spec in table["columns"].items()},
                is_root=bool(table.get("isRoot", False)),
                indexes=tuple(tuple(index) for index in table.get("indexes", ())))
            for name, table in data["tables"].items()}
        return cls(version=data.get("version", "?"), tables=tables)


@lru_cache(maxsize=4)
def load_schema(path: Path = DEFAULT_SCHEMA_PATH) -> NbSchema:
    """The installed Northbound schema (cached: it is read on every command)."""
    return NbSchema.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
