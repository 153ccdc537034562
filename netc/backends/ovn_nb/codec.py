"""Column values between a :class:`~netc.compiler.rows.Row` and OVSDB's JSON notation.

On netc's side a value is plain Python (``str``/``int``/``bool``, ``list`` for sets,
``dict`` for maps) and a reference is a :class:`Ref` holding the target's netc:key.
On the wire (RFC 7047 section 5.1) a set is ``["set", [...]]`` (or a bare atom when
it has one element), a map ``["map", [[k, v], ...]]`` and a reference ``["uuid", U]``
or, for a row inserted by the same transaction, ``["named-uuid", NAME]``. Which of
these a value is follows from the column's type in the schema, so both directions
take the :class:`ColumnType`.

Reading canonicalises: a scalar column gives an atom, an optional one (``min 0,
max 1``) an atom or ``None``, a set a sorted list, a map a dict. A reference to a row
netc does not know (not owned) reads as ``Ref("uuid:" + UUID)`` so it still compares
unequal to anything netc wants, and can be written back unchanged.
"""

from __future__ import annotations

from typing import Any, Callable

from netc.backends.ovn_nb.schema import ColumnType
from netc.compiler.rows import Ref

FOREIGN_PREFIX = "uuid:"

KeyOf = Callable[[str], str | None]
"""UUID -> netc:key of an owned row, or None."""

UuidOf = Callable[[str, str], list]
"""(table, netc:key) -> ``["uuid", U]`` or ``["named-uuid", NAME]``."""


class CodecError(ValueError):
    """A value that does not fit its column's type."""


def foreign_ref(uuid: str) -> Ref:
    return Ref(FOREIGN_PREFIX + uuid)


def to_datum(ctype: ColumnType, value: Any, uuid_of: UuidOf) -> Any:
    """The OVSDB JSON for ``value`` in a column of type ``ctype``."""
    if ctype.is_map:
        if not isinstance(value, dict):
            raise CodecError(f"expected a map, got {value!r}")
        return ["map", [[_atom_out(ctype.key, ctype.key_ref, k, uuid_of),
                         _atom_out(ctype.value, ctype.value_ref, v, uuid_of)]
                        for k, v in sorted(value.items())]]
    if value is None:
        return ["set", []]
    if isinstance(value, (list, tuple, set, frozenset)):
        atoms = [_atom_out(ctype.key, ctype.key_ref, v, uuid_of) for v in value]
        if ctype.is_scalar and len(atoms) == 1:
            return atoms[0]
        return ["set", atoms]
    return _atom_out(ctype.key, ctype.key_ref, value, uuid_of)


Writer = Callable[[Any, UuidOf], Any]
_ATOM_TYPES = {"string": str, "integer": int, "boolean": bool}


def writer(ctype: ColumnType) -> Writer:
    """:func:`to_datum` for one column type, specialised once (the mirror of
    :func:`reader`): building a 19,000-row transaction calls it for every cell. Values
    of an unexpected type take the generic path, which says what is wrong."""
    def generic(value: Any, uuid_of: UuidOf) -> Any:
        return to_datum(ctype, value, uuid_of)

    if ctype.is_map:
        if ctype.key == ctype.value == "string":
            def string_map(value: Any, uuid_of: UuidOf) -> Any:
                if type(value) is dict and all(type(k) is str and type(v) is str
                                               for k, v in value.items()):
                    return ["map", [[k, v] for k, v in sorted(value.items())]]
                return generic(value, uuid_of)
            return string_map
        return generic
    if ctype.key == "uuid" and ctype.key_ref:
        table = ctype.key_ref

        def reference(key: str, uuid_of: UuidOf) -> list:
            if key.startswith(FOREIGN_PREFIX):
                return ["uuid", key[len(FOREIGN_PREFIX):]]
            return uuid_of(table, key)
        if ctype.is_scalar:
            return lambda value, uuid_of: reference(value, uuid_of) \
                if isinstance(value, str) else generic(value, uuid_of)

        def references(value: Any, uuid_of: UuidOf) -> Any:
            if type(value) is list and all(isinstance(v, str) for v in value):
                return ["set", [reference(v, uuid_of) for v in value]]
            return generic(value, uuid_of)
        return references
    expected = _ATOM_TYPES.get(ctype.key)
    if expected is None:
        return generic
    if ctype.is_scalar:
        return lambda value, uuid_of: value if type(value) is expected \
            else generic(value, uuid_of)
    if ctype.is_optional:
        return lambda value, uuid_of: value if type(value) is expected \
            else ["set", []] if value is None else generic(value, uuid_of)

    def atoms(value: Any, uuid_of: UuidOf) -> Any:
        if type(value) is list and all(type(v) is expected for v in value):
            return ["set", value]
        return generic(value, uuid_of)
    return atoms


