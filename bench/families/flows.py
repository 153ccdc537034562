"""Issue 9: flows, netc's rows vs one ACL per rule (Neutron ML2/OVN's translation).

For every folder of ``policies/`` and a 20-project slice of the scale world
(:mod:`bench.world`, 20 x the run's ports per project), both translations of the same
intent are loaded into a fresh sandbox with a dataplane (NB, SB, northd, OVS and
ovn-controller as the one chassis), every VM port bound on br-int (an OVS internal
port with its ``iface-id``: ovn-controller installs flows only for local datapaths
and ports), and once every chassis has caught up (``nb_cfg`` -> ``hv_cfg``) two
counts are taken:

- logical flows: the rows of the Southbound ``Logical_Flow`` table northd computed;
- OpenFlow flows: ``ovs-ofctl dump-flows br-int`` on the chassis.

netc's rows are ``netc compile``'s; the reference is :func:`bench.neutron.neutron_rows`:
the same topology rows, the security rows replaced by one ACL per rule and port range
on a port group per group, remote groups as address sets. Goal: netc fewer on every
one (a ratio below 1). Counting is deterministic: one run, no repetition.

The dataplane is the machine's one (/var/run/openvswitch): the family waits for it
to be free, like the dataplane tests, and reports the figures as not measured when
OVN/OVS are not installed.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from contextlib import closing
from pathlib import Path

from bench.families.apply import raw_insert_operations
from bench.figures import Context, Figure, pending
from bench.neutron import neutron_rows
from bench.world import WorldShape, cached_world
from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.compiler.lower import compile_world
from netc.compiler.rows import RowSet
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths

FAMILY = "flows"
REFERENCE = "one ACL per rule (Neutron)"
GOAL = 1.0
POLICIES = Path(__file__).resolve().parents[2] / "policies"
SLICE_PROJECTS = 20
WAIT_FOR_DATAPLANE = 600.0
HV_TIMEOUT = 300.0


def compiled(paths: list[str], config: Path):
    diagnostics = Diagnostics()
    settings = load_settings(str(config), diagnostics)
    result = check_paths(paths, settings, diagnostics)
    if not result.ok:
        first = next(d for d in diagnostics if d.is_error)
        raise RuntimeError(f"{' '.join(paths)} does not check clean: {first.render()}")
    return result.world, compile_world(result.world).rows


def start_dataplane(directory: Path):
    from netc.devtools.sandbox import DataplaneBusy, Sandbox

    deadline = time.monotonic() + WAIT_FOR_DATAPLANE
    while True:
        sandbox = Sandbox(directory, dataplane=True)
        try:
            return sandbox.start()
        except DataplaneBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def count_flows(rows: RowSet, owner: str) -> tuple[int, int, int]:
    """(SB logical flows, OpenFlow flows on br-int, VM ports bound) for ``rows``."""
    vms = sorted(row.columns["name"] for row in rows.tables.get("Logical_Switch_Port", {}).values()
                 if not row.columns.get("type"))
    with tempfile.TemporaryDirectory(prefix="netc-flows-") as scratch:
        sandbox = start_dataplane(Path(scratch) / "sandbox")
        bound: list[str] = []
        try:
            with closing(OvsdbClient(sandbox.nb_remote)) as nb:
                nb.transact(raw_insert_operations(rows, owner))
            plug = ["ovs-vsctl", "--timeout=300"]
            for index, name in enumerate(vms):
                port = f"nf{index:05d}"
                bound.append(port)
                plug += ["--", "add-port", "br-int", port, "--", "set", "interface", port,
                         "type=internal", f"external_ids:iface-id={name}"]
            if vms:
                sandbox.run(*plug, timeout=330)
            with closing(OvsdbClient(sandbox.nb_remote)) as nb:
                nb.bump_nb_cfg_and_wait("hv", HV_TIMEOUT)
            with closing(OvsdbClient(sandbox.sb_remote, "OVN_Southbound")) as sb:
                logical = len(sb.select("Logical_Flow", columns=["_uuid"]))
            dump = sandbox.run("ovs-ofctl", "dump-flows", "br-int", timeout=120)
            openflow = sum(1 for line in dump.splitlines() if "cookie=" in line)
            return logical, openflow, len(vms)
        finally:
            if bound:  # netdev taps outlive ovs-vswitchd: delete them first
                unplug = ["ovs-vsctl", "--timeout=300"]
                for port in bound:
                    unplug += ["--", "--if-exists", "del-port", "br-int", port]
                subprocess.run(unplug, capture_output=True, timeout=330)
            sandbox.stop()


def measure(context: Context) -> list[Figure]:
    from netc.devtools.sandbox import MissingBinaries, check_binaries

    targets = [(f"policies/{folder.name}", [str(folder)], POLICIES.parent / "netc.toml")
               for folder in sorted(p for p in POLICIES.iterdir() if p.is_dir())]
    shape = WorldShape(SLICE_PROJECTS, context.shape.ports)
    try:
        check_binaries(dataplane=True)
    except MissingBinaries as missing:
        return [pending(FAMILY, f"{kind} flows, {name}", "flows", REFERENCE, GOAL, str(missing))
                for name, _, _ in targets + [(f"slice {shape.name}", None, None)]
                for kind in ("logical", "OpenFlow")]
    slice_world = cached_world(context.world.parent, shape)
    targets.append((f"world slice {shape.name}", [str(slice_world)], slice_world / "netc.toml"))
    figures = []
    for name, paths, config in targets:
        world, rows = compiled(paths, config)
        owner = world.settings.owner
        netc_counts = count_flows(rows, owner)
        reference = neutron_rows(world, rows)
        neutron_counts = count_flows(reference, owner)
        note = (f"{netc_counts[2]} VM ports bound; ACL rows {rows.count('ACL')} vs "
                f"{reference.count('ACL')}")
        figures.append(Figure(FAMILY, f"logical flows, {name}", "flows", float(netc_counts[0]),
                              REFERENCE, float(neutron_counts[0]), GOAL, note=note))
        figures.append(Figure(FAMILY, f"OpenFlow flows, {name}", "flows",
                              float(netc_counts[1]), REFERENCE, float(neutron_counts[1]), GOAL,
                              note="ovs-ofctl dump-flows br-int, ovn-controller caught up"))
    return figures
