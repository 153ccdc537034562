"""Real OVN for the tests, started and stopped by the code behind ``netc sandbox``.

Every test here is marked ``ovn`` (the dataplane ones also ``dataplane``): the quick
run deselects them and ``scripts/test-all`` runs them. On a machine without OVN they
are skipped with the reason; CI installs the packages first (``scripts/setup``).

Fixtures:
- ``ovn_installed``: skips unless OVN is installed (for tests that start their own).
- ``ovn_sandbox``: one standalone NB + SB + northd for the whole session. Tests share
  it, so they name their rows uniquely (``unique_name``) and never expect it empty.
- ``sandbox_factory(**options)``: fresh sandboxes (``cluster=3``, ``dataplane=True``)
  for tests that kill daemons or need an empty database; stopped at teardown.
- ``cluster_sandbox``: a fresh 3-member RAFT Northbound.
- ``dataplane_sandbox``: a fresh sandbox with OVS and ovn-controller. There is one
  per machine (it uses /var/run/openvswitch): the factory waits for another test run
  to release it rather than fail.
- ``start_sandbox(sandbox)``: what the factory does, for fixtures of another scope.
Teardown stops every daemon and deletes the VM namespaces even when a test fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from netc.devtools.sandbox import (DataplaneBusy, MissingBinaries, Sandbox,
                                          check_binaries, poll_until)

DATAPLANE_WAIT = 300.0
"""Seconds a dataplane sandbox waits for another test run to release the machine's one."""

_names = itertools.count()


def _require_ovn(dataplane: bool = False) -> None:
    try:
        check_binaries(dataplane)
    except MissingBinaries as missing:
        pytest.skip(f"OVN is not installed here ({missing}); CI installs it with scripts/setup")


@pytest.fixture
def ovn_installed() -> None:
    """Skip the test unless the control-plane programs are installed."""
    _require_ovn()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Names no other test on the shared sandbox uses: ``unique_name("ls")``."""
    return lambda prefix: f"{prefix}-{request.node.name[:20]}-{next(_names)}"


@pytest.fixture(scope="session")
def ovn_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    _require_ovn()
    sandbox = Sandbox(tmp_path_factory.mktemp("ovn-sandbox"))
    try:
        yield sandbox.start()
    finally:
        sandbox.stop()


def start_sandbox(sandbox: Sandbox) -> Sandbox:
    """Start ``sandbox`` (skip without OVN); a dataplane one waits for the machine's to be free.

    Also for fixtures of other scopes (tests/e2e keeps one dataplane for a module).
    """
    _require_ovn(sandbox.dataplane)
    if not sandbox.dataplane:
        return sandbox.start()

    def started_when_free() -> Sandbox | None:
        try:
            return sandbox.start()
        except DataplaneBusy:
            return None

    return poll_until(started_when_free, DATAPLANE_WAIT, "the machine's dataplane to be free")


@pytest.fixture
def sandbox_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Sandbox]]:
    started: list[Sandbox] = []

    def start(**options) -> Sandbox:
        sandbox = Sandbox(tmp_path_factory.mktemp("sandbox"), **options)
        started.append(sandbox)
        return start_sandbox(sandbox)

    try:
        yield start
    finally:
        for sandbox in started:
            sandbox.stop()


@pytest.fixture
def cluster_sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory(cluster=3)


@pytest.fixture
def dataplane_sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory(dataplane=True)
