"""Expectations against the world: which port pairs each covers, what traffic it is about.

An endpoint is ``ORG/PROJECT/PORT``, ``ORG/PROJECT/*`` (every port of the project) or
``ORG/*/*`` (every port of the organization's projects). Every problem is a
diagnostic at the value: an endpoint of another shape or a ``*`` anywhere else
(SCHEMA_ERROR), an organization, project or port the intent does not hold
(PORT_NOT_FOUND, with the closest name), a port out of 1-65535 (INVALID_PORT_RANGE), a
port on traffic that has none (SCHEMA_ERROR). A pair is two distinct ports, so
``from`` and ``to`` naming the same one port is an error too.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from netc.diagnostics import Code, Diagnostics, Location
from netc.intent.expectation import WILDCARD, Expectation, ExpectationDocument
from netc.intent.model import NAME_PATTERN
from netc.ir.world import World
from netc.reach.traffic import PORTED, Traffic
from netc.reach.trafficset import TrafficSet

_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True)
class Case:
    """One expectation, ready to be answered."""

    expectation: Expectation
    location: Location
    sources: tuple[str, ...]
    """Port keys ``from`` covers, sorted."""
    destinations: tuple[str, ...]
    traffic: TrafficSet
    """The traffic it is about (every port when none is written; all IPv4 for ``all``)."""

    @property
    def allow(self) -> bool:
        return self.expectation.verdict == "allow"

    @property
    def traffic_label(self) -> str:
        """The traffic as written: ``tcp/5432``, ``tcp`` (every port), ``all``,
        ``icmp``, ``ip proto 47``."""
        e = self.expectation
        if e.protocol.isdigit():
            return f"ip proto {e.protocol}"
        return e.protocol if e.port is None else f"{e.protocol}/{e.port}"

    @property
    def title(self) -> str:
        """``allow acme/web/* -> acme/db/pg-1 tcp/5432``: the expectation in one line."""
        e = self.expectation
        return f"{e.verdict} {e.from_} -> {e.to} {self.traffic_label}"


def check_expectations(world: World, documents: list[ExpectationDocument],
                       diagnostics: Diagnostics) -> list[Case]:
    """The cases of ``documents``; the entries with problems are reported and left out."""
    ports = _ports_by_project(world)
    cases = []
    for document in documents:
        for index, expectation in enumerate(document.expectations.expect):
            found = Diagnostics()
            sources = _endpoint(expectation.from_, document, index, "from", ports, found)
            destinations = _endpoint(expectation.to, document, index, "to", ports, found)
            traffic = _traffic(expectation, document, index, found)
            if sources is not None and sources == destinations and len(sources) == 1:
                found.error(Code.SCHEMA_ERROR, f"to: {expectation.to} is the port of 'from'; "
                            "an expectation is about two distinct ports",
                            document.locate(index, "to"))
            diagnostics.extend(found)
            if not found.has_errors and sources is not None and destinations is not None \
                    and traffic is not None:
                cases.append(Case(expectation, document.locate(index), sources, destinations,
                                  traffic))
    return cases


def _ports_by_project(world: World) -> dict[str, tuple[str, ...]]:
    return {key: tuple(sorted(port.key for port in project.ports.values()))
            for key, project in world.projects.items()}


def _endpoint(text: str, document: ExpectationDocument, index: int, field: str,
              ports: dict[str, tuple[str, ...]], diagnostics: Diagnostics
              ) -> tuple[str, ...] | None:
    """The port keys an endpoint covers; None (reported) when it names nothing."""
    where = document.locate(index, field)
    parts = text.split("/")
    shape = len(parts) == 3 and _NAME.fullmatch(parts[0]) and all(
        part == WILDCARD or _NAME.fullmatch(part) for part in parts[1:])
    if not shape or (parts[1] == WILDCARD and parts[2] != WILDCARD):
        diagnostics.error(Code.SCHEMA_ERROR,
                          f"{field}: {text!r} is not ORG/PROJECT/PORT, ORG/PROJECT/* (every "
                          "port of a project) or ORG/*/* (every port of an organization)",
                          where)
        return None
    org, project, port = parts
    if project == WILDCARD:
        projects = [key for key in ports if key.partition("/")[0] == org]
        if not projects:
            orgs = sorted({key.partition("/")[0] for key in ports})
            diagnostics.error(Code.PORT_NOT_FOUND,
                              f"{field}: no project of organization {org!r}"
                              + _closest(org, orgs), where)
            return None
        covered = tuple(sorted(key for p in projects for key in ports[p]))
    else:
        project_key = f"{org}/{project}"
        if project_key not in ports:
            diagnostics.error(Code.PORT_NOT_FOUND, f"{field}: no project {project_key!r}"
                              + _closest(project_key, list(ports)), where)
            return None
        names = [key.rpartition("/")[2] for key in ports[project_key]]
        if port != WILDCARD and port not in names:
            diagnostics.error(Code.PORT_NOT_FOUND,
                              f"{field}: no port {port!r} in {project_key}"
                              + _closest(port, names), where)
            return None
        covered = ports[project_key] if port == WILDCARD else (text,)
    return covered


def _closest(name: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def _traffic(expectation: Expectation, document: ExpectationDocument, index: int,
             diagnostics: Diagnostics) -> TrafficSet | None:
    protocol, port = expectation.protocol, expectation.port
    if port is None:
        if protocol.isdigit():
            return TrafficSet.of_traffic(Traffic(protocol))
        return TrafficSet.of_rule(protocol, None)
    where = document.locate(index, "port")
    if protocol not in PORTED:
        shown = f"ip proto {protocol}" if protocol.isdigit() else protocol
        diagnostics.error(Code.SCHEMA_ERROR, f"port: {shown} has no ports; a port goes with "
                          "protocol tcp or udp", where)
        return None
    if not 1 <= port <= 65535:
        diagnostics.error(Code.INVALID_PORT_RANGE, f"port: {port} is not a port (1-65535)",
                          where)
        return None
    return TrafficSet.of_traffic(Traffic(protocol, port))
