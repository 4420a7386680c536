"""course_lib.assignment_parts: a later part's test runs with the reference helper, and says when an earlier part is the cause."""
from __future__ import annotations

import pytest

from course_lib.assignment_parts import reference_parts, requires_part


def _notebook() -> dict:
    """A namespace as a notebook's globals(): a wrong helper and a later part that calls it."""
    namespace: dict = {}
    exec("def double(x):\n    return x + 1\n\ndef quadruple(x):\n    return double(double(x))\n", namespace)
    return namespace


def test_the_later_part_calls_the_reference_inside_and_the_learners_helper_after():
    namespace = _notebook()
    learners = namespace["double"]
    assert namespace["quadruple"](1) == 3  # the wrong helper spoils the later part
    with reference_parts(namespace, double=lambda x: 2 * x):
        assert namespace["quadruple"](1) == 4
    assert namespace["double"] is learners and namespace["quadruple"](1) == 3


def test_the_learners_helper_comes_back_when_the_test_fails_inside():
    namespace = _notebook()
    learners = namespace["double"]
    with pytest.raises(AssertionError), reference_parts(namespace, double=lambda x: 2 * x):
        assert namespace["quadruple"](1) == 5
    assert namespace["double"] is learners


def test_a_helper_the_learner_never_defined_is_removed_again():
    namespace: dict = {}
    with reference_parts(namespace, helper=len):
        assert namespace["helper"] is len
    assert "helper" not in namespace


def test_a_namespace_that_is_not_a_dict_is_a_clear_error():
    with pytest.raises(TypeError, match=r"globals\(\)"), reference_parts(object(), helper=len):
        pass


def test_requires_part_names_the_earlier_part_and_what_its_check_said():
    def check():
        raise AssertionError("padding must get weight exactly 0")

    with pytest.raises(AssertionError, match=r"Part 5 uses your Part 1 masked_softmax.*weight exactly 0.*fix Part 1"):
        requires_part(check, earlier="Part 1 masked_softmax", this="Part 5")
    with pytest.raises(AssertionError, match=r"ValueError: bad shape"):
        requires_part(lambda: (_ for _ in ()).throw(ValueError("bad shape")), earlier="Part 1", this="Part 2")
    requires_part(lambda: None, earlier="Part 1", this="Part 2")  # a passing check says nothing
