"""A deterministic world of tenants for the scale figures: N projects x M ports.

The default, 200 projects x 50 ports, is the world the issues' figures are quoted
on: 10,000 ports in about 2 MB of YAML, one file per project under a folder per
organization, plus the ``netc.toml`` it needs. It is meant to look like real
intent, so that what netc spends its time on is what it would spend it on in
production:

- three subnets per project (frontend, backend, data without DHCP) in a declared
  VPC; one project in ten writes no VPC and no subnet, takes its VPC from the pool
  and has every address allocated;
- four to six security groups (ops, web, app, db, sometimes lb and cache) with
  several rules each, port ranges, ``include: [ops]``, ``sg:`` references inside
  the project and ``sg:ORG/PROJECT/NAME`` references to a mutually peered project;
- static addresses for load balancers and databases (some with explicit MACs), the
  rest allocated; one project in four was "migrated" from an older cloud and pins
  the address and MAC of every port; VMs are named by UUID, as PlasmaVMC names them;
- SNAT and a DNAT port forward on one project in five.

The same (projects, ports) always gives byte-identical files, so two runs of the
harness, or two machines, measure the same input::

    python -m bench.world --out bench/out/world --projects 200 --ports 50
"""

from __future__ import annotations

import argparse
import shutil
import sys
import uuid
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import yaml

ORGS = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka",
        "tyrell", "cyberdyne", "soylent", "aperture", "oscorp", "vandelay", "gringotts",
        "dunder", "pied-piper", "prestige", "massive", "monarch")
APPS = ("shop", "billing", "search", "auth", "media", "ledger", "chat", "maps", "crm",
        "reports")
POOL = IPv4Network("10.0.0.0/8")
EXTERNAL = IPv4Network("198.18.0.0/15")  # RFC 2544 benchmarking range
MAX_PORTS = 250  # a pool project keeps every port in its one /24
MAX_PROJECTS = 4096
ROLE_CYCLE = ("web", "app", "web", "app", "db", "web", "app", "cache", "web", "app")
SUBNET_OF_ROLE = {"lb": "frontend", "web": "frontend", "app": "backend", "cache": "backend",
                  "db": "data"}
SUBNETS = (("frontend", 1, True), ("backend", 2, True), ("data", 3, False))
VM_NAMESPACE = uuid.UUID("6f1c1f8e-2b0a-4c1e-9d7e-6e6574632d62")
ADMIN_RANGES = ("192.168.0.0/16", "172.16.8.0/22", "198.51.100.0/24")
WORLD_MARKER = "WORLD"
"""A file naming the (projects, ports) of a generated folder; lets --out replace it."""


@dataclass(frozen=True)
class WorldShape:
    projects: int = 200
    ports: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.projects <= MAX_PROJECTS:
            raise ValueError(f"projects must be 1..{MAX_PROJECTS}")
        if not 1 <= self.ports <= MAX_PORTS:
            raise ValueError(f"ports must be 1..{MAX_PORTS}")

    @property
    def vpc_prefix(self) -> int:
        """/16 VPCs while they fit in 10.0.0.0/8, /20 beyond 256 projects."""
        return 16 if self.projects <= 256 else 20

    @property
    def name(self) -> str:
        return f"{self.projects}x{self.ports}"


@dataclass(frozen=True)
class _Tenant:
    """Everything about project ``index`` that other projects may need to know."""

    index: int
    org: str
    project: str
    vpc: IPv4Network | None  # None: taken from the pool, nothing address-like written
    has_lb: bool
    has_cache: bool
    nat: bool
    migrated: bool
    peer: int | None

    @property
    def key(self) -> str:
        return f"{self.org}/{self.project}"


def _tenants(shape: WorldShape) -> list[_Tenant]:
    blocks = list(POOL.subnets(new_prefix=shape.vpc_prefix))
    tenants = []
    for index in range(shape.projects):
        from_pool = index % 10 == 9
        if index % 6 == 0 and index + 1 < shape.projects:
            peer = index + 1
        elif index % 6 == 1:
            peer = index - 1
        else:
            peer = None
        tenants.append(_Tenant(
            index=index, org=ORGS[index % len(ORGS)],
            project=f"{APPS[(index // len(ORGS)) % len(APPS)]}-{index:04d}",
            vpc=None if from_pool else blocks[index],
            has_lb=index % 3 != 2, has_cache=index % 2 == 0,
            nat=index % 5 == 0 and not from_pool, migrated=index % 4 == 1 and not from_pool,
            peer=peer))
    return tenants


