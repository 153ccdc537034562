"""What the service does about Python's cyclic garbage collector.

The service's heap is long-lived: the live view of every owned Northbound row, each
project's last compile, the store's records. A full (generation 2) collection walks
all of it while every thread waits on the interpreter lock. Under the 16-client
CreatePort bench they came every second or so and took 30-120 ms, and each landed on
all the requests in flight: that was the bench's p99. They found almost nothing
(0-2,000 objects): a row the view lets go of is freed by its reference count, and
the young collections take the short-lived cycles.

So the service makes its full collections itself, at a known time: :func:`tune`
(at start) stops the automatic ones, :func:`settle` runs one and freezes what
survives (``gc.freeze``: later collections skip it). The reconciler calls
:func:`settle` after each of its passes (at start, then every
``reconcile_interval``), on the thread that has just rebuilt every project anyway.
Cyclic garbage that outlives the young collections waits for it: one period's worth.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_NEVER = 2**30
"""Generation 2's threshold after :func:`tune`; it counts generation 1 collections,
about one per 7,000 surviving allocations, so automatic full collections stop."""


def tune() -> None:
    """Leave the young generations as Python sets them; stop automatic full
    collections (:func:`settle` makes them)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_NEVER)


def settle() -> None:
    """One full collection, frozen objects included; then freeze what survives."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
