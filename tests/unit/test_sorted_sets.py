"""netc.backends.sorted_sets.delta is the set difference of two sorted lists, both ways."""

from hypothesis import given, strategies as st

from netc.backends.sorted_sets import MERGE_UP_TO, delta

elements = st.lists(st.text(alphabet="abcdef", max_size=4), unique=True, max_size=60)


@given(elements, elements)
def test_delta_is_the_set_difference(old, new):
    old, new = sorted(old), sorted(new)
    assert delta(old, new) == (sorted(set(old) - set(new)), sorted(set(new) - set(old)))


@given(elements, st.lists(st.text(alphabet="ghij", max_size=3), unique=True, max_size=5))
def test_a_few_elements_joining_a_large_set(held, joining):
    old = sorted(held)
    new = sorted(set(old) | set(joining))
    removed, added = delta(old, new)
    assert removed == [] and added == sorted(set(joining) - set(old))


def test_many_differences_still_exact():
    old = [f"p{i:04d}" for i in range(0, 400, 2)]
    new = [f"p{i:04d}" for i in range(0, 400, 3)]
    assert len(set(old) ^ set(new)) > MERGE_UP_TO
    assert delta(old, new) == (sorted(set(old) - set(new)), sorted(set(new) - set(old)))
