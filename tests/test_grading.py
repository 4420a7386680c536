"""The instructor's grading command, run for real in a temporary copy of the course."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_tools.assignments import known_assignments
from course_tools.sandbox import bwrap_problem
from tests.conftest import ROOT
from tests.hostile import course_copy, filled_release, reference_code

ASSIGNMENT = "01-rnn-taxonomy"


def grade(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_tools", "--root", str(course), "grade", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)


def submit(course: Path, student: str, notebook: Path | dict, assignment: str = ASSIGNMENT) -> None:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    if isinstance(notebook, dict):
        (folder / f"{assignment}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    else:
        shutil.copy(notebook, folder / notebook.name)


def answered(course: Path, assignment: str) -> dict:
    """The released notebook with the reference solution typed into it, as a student hands it in."""
    notebook = f"{assignment}/{assignment}.ipynb"
    release = json.loads((course / "assignments" / notebook).read_text(encoding="utf-8"))
    return filled_release(release, reference_code(json.loads((course / "solutions" / notebook).read_text(encoding="utf-8"))))


def test_grading_two_students_gives_full_marks_and_zero(tmp_path):
    """Every assignment, sandboxed where bubblewrap is installed: the reference solution scores
    full marks with nothing flagged, the untouched release zero."""
    course = course_copy(tmp_path)
    assignments = known_assignments(course)
    for assignment in assignments:
        submit(course, "alice", answered(course, assignment), assignment)
        submit(course, "bob", course / "assignments" / assignment / f"{assignment}.ipynb", assignment)
    (course / "submitted" / "stray.txt").write_text("not a student")
    (course / "submitted" / "carol").mkdir()

    result = grade(course, *([] if bwrap_problem() is None else ["--unsandboxed"]))

    assert result.returncode == 0, result.stdout + result.stderr
    with open(course / "grades.csv", newline="") as f:
        rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(f)}
    assert set(rows) == {(s, a) for s in ("alice", "bob") for a in assignments}
    for assignment in assignments:
        alice, bob = rows["alice", assignment], rows["bob", assignment]
        assert float(alice["score"]) == float(alice["max_score"]) > 0, (assignment, alice)
        assert float(bob["score"]) == 0, (assignment, bob)
        for student in ("alice", "bob"):
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
