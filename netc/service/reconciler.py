"""The reconciler: on start and every ``reconcile_interval`` seconds, every project the
store holds (and every project the service owns rows of in OVN) is planned against
the Northbound and brought in line: drift repaired (rows edited or deleted outside
the service), rows of deleted projects destroyed, and the OVN half of a request
whose process died after its store commit completed.

It runs through the engine like a request with no mutation, so it is serialised with
the requests of each project and never races them.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from netc.service import heap, records
from netc.service.engine import Engine
from netc.service.errors import ServiceError
from netc.service.metrics import ServiceMetrics
from netc.service.store import StoreUnavailable

log = logging.getLogger(__name__)


def _no_change(changeset, context) -> None:
    return None


class Reconciler:
    def __init__(self, engine: Engine, metrics: ServiceMetrics, interval: float,
                 may_run: Callable[[], bool] = lambda: True) -> None:
        self.engine = engine
        self.metrics = metrics
        self.interval = interval
        self.may_run = may_run
        """False while another replica holds the reconciler's lease."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.may_run():
                self.run_once()
            heap.settle()
            self._stop.wait(self.interval)

    def run_once(self) -> int:
        """One pass over every project; the number of projects repaired."""
        try:
            stored = records.projects_in(self.engine.store.range([f"{records.ROOT}/vpcs/"]))
            in_ovn = {tuple(p.split("/", 1)) for p in self.engine.northbound.projects()}
        except (StoreUnavailable, ServiceError) as error:
            log.warning("reconciler: cannot list projects: %s", error)
            self.metrics.reconcile_errors.inc()
            return 0
        repaired = 0
        for org, project in sorted(stored | in_ovn):
            if not self.may_run():  # another replica took the reconciler over meanwhile
                break
            request = self.engine.submit(org, project, _no_change, reconcile=True)
            if request.error is not None:
                self.metrics.reconcile_errors.inc()
                log.warning("reconciler: %s/%s: %s", org, project, request.error)
            elif request.changes:
                repaired += 1
                self.metrics.reconcile_repairs.inc()
                self.metrics.reconcile_rows.inc(request.changes)
                log.info("reconciler: %s/%s: repaired %d row(s)", org, project, request.changes)
        self.metrics.reconcile_runs.inc()
        return repaired
