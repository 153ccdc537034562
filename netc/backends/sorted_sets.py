"""What differs between two sets kept as sorted lists, at a cost that grows with the
difference, not with the sets.

A row's set column is a sorted list of distinct elements (:mod:`netc.compiler.rows`;
the readers of the Northbound sort what they decode). A port group of a project of
1,000 ports gaining one port is two lists of 1,000 and 1,001 that agree but for one
element; hashing both into sets to subtract them costs ~0.2 ms, done for each of the
half-dozen such rows of every CreatePort. Here the common runs are skipped by
comparing slices (C speed, a bisection of the run's length), so a few differences
cost a few runs' comparisons; many differences fall back to the sets.
"""

from __future__ import annotations

import operator
from itertools import islice
from typing import Sequence

MERGE_UP_TO = 16
"""Differences found by skipping common runs before falling back to sets."""


def delta(old: Sequence, new: Sequence) -> tuple[list, list]:
    """(elements of ``old`` not in ``new``, elements of ``new`` not in ``old``), each
    sorted; ``old`` and ``new`` sorted lists of distinct elements."""
    removed: list = []
    added: list = []
    i = j = 0
    while i < len(old) and j < len(new):
        run = _common_run(old, i, new, j)
        i, j = i + run, j + run
        if i == len(old) or j == len(new):
            break
        if len(removed) + len(added) >= MERGE_UP_TO:
            return _by_sets(old, new)
        if old[i] < new[j]:
            removed.append(old[i])
            i += 1
        elif new[j] < old[i]:
            added.append(new[j])
            j += 1
        else:  # cannot happen in sorted lists: be right anyway
            return _by_sets(old, new)
    removed.extend(old[i:])
    added.extend(new[j:])
    return removed, added


def _common_run(old: Sequence, i: int, new: Sequence, j: int) -> int:
    """How many elements ``old[i:]`` and ``new[j:]`` have in common before they differ:
    the first False of their element-wise comparison, found at C speed."""
    same = map(operator.eq, islice(old, i, None), islice(new, j, None))
    try:
        return operator.indexOf(same, False)
    except ValueError:  # one is a prefix of the other
        return min(len(old) - i, len(new) - j)


def _by_sets(old: Sequence, new: Sequence) -> tuple[list, list]:
    held, wanted = set(old), set(new)
    return sorted(held - wanted), sorted(wanted - held)
