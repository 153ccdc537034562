"""The IR builder: defaults, and VPC blocks taken from the pool."""

from ipaddress import IPv4Network

from netc.config import Settings
from netc.diagnostics import Diagnostics
from netc.intent.yaml_loader import load_yaml
from netc.ir.world import build_world


def _docs(*projects: str):
    text = "\n---\n".join(f"org: acme\nproject: {p}" for p in projects)
    return load_yaml(text, "w.yaml", Diagnostics())


def _blocks(world):
    return {k: str(p.vpc_cidr) for k, p in world.projects.items()}


def test_pool_blocks_in_key_order_whatever_the_file_order():
    world = build_world(_docs("web", "db"), Settings())
    assert _blocks(world) == {"acme/db": "10.0.0.0/16", "acme/web": "10.1.0.0/16"}
    assert str(world.projects["acme/web"].subnets["default"].cidr) == "10.1.0.0/24"


def test_held_blocks_are_kept_and_never_handed_to_others():
    existing = {"acme/web": IPv4Network("10.7.0.0/16"),      # in the intent: kept
                "acme/gone": IPv4Network("10.0.0.0/16")}     # not in the intent: avoided
    world = build_world(_docs("web", "db"), Settings(), existing)
    assert _blocks(world) == {"acme/db": "10.1.0.0/16", "acme/web": "10.7.0.0/16"}


def test_a_held_block_later_declared_elsewhere_is_given_up():
    text = "org: acme\nproject: db\nvpc: {cidr: 10.7.0.0/16}\n---\norg: acme\nproject: web\n"
    docs = load_yaml(text, "w.yaml", Diagnostics())
    world = build_world(docs, Settings(), {"acme/web": IPv4Network("10.7.0.0/16")})
    assert _blocks(world) == {"acme/db": "10.7.0.0/16", "acme/web": "10.0.0.0/16"}


def test_address_ranges_agree_with_pairwise_overlaps():
    from hypothesis import given, strategies as st

    from netc.ir.world import AddressRanges

    networks = st.builds(lambda a, p: IPv4Network((a >> (32 - p) << (32 - p), p)),
                         st.integers(0, 2**32 - 1), st.integers(8, 30))

    @given(st.lists(networks, max_size=12), networks)
    def agree(added, probe):
        ranges = AddressRanges(added)
        assert ranges.overlaps(probe) == any(probe.overlaps(n) for n in added)

    agree()
