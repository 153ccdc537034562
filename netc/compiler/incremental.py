"""A project's rows after some of its ports changed, from its last compile and a
compile of the changed ports alone: the cost of a change of ports is what the change
touches, not what the project holds.

A port contributes to the rows in two ways: its own Logical_Switch_Port, and one
element in a few set columns of rows that exist without it (its switch's ``ports``,
its groups' ``ports`` and their member address sets, the default-drop and open
groups, the project's DHCP group). Every other row depends on the project's groups
and rules, its subnets and NAT, and on two facts about its ports: which groups have
members (the ACL program's ``populated``: an ACL of a group without members is not
written) and which DHCP subnets hold ports (the DHCP renewal ACL names their
gateways). While those stay the same, lowering is additive in ports, so

    new rows = last rows - contribution(removed ports) + contribution(added ports)

where a contribution is what a compile of the unchanged rest of the project with
those ports adds to a compile of the rest alone (the same passes' program given to
all three). :func:`recompile` does that and says which rows it changed; it returns
None whenever the precondition does not hold or a row does not fit the pattern, and
the caller then compiles the whole project. A row whose sets changed gets its digest
from its old one (:func:`~netc.compiler.canonical.digest_moved`): rehashing a
1,000-element set per change would make the cost grow with the project again.
``tests/unit/test_incremental_compile.py`` holds it to the full compile over random
sequences of changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from netc.compiler.acl import AclProgram
from netc.compiler.canonical import DIGEST_KEY, digest_moved, stamp
from netc.compiler.lower import PORT_KEY_PREFIX, Compilation, compile_world
from netc.compiler.rows import Row, RowSet
from netc.compiler.schema import TABLES
from netc.ir.world import World

Where = tuple[str, str]
"""(table, netc:key) of a row."""


@dataclass(frozen=True)
class Population:
    """The facts about a world's ports that rows other than their own depend on."""

    members: Counter
    """Group key -> member ports."""
    dhcp: Counter
    """Subnet key of a DHCP subnet -> ports on it."""

    @classmethod
    def of(cls, world: World) -> "Population":
        members: Counter = Counter()
        dhcp: Counter = Counter()
        for port in world.ports():
            members.update(port.groups)
            subnet = world.subnet(port.subnet)
            if subnet is not None and subnet.dhcp:
                dhcp[subnet.key] += 1
        return cls(members, dhcp)

    def after(self, added: "Population", removed: "Population") -> "Population":
        return Population(self.members + added.members - removed.members,
                          self.dhcp + added.dhcp - removed.dhcp)

    def minus(self, other: "Population") -> "Population":
        return Population(self.members - other.members, self.dhcp - other.dhcp)

    def same_shape(self, other: "Population") -> bool:
        """The same groups with members and the same DHCP subnets with ports."""
        return set(+self.members) == set(+other.members) and set(+self.dhcp) == set(+other.dhcp)


NO_PORTS = Population(Counter(), Counter())


@dataclass(frozen=True)
class Baseline:
    """A project's last compile, as the next :func:`recompile` starts from it."""

    rows: RowSet
    program: AclProgram
    population: Population
    rest: RowSet | None = None
    """The rows of the project without the changing ports (computed on first use).
    Like the compiles of the changing ports, it is compiled without digests: a row
    taken from those compiles is stamped when taken (the rest are only compared)."""

    @classmethod
    def of(cls, compilation: Compilation, world: World) -> "Baseline":
        return cls(compilation.rows, compilation.program, Population.of(world))


SetDeltas = dict[Where, dict[str, tuple[list, list]]]
"""(table, key) -> column -> (elements removed, elements added), each sorted: how the
sets of rows changed from the baseline's, what a transaction must ``mutate``."""


@dataclass(frozen=True)
class Recompiled:
    rows: RowSet
    touched: frozenset[Where]
    """Rows created, changed or gone relative to the baseline's."""
    baseline: Baseline
    """What the next change starts from."""
    deltas: SetDeltas
    """For each changed row that was in the baseline, its sets' changes."""


