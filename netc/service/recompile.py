"""A project's check and compile, whole or from its last compile when only ports
changed (CreatePort, DeletePort, AttachPort, DetachPort: nearly every request).

The engine remembers, per project, the last rows it applied and the store revision
they are of (the VPC key's ``mod_revision``, which every change of the project
rewrites). A batch that read the project at that revision and wrote, besides port
records, nothing of the project's intent (the VPC's ``updated_at``, IP allocation
lists and the MAC index are not intent) is checked and compiled without the ports
that stay: the checks see the project's subnets, groups, NAT and the changed ports
(plus the ports the project's DNATs forward to, so that their targets exist), and
:mod:`netc.compiler.incremental` derives the rows. What the full checks would add
about the ports that stay, their uniqueness against the changed ones, the
operations already guarantee (an IP is taken from the subnet's allocation list, a
MAC from the store-wide index, a port name is new). Anything else (a subnet, group
or NAT change, a reconcile, another process's write, a change the derivation does
not fit) takes the whole path, as before: records -> intent -> checks -> compile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import ValidationError

from netc.compiler.incremental import Baseline, SetDeltas, recompile
from netc.compiler.lower import compile_world
from netc.compiler.rows import RowSet
from netc.config import Settings
from netc.diagnostics import Code, Diagnostics, Location
from netc.frontend import check_documents
from netc.intent import model as intent
from netc.intent.source import Document
from netc.ir.world import build_world
from netc.service import records
from netc.service.changeset import ChangeSet

INCREMENTAL_FROM = 32
"""Ports a project needs before its port changes are compiled incrementally: below,
the whole project compiles in less time than the three small compiles that take."""


class ServiceSource:
    """The source map of intent built from stored records: diagnostics name the
    project, as no file and line exist."""

    def __init__(self, project: str) -> None:
        self.file = project

    def locate(self, path) -> Location:
        return Location(self.file)


@dataclass(frozen=True)
class CompiledProject:
    """What a batch leaves for the next batch of the project to start from."""

    skeleton: intent.Project
    """The project's intent with only the ports its DNATs forward to."""
    baseline: Baseline
    ports: int
    revision: int | None = None
    """The store revision of the project's VPC key these rows are of (once committed)."""


@dataclass
class Compiled:
    rows: RowSet
    diagnostics: Diagnostics
    next: CompiledProject | None = None
    """None: nothing to remember (errors, no VPC)."""
    touched: frozenset[tuple[str, str]] | None = None
    """Rows that differ from the previous batch's (None: compiled whole)."""
    deltas: SetDeltas | None = None
    """How the sets of those rows changed from the previous batch's (None: whole)."""
    deltas_of: int | None = None
    """The store revision of the previous batch's rows, which ``deltas`` start from."""


def compile_project(org: str, project: str, changeset: ChangeSet, settings: Settings,
                    previous: CompiledProject | None) -> Compiled:
    """The project's rows as ``changeset`` leaves it, by the CLI's front end and
    compiler: incrementally from ``previous`` when the module docstring allows."""
    if previous is not None and previous.ports >= INCREMENTAL_FROM:
        compiled = _from_previous(org, project, changeset, settings, previous)
        if compiled is not None:
            return compiled
    return _whole(org, project, changeset, settings)


def _whole(org: str, project: str, changeset: ChangeSet, settings: Settings) -> Compiled:
    diagnostics = Diagnostics()
    try:
        model = records.project_intent(org, project, changeset.values())
    except ValidationError as error:  # the operations validate first; a safety net
        diagnostics.error(Code.SCHEMA_ERROR, str(error).splitlines()[0], Location(org))
        return Compiled(RowSet(), diagnostics)
    if model is None:
        return Compiled(RowSet(), diagnostics)
    result = check_documents([_document(model)], settings, diagnostics)
    if diagnostics.has_errors:
        return Compiled(RowSet(), diagnostics)
    compilation = compile_world(result.world, diagnostics=diagnostics)
    targets = {d.internal_ip for d in model.nat.dnat}
    skeleton = model.model_copy(update={"ports": [p for p in model.ports if p.ip in targets]})
    return Compiled(compilation.rows, diagnostics, CompiledProject(
        skeleton, Baseline.of(compilation, result.world), len(model.ports)))


def _from_previous(org: str, project: str, changeset: ChangeSet, settings: Settings,
                   previous: CompiledProject) -> Compiled | None:
    vpc_key = records.vpc_key(org, project)
    read = changeset.entries.get(vpc_key)
    if read is None or read.mod_revision != previous.revision:
        return None
    port_prefix = f"{records.ROOT}/ports/{org}/{project}/"
    ipam_prefix = f"{records.ROOT}/ipam/{org}/{project}/"
    added, removed = [], []
    for key in changeset.writes:
        if key.startswith(port_prefix):
            before, after = records.decode(changeset.entries.get(key)), changeset.get(key)
            if before != after:
                removed += [records.port_intent(before)] if before is not None else []
                added += [records.port_intent(after)] if after is not None else []
        elif key == vpc_key:
            vpc, was = changeset.get(key), records.decode(read)
            if vpc is None or (vpc["name"], vpc["cidr"]) != (was["name"], was["cidr"]):
                return None
        elif not (key.startswith(ipam_prefix) or key.startswith(f"{records.ROOT}/macs/")):
            return None
    kept = {p.name for p in previous.skeleton.ports}
    if any(p.name in kept for p in added + removed):
        return None
    diagnostics = Diagnostics()
    checked = check_documents([_with_ports(previous.skeleton, added)], settings, diagnostics)
    if diagnostics.has_errors:
        return Compiled(RowSet(), diagnostics)
    rest = build_world([_with_ports(previous.skeleton, [])], settings)
    gone = build_world([_with_ports(previous.skeleton, removed)], settings) if removed else None
    result = recompile(previous.baseline, rest, checked.world if added else None, gone)
    if result is None:
        return None
    return Compiled(result.rows, diagnostics,
                    replace(previous, baseline=result.baseline, revision=None,
                            ports=previous.ports + len(added) - len(removed)),
                    result.touched, result.deltas, previous.revision)


def _with_ports(skeleton: intent.Project, ports: list[intent.Port]) -> Document:
    return _document(skeleton.model_copy(update={"ports": [*skeleton.ports, *ports]}))


def _document(model: intent.Project) -> Document:
    return Document(model, ServiceSource(model.key))
