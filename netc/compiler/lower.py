"""Lower a checked World to the OVN Northbound rows netc wants (contract section 6).

The mapping, one project at a time (docs/compiler.md has the full table):

- VPC -> Logical_Router; subnet -> Logical_Switch, a Logical_Router_Port holding the
  gateway address and the router-type Logical_Switch_Port joining them; DHCP_Options
  per subnet with dhcp on.
- port -> Logical_Switch_Port named by its port id, ``addresses`` = ``port_security``
  = ``"MAC IP"``.
- security group -> Port_Group; its rules -> ACL specs -> passes -> allow-related
  ACLs. Every netc port is also in one default-drop Port_Group whose two drop ACLs
  (one per direction, lower priority) drop whatever no rule allows.
- SNAT -> NAT; DNAT port forwarding -> one Load_Balancer per protocol on the router;
  1:1 DNAT (a floating IP) -> NAT of type dnat_and_snat; all through a gateway router
  port on the shared external switch (netc.toml ``[external]``).
- mutual peering -> a pair of peered router ports and a static route each way.

Lowering is pure: the same world, passes and existing allocations give the same rows.
Rows that belong to no project (the default-drop group and its ACLs, the external
switch) are *global*; a backend planning part of a world treats them specially
(netc.backends.diff).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Callable, Iterable

from netc.compiler import names
from netc.compiler.acl import ANY_CIDR, AclProgram, AclSpec, initial_program
from netc.compiler.canonical import stamp
from netc.compiler.ipam import Allocation, Existing, allocate
from netc.compiler.match import acl_match
from netc.compiler.passes import PASSES, run_passes
from netc.compiler.passes.expand_includes import expand_includes
from netc.compiler.peering import peer_links
from netc.compiler.rows import (KEY_KEY, ORG_KEY, OWNER_KEY, PROJECT_KEY, Ref, Row,
                                RowSet)
from netc.diagnostics import Diagnostics
from netc.gc_pause import gc_paused
from netc.ir.checks import check_dnat_targets
from netc.ir.model import PEER_LINK_NETWORK, Dnat, Project, Subnet
from netc.ir.world import World

ALLOW_PRIORITY = 1002
DROP_PRIORITY = 1001
DHCP_LEASE_SECONDS = "43200"
DROP_GROUP_KEY = "pg:drop"
EXTERNAL_SWITCH_KEY = "switch:external"
PORT_KEY_PREFIX = "port:"

Pass = Callable[[AclProgram], AclProgram]
_EXTRA_KEYS: dict[str, str] = {}
"""``netc:NAME`` external_ids keys, made once: every row would hold its own copies."""


@dataclass
class Compilation:
    rows: RowSet
    program: AclProgram
    """The ACL program after the passes, before rows (for tests and explain)."""
    diagnostics: Diagnostics
    allocation: Allocation
    projects: frozenset[str]
    """Keys of the projects compiled: a plan's scope."""


@gc_paused()
def compile_world(world: World, passes: Iterable[Pass] = PASSES,
                  existing: Existing | None = None,
                  diagnostics: Diagnostics | None = None,
                  program: AclProgram | None = None, stamped: bool = True) -> Compilation:
    """The desired rows of ``world`` (which the front end has checked). ``program``:
    the ACL program after ``passes``, when the caller has it (netc.compiler.incremental
    lowers parts of a project with the program of the whole). Not ``stamped``: rows
    without their netc:digest, for a caller that takes few of them (and stamps those)."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    allocation = allocate(world, existing, diagnostics)
    if existing:
        # The front end judged DNAT targets by the allocation without existing
        # addresses; ports that keep theirs may hold others.
        check_dnat_targets(world, diagnostics, allocation)
    if program is None:
        program = expand_includes(run_passes(initial_program(world), tuple(passes))).sorted()
    lowering = _Lowering(world, allocation)
    lowering.lower(program)
    if stamped:
        lowering.stamp_digests()
    return Compilation(lowering.rows, program, diagnostics, allocation,
                       frozenset(world.projects))


def allocations_in(rows: RowSet) -> dict[str, tuple[str, str]]:
    """Port key -> (MAC, IP) of the ports in ``rows`` (a snapshot): the ``existing``
    allocations that keep a port's address across compiles."""
    found = {}
    for row in rows.tables.get("Logical_Switch_Port", {}).values():
        addresses = row.columns.get("addresses") or []
        parts = addresses[0].split() if addresses else []
        if row.key.startswith(PORT_KEY_PREFIX) and len(parts) == 2:
            found[row.key[len(PORT_KEY_PREFIX):]] = (parts[0], parts[1])
    return found


