"""Each pass on its own: the before/after of its docstring, as data."""

from __future__ import annotations

from ipaddress import IPv4Network as N

import pytest

from netc.compiler.acl import AclProgram, AclSpec
from netc.compiler.passes import PASSES
from netc.compiler.passes.drop_shadowed import drop_shadowed
from netc.compiler.passes.expand_includes import expand_includes
from netc.compiler.passes.lift_open_rules import lift_open_rules
from netc.compiler.passes.merge_ports import merge_ports
from netc.compiler.passes.merge_protocols import merge_protocols
from netc.compiler.passes.merge_remotes import merge_remotes
from netc.compiler.passes.share_groups import share_groups

WEB, BASE, ADMIN, DB, DEF = (f"o/p/{n}" for n in ("web", "base", "admin", "db", "default"))
ANY = N("0.0.0.0/0")


def spec(groups=(WEB,), direction="ingress", protocol="tcp", ports=((22, 22),),
         cidrs=(N("10.0.0.0/8"),), remote_groups=(), also=()) -> AclSpec:
    return AclSpec("o/p", tuple(groups), direction, protocol, ports, tuple(cidrs),
                   tuple(remote_groups), tuple(also))


CASES = [
    ("expand_includes", expand_includes,
     AclProgram((spec(ports=((80, 80),), cidrs=(ANY,)), spec((BASE,))), {WEB: (BASE,)}),
     [spec((BASE,)), spec(), spec(ports=((80, 80),), cidrs=(ANY,))]),
    ("expand_includes_transitive", expand_includes,
     AclProgram((spec((BASE,)),), {WEB: (ADMIN,), ADMIN: (BASE,), BASE: (WEB,)}),
     [spec((ADMIN,)), spec((BASE,)), spec()]),
    ("drop_shadowed", drop_shadowed,
     AclProgram((spec(protocol="all", ports=None, cidrs=(ANY,)), spec(),
                 spec(protocol="icmp", ports=None, cidrs=(), remote_groups=(ADMIN,)))),
     [spec(protocol="all", ports=None, cidrs=(ANY,))]),
    ("drop_shadowed_keeps_one_of_equals", drop_shadowed,
     AclProgram((spec(cidrs=(N("10.0.0.0/9"), N("10.128.0.0/9"))), spec())),
     [spec()]),
    ("drop_shadowed_other_group_untouched", drop_shadowed,
     AclProgram((spec(protocol="all", ports=None), spec((DB,)))),
     [spec((DB,)), spec(protocol="all", ports=None)]),
    ("merge_ports", merge_ports,
     AclProgram((spec(), spec(ports=((80, 80), (8000, 8099))), spec(ports=((23, 23),)))),
     [spec(ports=((22, 23), (80, 80), (8000, 8099)))]),
    ("merge_ports_every_port_absorbs", merge_ports,
     AclProgram((spec(), spec(ports=None))), [spec(ports=None)]),
    ("merge_ports_not_across_protocols", merge_ports,
     AclProgram((spec(), spec(protocol="udp"))), [spec(), spec(protocol="udp")]),
    ("merge_remotes", merge_remotes,
     AclProgram((spec(cidrs=(N("10.0.0.0/25"),)), spec(cidrs=(N("10.0.0.128/25"),)),
                 spec(cidrs=(), remote_groups=(ADMIN,)))),
     [spec(cidrs=(N("10.0.0.0/24"),), remote_groups=(ADMIN,))]),
    ("merge_remotes_any_absorbs_groups", merge_remotes,
     AclProgram((spec(cidrs=(ANY,)), spec(cidrs=(), remote_groups=(ADMIN,)))),
     [spec(cidrs=(ANY,))]),
    ("share_groups_three", share_groups,
     AclProgram(tuple(spec((g,), "egress", "all", None, (ANY,)) for g in (WEB, DB, DEF))),
     [spec((DB, DEF, WEB), "egress", "all", None, (ANY,))]),
    ("share_groups_two_share_one_rule", share_groups,
     AclProgram(tuple(spec((g,)) for g in (WEB, DB))), [spec((DB, WEB))]),
    ("share_groups_leaves_out_groups_without_members", share_groups,
     AclProgram(tuple(spec((g,)) for g in (WEB, DB, DEF)), populated=frozenset({WEB, DB})),
     [spec((DB, WEB)), spec((DEF,))]),
    ("share_groups_one_populated_group_is_not_shared", share_groups,
     AclProgram(tuple(spec((g,)) for g in (WEB, DEF)), populated=frozenset({WEB})),
     [spec(), spec((DEF,))]),
    ("merge_protocols", merge_protocols,
     AclProgram((spec(direction="egress", protocol="udp", ports=((53, 53), (123, 123)),
                      cidrs=(ANY,)),
                 spec(direction="egress", ports=((53, 53),), cidrs=(ANY,)),
                 spec(direction="egress", protocol="icmp", ports=None, cidrs=(ANY,)))),
     [spec(direction="egress", protocol="icmp", ports=None, cidrs=(ANY,),
           also=(("tcp", ((53, 53),)), ("udp", ((53, 53), (123, 123)))))]),
    ("merge_protocols_all_absorbs", merge_protocols,
     AclProgram((spec(protocol="all", ports=None), spec(protocol="udp"))),
     [spec(protocol="all", ports=None)]),
    ("merge_protocols_not_a_range_beside_a_remote_set", merge_protocols,
     AclProgram((spec(ports=((8000, 8099),), remote_groups=(ADMIN,)),
                 spec(protocol="udp", remote_groups=(ADMIN,)))),
     [spec(ports=((8000, 8099),), remote_groups=(ADMIN,)),
      spec(protocol="udp", remote_groups=(ADMIN,))]),
    ("merge_protocols_a_range_beside_one_remote", merge_protocols,
     AclProgram((spec(ports=((8000, 8099),)), spec(protocol="udp"))),
     [spec(ports=((8000, 8099),), also=(("udp", ((22, 22),)),))]),
    ("merge_protocols_not_across_remotes", merge_protocols,
     AclProgram((spec(), spec(protocol="udp", cidrs=(ANY,)))),
     [spec(), spec(protocol="udp", cidrs=(ANY,))]),
    ("share_groups_two_twice_pays", share_groups,
     AclProgram(tuple(spec((g,), ports=p) for g in (WEB, DB) for p in (((1, 1),), ((2, 2),)))),
     [spec((DB, WEB), ports=((1, 1),)), spec((DB, WEB), ports=((2, 2),))]),
]


