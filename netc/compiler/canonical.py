"""Canonical column values: what the diff compares and what a row's digest hashes.

A row's columns reach netc in three shapes: as the compiler built them (lists in any
order, unset columns left out), as read back from a live Northbound DB (every managed
column, sets sorted) and as read from a snapshot file. :func:`normalised` maps each to
one value per column (an unset column reads as OVSDB's default, a set as a sorted
list), so they compare equal exactly when OVSDB holds the same thing.

The compiler stamps every row's ``external_ids`` with ``netc:digest``, a hash of the
row's canonical columns (``external_ids`` minus the digest itself). A row read back
whose stored digest no longer matches its columns was edited after netc wrote it:
that is how a plan tells drift (someone ran ``ovn-nbctl``) from a change of the
intent, without netc keeping any record of its own. Columns holding their default
are left out of the hash, so a column netc starts managing later does not change
the digest of rows that never set it.

The digest is a sum, modulo 2**64: a 64-bit hash of the row's other columns plus,
per element of each set column, a 32-bit CRC of the element seeded by its column
(their sum spread over the 64 bits by an odd multiplier).
So the digest of a row whose sets gain and lose a few elements is the old digest
plus and minus theirs (:func:`digest_moved`), whatever the size of the sets: the
service's incremental compile adds one port to port groups and address sets of
thousands, and hashing them whole was a quarter of a 1,000-port project's request
time (measured in docs/bench.md). A set whose elements change without the sum
changing would hide an edit: two different elements with one CRC, about one
chance in 2**32 per element edited behind netc's back.
"""

from __future__ import annotations

import hashlib
import zlib
from itertools import repeat
from typing import Any, Collection, Mapping

from netc.compiler.rows import Row, json_encoder
from netc.compiler.schema import TABLES, unset_value

DIGEST_KEY = "netc:digest"

_UNSET: dict[str, dict[str, Any]] = {
    table: {name: unset_value(column) for name, column in columns.items()}
    for table, columns in TABLES.items()}
"""Table -> column -> its unset value, for every managed column in schema order
(looked up per cell: the diff and the digest read every column of every row)."""

_SEEDS: dict[str, dict[str, int]] = {
    table: {name: zlib.crc32(f"{table}.{name}".encode())
            for name, column in columns.items() if column.kind in ("set", "refs")}
    for table, columns in TABLES.items()}
"""Table -> set column -> the seed of its elements' CRCs: an element moved from one
set column to another changes the digest."""

_MASK = 2**64 - 1
_SPREAD = 0x9E3779B97F4A7C15
"""An odd multiplier (a bijection modulo 2**64) for the elements' sum, whose CRCs fill
only its low bits: rows that differ only in their sets then differ in every digit."""

_encode = json_encoder(separators=(",", ":"))
"""The C encoder (no ``indent``), made once: hashing every row of a large compile
stays cheap. The same text as ``json.dumps(sort_keys=True, separators=(",", ":"))``."""


_UNMANAGED = object()


def normalised(row: Row | None, column: str) -> Any:
    """The value of ``column`` in ``row`` as OVSDB holds it (``row`` None: absent)."""
    if row is None:
        return None
    value = row.columns.get(column)
    if value is None:
        return _UNSET[row.table][column]
    if isinstance(value, list):
        return sorted(value)
    return value


def without_digest(ids: dict[str, str]) -> dict[str, str]:
    if DIGEST_KEY not in ids:
        return ids
    return {key: value for key, value in ids.items() if key != DIGEST_KEY}


def digest_of(table: str, columns: dict[str, Any]) -> str:
    """The digest of a row of ``table`` holding ``columns`` (its own digest ignored)."""
    unset_of, seeds = _UNSET[table], _SEEDS[table]
    canonical = {}
    total = 0
    for name, value in columns.items():  # normalised(), inlined: this runs for every row
        unset = unset_of.get(name, _UNMANAGED)
        if unset is _UNMANAGED or value is None:
            continue  # not a column netc writes, or one that reads as unset: left out
        if name in seeds:
            total += _elements_sum(seeds[name], value)
        elif value != unset:
            canonical[name] = without_digest(value) if name == "external_ids" else value
    head = hashlib.blake2b(_encode(canonical).encode(), digest_size=8).digest()
    return f"{(int.from_bytes(head, 'big') + _SPREAD * total) & _MASK:016x}"


def digest_moved(table: str, digest: str,
                 moves: Mapping[str, tuple[Collection[str], Collection[str]]]) -> str:
    """The digest of a row whose digest was ``digest`` once each set column in
    ``moves`` lost and gained the elements given as (lost, gained); nothing else of
    the row changed, and each lost element was in the column, each gained one not."""
    seeds = _SEEDS[table]
    change = sum(_elements_sum(seeds[name], gained) - _elements_sum(seeds[name], lost)
                 for name, (lost, gained) in moves.items())
    return f"{(int(digest, 16) + _SPREAD * change) & _MASK:016x}"


def _elements_sum(seed: int, elements: Collection[str]) -> int:
    try:
        return sum(map(zlib.crc32, map(str.encode, elements), repeat(seed, len(elements))))
    except TypeError:  # not strings (a hand-edited snapshot): still a digest, not a crash
        items = elements if isinstance(elements, (list, tuple)) else [elements]
        return sum(zlib.crc32(_encode(item).encode(), seed) for item in items)


def stamp(row: Row) -> Row:
    """``row`` with ``netc:digest`` set to the digest of its other columns (in place:
    the compiler's rows are its own)."""
    ids = row.columns.setdefault("external_ids", {})
    ids[DIGEST_KEY] = digest_of(row.table, row.columns)
    return row


def stamped_copy(row: Row) -> Row:
    """A new row like ``row`` with its digest recomputed (for rows the diff derives)."""
    columns = dict(row.columns, external_ids=dict(row.columns.get("external_ids", {})))
    return stamp(Row(row.table, row.key, columns))


def drifted(row: Row) -> bool | None:
    """Whether ``row`` (as read back) was edited since netc wrote it: True or False,
    or None when it carries no digest (written by a netc that did not stamp one)."""
    stored = row.columns.get("external_ids", {}).get(DIGEST_KEY)
    if stored is None:
        return None
    return stored != digest_of(row.table, row.columns)
