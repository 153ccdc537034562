"""netc.sorted_sets: sets as sorted lists, held to Python's sets."""

from hypothesis import given, strategies as st

from netc.sorted_sets import toggled

elements = st.lists(st.text(alphabet="abcdef", max_size=4), unique=True, max_size=60)


@given(elements, elements)
def test_toggled_is_the_symmetric_difference_still_sorted(held, change):
    assert toggled(sorted(held), change) == sorted(set(held) ^ set(change))
