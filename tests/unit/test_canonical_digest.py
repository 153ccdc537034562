"""``netc:digest`` (netc.compiler.canonical): a row's digest does not depend on the
order of its sets, changes with any column, and, updated with the elements its sets
lost and gained (what the service's incremental compile does), is the digest of the
row it became; hand-edited values of the wrong type still get one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netc.compiler.canonical import digest_moved, digest_of

elements = st.lists(st.text(min_size=1, max_size=12), unique=True, max_size=30)


@given(ports=elements, acls=elements, name=st.text(max_size=8), data=st.data())
def test_a_digest_updated_by_a_move_is_the_digest_of_the_row_it_became(ports, acls, name,
                                                                       data):
    before = {"name": name, "ports": ports, "acls": acls}
    lost = data.draw(st.lists(st.sampled_from(ports), unique=True) if ports else st.just([]))
    gained = data.draw(st.lists(st.text(min_size=1, max_size=12).filter(
        lambda e: e not in ports), unique=True, max_size=5))
    after = dict(before, ports=[p for p in ports if p not in lost] + gained)
    moved = digest_moved("Port_Group", digest_of("Port_Group", before),
                         {"ports": (lost, gained)})
    assert moved == digest_of("Port_Group", after)
    assert digest_of("Port_Group", dict(after, ports=sorted(after["ports"]))) == moved


@given(ports=elements.filter(bool))
def test_an_element_moved_to_another_set_column_or_dropped_changes_the_digest(ports):
    row = {"name": "g", "ports": ports, "acls": []}
    digest = digest_of("Port_Group", row)
    assert digest_of("Port_Group", {"name": "g", "ports": ports[1:], "acls": ports[:1]}) != digest
    assert digest_of("Port_Group", dict(row, ports=ports[1:])) != digest
    assert digest_of("Port_Group", dict(row, name="h")) != digest


def test_set_columns_of_the_wrong_type_still_get_a_digest():
    for ports in ([5, None, {"a": 1}], 7, "ab"):
        assert len(digest_of("Port_Group", {"name": "x", "ports": ports})) == 16
