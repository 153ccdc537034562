"""The service's collector policy (netc.service.heap), in a child interpreter: it
changes process-wide state that the test run's own process should keep."""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import gc, weakref
    from netc.service import heap

    heap.tune()
    young, middle, full = gc.get_threshold()
    assert full == heap.FULL_COLLECTION_NEVER, gc.get_threshold()

    class Node:
        pass

    def old_garbage_cycle():
        # a cycle that lived long enough to reach generation 2, then died
        cycle = Node(); cycle.me = cycle
        gc.collect(1); gc.collect(1)  # survives two young collections: promoted to gen 2
        return weakref.ref(cycle)

    def allocate():
        # enough surviving allocations for automatic collections of every generation
        return [[] for _ in range(300_000)]

    gone = old_garbage_cycle()
    kept = allocate()
    assert gone() is not None, "an automatic full collection ran after tune()"

    heap.settle()
    assert gone() is None, "settle left a garbage cycle"
    assert gc.get_freeze_count() >= len(kept), gc.get_freeze_count()

    frozen = Node(); frozen.me = frozen
    gone = weakref.ref(frozen)
    heap.settle()  # frozen while alive
    del frozen
    heap.settle()
    assert gone() is None, "settle left a cycle that had been frozen"

    gc.set_threshold(young, middle, 10)  # the control: Python's own full collections
    gone = old_garbage_cycle()
    more = allocate()
    assert gone() is None, "the control: no automatic full collection ran"
    print("ok")
""")


def test_tune_leaves_full_collections_to_settle_which_collects_and_freezes():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
