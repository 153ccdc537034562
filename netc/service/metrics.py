"""Prometheus metrics of the service: the specification's section 11.2 names, request
latency per RPC, where a batch's time goes, and the reconciler's counters.

The totals (VPCs, subnets, ports, IP allocations) are counted from the store when
scraped, so every replica reports the same truth rather than its own tally.
"""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from netc.service import records
from netc.service.store import Store, StoreUnavailable

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2,
                   0.5, 1.0, 2.5, 5.0)


class _StoreTotals:
    """overlay_network_{vpcs,subnets,ports,ip_allocations}_total from the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self):
        folders = {"vpcs": "VPCs", "subnets": "subnets", "ports": "ports"}
        try:
            entries = self.store.range([f"{records.ROOT}/{f}/" for f in (*folders, "ipam")])
        except StoreUnavailable:
            return
        for folder, what in folders.items():
            count = sum(1 for key in entries if key.startswith(f"{records.ROOT}/{folder}/"))
            yield GaugeMetricFamily(f"overlay_network_{folder}_total",
                                    f"Number of {what} in the store", value=count)
        allocations = sum(len(json.loads(entry.value)) for key, entry in entries.items()
                          if key.startswith(f"{records.ROOT}/ipam/"))
        yield GaugeMetricFamily("overlay_network_ip_allocations_total",
                                "IP addresses allocated to ports", value=allocations)


class ServiceMetrics:
    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_StoreTotals(store))
        self.ovn_seconds = Histogram(
            "overlay_network_ovn_operations_duration_seconds",
            "Latency of OVN Northbound transactions", buckets=LATENCY_BUCKETS,
            registry=self.registry)
        self.request_seconds = Histogram(
            "overlay_network_request_duration_seconds", "Latency of RPCs",
            ["method"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.requests = Counter("overlay_network_requests", "RPCs answered",
                                ["method", "code"], registry=self.registry)
        self.compile_seconds = Histogram(
            "overlay_network_compile_duration_seconds",
            "Check and compile time of one project's batch", buckets=LATENCY_BUCKETS,
            registry=self.registry)
        self.store_seconds = Histogram(
            "overlay_network_store_duration_seconds", "Store reads and commits of one batch",
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram(
            "overlay_network_batch_requests", "Requests served by one batch (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=self.registry)
        self.reconcile_runs = Counter("overlay_network_reconcile_runs",
                                      "Reconciler passes over every project",
                                      registry=self.registry)
        self.reconcile_repairs = Counter(
            "overlay_network_reconcile_repairs",
            "Projects whose OVN rows the reconciler found different from the store and fixed",
            registry=self.registry)
        self.reconcile_rows = Counter("overlay_network_reconcile_rows_repaired",
                                      "Rows created, updated or destroyed by the reconciler",
                                      registry=self.registry)
        self.reconcile_errors = Counter("overlay_network_reconcile_errors",
                                        "Projects the reconciler could not bring in line",
                                        registry=self.registry)

    def observe_batch(self, timings, size: int) -> None:
        self.compile_seconds.observe(timings.compile)
        self.store_seconds.observe(timings.store)
        self.ovn_seconds.observe(timings.ovn)
        self.batch_size.observe(size)
