"""The reachability matrix: every question asked of the reference and of the rows.

``netc verify`` and the equivalence tests ask the same thing: for port pairs and
traffic, does the compiled network (:mod:`netc.reach.acl_eval` on the emitted rows)
do what the intent means (:mod:`netc.reach.reference`)? A connection agrees when
both allow it and its replies pass, or both deny it.

Ports are only interesting at the edges of the rules' ranges, so :func:`probes`
picks, per protocol, each range's ends and the ports just outside them, plus one
port no rule names; ICMP; and one other IPv4 protocol (GRE, 47), which only
``protocol: all`` lets through.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Iterable, Mapping

from netc.compiler.lower import compile_world
from netc.compiler.rows import RowSet
from netc.config import Settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths
from netc.ir.world import World
from netc.reach.acl_eval import Delivery, deliver
from netc.reach.northbound import Northbound, port_addresses
from netc.reach.reference import Reference, Verdict
from netc.reach.traffic import PORTED, Traffic

OTHER_PROTOCOL = "47"


@dataclass(frozen=True, slots=True)
class Question:
    src: str
    dst: str
    traffic: Traffic

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} {self.traffic}"


@dataclass(frozen=True, slots=True)
class Answer:
    question: Question
    reference: Verdict
    delivery: Delivery

    @property
    def agree(self) -> bool:
        return self.reference.allow == self.delivery.allow == self.delivery.reply

    def explain(self) -> str:
        """Both sides, for a person chasing a disagreement."""
        expected = "allow" if self.reference.allow else "deny"
        got = ("allow" if self.delivery.allow else "deny") + \
            ("" if self.delivery.reply == self.delivery.allow else ", replies dropped")
        lines = [f"{self.question}: intent says {expected}, rows {got}",
                 *(f"  intent: {reason}" for reason in self.reference.reasons),
                 f"  rows: {self.delivery.reason}",
                 *(f"  rows: {stage}" for stage in self.delivery.stages),
                 *(f"  rows (reply): {stage}" for stage in self.delivery.reply_stages)]
        return "\n".join(lines)


def probes(world: World) -> list[Traffic]:
    edges: dict[str, set[int]] = {protocol: set() for protocol in PORTED}
    for group in world.groups():
        for rule in group.rules:
            if rule.protocol in PORTED and rule.ports:
                for low, high in rule.ports:
                    edges[rule.protocol].update({low - 1, low, high, high + 1})
    found = []
    for protocol in PORTED:
        ports = {p for p in edges[protocol] if 1 <= p <= 65535}
        unnamed = next(p for p in (65535, *range(1, 65536)) if p not in ports)
        found.extend(Traffic(protocol, port) for port in sorted(ports | {unnamed}))
    return found + [Traffic("icmp"), Traffic(OTHER_PROTOCOL)]


def all_questions(world: World, traffic: Iterable[Traffic]) -> list[Question]:
    """Every ordered pair of distinct ports, with every traffic."""
    keys = sorted(port.key for port in world.ports())
    kinds = list(traffic)
    return [Question(src, dst, t) for src in keys for dst in keys if src != dst for t in kinds]


class Matrix:
    """Both evaluators of one world and its compiled rows."""

    def __init__(self, world: World, rows: RowSet,
                 addresses: Mapping[str, IPv4Address] | None = None) -> None:
        self.world = world
        self.northbound = Northbound(rows)
        self.reference = Reference(world, addresses if addresses is not None
                                   else port_addresses(rows))

    def answer(self, question: Question) -> Answer:
        verdict = self.reference.decide(question.src, question.dst, question.traffic)
        delivery = deliver(self.northbound, question.src, question.dst, question.traffic)
        return Answer(question, verdict, delivery)

    def answers(self, questions: Iterable[Question]) -> list[Answer]:
        return [self.answer(q) for q in questions]


def compiled_matrix(paths: list[str], settings: Settings,
                    diagnostics: Diagnostics) -> Matrix | None:
    """Check and compile the intent under ``paths``; None when it has errors."""
    result = check_paths(paths, settings, diagnostics)
    if not result.ok:
        return None
    compilation = compile_world(result.world, diagnostics=diagnostics)
    if diagnostics.has_errors:
        return None
    return Matrix(result.world, compilation.rows)


def allowed_by_pair(answers: Iterable[Answer]) -> dict[tuple[str, str], list[Traffic]]:
    """What the intent lets through, pair by pair (pairs with nothing allowed left out)."""
    found: dict[tuple[str, str], list[Traffic]] = {}
    for answer in answers:
        if answer.reference.allow:
            found.setdefault((answer.question.src, answer.question.dst), []).append(
                answer.question.traffic)
    return found
