"""Helpers of the grading tests: run the real grading command on a copy of the course, hand in notebooks."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.hostile import filled_release, reference_code

ASSIGNMENT = "01-rnn-taxonomy"


def grade(course: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m course_tools --root COURSE grade ARGS``, as an instructor runs it."""
    return subprocess.run([sys.executable, "-m", "course_tools", "--root", str(course), "grade", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)


def submit(course: Path, student: str, notebook: Path | dict, assignment: str = ASSIGNMENT) -> None:
    """Put a notebook (a file, or its JSON) into submitted/STUDENT/ASSIGNMENT/."""
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
    solutions = json.loads((course / "solutions" / notebook).read_text(encoding="utf-8"))
    return filled_release(release, reference_code(solutions))