def recompile(baseline: Baseline, rest: World, added: World | None, removed: World | None
              ) -> Recompiled | None:
    """The rows of the project whose last compile is ``baseline`` after ``removed``'s
    ports left it and ``added``'s joined it (a changed port is in both). ``rest`` is
    the project's groups, subnets, NAT, ... with none of its ports but those its
    checks need (the same in all three worlds: the caller's choice); ``added`` and
    ``removed`` are ``rest`` plus those ports (None: no port). None: compile the
    whole project."""
    alone = Population.of(rest)

    def ports_of(world: World | None) -> Population:
        return Population.of(world).minus(alone) if world is not None else NO_PORTS

    population = baseline.population.after(ports_of(added), ports_of(removed))
    if not population.same_shape(baseline.population):
        return None
    rest_rows = baseline.rest or compile_world(rest, program=baseline.program,
                                               stamped=False).rows
    tables = {table: dict(rows) for table, rows in baseline.rows.tables.items()}
    touched: set[Where] = set()
    changes: dict[Where, dict[str, tuple[set, set]]] = {}
    for world, sign in ((removed, -1), (added, 1)):
        if world is None:
            continue
        rows = compile_world(world, program=baseline.program, stamped=False).rows
        own = _own_elements(rows, rest_rows)
        for row in rows:
            if not _apply(tables, rest_rows.get(row.table, row.key), row, sign, own, touched,
                          changes):
                return None
    result = RowSet(tables)
    deltas = {where: {name: (sorted(gone - came), sorted(came - gone))
                      for name, (gone, came) in columns.items()}
              for where, columns in changes.items() if result.get(*where) is not None}
    return Recompiled(result, frozenset(touched),
                      Baseline(result, baseline.program, population, rest_rows), deltas)


def _own_elements(rows: RowSet, rest: RowSet) -> frozenset[str]:
    """What the ports of ``rows`` that ``rest`` lacks put into other rows' sets: the
    keys of their own rows (in port groups and switches) and their IPs (in member
    address sets)."""
    found = set()
    for key, row in rows.tables.get("Logical_Switch_Port", {}).items():
        if key.startswith(PORT_KEY_PREFIX) and rest.get(row.table, key) is None:
            found.add(key)
            found.update(address.split()[-1] for address in row.columns.get("addresses", ()))
    return frozenset(found)


def _apply(tables: dict[str, dict[str, Row]], base: Row | None, row: Row, sign: int,
           own: frozenset[str], touched: set[Where],
           changes: dict[Where, dict[str, tuple[set, set]]]) -> bool:
    """Take what ``row`` (of a compile with the changing ports) holds of theirs beyond
    ``base`` (the same row without them) out of ``tables`` (sign -1) or put it in (+1),
    noting in ``changes`` the elements each set column lost and gained. False: the row
    does not fit the pattern of the module docstring."""
    if base is not None and row.columns == base.columns:
        return True  # the changing ports put nothing into this row (most rows)
    current = tables.get(row.table, {}).get(row.key)
    if row.key in own and row.table == "Logical_Switch_Port":  # a port's own row
        if (current is None) == (sign < 0):
            return False
        if sign < 0:
            del tables[row.table][row.key]
        else:
            tables.setdefault(row.table, {})[row.key] = stamp(row)
        touched.add((row.table, row.key))
        return True
    if current is None:
        return False  # a row only these ports make: the population changed after all
    columns = None
    moves: dict[str, tuple[set, set]] = {}
    """Per set column, the elements it lost and gained here: the digest's change."""
    for name, column in TABLES[row.table].items():
        if column.kind not in ("set", "refs"):
            continue
        theirs = own.intersection(row.columns.get(name) or ())
        if base is not None:
            theirs = theirs.difference(base.columns.get(name) or ())
        if not theirs:
            continue
        columns = columns or dict(current.columns)
        held = columns.get(name) or []
        gone, came = changes.setdefault((row.table, row.key), {}).setdefault(name, (set(), set()))
        if sign < 0:
            columns[name] = [e for e in held if e not in theirs]
            lost = theirs if len(held) - len(columns[name]) == len(theirs) \
                else theirs.intersection(held)
            gone.update(lost)
            moves[name] = (lost, set())
        else:
            new = theirs.difference(held)
            columns[name] = sorted([*held, *new])  # nearly sorted: linear
            came.update(new)
            moves[name] = (set(), new)
    if columns is not None:
        ids = dict(columns["external_ids"])  # every compiled row is stamped
        ids[DIGEST_KEY] = digest_moved(row.table, ids[DIGEST_KEY], moves)
        columns["external_ids"] = ids
        tables[row.table][row.key] = Row(row.table, row.key, columns)
        touched.add((row.table, row.key))
    return True
