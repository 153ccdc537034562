"""Each case answered by the class model of ``netc verify``, failures explained as
``netc explain`` explains a verdict.

An ``allow`` expectation holds for a pair when every bit of its traffic may pass
(the traffic is inside what the pair's classes let through), a ``deny`` when none of
it may; a wildcard holds when it holds for every pair of distinct ports it covers.
Pairs are answered class pair by class pair, so a wildcard over thousands of ports
costs its class pairs, not its port pairs. A failure is shown on its first failing
pair (in port order) and one traffic the verdict is wrong for, with the rules that
decide that one question (:class:`~netc.reach.reference.Reference`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from netc.expect.cases import Case
from netc.reach.classes import ClassModel, PortClass
from netc.reach.reference import Reason, Reference
from netc.reach.traffic import Traffic
from netc.reach.trafficset import TrafficSet


@dataclass(frozen=True)
class Failure:
    """The first pair an expectation is wrong for, and why."""

    src: str
    dst: str
    traffic: Traffic
    """One question inside the expectation's traffic on which the verdict is wrong."""
    allowed: TrafficSet
    """Of the expectation's traffic, what the pair may open."""
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    case: Case
    pairs: int
    """Pairs of distinct ports the expectation covers."""
    failed: int
    """Those it does not hold for."""
    failure: Failure | None

    @property
    def holds(self) -> bool:
        return self.failure is None

    @property
    def actual(self) -> str:
        """The verdict the intent gives the first failing pair (the expected one when
        the expectation holds)."""
        verdict = self.case.expectation.verdict
        return verdict if self.holds else {"allow": "deny", "deny": "allow"}[verdict]

    @property
    def summary(self) -> str:
        """``FROM -> TO TRAFFIC: expected deny, actual allow`` of the first failing pair."""
        failure = self.failure
        if failure is None:
            return ""
        return (f"{failure.src} -> {failure.dst} {failure.traffic}: expected "
                f"{self.case.expectation.verdict}, actual {self.actual}")

    def to_json(self) -> dict:
        case = self.case
        data: dict = {"expectation": case.title, "file": case.location.file,
                      "line": case.location.line, "column": case.location.column,
                      "holds": self.holds, "pairs": self.pairs, "failed_pairs": self.failed}
        if self.failure is not None:
            failure = self.failure
            data["first_failure"] = {
                "from": failure.src, "to": failure.dst, "traffic": str(failure.traffic),
                "expected": case.expectation.verdict, "actual": self.actual,
                "allowed": failure.allowed.labels(),
                "reasons": [reason.to_json() for reason in failure.reasons]}
        return data

    def explanation(self) -> str:
        """What a person reads of a failure: the pair, the traffic, expected against
        actual, and the deciding rules."""
        failure, case = self.failure, self.case
        if failure is None:
            return ""
        head = self.summary
        if case.traffic != TrafficSet.of_traffic(failure.traffic):
            head += f" (of {case.traffic_label}, the pair may open: {failure.allowed})"
        lines = [head]
        if self.pairs > 1:
            lines.append(f"{self.failed} of {self.pairs} pair(s) fail; the first is shown")
        lines.append(f"{self.actual}: {failure.src} -> {failure.dst} {failure.traffic}")
        lines += [f"  {reason}" for reason in failure.reasons]
        return "\n".join(lines)


def answer(cases: list[Case], model: ClassModel, reference: Reference) -> list[Outcome]:
    return [_answer(case, model, reference) for case in cases]


def _answer(case: Case, model: ClassModel, reference: Reference) -> Outcome:
    sources = _by_class(case.sources, model)
    destinations = _by_class(case.destinations, model)
    pairs = failed = 0
    first: tuple[str, str, TrafficSet] | None = None
    for src_cls, src_ports in sources.items():
        for dst_cls, dst_ports in destinations.items():
            count = len(src_ports) * len(dst_ports) - len(set(src_ports) & set(dst_ports))
            if not count:
                continue
            pairs += count
            allowed = model.traffic(src_cls, dst_cls) & case.traffic
            wrong = case.traffic - allowed if case.allow else allowed
            if not wrong:
                continue
            failed += count
            pair = _first_pair(src_ports, dst_ports)
            if first is None or pair < first[:2]:
                first = (*pair, allowed)
    if first is None:
        return Outcome(case, pairs, 0, None)
    src, dst, allowed = first
    wrong = case.traffic - allowed if case.allow else allowed
    traffic = wrong.sample()
    verdict = reference.decide(src, dst, traffic)
    return Outcome(case, pairs, failed, Failure(src, dst, traffic, allowed, verdict.reasons))


def _first_pair(sources: list[str], destinations: list[str]) -> tuple[str, str]:
    """The smallest pair of distinct ports, both lists sorted (one pair at least)."""
    src = sources[0]
    dst = next((d for d in destinations if d != src), None)
    return (src, dst) if dst is not None else (sources[1], destinations[0])


def _by_class(ports: tuple[str, ...], model: ClassModel) -> dict[PortClass, list[str]]:
    found: dict[PortClass, list[str]] = defaultdict(list)
    for key in ports:
        found[model.of(key)].append(key)
    return found
