"""The instructor's grading command: autograde everything in submitted/, export grades, write feedback.

Layout nbgrader expects (relative to the course root):
    submitted/<student>/<assignment>/<notebook>.ipynb   collected student work (input)
    autograded/<student>/<assignment>/                  executed, scored copies (output)
    feedback/<student>/<assignment>/<notebook>.html     what each student gets back (output)
    gradebook.db                                        nbgrader's gradebook (output)
    grades.csv                                          one row per student and assignment (output)

One broken submission never stops the others: each student is graded by its own nbgrader
run, and every problem found is reported at the end.
"""
from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from course_tools.assignments import AssignmentError, check_names, release
from course_tools.nbgrader_cli import run_nbgrader

SUBMITTED_DIR, GRADES_CSV = "submitted", "grades.csv"


@dataclass
class Outcome:
    """What grading did with one student's one assignment."""

    student: str
    assignment: str
    status: str  # "graded" or "failed"
    score: float | None = None
    max_score: float | None = None
    reason: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # things in submitted/ that were not graded

    @property
    def ok(self) -> bool:
        return all(o.status == "graded" for o in self.outcomes)

    def lines(self) -> list[str]:
        rows = [
            f"{o.student:20s} {o.assignment:24s} "
            + (f"graded  {o.score:g} / {o.max_score:g}" if o.status == "graded" else f"FAILED  {o.reason}")
            for o in self.outcomes
        ]
        return rows + [f"not graded: {p}" for p in self.problems]


def find_submissions(root: Path, assignments: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(student, assignment) pairs to grade, and what in submitted/ was skipped and why."""
    submitted = Path(root) / SUBMITTED_DIR
    pairs, problems = [], []
    if not submitted.is_dir():
        return pairs, [f"{SUBMITTED_DIR}/ does not exist: collect submissions into {SUBMITTED_DIR}/<student>/<assignment>/"]
    for student in sorted(submitted.iterdir()):
        where = f"{SUBMITTED_DIR}/{student.name}"
        if not student.is_dir():
            problems.append(f"{where}: a stray file, not a student folder")
            continue
        entries = sorted(student.iterdir())
        if not entries:
            problems.append(f"{where}: an empty student folder")
            continue
        for entry in entries:
            if not entry.is_dir():
                problems.append(f"{where}/{entry.name}: a stray file, not an assignment folder")
            elif entry.name in assignments:
                if any(entry.glob("*.ipynb")):
                    pairs.append((student.name, entry.name))
                else:
                    problems.append(f"{where}/{entry.name}: no notebook in it")
    return pairs, problems


def read_grades(csv_path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, max_score) from nbgrader's exported CSV."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        return {
            (row["student_id"], row["assignment"]): (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(f)
        }


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def grade(root: Path, assignments: list[str] | None = None) -> Report:
    """Autograde every submission of the named assignments (all by default); export and feed back."""
    root = Path(root).resolve()
    names = check_names(root, assignments)  # raises before anything is written
    pairs, problems = find_submissions(root, names)
    report = Report(problems=problems)
    if not pairs:
        return report
    with tempfile.TemporaryDirectory() as scratch:  # registers each assignment's cells in the gradebook
        release(root, sorted({a for _, a in pairs}), release_dir=Path(scratch), db_url="sqlite:///gradebook.db")
    for student, assignment in pairs:
        result = run_nbgrader(root, "autograde", assignment, f"--student={student}", "--force")
        if result.returncode != 0:
            report.outcomes.append(Outcome(student, assignment, "failed", reason=_last_line(result.stdout + result.stderr)))
            continue
        feedback = run_nbgrader(root, "generate_feedback", assignment, f"--student={student}", "--force")
        if feedback.returncode != 0:
            report.problems.append(f"feedback for {student}/{assignment}: {_last_line(feedback.stdout + feedback.stderr)}")
        report.outcomes.append(Outcome(student, assignment, "graded"))
    export = run_nbgrader(root, "export", f"--to={GRADES_CSV}")
    if export.returncode != 0:
        raise AssignmentError(f"nbgrader export failed: {_last_line(export.stdout + export.stderr)}")
    grades = read_grades(root / GRADES_CSV)
    for outcome in report.outcomes:
        if outcome.status == "graded":
            outcome.score, outcome.max_score = grades[(outcome.student, outcome.assignment)]
    return report
