"""Sets kept as sorted lists, changed by a few elements at a cost that grows with the
change, not with the set.

Only for lists known to be sorted in Python's order: the live view's decoded sets
(its readers sort them) and the shares it derives from them. The compiler's lists are
in a stable order, not always this one (an address set's addresses are in numeric
order), so its rows are never given to these functions.
"""

from __future__ import annotations

from bisect import bisect_left


def toggled(held: list, elements) -> list:
    """A copy of the sorted list ``held`` without each of ``elements`` it holds and with
    each it lacks, still sorted: a bisection and a move per element, not a sort."""
    result = list(held)
    for element in elements:
        index = bisect_left(result, element)
        if index < len(result) and result[index] == element:
            del result[index]
        else:
            result.insert(index, element)
    return result