@pytest.mark.parametrize("name, compiler_pass, before, after", CASES,
                         ids=[c[0] for c in CASES])
def test_pass(name, compiler_pass, before, after):
    result = compiler_pass(before)
    assert sorted(result.specs, key=AclSpec.sort_key) == sorted(after, key=AclSpec.sort_key)
    assert len(set(result.specs)) == len(result.specs)


def test_lift_open_rules():
    program = lift_open_rules(AclProgram((
        spec((DEF,), "egress", "all", None, (ANY,)), spec((DEF,), "egress"),
        spec((DEF,), "ingress", "all", None, (), (DEF,)))))
    assert list(program.specs) == [spec((DEF,), "ingress", "all", None, (), (DEF,))]
    assert program.open == {(DEF, "egress")}


def test_expand_includes_opens_the_includer():
    program = expand_includes(AclProgram((), {WEB: (BASE,)}, frozenset({(BASE, "egress")})))
    assert program.open == {(BASE, "egress"), (WEB, "egress")}


def test_expand_includes_clears_includes():
    assert expand_includes(AclProgram((spec(),), {WEB: (BASE,)})).includes == {}


def test_every_pass_is_listed_once_in_order():
    assert [p.__name__ for p in PASSES] == [
        "expand_includes", "drop_shadowed", "merge_ports", "merge_remotes",
        "lift_open_rules", "merge_protocols", "share_groups"]
    for compiler_pass in PASSES:
        module = __import__(compiler_pass.__module__, fromlist=["_"])
        assert "Before::" in module.__doc__ and "After::" in module.__doc__


def test_drop_shadowed_sees_every_protocol_of_a_merged_spec():
    merged = spec(protocol="icmp", ports=None, also=(("tcp", ((22, 22),)),))
    assert drop_shadowed(AclProgram((merged, spec()))).specs == (merged,)
    assert set(drop_shadowed(AclProgram((merged, spec(protocol="udp")))).specs) == {
        merged, spec(protocol="udp")}
