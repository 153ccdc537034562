"""The ``replicas`` bench family (issue 8): it says why when it cannot run, and at toy
size on real OVN and etcd it measures every figure it lists. No time is asserted."""

from __future__ import annotations

import json

import pytest

from bench import run


def test_replicas_family_without_binaries_says_why(tmp_path, monkeypatch):
    from bench.families import replicas
    monkeypatch.setattr(replicas.shutil, "which", lambda binary: None)
    out = tmp_path / "report.json"
    assert run.main(["--projects", "1", "--ports", "1", "--repeat", "1", "--only", "replicas",
                     "--world-dir", str(tmp_path), "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["figures"]
    assert [f["name"] for f in figures] == [name for name, *_ in replicas._names()]
    assert all(f["netc"] is None and "needs ovsdb-server" in f["note"] for f in figures)


@pytest.mark.service
@pytest.mark.ovn
@pytest.mark.etcd
def test_replicas_family_at_toy_size(tmp_path, monkeypatch):
    from bench.families import replicas
    from netc.devtools.etcd import check_etcd
    from netc.devtools.sandbox import MissingBinaries, SandboxError, check_binaries
    try:
        check_binaries()
        check_etcd()
    except (MissingBinaries, SandboxError) as missing:
        pytest.skip(f"OVN or etcd is not installed here ({missing})")
    for name, value in {"CONCURRENCY": (2, 3), "REQUESTS_PER_RUN": 6, "FAILOVER_TRIALS": 1,
                        "FAILOVER_THREADS": 2}.items():
        monkeypatch.setattr(replicas, name, value)
    out = tmp_path / "report.json"
    assert run.main(["--projects", "1", "--ports", "1", "--repeat", "1", "--only", "replicas",
                     "--world-dir", str(tmp_path), "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["figures"]
    assert [f["name"] for f in figures] == [name for name, *_ in replicas._names()]
    assert all(f["netc"] for f in figures), figures
    latency = next(f for f in figures if f["name"] == "CreatePort p50, 3 clients, etcd, 2 replicas")
    assert len(latency["samples"]["netc"]) == len(latency["samples"]["reference"]) == 6
