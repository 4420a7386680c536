"""The instructor's grading command, run for real in a temporary copy of the course."""
from __future__ import annotations

import ast
import csv
import graphlib
import json
import shutil
import subprocess
import sys

import pytest

from course_tools import events
from course_tools.assignments import known_assignments
from course_tools.grading import run_worker
from course_tools.sandbox import bwrap_problem
from tests.conftest import ROOT
from tests.helpers import ASSIGNMENT, answered, grade, submit
from course_tools.notebooks import grade_id, read_cells
from tests.hostile import course_copy, with_code
from tests.notebooks import is_solution, is_test, notebook_path, own_tests, wrong_solutions


def _one_early_mistake(course, assignment: str) -> tuple[dict, float]:
    """The reference solution with the first part's function replaced by a kept wrong solution,
    and the points that part's tests are worth (what the mistake may cost, and no more)."""
    cells = read_cells(notebook_path(assignment, released=False))
    first = next(grade_id(c) for c in cells if is_solution(c))
    wrong = next(w for w in wrong_solutions(assignment) if w.replaces == first)
    own = set(own_tests(assignment, first))
    points = sum(c["metadata"]["nbgrader"]["points"] for c in cells if is_test(c) and grade_id(c) in own)
    return with_code(answered(course, assignment), **{first: wrong.code}), float(points)


def test_grading_three_students_gives_full_marks_zero_and_one_parts_loss(tmp_path):
    """Every assignment, sandboxed where bubblewrap is installed: the reference solution scores
    full marks with nothing flagged, the untouched release zero, and a mistake in the first part
    (which later parts call) costs some of that part's points and none of the others'."""
    course = course_copy(tmp_path)
    assignments = known_assignments(course)
    costs = {}
    for assignment in assignments:
        submit(course, "alice", answered(course, assignment), assignment)
        submit(course, "bob", course / "assignments" / assignment / f"{assignment}.ipynb", assignment)
        notebook, costs[assignment] = _one_early_mistake(course, assignment)
        submit(course, "dave", notebook, assignment)
    (course / "submitted" / "stray.txt").write_text("not a student")
    (course / "submitted" / "carol").mkdir()

    result = grade(course, *([] if bwrap_problem() is None else ["--unsandboxed"]))

    assert result.returncode == 0, result.stdout + result.stderr
    with open(course / "grades.csv", newline="") as f:
        rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(f)}
    assert set(rows) == {(s, a) for s in ("alice", "bob", "carol", "dave") for a in assignments}
    assert all(rows["carol", a]["status"] == "missing" and rows["carol", a]["score"] == "" for a in assignments)
    for assignment in assignments:
        alice, bob, dave = rows["alice", assignment], rows["bob", assignment], rows["dave", assignment]
        assert float(alice["score"]) == float(alice["max_score"]) > 0, (assignment, alice)
        assert float(bob["score"]) == 0, (assignment, bob)
        # the mistake costs some of the first part's points and nothing of any other part
        assert float(dave["max_score"]) - costs[assignment] <= float(dave["score"]) < float(dave["max_score"]), \
            (assignment, dave, costs[assignment])
        for student in ("alice", "bob", "dave"):
            assert (course / "feedback" / student / assignment / f"{assignment}.html").is_file()
    assert "submitted/stray.txt: a stray file" in result.stdout
    assert "submitted/carol: an empty student folder" in result.stdout
    report = json.loads((course / "grading_report.json").read_text())
    assert [o for o in report["outcomes"] if o["flags"]] == []  # honest work is never flagged


