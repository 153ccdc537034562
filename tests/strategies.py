"""Hypothesis strategies for random, valid intent: shared by every test that needs one.

Three levels, each valid at its own level:

- :func:`projects`: one schema-valid :class:`~netc.intent.model.Project` using every
  feature of the format (VPC, subnets, groups with includes, rules of every protocol
  with ports and ranges, remotes of every kind, ports with vm/mac/ip/groups, SNAT,
  DNAT port forwarding and 1:1, peerings), with names that clash with DSL keywords or look like numbers, and
  free text with quotes, escapes and unicode. It checks clean on its own except that
  its cross-tenant ``sg:ORG/PROJECT/NAME`` remotes and its peerings name projects that
  are not there. Use it for syntax: loaders, writers, round trips.
- :func:`worlds`: a list of projects that passes every check of contract section 3
  together, given :data:`WORLD_SETTINGS` (an external network for the NAT): distinct
  VPCs, mutual peerings, cross-tenant remotes only between mutual peers and only to
  groups that exist, unique MACs and IPs, no reserved addresses, acyclic includes.
  Use it for the compiler, the reachability model and the backends.
- :func:`project`: the building block of both, for tests that need a project with a
  given identity, VPC or peers.
- :func:`expectations` and :func:`worlds_with_expectations`: expectation documents
  (``netc test``) about a world, alone or placed among its projects, for syntax.

Sizes are kept small (a few subnets, groups, rules and ports) so that a hundred
examples run in well under a second of generation each.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from hypothesis import strategies as st

from netc.config import ExternalSettings, Settings
from netc.intent.expectation import Expectation, Expectations
from netc.intent.model import (Dnat, EgressRule, IngressRule, Nat, Port, Project, SecurityGroup,
                               Snat, Subnet, Vpc)

EXTERNAL_CIDR = "203.0.113.0/24"
WORLD_SETTINGS = Settings(external=ExternalSettings(cidr=EXTERNAL_CIDR, gateway_ip="203.0.113.1",
                                                    gateway_chassis=["chassis-1"]))
"""Settings under which every :func:`worlds` example checks clean (default pool and sizes),
with a gateway chassis: without one OVN applies no NAT at all (netc.reach.rownat)."""

AWKWARD_NAMES = ("default", "group", "groups", "port", "project", "subnet", "from", "to", "all",
                 "tcp", "icmp", "on", "ip", "mac", "vm", "peer", "include", "cidr", "dns",
                 "nodhcp", "80", "0", "8000-8080", "a--b")
"""Valid names that a careless DSL lexer or YAML emitter would misread."""

PROTOCOLS = ("tcp", "udp", "icmp", "all")

names = st.one_of(st.sampled_from(AWKWARD_NAMES),
                  st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True))
"""Valid intent names (``[a-z0-9][a-z0-9-]{0,62}``), awkward ones often."""

free_text = st.one_of(
    st.sampled_from(("", "public web tier", 'say "hi"', "back\\slash", "# not a comment",
                     "line\nbreak", "tab\there", "caf\u00e9 \u2603", "yes", "null", "80",
                     "- dash", "key: value", " padded ")),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12))
"""Any text a description or a VM id may hold: quotes, escapes, YAML look-alikes, unicode."""

vm_ids = st.one_of(st.from_regex(r"vm-[0-9a-f]{1,8}", fullmatch=True),
                   st.uuids().map(str), free_text)


def _unique_names(max_size: int, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(names, min_size=min_size, max_size=max_size, unique=True)


ipv4s = st.integers(0, 2**32 - 1).map(lambda n: str(IPv4Address(n)))


@st.composite
def cidrs(draw: st.DrawFn) -> str:
    """A valid IPv4 CIDR (no host bits set), from /0 to /32."""
    length = draw(st.integers(0, 32))
    return str(IPv4Network((draw(st.integers(0, 2**32 - 1)), length), strict=False))


@st.composite
def _port_specs(draw: st.DrawFn) -> list[int | str]:
    specs: list[int | str] = []
    for _ in range(draw(st.integers(1, 3))):
        low = draw(st.integers(1, 65535))
        if draw(st.booleans()):
            specs.append(low)
        else:
            specs.append(f"{low}-{draw(st.integers(low, 65535))}")
    return specs


@st.composite
def _rule(draw: st.DrawFn, kind: type, remotes: st.SearchStrategy[str]):
    protocol = draw(st.sampled_from(PROTOCOLS))
    fields: dict = {}
    if draw(st.booleans()):
        fields["protocol"] = protocol
    else:
        protocol = "all"
    if protocol in ("tcp", "udp") and draw(st.booleans()):
        fields["ports"] = draw(_port_specs())
    if draw(st.integers(0, 3)):
        fields["from" if kind is IngressRule else "to"] = draw(remotes)
    return kind.model_validate(fields)


@st.composite
def _groups(draw: st.DrawFn, peer_groups: dict[str, list[str]]) -> list[SecurityGroup]:
    group_names = draw(_unique_names(3))
    local = sorted({*group_names, "default"})
    remote_choices = [st.sampled_from(["0.0.0.0/0", "10.0.0.0/8"]), cidrs(),
                      st.sampled_from(local).map(lambda n: f"sg:{n}")]
    for peer, groups in sorted(peer_groups.items()):
        if groups:
            remote_choices.append(st.sampled_from(groups).map(lambda n, p=peer: f"sg:{p}/{n}"))
    remotes = st.one_of(remote_choices)
    groups = []
    for index, name in enumerate(group_names):
        groups.append(SecurityGroup(
            name=name,
            description=draw(st.none() | free_text),
            include=draw(st.lists(st.sampled_from(group_names[:index]), unique=True, max_size=2)
                         if index else st.just([])),
            ingress=draw(st.lists(_rule(IngressRule, remotes), max_size=2)),
            egress=draw(st.lists(_rule(EgressRule, remotes), max_size=2))))
    return groups


@st.composite
def project(draw: st.DrawFn, org: str | None = None, name: str | None = None,
            vpc_octet: int | None = None,
            peer_groups: dict[str, list[str]] | None = None,
            external_ips: tuple[str, ...] = ("203.0.113.10", "203.0.113.11"),
            floating_ip: str = "203.0.113.12") -> Project:
    """One project; its VPC (when it has a CIDR) is ``10.<vpc_octet>.0.0/16``.

    ``peer_groups`` maps the ``ORG/PROJECT`` of each peer to the groups of it that
    remotes may name; every key is listed in ``peerings``. SNAT and port forwarding
    use ``external_ips``, a 1:1 DNAT ``floating_ip`` (which nothing else may use).
    """
    peer_groups = peer_groups or {}
    org = org or draw(names)
    name = name or draw(names)
    octet = draw(st.integers(1, 254)) if vpc_octet is None else vpc_octet
    with_cidr = draw(st.integers(0, 4)) > 0
    vpc = Vpc(name=draw(st.none() | names),
              cidr=f"10.{octet}.0.0/16" if with_cidr else None)

    subnets: list[Subnet] = []
    if with_cidr:
        subnet_names = draw(_unique_names(3))
        thirds = draw(st.lists(st.integers(0, 255), min_size=len(subnet_names),
                               max_size=len(subnet_names), unique=True))
        for subnet_name, third in zip(subnet_names, thirds):
            subnets.append(Subnet(
                name=subnet_name, cidr=f"10.{octet}.{third}.0/24", dhcp=draw(st.booleans()),
                dns_servers=draw(st.lists(ipv4s, max_size=2))))
    # When none is declared the IR adds "default", the first /24 of the VPC.
    placements = ([(s.name, s.cidr.rsplit(".", 1)[0]) for s in subnets] if subnets
                  else [("default", f"10.{octet}.0")] if with_cidr else [("default", None)])

    groups = draw(_groups(peer_groups))
    group_choices = sorted({*(g.name for g in groups), "default"})

    ports: list[Port] = []
    used_ips: set[str] = set()
    for index, port_name in enumerate(draw(_unique_names(4))):
        subnet_name, prefix = draw(st.sampled_from(placements))
        ip = None
        if prefix is not None and draw(st.booleans()):
            ip = f"{prefix}.{draw(st.integers(2, 254))}"  # .0, .1 and .255 are reserved
            if ip in used_ips:
                ip = None
            else:
                used_ips.add(ip)
        fields: dict = {"name": port_name}
        if subnet_name != "default" or draw(st.booleans()):
            fields["subnet"] = subnet_name
        if draw(st.booleans()):
            fields["vm"] = draw(vm_ids)
        if draw(st.booleans()):
            fields["mac"] = f"0a:58:0a:{octet:02x}:{index:02x}:{draw(st.integers(0, 255)):02x}"
        if ip is not None:
            fields["ip"] = ip
        fields["security_groups"] = draw(st.lists(st.sampled_from(group_choices), unique=True,
                                                  max_size=2))
        ports.append(Port.model_validate(fields))

    snat = [Snat(external_ip=ip) for ip in draw(st.lists(st.sampled_from(external_ips),
                                                         unique=True, max_size=1))]
    targets = sorted(used_ips)
    dnat: list[Dnat] = []
    if targets:
        forwards = draw(st.lists(st.tuples(st.sampled_from(external_ips), st.integers(1, 65535),
                                           st.sampled_from(("tcp", "udp"))),
                                 unique=True, max_size=2))
        for external_ip, external_port, protocol in forwards:
            dnat.append(Dnat(external_ip=external_ip, external_port=external_port,
                             internal_ip=draw(st.sampled_from(targets)),
                             internal_port=draw(st.integers(1, 65535)), protocol=protocol))
        if draw(st.booleans()):  # 1:1, anywhere among the forwards
            dnat.insert(draw(st.integers(0, len(dnat))),
                        Dnat(external_ip=floating_ip, internal_ip=draw(st.sampled_from(targets))))

    return Project(org=org, project=name, vpc=vpc, subnets=subnets, security_groups=groups,
                   ports=ports, nat=Nat(snat=snat, dnat=dnat), peerings=sorted(peer_groups))


@st.composite
def projects(draw: st.DrawFn) -> Project:
    """One schema-valid project using every feature; its peers need not exist."""
    org, name = draw(names), draw(names)
    peers = draw(st.dictionaries(st.tuples(names, names).map("/".join).filter(
        lambda key: key != f"{org}/{name}"), st.lists(names, unique=True, max_size=2), max_size=2))
    return draw(project(org=org, name=name, peer_groups=peers))


@st.composite
def worlds(draw: st.DrawFn, max_projects: int = 3) -> list[Project]:
    """Projects that check clean together under :data:`WORLD_SETTINGS`."""
    count = draw(st.integers(1, max_projects))
    keys = draw(st.lists(st.tuples(names, names).map("/".join), min_size=count,
                         max_size=count, unique=True))
    octets = draw(st.lists(st.integers(1, 120), min_size=count, max_size=count, unique=True))
    built: list[Project] = []
    for index, key in enumerate(keys):
        org, name = key.split("/")
        peers = draw(st.lists(st.sampled_from(range(index)), unique=True) if index
                     else st.just([]))
        peer_groups = {built[p].key: [g.name for g in built[p].security_groups] + ["default"]
                       for p in peers}
        base = 10 + 3 * index  # each project its own external IPs: no shared DNAT
        external_ips = (f"203.0.113.{base}", f"203.0.113.{base + 1}")
        built.append(draw(project(org=org, name=name, vpc_octet=octets[index],
                                  peer_groups=peer_groups, external_ips=external_ips,
                                  floating_ip=f"203.0.113.{base + 2}")))
        for p in peers:  # peering must be mutual for cross-tenant remotes to be allowed
            built[p] = built[p].model_copy(
                update={"peerings": sorted({*built[p].peerings, key})})
    return built


@st.composite
def expectations(draw: st.DrawFn, world: list[Project]) -> Expectations:
    """A schema-valid expectation document about ``world``'s ports: endpoints named,
    wildcarded by port or by project, or (rarely) of another shape; every protocol
    form, a port or none, either verdict. For syntax tests: its entries need not
    check clean (a port on icmp, a port 0)."""
    keys = [f"{p.key}/{port.name}" for p in world for port in p.ports] or ["a/b/c"]
    endpoints = st.one_of(
        st.sampled_from(keys), st.sampled_from([f"{p.key}/*" for p in world] or ["a/b/*"]),
        st.sampled_from([f"{p.org}/*/*" for p in world] or ["a/*/*"]),
        st.tuples(names, names, names).map("/".join), free_text)
    protocols = st.one_of(st.sampled_from(("tcp", "udp", "icmp", "all")),
                          st.integers(0, 255).filter(lambda n: n not in (1, 6, 17)).map(str))
    entries = st.builds(lambda source, target, protocol, port, verdict: Expectation(
        **{"from": source, "to": target, "protocol": protocol, "port": port,
           "verdict": verdict}), endpoints, endpoints, protocols,
        st.one_of(st.none(), st.integers(0, 70000)), st.sampled_from(("allow", "deny")))
    return Expectations(expect=draw(st.lists(entries, min_size=1, max_size=4)))


@st.composite
def worlds_with_expectations(draw: st.DrawFn) -> list[Project | Expectations]:
    """A :func:`worlds` example with one to three expectation documents about it placed
    among its projects, never two next to each other (the canonical writers make one
    of those)."""
    documents: list[Project | Expectations] = list(draw(worlds()))
    slots = draw(st.lists(st.integers(0, len(documents)), min_size=1, max_size=3, unique=True))
    projects_only = [d for d in documents if isinstance(d, Project)]
    for slot in sorted(slots, reverse=True):
        documents.insert(slot, draw(expectations(projects_only)))
    return documents


@st.composite
def external_hosts(draw: st.DrawFn, projects: list[Project]) -> str:
    """An address that may stand for an external host of ``projects`` (the caller drops
    those inside a VPC): one at or next to an edge of a rule's CIDR, an address of the
    external network (a NAT address included), or any."""
    edges = []
    for project in projects:
        for group in project.security_groups:
            for rule in (*group.ingress, *group.egress):
                remote = getattr(rule, "from_", None) or getattr(rule, "to", None)
                if remote and not str(remote).startswith("sg:"):
                    network = IPv4Network(str(remote))
                    edges += [int(network.network_address), int(network.broadcast_address)]
    choices = [st.integers(0, 2**32 - 1),
               st.integers(0, 255).map(lambda n: int(IPv4Address("203.0.113.0")) + n)]
    if edges:
        choices.append(st.sampled_from(edges).flatmap(
            lambda e: st.sampled_from([e - 1, e, e + 1]).filter(lambda n: 0 <= n < 2**32)))
    return str(IPv4Address(draw(st.one_of(choices))))


PUBLISHED_GROUP = "nat-published"
"""Longer than any name :data:`names` draws, so it never clashes."""


@st.composite
def nat_worlds(draw: st.DrawFn) -> list[Project]:
    """:func:`worlds` whose DNAT targets are also members of a group with rules toward
    external hosts (a CIDR outside or around the VPCs, the forwarded ports often), so
    that questions from and to the external network are allowed about as often as
    they are denied."""
    built = []
    for project in draw(worlds()):
        targets = {d.internal_ip for d in project.nat.dnat if d.internal_ip}
        if not targets:
            built.append(project)
            continue
        forwarded = sorted({d.internal_port for d in project.nat.dnat if d.internal_port})
        remotes = st.one_of(st.sampled_from(["0.0.0.0/0", "198.51.100.0/24", "203.0.113.0/25",
                                             "192.0.2.7/32", "128.0.0.0/1"]), cidrs())
        rules = []
        for kind in (IngressRule, EgressRule):
            protocol = draw(st.sampled_from(PROTOCOLS))
            fields: dict = {"protocol": protocol,
                            "from" if kind is IngressRule else "to": draw(remotes)}
            if protocol in ("tcp", "udp") and forwarded and draw(st.booleans()):
                fields["ports"] = draw(st.lists(st.sampled_from(forwarded), min_size=1,
                                                unique=True))
            rules.append(kind.model_validate(fields))
        group = SecurityGroup(name=PUBLISHED_GROUP, ingress=rules[:1], egress=rules[1:])
        ports = [port.model_copy(update={"security_groups": [
                     *(port.security_groups or ["default"]), PUBLISHED_GROUP]})
                 if port.ip in targets else port for port in project.ports]
        built.append(project.model_copy(update={
            "security_groups": [*project.security_groups, group], "ports": ports}))
    return built
