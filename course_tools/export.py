"""Grades an LMS can take: a row for every student and assignment, with a status, and each part's score.

nbgrader's own export gives a student who handed in nothing a score of 0, and says nothing of a
submission that could not be graded. Here every (student, assignment) has a row whose status is
``graded``, ``not graded: <why>`` or ``missing`` (no submission), and a score only when graded:

    grades.csv                       student_id, last_name, first_name, email, assignment, status,
                                     score, max_score, reason: one row per student and assignment
    grades/<assignment>.csv          the same, with one column per graded cell (each part's score)

The students are the gradebook's roster (``nbgrader db student import roster.csv``) and everyone
with a folder in submitted/ (an empty one too: that student is missing every assignment).
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from course_tools.report import Outcome

SUMMARY = ["student_id", "last_name", "first_name", "email", "assignment", "status", "score", "max_score", "reason"]


def _row(gb: Gradebook, student, assignment: str, outcome: Outcome | None, submitted: bool) -> tuple[dict, dict]:
    """The summary row of one student's assignment, and each part's score (grade id -> score)."""
    row = {"student_id": student.id, "last_name": student.last_name or "", "first_name": student.first_name or "",
           "email": student.email or "", "assignment": assignment, "score": "", "max_score": "", "reason": ""}
    try:
        submission = gb.find_submission(assignment, student.id)
    except MissingEntry:
        submission = None
    if outcome is not None and outcome.status == "failed":
        row["status"], row["reason"] = "not graded", outcome.reason
    elif submission is not None:
        row["status"] = "graded"
    elif submitted:
        row["status"], row["reason"] = "not graded", "not graded yet: run the grading command"
    else:
        row["status"] = "missing"
    parts: dict[str, float] = {}
    if row["status"] == "graded":
        row["score"] = f"{submission.score - (submission.late_submission_penalty or 0):g}"
        row["max_score"] = f"{submission.max_score:g}"
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.max_score:
                    parts[grade.name] = grade.score
    return row, parts


def export(root: Path, course_id: str, outcomes: list[Outcome], db_name: str, submitted_dir: str,
           grades_csv: str) -> Path:
    """Write grades.csv and grades/<assignment>.csv for every assignment in the gradebook (this
    run's outcomes say why a submission was not graded); return grades.csv's path."""
    root = Path(root)
    by_pair = {(o.student, o.assignment): o for o in outcomes}
    submitted = root / submitted_dir
    folders = [s for s in submitted.iterdir() if s.is_dir() and not s.is_symlink()] if submitted.is_dir() else []
    handed_in = {(s.name, a.name) for s in folders for a in s.iterdir() if a.is_dir()}
    with Gradebook(f"sqlite:///{root / db_name}", course_id) as gb:
        assignments = sorted(a.name for a in gb.assignments)
        rows, per_assignment = [], {a: [] for a in assignments}
        for name in sorted({s.name for s in folders} | {o.student for o in outcomes}):
            gb.update_or_create_student(name)
        cells = {a: [c.name for nb in gb.find_assignment(a).notebooks for c in nb.grade_cells] for a in assignments}
        for student in sorted(gb.students, key=lambda s: s.id):
            for assignment in assignments:
                row, parts = _row(gb, student, assignment, by_pair.get((student.id, assignment)),
                                  (student.id, assignment) in handed_in)
                rows.append(row)
                per_assignment[assignment].append({**row, **{c: (f"{parts[c]:g}" if c in parts else "")
                                                             for c in cells[assignment]}})
    path = root / grades_csv
    _write_csv(path, SUMMARY, rows)
    for assignment, assignment_rows in per_assignment.items():
        _write_csv(root / "grades" / f"{assignment}.csv", SUMMARY + cells[assignment], assignment_rows)
    return path


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Write a CSV in one step: a reader (or a crash) never meets half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.tmp")
    with open(staged, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(staged, path)
