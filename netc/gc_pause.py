"""Pause Python's cyclic garbage collector around bulk work.

netc's stages build hundreds of thousands of small objects that all stay alive
(YAML nodes, intent models, the IR and its graph, rows, decoded OVSDB replies).
Every allocation burst triggers a collection that walks all of them again: on the
200 x 50 bench world that was more than half of ``netc check`` and of a compile.
Nothing here builds garbage cycles worth collecting early; the collector resumes
(and takes anything left) when the block ends. The previous state is restored, so
a caller that disabled it keeps it disabled.

Use as ``with gc_paused():`` or as a decorator ``@gc_paused()``.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