def from_datum(ctype: ColumnType, datum: Any, key_of: KeyOf) -> Any:
    """The canonical Python value of an OVSDB JSON ``datum``."""
    if ctype.is_map:
        pairs = datum[1] if _tagged(datum, "map") else []
        return {_atom_in(ctype.key, ctype.key_ref, k, key_of):
                _atom_in(ctype.value, ctype.value_ref, v, key_of) for k, v in pairs}
    atoms = datum[1] if _tagged(datum, "set") else [datum]
    values = [_atom_in(ctype.key, ctype.key_ref, atom, key_of) for atom in atoms]
    if ctype.is_scalar:
        if len(values) != 1:
            raise CodecError(f"expected one value, got {datum!r}")
        return values[0]
    if ctype.is_optional:
        return values[0] if values else None
    return sorted(values)


def reader(ctype: ColumnType, key_of: KeyOf) -> Callable[[Any], Any]:
    """:func:`from_datum` for one column type, specialised once: reading tens of
    thousands of rows calls it per cell, so the common shapes skip the generic path."""
    if ctype.key_ref and not ctype.is_map:
        def ref(atom: list) -> Ref:
            key = key_of(atom[1])
            return Ref(key) if key is not None else foreign_ref(atom[1])
        if ctype.is_scalar:
            return ref
        if ctype.is_optional:
            return lambda datum: (ref(datum[1][0]) if datum[1] else None) \
                if _tagged(datum, "set") else ref(datum)
        return lambda datum: sorted(map(ref, datum[1])) if _tagged(datum, "set") \
            else [ref(datum)]
    if ctype.refers_to or ctype.key == "uuid" or ctype.value == "uuid":
        return lambda datum: from_datum(ctype, datum, key_of)
    if ctype.is_map:
        return lambda datum: dict(datum[1])
    if ctype.is_scalar:
        return lambda datum: datum
    if ctype.is_optional:
        return lambda datum: (datum[1][0] if datum[1] else None) if _tagged(datum, "set") \
            else datum
    return lambda datum: sorted(datum[1]) if _tagged(datum, "set") else [datum]


def _tagged(datum: Any, tag: str) -> bool:
    return isinstance(datum, list) and len(datum) == 2 and datum[0] == tag


def _atom_out(atype: str, ref_table: str | None, value: Any, uuid_of: UuidOf) -> Any:
    if atype == "uuid":
        if ref_table is None:
            return ["uuid", str(value)]
        if not isinstance(value, str):
            raise CodecError(f"expected a reference to {ref_table}, got {value!r}")
        if value.startswith(FOREIGN_PREFIX):
            return ["uuid", value[len(FOREIGN_PREFIX):]]
        return uuid_of(ref_table, value)
    if atype == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        raise CodecError(f"expected an integer, got {value!r}")
    if atype == "boolean" and not isinstance(value, bool):
        raise CodecError(f"expected a boolean, got {value!r}")
    if atype == "string" and not isinstance(value, str):
        raise CodecError(f"expected a string, got {value!r}")
    if atype == "real" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise CodecError(f"expected a number, got {value!r}")
    return value


def _atom_in(atype: str, ref_table: str | None, atom: Any, key_of: KeyOf) -> Any:
    if atype != "uuid":
        return atom
    uuid = atom[1]
    if ref_table is None:
        return uuid
    key = key_of(uuid)
    return Ref(key) if key is not None else foreign_ref(uuid)
