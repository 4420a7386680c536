"""Running an assignment notebook's code in this process, with chosen code in its solution cells.

Used to check that the visible tests catch most plausible wrong solutions, the hidden tests
catch all of them, and each costs only its own part's points. The
wrong solutions live in tests/wrong_solutions/<assignment>/<name>.py, each starting with
    # replaces: <grade_id of the solution cell>
    # fails: <grade_id of the test cell whose hidden tests catch it>
"""
from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from course_tools.notebooks import grade_id, read_cells
from tests.conftest import ROOT


def is_solution(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def is_test(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


@dataclass
class WrongSolution:
    assignment: str
    name: str
    replaces: str
    fails: str
    code: str


def wrong_solutions(assignment: str | None = None) -> list[WrongSolution]:
    found = []
    for path in sorted((ROOT / "tests" / "wrong_solutions").glob("*/*.py")):
        if assignment and path.parent.name != assignment:
            continue
        code = path.read_text(encoding="utf-8")
        header = dict(re.findall(r"^# (replaces|fails): (\S+)$", code, flags=re.M))
        found.append(WrongSolution(path.parent.name, path.stem, header["replaces"], header["fails"], code))
    return found


def notebook_path(assignment: str, released: bool) -> Path:
    folder = ROOT / ("assignments" if released else "solutions") / assignment
    (path,) = folder.glob("*.ipynb")
    return path


def own_tests(assignment: str, solution: str) -> list[str]:
    """grade_ids of the test cells between solution cell ``solution`` and the next solution cell:
    the tests of that function, in notebook order, which a mistake in it may fail (and no others)."""
    own, inside = [], False
    for cell in read_cells(notebook_path(assignment, released=False)):
        if is_solution(cell):
            inside = grade_id(cell) == solution
        elif inside and is_test(cell):
            own.append(grade_id(cell))
    return own


def run_cells(assignment: str, *, released: bool, replace: dict[str, str] | None = None,
              stop_after: str | None = None) -> dict[str, BaseException | None]:
    """Execute the notebook's code cells in order; return each graded cell's exception (None = passed).

    Solution cells run the reference solution from solutions/ unless ``replace`` maps their
    grade_id to other code. ``released=True`` runs the student version's tests (no hidden tests).
    ``stop_after`` ends the run after the cell with that grade_id.
    """
    reference = {grade_id(c): c["source"]
                 for c in read_cells(notebook_path(assignment, released=False)) if is_solution(c)}
    replace = replace or {}
    namespace: dict = {"__name__": "__main__"}
    results: dict[str, BaseException | None] = {}
    for cell in read_cells(notebook_path(assignment, released)):
        if cell["cell_type"] != "code":
            continue
        gid = grade_id(cell)
        source = replace.get(gid, reference[gid]) if is_solution(cell) else cell["source"]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"<{assignment}:{gid}>", "exec"), namespace)
        except Exception as err:  # a failing test cell is a result, not a test error
            if not is_test(cell):
                raise
            results[gid] = err
        else:
            if is_test(cell):
                results[gid] = None
        if gid == stop_after:
            break
    return results
