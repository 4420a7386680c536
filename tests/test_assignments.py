"""Assignments: released notebooks up to date and free of hidden tests; hidden tests that bite."""
from __future__ import annotations

import pytest

from course_tools import assignments
from course_tools.notebooks import HIDDEN_BEGIN, read_cells
from tests.notebooks import is_test, notebook_path, run_cells, wrong_solutions
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
def test_wrong_solution_passes_visible_tests_but_fails_hidden_ones(wrong):
    visible = run_cells(wrong.assignment, released=True, replace={wrong.replaces: wrong.code}, stop_after=wrong.fails)
    assert visible[wrong.fails] is None, f"the visible tests already catch it: {visible[wrong.fails]!r}"
    hidden = run_cells(wrong.assignment, released=False, replace={wrong.replaces: wrong.code}, stop_after=wrong.fails)
    assert isinstance(hidden[wrong.fails], AssertionError), f"the hidden tests of {wrong.fails} let it pass"
