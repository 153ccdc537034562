"""Documents with schema errors are checked on (netc.intent.salvage): what is cut, how
positions survive the cut, and that nothing is reported only because of a cut."""

from __future__ import annotations

from netc.config import Settings
from netc.diagnostics import LINTS, Code, Diagnostics
from netc.frontend import check_documents
from netc.intent.yaml_loader import load_yaml


def _check(text: str, file: str = "t.yaml") -> list[tuple[Code, int, int]]:
    out = Diagnostics()
    documents = load_yaml(text, file, out)
    check_documents(documents, Settings(), out)
    return [(d.code, d.line, d.column) for d in out if d.code not in LINTS]  # test_lints.py


def test_a_schema_error_in_one_rule_hides_nothing_in_its_sibling():
    text = ("org: acme\nproject: web\nsecurity_groups:\n- name: web\n  ingress:\n"
            "  - {protocol: sctp}\n  - {protocol: icmp, ports: [80]}\n")
    assert _check(text) == [(Code.SCHEMA_ERROR, 6, 16), (Code.INVALID_PORT_RANGE, 7, 29)]


def test_positions_after_a_cut_point_at_what_was_written():
    # ports 0 and 2 are cut (a bad subnet name, an ip that is a list); port 3 is the
    # salvaged document's port 1, and its error must point at line 9, not at a cut port
    text = ("org: acme\nproject: web\nvpc: {cidr: 10.1.0.0/16}\nsubnets: [{name: default, "
            "cidr: 10.1.0.0/24}]\nports:\n- {name: a, subnet: A}\n- {name: b, ip: 10.1.0.20}\n"
            "- {name: c, ip: [1]}\n- {name: d, ip: 10.1.0.20}\n")
    assert _check(text) == [(Code.SCHEMA_ERROR, 6, 21), (Code.SCHEMA_ERROR, 8, 17),
                            (Code.IP_ALREADY_ALLOCATED, 9, 17)]


def test_cut_elements_are_not_reported_missing():
    text = ("org: acme\nproject: web\nvpc: {cidr: [10.1.0.0/16]}\nsubnets:\n"
            "- {name: app, cidr: 10.9.0.0/24}\n- {name: db, cidr: 7}\nsecurity_groups:\n"
            "- {name: Web}\n- {name: app, include: [web], ingress: [{from: 'sg:Web'}]}\n"
            "ports:\n- {name: p, subnet: db, security_groups: [app]}\n")
    # no SUBNET_OUTSIDE_VPC (the VPC's cidr was cut, not taken from the pool), no
    # SUBNET_NOT_FOUND for db, no SECURITY_GROUP_NOT_FOUND for sg:Web; include 'web'
    # (lowercase) names no group at all, and says so
    found = _check(text)
    assert [code for code, _, _ in found] == [Code.SCHEMA_ERROR, Code.SCHEMA_ERROR,
                                              Code.SCHEMA_ERROR,
                                              Code.SECURITY_GROUP_NOT_FOUND]
    assert found[-1][1] == 9


def test_yaml_aliases_are_cut_where_used_not_where_shared():
    text = ("org: acme\nproject: web\nsecurity_groups:\n- name: a\n  ingress: &r\n"
            "  - {protocol: sctp}\n  - {protocol: icmp, ports: [1]}\n"
            "- {name: b, ingress: *r}\n")
    out = Diagnostics()
    (document,) = load_yaml(text, "t.yaml", out)
    assert [len(g.ingress) for g in document.project.security_groups] == [1, 1]
    assert document.locate("security_groups", 1, "ingress", 0, "ports").line == 7


def test_a_document_without_a_valid_identity_is_not_salvaged():
    out = Diagnostics()
    assert load_yaml("org: Acme\nproject: web\nports: [{name: p, ip: 1}]\n", "t.yaml", out) == []
    assert [d.code for d in out] == [Code.SCHEMA_ERROR, Code.SCHEMA_ERROR]


def test_a_salvaged_document_is_marked_and_never_compiled(tmp_path):
    from netc.app.offline import compile_paths

    path = tmp_path / "web.yaml"
    path.write_text("org: acme\nproject: web\nvpc: {name: X}\n", encoding="utf-8")
    out = Diagnostics()
    (document,) = load_yaml(path.read_text(), str(path), out)
    assert document.withheld is not None
    out = Diagnostics()
    assert compile_paths([str(path)], Settings(), out) is None
    assert [d.code for d in out] == [Code.SCHEMA_ERROR]