def _tcp(ports: list, remote_key: str, remote: str) -> dict:
    return {"protocol": "tcp", "ports": ports, remote_key: remote}


def _groups(tenant: _Tenant, peer: _Tenant | None) -> list[dict]:
    ops = {"name": "ops", "description": "SSH from the VPN, metrics, DNS and NTP",
           "ingress": [*(_tcp([22], "from", cidr) for cidr in ADMIN_RANGES),
                       _tcp([9100], "from", "10.0.0.0/8"),
                       {"protocol": "icmp", "from": "10.0.0.0/8"}],
           "egress": [{"protocol": "udp", "ports": [53, 123], "to": "0.0.0.0/0"},
                      _tcp([53], "to", "0.0.0.0/0")]}
    groups = [ops]
    if tenant.has_lb:
        groups.append({
            "name": "lb", "description": "public HTTP(S) entry",
            "ingress": [_tcp([80, 443], "from", "0.0.0.0/0"),
                        {"protocol": "icmp", "from": "0.0.0.0/0"}],
            "egress": [_tcp(["8080-8089"], "to", "sg:web")]})
    web_from = "sg:lb" if tenant.has_lb else "0.0.0.0/0"
    groups.append({
        "name": "web", "description": "web servers", "include": ["ops"],
        "ingress": [_tcp(["8080-8089"], "from", web_from),
                    _tcp([80, 443], "from", "10.0.0.0/8"),
                    _tcp([9113], "from", "10.0.0.0/8")],
        "egress": [_tcp([8443, "9000-9009"], "to", "sg:app"),
                   _tcp([443], "to", "0.0.0.0/0")]})
    app_egress = [_tcp([5432], "to", "sg:db"), _tcp([8443], "to", "sg:app"),
                  _tcp([443], "to", "0.0.0.0/0")]
    app_ingress = [_tcp([8443, "9000-9009"], "from", "sg:web"),
                   _tcp([8443], "from", "sg:app"),
                   _tcp([9090], "from", "10.0.0.0/8")]
    if tenant.has_cache:
        app_egress.insert(1, _tcp([6379], "to", "sg:cache"))
    if peer is not None:
        app_ingress.append(_tcp([8443], "from", f"sg:{peer.key}/app"))
        app_egress.append(_tcp([8443], "to", f"sg:{peer.key}/app"))
    groups.append({"name": "app", "description": "application services", "include": ["ops"],
                   "ingress": app_ingress, "egress": app_egress})
    groups.append({
        "name": "db", "description": "PostgreSQL", "include": ["ops"],
        "ingress": [_tcp([5432], "from", "sg:app"), _tcp([5432], "from", "sg:db")],
        "egress": [_tcp([5432], "to", "sg:db")]})
    if tenant.has_cache:
        groups.append({
            "name": "cache", "description": "Redis cluster", "include": ["ops"],
            "ingress": [_tcp([6379], "from", "sg:app"),
                        _tcp([6379, 16379], "from", "sg:cache")],
            "egress": [_tcp([6379, 16379], "to", "sg:cache")]})
    return groups


def _role(tenant: _Tenant, position: int) -> str:
    if position < 2:
        return "lb" if tenant.has_lb else "web"
    role = ROLE_CYCLE[position % len(ROLE_CYCLE)]
    return "app" if role == "cache" and not tenant.has_cache else role


def _subnet_cidr(tenant: _Tenant, offset: int) -> IPv4Network:
    return IPv4Network((int(tenant.vpc.network_address) + offset * 256, 24))


def _ports(tenant: _Tenant, count: int) -> list[dict]:
    ports = []
    static_next = {name: 10 for name, _, _ in SUBNETS}
    offsets = {name: offset for name, offset, _ in SUBNETS}
    for position in range(count):
        role = _role(tenant, position)
        port: dict = {"name": f"{role}-{position + 1}"}
        if tenant.vpc is not None:
            subnet = SUBNET_OF_ROLE[role]
            port["subnet"] = subnet
        port["vm"] = str(uuid.uuid5(VM_NAMESPACE, f"{tenant.index}/{position}"))
        if tenant.vpc is not None and (position < 2 or role == "db" or tenant.migrated):
            host = static_next[subnet]
            static_next[subnet] += 1
            if tenant.migrated or (role == "db" and position % 2 == 0):
                port["mac"] = (f"02:00:{tenant.index >> 8:02x}:{tenant.index & 255:02x}:"
                               f"{offsets[subnet]:02x}:{host:02x}")
            port["ip"] = str(_subnet_cidr(tenant, offsets[subnet]).network_address + host)
        port["security_groups"] = [role]
        ports.append(port)
    return ports


