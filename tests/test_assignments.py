"""Assignments: released and free of hidden tests; visible tests that catch most mistakes, hidden
tests that catch all of them, and one mistake costing one part's points."""
from __future__ import annotations

import pytest

from course_tools import assignments
from course_tools.notebooks import HIDDEN_BEGIN, read_cells
from tests.notebooks import is_test, notebook_path, own_tests, run_cells, wrong_solutions
from tests.conftest import ROOT

ASSIGNMENTS = assignments.known_assignments(ROOT)


def test_released_assignments_are_up_to_date():
    assert assignments.stale_files(ROOT) == [], "run `make assignments` and commit assignments/"


def test_no_hidden_test_line_is_released():
    assert assignments.leaked_hidden_lines(ROOT) == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_test_cell_has_points_and_hidden_tests_exist(name):
    cells = read_cells(notebook_path(name, released=False))
    tests = [c for c in cells if is_test(c)]
    assert tests, f"{name} has no graded test cell"
    assert all(c["metadata"]["nbgrader"].get("points", 0) > 0 for c in tests)
    assert any(HIDDEN_BEGIN in c["source"] for c in tests), f"{name} has no hidden tests"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_solution_passes_every_test(name):
    results = run_cells(name, released=False)
    assert results and all(err is None for err in results.values()), results


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_hidden_test_cell_catches_a_wrong_solution(name):
    caught = {w.fails for w in wrong_solutions(name)}
    hidden = {c["metadata"]["nbgrader"]["grade_id"] for c in read_cells(notebook_path(name, released=False))
              if is_test(c) and HIDDEN_BEGIN in c["source"]}
    assert hidden <= caught, f"hidden tests with no wrong solution in tests/wrong_solutions/{name}: {hidden - caught}"


@pytest.mark.parametrize("wrong", wrong_solutions(), ids=lambda w: f"{w.assignment}/{w.name}")
def test_wrong_solution_loses_only_its_parts_points(wrong):
    """The hidden tests reject it, with an assertion's message, and only the tests of the function it
    replaces may fail (the test cells after that solution cell, up to the next one)."""
    own = own_tests(wrong.assignment, wrong.replaces)
    assert wrong.fails in own, f"{wrong.fails} does not test {wrong.replaces} (its tests: {sorted(own)})"
    hidden = run_cells(wrong.assignment, released=False, replace={wrong.replaces: wrong.code})
    assert isinstance(hidden[wrong.fails], AssertionError), f"the hidden tests of {wrong.fails} let it pass"
    others = {gid: repr(err) for gid, err in hidden.items() if err is not None and gid not in own}
    assert not others, f"one mistake in {wrong.replaces} also costs the points of {others}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_visible_tests_reject_at_least_half_of_the_wrong_solutions(name):
    """A learner who runs the visible tests catches most honest mistakes before submitting."""
    kept = wrong_solutions(name)
    assert kept, f"no wrong solutions in tests/wrong_solutions/{name}"
    caught, missed = [], []
    for wrong in kept:
        own = own_tests(name, wrong.replaces)
        visible = run_cells(name, released=True, replace={wrong.replaces: wrong.code}, stop_after=own[-1])
        others = {gid: repr(err) for gid, err in visible.items() if err is not None and gid not in own}
        assert not others, f"{wrong.name} (in {wrong.replaces}) also fails the visible tests of {others}"
        (caught if any(visible.get(gid) is not None for gid in own) else missed).append(wrong.name)
    share = len(caught) / len(kept)
    print(f"{name}: the visible tests reject {len(caught)} of {len(kept)} wrong solutions ({share:.0%})")
    assert share >= 0.5, f"the visible tests reject only {len(caught)} of {len(kept)}; they miss {missed}"
