"""Keep checking a document that has schema errors (contract section 3: every problem
at once).

A SCHEMA_ERROR used to drop its whole document, so one unknown protocol in one rule
hid an INVALID_PORT_RANGE in the next rule, or an INVALID_IP of a port. Instead,
:func:`salvage` cuts the smallest part of the written data that holds each schema
error and validates the rest again; the checks then run on what is left:

- a list item holding an error goes (the rule, the port, the subnet, one entry of a
  port's ``security_groups`` or of a rule's ``ports``): the deepest list index of the
  error's path;
- an unknown key of a subnet, group or port goes (it carries nothing netc reads), and
  so does a bad optional field of theirs whose default no check minds (``dhcp: 7``,
  a port's ``mac: 1``); an unknown key of a rule takes the rule with it (``prot: tcp``
  is not ``all``);
- a top-level field of the wrong type goes (``subnets: 5``, ``vpc: 10``).

A document whose ``org`` or ``project`` is wrong is not salvaged: its identity is
unknown, so nothing of it can be checked against the other projects.

Cutting must not invent problems: what was cut is recorded in :class:`Withheld`, so
that a port on a subnet that was cut is not reported SUBNET_NOT_FOUND, and a VPC whose
``cidr`` was cut is neither taken from the pool nor compared with its subnets. A
salvaged document always comes with its SCHEMA_ERRORs, so it is checked but never
compiled or formatted.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from netc.diagnostics import Location
from netc.intent.model import Project
from netc.intent.source import Path, SourceMap

ANY_NAME = "*"
"""In a :class:`Withheld` set: an element whose name could not be read was cut."""
ELEMENTS = {"subnets": "subnets", "security_groups": "groups", "ports": "ports"}
"""Top-level lists whose items others refer to by name -> the Withheld field."""
OPTIONAL_FIELDS = {"subnets": {"dhcp", "dns_servers"},
                   "security_groups": {"description", "include", "ingress", "egress"},
                   "ports": {"vm", "mac", "security_groups"}}
"""Fields of an element that can go alone, the element staying: their defaults make
no check speak (a port without ``ip`` would be allocated one, and could exhaust its
subnet, so a bad ``ip`` takes its port; a bad ``subnet`` or ``cidr`` takes its
element too)."""
_IDENTITY = ("org", "project")
_UNION_STEPS = ("int", "str")
"""Steps pydantic adds to a location for the alternatives of ``int | str``."""


@dataclass(frozen=True)
class Withheld:
    """What :func:`salvage` cut from a document, so checks do not report its absence."""

    subnets: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()
    """Names of cut (or, for ports, altered) elements; :data:`ANY_NAME` when unknown."""
    vpc_cidr: bool = False
    """The VPC's ``cidr`` was cut: the VPC's block is unknown, not the pool's to give."""
    peerings: bool = False
    """Some ``peerings`` were cut: a peering may be meant that the rest does not show."""

    def has(self, kind: str, name: str) -> bool:
        """Whether an element ``name`` of ``kind`` (subnets, groups, ports) may have been cut."""
        names: frozenset[str] = getattr(self, kind)
        return name in names or ANY_NAME in names


@dataclass(frozen=True)
class Salvaged:
    project: Project
    source: SourceMap
    """Answers the salvaged document's paths with the positions of the written ones."""
    withheld: Withheld


def salvage(data: dict, error: ValidationError, source: SourceMap) -> Salvaged | None:
    """``data`` without the parts holding ``error``'s problems, validated; None when
    the document's identity is wrong or what is left does not validate either."""
    cuts: set[Path] = set()
    for problem in error.errors(include_url=False):
        loc = tuple(step for step in problem["loc"] if step not in _UNION_STEPS)
        cut = _cut_of(data, loc, problem["type"])
        if cut is None:
            return None
        cuts.add(cut)
    cuts = {cut for cut in cuts if not any(cut[:n] in cuts for n in range(len(cut)))}
    kept: dict[Path, list[int]] = {}
    withheld = {"subnets": set(), "groups": set(), "ports": set()}
    flags = {"vpc_cidr": False, "peerings": False}
    for cut in sorted(cuts, key=_descending, reverse=True):
        _note(data, cut, withheld, flags)
        data = _without(data, cut, kept)
    try:
        project = Project.model_validate(data)
    except ValidationError:
        return None
    return Salvaged(project, _Reindexed(source, kept),
                    Withheld(**{k: frozenset(v) for k, v in withheld.items()}, **flags))


def _cut_of(data: object, loc: Path, kind: str) -> Path | None:
    """The path of what to cut for one problem at ``loc``."""
    if not loc or loc[0] in _IDENTITY:
        return None
    deepest = max((i for i, step in enumerate(loc) if isinstance(step, int)), default=None)
    if deepest is None:  # a top-level field, or one of vpc or nat
        return loc[:2]
    if deepest == 1 and len(loc) == 3 and loc[0] in ELEMENTS and (
            kind == "extra_forbidden" or loc[2] in OPTIONAL_FIELDS[loc[0]]):
        return loc  # an unknown key or an optional field of a subnet, group or port
    return loc[:deepest + 1]


def _note(data: dict, cut: Path, withheld: dict[str, set[str]], flags: dict[str, bool]) -> None:
    """Record in ``withheld`` what cutting ``cut`` takes away that others may name."""
    head = cut[0]
    if head == "vpc" and (len(cut) == 1 or cut[1] == "cidr"):
        flags["vpc_cidr"] = True
    elif head == "peerings":
        flags["peerings"] = True
    elif head in ELEMENTS:
        kind = ELEMENTS[head]
        if len(cut) == 1:
            withheld[kind].add(ANY_NAME)
        elif len(cut) == 2 or kind == "ports":  # the element, or a port's own field
            item = _at(data, cut[:2])
            name = item.get("name") if isinstance(item, dict) else None
            withheld[kind].add(name if isinstance(name, str) else ANY_NAME)


def _at(data: object, path: Path) -> object:
    for step in path:
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _descending(path: Path) -> tuple:
    """Sort key: later list items first, so cutting one leaves the others' indices."""
    return tuple((0, step, "") if isinstance(step, int) else (1, 0, step) for step in path)


def _without(data: object, cut: Path, kept: dict[Path, list[int]], at: Path = ()) -> object:
    """``data`` (found at written path ``at``) with the item or key at ``cut`` removed,
    the written indices of the items left in each list recorded in ``kept``. The
    containers on the way are copied, never changed: YAML aliases share them."""
    step, rest = cut[0], cut[1:]
    if isinstance(data, dict) and step in data:
        copy = dict(data)
        if rest:
            copy[step] = _without(data[step], rest, kept, at + (step,))
        else:
            del copy[step]
        return copy
    if isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
        copy = list(data)
        if rest:
            copy[step] = _without(data[step], rest, kept, at + (step,))
        else:
            del copy[step]
            del kept.setdefault(at, list(range(len(data))))[step]
        return copy
    return data


@dataclass(frozen=True, eq=False)
class _Reindexed:
    """A source map for the salvaged document: a path of it is the written path with
    each list index moved past the items cut before it."""

    inner: SourceMap
    kept: dict[Path, list[int]]
    """Written path of a list -> the written indices of the items left, in order."""

    @property
    def file(self) -> str:
        return self.inner.file

    def locate(self, path: Path) -> Location:
        written: list[str | int] = []
        for step in path:
            indices = self.kept.get(tuple(written))
            if isinstance(step, int) and indices is not None and 0 <= step < len(indices):
                step = indices[step]
            written.append(step)
        return self.inner.locate(tuple(written))