def _document(tenant: _Tenant, peer: _Tenant | None, shape: WorldShape) -> dict:
    doc: dict = {"org": tenant.org, "project": tenant.project}
    if tenant.vpc is not None:
        doc["vpc"] = {"name": f"{tenant.project}-vpc", "cidr": str(tenant.vpc)}
        doc["subnets"] = [{"name": name, "cidr": str(_subnet_cidr(tenant, offset)),
                           "dhcp": dhcp,
                           "dns_servers": [str(tenant.vpc.network_address + 2), "9.9.9.9"]}
                          for name, offset, dhcp in SUBNETS]
    doc["security_groups"] = _groups(tenant, peer)
    doc["ports"] = _ports(tenant, shape.ports)
    if tenant.nat:
        external = str(EXTERNAL.network_address + 16 + tenant.index)
        target = doc["ports"][0]["ip"]
        doc["nat"] = {"snat": [{"external_ip": external}],
                      "dnat": [{"external_ip": external, "external_port": 443,
                                "internal_ip": target, "internal_port": 443,
                                "protocol": "tcp"}]}
    if peer is not None:
        doc["peerings"] = [peer.key]
    return doc


class _IndentedDumper(yaml.SafeDumper):
    """Indents sequences under their key (``  - name: web``), as people write YAML."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def settings_toml(shape: WorldShape) -> str:
    return (f"# netc settings of the generated bench world {shape.name}\n"
            f'owner = "netc-bench"\n\n[network]\ncidr_pool = "{POOL}"\n'
            f"vpc_prefix = {shape.vpc_prefix}\ndefault_subnet_size = 24\n\n"
            f'[external]\ncidr = "{EXTERNAL}"\n'
            f'gateway_ip = "{IPv4Address(int(EXTERNAL.network_address) + 1)}"\n'
            f'provider_network = "physnet1"\ngateway_chassis = ["chassis-1"]\n')


def generate_world(shape: WorldShape) -> dict[str, str]:
    """Relative path -> text of every file of the world (netc.toml included)."""
    tenants = _tenants(shape)
    files = {"netc.toml": settings_toml(shape)}
    for tenant in tenants:
        peer = tenants[tenant.peer] if tenant.peer is not None else None
        header = (f"# bench world {shape.name}: project {tenant.index} of {shape.projects}"
                  f"{', VPC from the pool' if tenant.vpc is None else ''}\n")
        body = yaml.dump(_document(tenant, peer, shape), Dumper=_IndentedDumper,
                         sort_keys=False, default_flow_style=False, width=100)
        files[f"{tenant.org}/{tenant.project}.yaml"] = header + body
    return files


def write_world(out: Path, shape: WorldShape) -> Path:
    """Write the world into ``out`` (replacing a world generated there before)."""
    if out.exists():
        if not (out / WORLD_MARKER).exists() and any(out.iterdir()):
            raise FileExistsError(f"{out} is not empty and holds no generated world")
        shutil.rmtree(out)
    for relative, text in generate_world(shape).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (out / WORLD_MARKER).write_text(f"{shape.name}\n", encoding="utf-8")
    return out


def cached_world(root: Path, shape: WorldShape) -> Path:
    """The world of ``shape`` under ``root``, generated once and reused while complete."""
    out = root / f"world-{shape.name}"
    marker = out / WORLD_MARKER
    if not (marker.exists() and marker.read_text(encoding="utf-8").strip() == shape.name):
        write_world(out, shape)
    return out


def intent_files(world: Path) -> list[Path]:
    return sorted(world.rglob("*.yaml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.world", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="folder to write the world to")
    parser.add_argument("--projects", type=int, default=WorldShape.projects)
    parser.add_argument("--ports", type=int, default=WorldShape.ports,
                        help=f"ports per project (at most {MAX_PORTS})")
    args = parser.parse_args(argv)
    try:
        shape = WorldShape(args.projects, args.ports)
        out = write_world(args.out, shape)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = intent_files(out)
    size = sum(f.stat().st_size for f in files)
    print(f"{out}: {shape.projects} projects x {shape.ports} ports in {len(files)} files, "
          f"{size / 1e6:.2f} MB of YAML", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
