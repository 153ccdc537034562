"""``netc sandbox up --etcd --etcd-members 3``: a local etcd cluster beside OVN, its
endpoint exported for the service, stopped by ``down``."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from netc.devtools.etcd import EtcdCluster
from netc.devtools.sandbox import Sandbox
from netc.service.store import Compare, open_store

pytestmark = [pytest.mark.ovn, pytest.mark.etcd]


def netc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netc", *args], capture_output=True, text=True,
                          timeout=120)


def test_sandbox_up_with_an_etcd_cluster_exports_it_and_down_stops_it(ovn_installed, tmp_path):
    if shutil.which("etcd") is None:
        pytest.skip("etcd is not installed here (apt-get install etcd-server)")
    directory = tmp_path / "sandbox"
    up = netc("sandbox", "up", "--dir", str(directory), "--etcd-members", "3")
    try:
        assert up.returncode == 0, up.stderr
        exports = dict(line.removeprefix("export ").split("=", 1)
                       for line in up.stdout.splitlines())
        endpoint = exports["OVERLAY_NETWORK_CHAINFIRE_ENDPOINT"]
        assert len(endpoint.split(",")) == 3 and "OVN_NB_DB" in exports

        store = open_store(f"etcd:{endpoint}")
        revision = store.commit([Compare("/networks/try", 0)], {"/networks/try": '"yes"'})
        assert store.get(["/networks/try"])["/networks/try"].mod_revision == revision
        store.close()

        status = netc("sandbox", "status", "--dir", str(directory))
        assert status.returncode == 0
        assert all(f"etcd{m}        running" in status.stdout for m in (1, 2, 3))
        assert endpoint in status.stdout
        cluster = EtcdCluster.load(directory / "etcd")
        assert cluster.endpoint == endpoint and cluster.leader() is not None
    finally:
        down = netc("sandbox", "down", "--dir", str(directory))
    assert down.returncode == 0, down.stderr
    sandbox = Sandbox.load(directory)
    assert sandbox.status().stopped
    assert all(daemon.pid() is None for daemon in EtcdCluster.load(directory / "etcd").daemons())