def vpc_allocations_in(rows: RowSet) -> dict[str, IPv4Network]:
    """Project key -> VPC CIDR of every router in ``rows`` (a snapshot or the owned
    rows of a live DB): the blocks projects already hold, for ``build_world``."""
    found = {}
    for row in rows.tables.get("Logical_Router", {}).values():
        ids = row.columns.get("external_ids", {})
        cidr = ids.get("netc:cidr")
        if row.project is not None and cidr:
            try:
                found[row.project] = IPv4Network(cidr)
            except ValueError:
                continue  # edited behind netc's back: the plan repairs the row
    return found


class _Lowering:
    def __init__(self, world: World, allocation: Allocation) -> None:
        self.world = world
        self.owner = world.settings.owner
        self.allocation = allocation
        self.rows = RowSet()
        self.switch_ports: dict[str, list[str]] = {}
        """LSP keys of each subnet's switch, filled by ports and read by switches."""
        self.router_rows: dict[str, dict[str, list[str]]] = {}
        """Project -> router column -> referenced keys."""
        self.members: dict[str, list[str]] = {}
        """Group key -> LSP keys of its members that were lowered."""
        self.member_ips: dict[str, list[tuple[int, str]]] = {}
        self._pg_names: dict[tuple[str, ...], str] = {}
        self._dhcp_refs: dict[str, Ref] = {}
        """Subnet key -> the reference its ports hold to its DHCP_Options (one each)."""

    # -- helpers -------------------------------------------------------------------

    def ids(self, key: str, project: Project | None = None, **extra: str) -> dict[str, str]:
        ids = {OWNER_KEY: self.owner, KEY_KEY: key}
        if project is not None:
            ids[ORG_KEY] = project.org
            ids[PROJECT_KEY] = project.name
        for name, value in extra.items():
            if value is not None:
                ids[_EXTRA_KEYS.get(name) or _EXTRA_KEYS.setdefault(name, f"netc:{name}")] = value
        return ids

    def add(self, table: str, key: str, project: Project | None, columns: dict,
            **extra: str) -> Ref:
        """Add a row of ``columns`` (a dict of the caller's own, which the row keeps).
        The returned reference is also the row's key and its netc:key: one string, not
        one per use."""
        ref = key if type(key) is Ref else Ref(key)
        columns["external_ids"] = self.ids(ref, project, **extra)
        self.rows.add(Row(table, ref, columns))
        return ref

    def router_ref(self, project: Project, column: str, key: str) -> None:
        self.router_rows.setdefault(project.key, {}).setdefault(column, []).append(key)

    # -- the world -----------------------------------------------------------------

    def lower(self, program: AclProgram) -> None:
        projects = [self.world.projects[k] for k in sorted(self.world.projects)]
        for project in projects:
            for subnet in project.subnets.values():
                self.subnet(project, subnet)
            self.ports(project)
        self.peerings(projects)
        for project in projects:
            self.nat(project)
        for project in projects:
            self.router(project)
        for project in projects:
            self.switches(project)
        self.security(projects, program)

    def stamp_digests(self) -> None:
        """Every row's netc:digest, once all rows are final (the external switch's ports
        grow as projects are lowered), so a plan can tell drift from an intent change."""
        for table in self.rows.tables.values():
            for row in table.values():
                stamp(row)

    def router(self, project: Project) -> None:
        refs = self.router_rows.get(project.key, {})
        self.add("Logical_Router", names.router_key(project.key), project, {
            "name": names.dotted(project.key),
            "ports": _refs(refs.get("ports", [])),
            "static_routes": _refs(refs.get("static_routes", [])),
            "nat": _refs(refs.get("nat", [])),
            "load_balancer": _refs(refs.get("load_balancer", [])),
        }, vpc=project.vpc_name, cidr=str(project.vpc_cidr) if project.vpc_cidr else None)

    def subnet(self, project: Project, subnet: Subnet) -> None:
        gateway = subnet.gateway
        if subnet.cidr is None or gateway is None:
            return
        lrp_name = f"lrp.{names.dotted(subnet.key)}"
        mac = self.allocation.macs.derive(f"lrp:{subnet.key}")
        self.router_ref(project, "ports", self.add("Logical_Router_Port", f"lrp:{subnet.key}",
                                                   project, {
            "name": lrp_name, "mac": mac,
            "networks": [f"{gateway}/{subnet.cidr.prefixlen}"],
        }, subnet=subnet.name))
        router_port = self.add("Logical_Switch_Port", f"lsp-router:{subnet.key}", project, {
            "name": f"rtr.{names.dotted(subnet.key)}", "type": "router",
            "addresses": ["router"], "options": {"router-port": lrp_name},
        }, subnet=subnet.name)
        self.switch_ports.setdefault(subnet.key, []).append(router_port)
        if subnet.dhcp:
            options = {"lease_time": DHCP_LEASE_SECONDS, "router": str(gateway),
                       "server_id": str(gateway), "server_mac": mac}
            if subnet.dns_servers:
                options["dns_server"] = _ovn_set([str(a) for a in subnet.dns_servers])
            self.add("DHCP_Options", f"dhcp:{subnet.key}", project,
                     {"cidr": str(subnet.cidr), "options": options}, subnet=subnet.name)

    def switches(self, project: Project) -> None:
        for subnet in project.subnets.values():
            if subnet.key not in self.switch_ports:
                continue
            self.add("Logical_Switch", f"switch:{subnet.key}", project, {
                "name": names.dotted(subnet.key),
                "ports": _refs(self.switch_ports[subnet.key]),
            }, subnet=subnet.name, cidr=str(subnet.cidr))

    def ports(self, project: Project) -> None:
        for port in project.ports.values():
            address = self.allocation.addresses.get(port.key)
            subnet = self.world.subnet(port.subnet)
            if address is None or subnet is None or subnet.key not in self.switch_ports:
                continue
            ip_text = str(address.ip)
            written = f"{address.mac} {ip_text}"  # str(address), the IP spelled once
            columns = {"name": names.port_id(port.key), "addresses": [written],
                       "port_security": [written]}
            if subnet.dhcp:
                columns["dhcpv4_options"] = self._dhcp_refs.get(subnet.key) or \
                    self._dhcp_refs.setdefault(subnet.key, Ref(f"dhcp:{subnet.key}"))
            ref = self.add("Logical_Switch_Port", PORT_KEY_PREFIX + port.key, project, columns,
                           port=port.name, vm=port.vm)
            self.switch_ports[subnet.key].append(ref)
            ip = (int(address.ip), ip_text)  # sorted as a number, written as text
            for group in port.groups:
                self.members.setdefault(group, []).append(ref)
                self.member_ips.setdefault(group, []).append(ip)

    # -- NAT and the external network -----------------------------------------------

    def nat(self, project: Project) -> None:
        external = self.world.settings.external
        snat_ips = [s.external_ip for s in project.snat if s.external_ip is not None]
        usable = [d for d in project.dnat if d.external_ip and d.internal_ip]
        dnats = [d for d in usable if d.forwards_port]
        floating = [d for d in usable if d.one_to_one]
        if external is None or not (snat_ips or dnats or floating) or project.vpc_cidr is None:
            return
        ext_net = IPv4Network(external.cidr)
        lrp_name = f"lrp.{names.dotted(project.key)}.gw"
        # The gateway port's own address: the SNAT address, else a forwarded one, else
        # (only floating IPs) the first floating IP.
        address = (snat_ips[0] if snat_ips else dnats[0].external_ip if dnats
                   else floating[0].external_ip)
        chassis = [self.add("Gateway_Chassis", f"gwc:{project.key}:{name}", project, {
            "name": f"{lrp_name}.{name}", "chassis_name": name,
            "priority": len(external.gateway_chassis) - index,
        }) for index, name in enumerate(external.gateway_chassis)]
        self.router_ref(project, "ports", self.add(
            "Logical_Router_Port", f"lrp-gw:{project.key}", project, {
                "name": lrp_name, "mac": self.allocation.macs.derive(f"lrp-gw:{project.key}"),
                "networks": [f"{address}/{ext_net.prefixlen}"],
                "gateway_chassis": _refs(chassis)}))
        self.external_switch_port(project, lrp_name)
        self.router_ref(project, "static_routes", self.add(
            "Logical_Router_Static_Route", f"route:{project.key}:default", project, {
                "ip_prefix": "0.0.0.0/0", "nexthop": external.gateway_ip,
                "output_port": lrp_name}))
        for ip in dict.fromkeys(snat_ips):
            self.router_ref(project, "nat", self.add("NAT", f"snat:{project.key}:{ip}", project, {
                "type": "snat", "external_ip": str(ip), "logical_ip": str(project.vpc_cidr)}))
        first_of_ip: dict[IPv4Address, Dnat] = {}
        for dnat in floating:
            first_of_ip.setdefault(dnat.external_ip, dnat)
        for dnat in first_of_ip.values():
            self.floating_ip(project, dnat, gateway_address=dnat.external_ip == address)
        for protocol in sorted({d.protocol for d in dnats}):
            vips = {f"{d.external_ip}:{d.external_port}": f"{d.internal_ip}:{d.internal_port}"
                    for d in dnats if d.protocol == protocol}
            self.router_ref(project, "load_balancer", self.add(
                "Load_Balancer", f"lb:{project.key}:{protocol}", project, {
                    "name": f"lb.{names.dotted(project.key)}.{protocol}",
                    "protocol": protocol, "vips": dict(sorted(vips.items()))}))

    def floating_ip(self, project: Project, dnat: Dnat, gateway_address: bool) -> None:
        """A 1:1 DNAT: one dnat_and_snat NAT row, DNAT of every packet to the external IP
        and SNAT of the internal IP's own traffic (a /32, longer than the VPC's SNAT
        prefix, so it wins); centralised on the gateway chassis, as SNAT is.

        When the external IP is also the gateway port's own address (a project whose NAT
        is only floating IPs), OVN drops what is sent to it unless it is an SNAT address
        (ovn-northd 23.03, lr_in_ip_input): there the row is written as its two halves, a
        dnat row and an snat row, which together do what dnat_and_snat does."""
        ip, logical = str(dnat.external_ip), str(dnat.internal_ip)
        rows = (("dnat", "dnat"), ("snat", "snat")) if gateway_address else \
            (("dnat", "dnat_and_snat"),)
        for prefix, kind in rows:
            self.router_ref(project, "nat", self.add(
                "NAT", f"{prefix}:{project.key}:{ip}", project, {
                    "type": kind, "external_ip": ip, "logical_ip": logical}))

    def external_switch_port(self, project: Project, lrp_name: str) -> None:
        external = self.world.settings.external
        if self.rows.get("Logical_Switch", EXTERNAL_SWITCH_KEY) is None:
            localnet = self.add("Logical_Switch_Port", "lsp-localnet:external", None, {
                "name": f"{self.owner}.external.localnet", "type": "localnet",
                "addresses": ["unknown"],
                "options": {"network_name": external.provider_network}})
            self.add("Logical_Switch", EXTERNAL_SWITCH_KEY, None, {
                "name": f"{self.owner}.external", "ports": [localnet]})
        port = self.add("Logical_Switch_Port", f"lsp-gw:{project.key}", project, {
            "name": f"rtr.{names.dotted(project.key)}.gw", "type": "router",
            "addresses": ["router"], "options": {"router-port": lrp_name}})
        switch = self.rows.get("Logical_Switch", EXTERNAL_SWITCH_KEY)
        switch.columns["ports"] = _refs(switch.columns["ports"] + [port])

    # -- peering -------------------------------------------------------------------

    def peerings(self, projects: list[Project]) -> None:
        """Both ends of each link between two projects in the intent; the in-view end
        of a link with a peer the database holds outside the intent (netc.compiler.peering)."""
        cidrs = {p.key: p.vpc_cidr for p in projects}
        cidrs.update((key, o.vpc_cidr) for key, o in self.world.outside.items())
        pairs = sorted({(min(p.key, peer), max(p.key, peer)) for p in projects
                        for peer in p.peers if self.world.mutually_peered(p.key, peer)
                        and cidrs[p.key] is not None and cidrs.get(peer) is not None})
        links = peer_links(pairs, self.world.peer_links)
        for (a, b), link in zip(pairs, links):
            hosts = list(link.hosts())
            names_ = {a: f"lrp.{names.dotted(a)}.peer.{names.dotted(b)}",
                      b: f"lrp.{names.dotted(b)}.peer.{names.dotted(a)}"}
            for this, other, mine, theirs in ((a, b, hosts[0], hosts[1]),
                                              (b, a, hosts[1], hosts[0])):
                project = self.world.projects.get(this)
                if project is None:
                    continue  # the other side's rows are its own plan's
                key = f"{this}>{other}"
                self.router_ref(project, "ports", self.add(
                    "Logical_Router_Port", f"lrp-peer:{key}", project, {
                        "name": names_[this],
                        "mac": self.allocation.macs.derive(f"lrp-peer:{key}"),
                        "networks": [f"{mine}/{link.prefixlen}"],
                        "peer": names_[other]}, peer=other))
                self.router_ref(project, "static_routes", self.add(
                    "Logical_Router_Static_Route", f"route-peer:{key}", project, {
                        "ip_prefix": str(cidrs[other]), "nexthop": str(theirs),
                        "output_port": names_[this]}, peer=other))

    # -- security ------------------------------------------------------------------

    def security(self, projects: list[Project], program: AclProgram) -> None:
        port_groups: dict[tuple[str, ...], dict] = {}
        for project in projects:
            for group in project.groups.values():
                port_groups[(group.key,)] = {"project": project, "acls": []}
        shared_cidrs = self.shared_cidr_lists(program)
        for spec in program.specs:
            pg = port_groups.setdefault(spec.groups, {
                "project": self.world.projects[spec.project], "acls": []})
            if not any(self.members.get(group) for group in spec.groups):
                # A group's members are ports of its own project, so an ACL of a group
                # without members matches nothing; its Port_Group stays, for the
                # $<pg>_ip4 references of others.
                continue
            remotes = self.remote_terms(spec, shared_cidrs)
            match = acl_match(spec.direction, self.pg_name(spec.groups), spec.protocol,
                              spec.ports, remotes, spec.also)
            label = "+".join(g.rpartition("/")[2] for g in spec.groups)
            protocols = "+".join(protocol for protocol, _ in spec.services())
            key = (f"acl:{spec.project}/{label}:{spec.direction}:{protocols}:"
                   f"{names.short_hash(repr(spec.body()))}")
            pg["acls"].append(self.add("ACL", key, pg["project"], {
                "priority": ALLOW_PRIORITY, "action": "allow-related", "match": match,
                "direction": _ovn_direction(spec.direction)}))
        for groups in sorted(port_groups):
            pg = port_groups[groups]
            ports = [p for g in groups for p in self.members.get(g, ())]  # _refs sorts
            key = f"pg:{groups[0]}" if len(groups) == 1 else \
                f"pg:{pg['project'].key}/{'+'.join(g.rpartition('/')[2] for g in groups)}"
            self.add("Port_Group", key, pg["project"], {
                "name": self.pg_name(groups), "ports": _refs(ports),
                "acls": _refs(pg["acls"])},
                group=groups[0].rpartition("/")[2] if len(groups) == 1 else None)
        if projects:
            self.drop_groups(program)

    def pg_name(self, groups: tuple[str, ...]) -> str:
        name = self._pg_names.get(groups)
        if name is None:  # asked for every ACL and every sg: remote: hash once per group
            project = groups[0].rpartition("/")[0]
            readable = "_".join([names.dotted(project)] + [g.rpartition("/")[2] for g in groups])
            name = self._pg_names[groups] = names.ovn_identifier(self.owner, "+".join(groups),
                                                                 readable)
        return name

    def remote_terms(self, spec: AclSpec, shared_cidrs: dict) -> list[str]:
        """CIDRs (or their shared address set) and the remote groups' address sets."""
        if ANY_CIDR in spec.cidrs:
            return []
        shared = shared_cidrs.get((spec.project, spec.cidrs))
        terms = [f"${shared}"] if shared is not None else [str(c) for c in spec.cidrs]
        for group in spec.remote_groups:
            if spec.groups == (group,):
                terms.append(f"${self.member_set(group)}")
            else:
                terms.append(f"${self.remote_pg_name(group)}_ip4")
        return terms

    def remote_pg_name(self, group: str) -> str:
        """The port group of ``group``: its name in the database for a peer outside the
        intent (the checks made sure it is there), else the name netc gives it."""
        owner, _, name = group.rpartition("/")
        outside = self.world.outside.get(owner)
        if outside is not None and name in outside.port_groups:
            return outside.port_groups[name]
        return self.pg_name((group,))

    def member_set(self, group: str) -> str:
        """netc's own address set of a group's member IPs, for rules of the group that
        name the group itself: OVN's ``$<pg>_ip4`` beside the same ``@<pg>`` in one
        match multiplies flows on every hypervisor."""
        key = f"as-members:{group}"
        name = names.ovn_identifier(self.owner, key, names.dotted(group) + "_members")
        if self.rows.get("Address_Set", key) is None:
            project = self.world.projects[group.rpartition("/")[0]]
            self.add("Address_Set", key, project, {
                "name": name, "addresses": [text for _, text in
                                            sorted(set(self.member_ips.get(group, [])))]},
                group=group.rpartition("/")[2])
        return name

    def shared_cidr_lists(self, program: AclProgram) -> dict:
        """CIDR lists of two or more blocks used by two or more ACLs of a project get one
        Address_Set: one row to update when the list changes, shorter matches."""
        uses = Counter((s.project, s.cidrs) for s in program.specs
                       if len(s.cidrs) > 1 and ANY_CIDR not in s.cidrs)
        shared = {}
        for (project_key, cidrs), count in sorted(uses.items()):
            if count < 2:
                continue
            key = f"as-cidrs:{project_key}:{names.short_hash(*map(str, cidrs))}"
            name = names.ovn_identifier(self.owner, key, names.dotted(project_key) + "_cidrs")
            self.add("Address_Set", key, self.world.projects[project_key],
                     {"name": name, "addresses": [str(c) for c in cidrs]})
            shared[(project_key, cidrs)] = name  # a project's own set: never another's
        return shared

    def drop_groups(self, program: AclProgram) -> None:
        """What nobody allowed is dropped: every netc port is in one port group with a
        drop ACL per direction, below the allows. DHCP requests (broadcast, to OVN's
        own responder) are let out, so dhcp works for ports whose groups allow no
        egress; their unicast renewals too (:meth:`dhcp_renewals`). Ports open in a
        direction (``lift_open_rules``) are in that
        direction's open port group, whose one allow-related ACL replaces one per
        group; being stateful, it also has OVN track the connection for its replies."""
        ports = {row.key for row in self.rows.tables.get("Logical_Switch_Port", {}).values()
                 if row.key.startswith(PORT_KEY_PREFIX)}
        drop = names.ovn_identifier(self.owner, DROP_GROUP_KEY, "drop")
        acls = [self.add("ACL", "acl:drop:dhcp-request", None, {
            "priority": ALLOW_PRIORITY, "action": "allow", "direction": "from-lport",
            "match": f"inport == @{drop} && ip4.dst == 255.255.255.255 && "
                     f"udp.src == 68 && udp.dst == 67"})]
        for direction in ("egress", "ingress"):
            field = "inport" if direction == "egress" else "outport"
            acls.append(self.add("ACL", f"acl:drop:{direction}", None, {
                "priority": DROP_PRIORITY, "action": "drop",
                "direction": _ovn_direction(direction), "match": f"{field} == @{drop} && ip"}))
            key = f"pg:open-{direction}"
            name = names.ovn_identifier(self.owner, key, f"open_{direction}")
            opened = {p for group, way in program.open if way == direction
                      for p in self.members.get(group, [])}
            acl = self.add("ACL", f"acl:open:{direction}", None, {
                "priority": ALLOW_PRIORITY, "action": "allow-related",
                "direction": _ovn_direction(direction), "match": f"{field} == @{name} && ip4"})
            self.add("Port_Group", key, None,
                     {"name": name, "ports": _refs(opened), "acls": [acl]})
        self.add("Port_Group", DROP_GROUP_KEY, None,
                 {"name": drop, "ports": _refs(ports), "acls": _refs(acls)})
        self.dhcp_renewals()

    def dhcp_renewals(self) -> None:
        """A client renews its lease by unicast to the server (RFC 2131 RENEWING): the
        gateway of its subnet, OVN's server_id. The broadcast exception above does not
        let that out, and once the conntrack entries of the first exchange have
        expired the drop catches it (found on real packets by tests/e2e). So each
        project's ports on DHCP subnets are in a port group of the project whose one
        ACL lets their requests to those servers out; per project, so that planning
        some projects never drops the others' servers from a global row."""
        for key in sorted(self.world.projects):
            project = self.world.projects[key]
            ports, servers = [], set()
            gateways: dict[str, IPv4Address | None] = {}  # computed once per subnet
            for port in project.ports.values():
                subnet = self.world.subnet(port.subnet)
                if subnet is None or not subnet.dhcp:
                    continue
                if subnet.key not in gateways:
                    gateways[subnet.key] = subnet.gateway
                gateway = gateways[subnet.key]
                lsp = PORT_KEY_PREFIX + port.key
                if gateway is None or self.rows.get("Logical_Switch_Port", lsp) is None:
                    continue
                ports.append(lsp)
                servers.add(gateway)
            if not ports:
                continue
            group_key = f"pg:{key}:dhcp"
            name = names.ovn_identifier(self.owner, group_key, names.dotted(key) + "_dhcp")
            listed = [str(ip) for ip in sorted(servers)]
            written = listed[0] if len(listed) == 1 else "{" + ", ".join(listed) + "}"
            acl = self.add("ACL", f"acl:{key}:dhcp-renew", project, {
                "priority": ALLOW_PRIORITY, "action": "allow", "direction": "from-lport",
                "match": f"inport == @{name} && ip4.dst == {written} && "
                         f"udp.src == 68 && udp.dst == 67"})
            self.add("Port_Group", group_key, project,
                     {"name": name, "ports": _refs(ports), "acls": [acl]})


def _refs(keys: Iterable[str]) -> list[Ref]:
    # the keys are mostly the Refs add() returned: share them rather than copy each
    # (a hundred thousand references on the 200 x 50 bench world)
    return [k if type(k) is Ref else Ref(k) for k in sorted(set(keys))]


def _ovn_set(items: list[str]) -> str:
    """An OVN DHCP option list value: ``8.8.8.8`` or ``{8.8.8.8, 1.1.1.1}``."""
    return items[0] if len(items) == 1 else "{" + ", ".join(items) + "}"


def _ovn_direction(direction: str) -> str:
    return "to-lport" if direction == "ingress" else "from-lport"