def test_unknown_assignment_is_one_line_error_and_writes_nothing(tmp_path):
    course = course_copy(tmp_path)
    submit(course, "alice", course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    before = sorted(p.relative_to(course) for p in course.rglob("*"))

    result = grade(course, "99-no-such-assignment")

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "99-no-such-assignment" in result.stderr and ASSIGNMENT in result.stderr
    assert sorted(p.relative_to(course) for p in course.rglob("*")) == before


@pytest.mark.parametrize("layout", ["nothing", "stray-only"])
def test_nothing_to_grade_is_reported(tmp_path, layout):
    course = course_copy(tmp_path)
    if layout == "stray-only":
        (course / "submitted").mkdir()
        (course / "submitted" / "notes.txt").write_text("x")
    result = grade(course)
    assert result.returncode == 0
    assert "not graded:" in result.stdout
    assert not (course / "grades.csv").exists()


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs the sandbox: {bwrap_problem()}")
def test_a_kernel_that_did_not_start_sandboxed_fails_the_submission(tmp_path):
    """nbgrader_config.py without the course's pipeline: nbgrader's own Execute runs the kernel unsandboxed."""
    course = course_copy(tmp_path)
    config = course / "nbgrader_config.py"
    config.write_text("\n".join(line for line in config.read_text().splitlines()
                                if not line.startswith(("c.Autograde.", "c.GenerateFeedback."))))
    submit(course, "alice", answered(course, ASSIGNMENT))
    result = grade(course, ASSIGNMENT)
    assert result.returncode == 1
    (outcome,) = json.loads((course / "grading_report.json").read_text())["outcomes"]
    assert outcome["status"] == "failed" and "did not run sandboxed" in outcome["reason"], outcome
    assert not (course / "autograded").exists()


# The seams between the layers: events, the worker's result file, the import graph.

def test_events_round_trip_through_the_events_file(tmp_path):
    recorded = [events.Event(events.NOTE, "cell 3 (test_x): output truncated"),
                events.Event(events.FLAG, "test_x: torch.allclose was changed"),
                events.Event(events.SANDBOXED, "sandboxed kernel in /tmp/work (uid 1000)")]
    events.start_recording(tmp_path / events.EVENTS_FILE)
    try:
        for event in recorded:
            assert events.record(event.kind, event.text) == event
    finally:
        events.start_recording(None)
    events.record(events.NOTE, "after recording stopped: not in the file")
    with open(tmp_path / events.EVENTS_FILE, "a", encoding="utf-8") as f:
        f.write('{"kind": "note", "te')  # a worker killed while writing its last line
    assert events.read_events(tmp_path / events.EVENTS_FILE) == recorded
    assert events.read_events(tmp_path / "none.jsonl") == []
    with pytest.raises(ValueError, match="unknown event kind 'warning'"):
        events.Event("warning", "x")


def test_worker_result_file_is_read_as_written(tmp_path):
    result = events.WorkerResult(steps={"autograde": True, "feedback": False}, error="HTML export failed",
                                 events=[events.Event(events.NOTE, "cell 2: called sys.exit()"),
                                         events.Event(events.FLAG, "test_x: did not run to its end")],
                                 sandboxed=True)
    result.write(tmp_path / events.RESULT_FILE)
    read = events.WorkerResult.read(tmp_path / events.RESULT_FILE)
    assert read == result
    assert (read.notes, read.flags) == (["cell 2: called sys.exit()"], ["test_x: did not run to its end"])
    assert events.WorkerResult.read(tmp_path / "missing.json") is None
    (tmp_path / "broken.json").write_text('{"steps": {}')
    with pytest.raises(ValueError, match="not a grading worker's result"):
        events.WorkerResult.read(tmp_path / "broken.json")


DYING_WORKER = """\
import os, signal, sys
from course_tools import events
events.start_recording(sys.argv[1])
events.record(events.NOTE, "cell 2: the kernel died")
{end}
"""


@pytest.mark.parametrize("end, says", [
    ("os.kill(os.getpid(), signal.SIGKILL)", "(killed by SIGKILL)"),
    ("1 / 0", "(exit status 1): ZeroDivisionError: division by zero"),
])
def test_a_worker_that_dies_before_its_result_is_a_failure_that_says_why(tmp_path, end, says):
    command = [sys.executable, "-c", DYING_WORKER.format(end=end), str(tmp_path / events.EVENTS_FILE)]
    result = run_worker(command, tmp_path, seconds=120, out=tmp_path)
    assert result.steps == {} and not result.sandboxed
    assert result.error.startswith("the grading worker stopped without a result") and says in result.error
    assert result.notes == ["cell 2: the kernel died"]  # what it recorded before it died is kept


def test_a_worker_past_its_cap_is_stopped_and_reported(tmp_path):
    result = run_worker([sys.executable, "-c", "import time; time.sleep(600)"], tmp_path, seconds=2, out=tmp_path)
    assert result.steps == {} and result.error == "grading ran past its 2 s cap and was stopped"


def test_the_worker_reports_a_failed_step_with_nbgrader_s_reason(tmp_path):
    """A scratch course with no submission in it: autograding fails, and the result says why."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    out = tmp_path / "worker"
    out.mkdir()
    result = run_worker([sys.executable, "-m", "course_tools.grade_worker", str(out), ASSIGNMENT, "alice"],
                        tmp_path, seconds=300, out=out)
    assert result.steps == {"autograde": False} and not result.sandboxed
    assert result.error == f"No notebooks were matched by '{tmp_path / 'submitted' / 'alice' / ASSIGNMENT}'"


def _course_tools_imports() -> dict[str, set[str]]:
    """module -> the course_tools modules it imports, read with ast; fails on an import inside a function."""
    graph = {}
    for path in sorted((ROOT / "course_tools").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "course_tools":
                found = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_tools."):
                found = {node.module.split(".")[1]}
            elif isinstance(node, ast.Import):
                found = {a.name.split(".")[1] for a in node.names if a.name.startswith("course_tools.")}
            else:
                continue
            assert node in tree.body or not found, f"course_tools/{path.name}:{node.lineno} imports {found} in a block"
            imported |= found
        graph[path.stem] = imported
    return graph


def test_course_tools_imports_form_layers_without_a_cycle():
    graph = _course_tools_imports()
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert set(order) >= set(graph)
    for leaf in ("events", "notebooks", "report", "sandbox"):
        assert graph[leaf] == set(), f"{leaf} must import nothing of course_tools"
    both = [name for name, imported in graph.items() if {"execute", "integrity"} <= imported]
    assert both == ["pipeline"], "only the pipeline assembles execution and the guard"
    config = ast.parse((ROOT / "nbgrader_config.py").read_text(encoding="utf-8"))
    assert {alias.name for node in ast.walk(config) if isinstance(node, ast.ImportFrom)
            and node.module == "course_tools" for alias in node.names} == {"pipeline"}


@pytest.mark.parametrize("module", sorted(p.stem for p in (ROOT / "course_tools").glob("*.py")))
def test_every_course_tools_module_imports_first_in_a_fresh_interpreter(module):
    """Imported first, before anything else of the package: a cycle shows up as a partly initialised module."""
    result = subprocess.run([sys.executable, "-c", f"import course_tools.{module}"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
