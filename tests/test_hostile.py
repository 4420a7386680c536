"""A class of hostile and broken submissions (tests/hostile), graded by the real command, sandboxed.

One batch holds every case of tests.hostile.CASES and two honest students. For each case:
grading ends by the notebook's own limits (never killed at the whole run's cap), the batch
goes on, the honest students' grades are what they are alone, the report names what
happened, and an attack scores no more than the untouched release (0) or is flagged for
manual review. Needs bubblewrap (CI installs it).
"""
from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from course_tools.notebooks import hidden_test_lines
from course_tools.sandbox import INSTALL_HINT, bwrap_problem
from tests.conftest import ROOT
from tests.hostile import ASSIGNMENT, CASES, HONEST, MAX_SCORE, NOTEBOOK, grade_corpus

pytestmark = [pytest.mark.skipif(bwrap_problem() is not None,
                                 reason=f"needs the sandbox: {bwrap_problem()} ({INSTALL_HINT})"),
              pytest.mark.xdist_group("hostile")]  # one worker grades the batch once, for every test here

CELL_TIMEOUT, NOTEBOOK_TIMEOUT = 5, 45  # small caps, so that the hanging cases stay quick


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> SimpleNamespace:
    graded = grade_corpus(tmp_path_factory.mktemp("hostile"), jobs=2, cell_timeout=CELL_TIMEOUT,
                          notebook_timeout=NOTEBOOK_TIMEOUT)
    with open(graded.course / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    graded.grades = {row["student_id"]: float(row["score"]) for row in rows if row["status"] == "graded"}
    graded.statuses = {row["student_id"]: row["status"] for row in rows}
    print(graded.result.stdout)  # the report, for the log of a failing run
    return graded


def _outputs(course: Path, student: str) -> str:
    notebook = json.loads((course / "autograded" / student / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    texts = []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")) + out.get("evalue", ""))
    return "\n".join(texts)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_case_is_graded_as_expected_and_named(batch, case):
    outcome = batch.outcomes[case.name]
    everything = " ".join([outcome["reason"], *outcome["notes"], *outcome["flags"]])
    assert outcome["status"] == case.status, outcome
    # the notebook's own budget and the cell timeouts end it, never the kill at the whole run's cap
    assert "cap and was stopped" not in outcome["reason"], f"{case.name} ran into the whole run's cap"
    assert re.search(case.says, everything, re.I), f"the report does not say {case.says!r}: {everything}"
    if case.status == "graded":
        assert outcome["max_score"] == MAX_SCORE  # edited points never change what the assignment is worth
        assert outcome["score"] == case.score, outcome
        assert batch.grades[case.name] == case.score
    else:
        assert outcome["reason"] and "\n" not in outcome["reason"]
        assert case.name not in batch.grades  # nothing half-written into the gradebook
        assert batch.statuses[case.name] == "not graded"  # the export says so, with no score
    if case.flagged:
        assert outcome["flags"], f"{case.name} should be flagged for manual review"


def test_honest_students_keep_their_grades(batch):
    for student, score in HONEST.items():
        outcome = batch.outcomes[student]
        assert (outcome["status"], outcome["score"], outcome["flags"]) == ("graded", score, []), outcome
        assert batch.grades[student] == score


def test_the_batch_goes_on_and_fails_loudly(batch):
    assert set(batch.outcomes) == {c.name for c in CASES} | set(HONEST)
    assert batch.result.returncode == 1  # some submissions could not be graded
    lines = batch.result.stdout.splitlines()
    for student in batch.outcomes:
        assert sum(line.startswith(f"{student} ") for line in lines) == 1, student


def test_nothing_got_out_of_the_sandbox(batch):
    course, targets = batch.course, batch.targets
    assert not batch.connected, "a notebook reached a port on the grading machine"
    assert "CONNECTED" not in _outputs(course, "network")
    assert "\nREAD " not in "\n" + _outputs(course, "read-course-files")
    assert "WROTE /" not in _outputs(course, "write-outside-folder")
    assert {name: _digest(course / name) for name in ("solutions", "assignments")} == \
        {name: _digest(ROOT / name) for name in ("solutions", "assignments")}  # what the course was copied from
    assert list(targets.outside.iterdir()) == []
    assert sorted(p.name for p in targets.home_file.parent.iterdir()) == ["secret.txt"]
    assert not list(course.glob("pwned*")) and not list(course.glob("submitted/*/*/pwned*"))
    # what the kernel wrote into its folder (files, links to the solutions) stays in the sandbox
    for kind, names in (("autograded", [NOTEBOOK]), ("feedback", [NOTEBOOK.replace(".ipynb", ".html")])):
        assert sorted(p.name for p in (course / kind / "write-outside-folder" / ASSIGNMENT).iterdir()) == names


def test_feedback_never_shows_hidden_tests(batch):
    # a short hidden line that is also part of a visible line ("scaled_dot_product_attention,") is no secret
    released = json.loads((batch.course / "assignments" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    visible = "\n".join("".join(c["source"]) for c in released["cells"])
    hidden = {line for line in hidden_test_lines(batch.course / "solutions" / ASSIGNMENT / NOTEBOOK) if line not in visible}
    assert len(hidden) > 20, "the assignment's hidden tests should leave many lines to look for"
    feedback = sorted((batch.course / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert len(feedback) == sum(o["status"] == "graded" for o in batch.outcomes.values())
    for path in feedback:
        text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path.relative_to(batch.course)} shows hidden tests: {leaked[:3]}"
    # the encoded leak ran (its grading output has the tests) and its feedback shows none of its outputs
    leak = re.search(r"LEAK:([A-Za-z0-9+/=]+)", _outputs(batch.course, "leak-hidden-tests-encoded"))
    assert leak and any(line in base64.b64decode(leak.group(1)).decode() for line in hidden)
    page = NOTEBOOK.replace(".ipynb", ".html")
    withheld = batch.course / "feedback" / "leak-hidden-tests-encoded" / ASSIGNMENT / page
    text = withheld.read_text(encoding="utf-8")
    assert not re.search(r"LEAK:[A-Za-z0-9+/=]{16,}", text) and "flagged for manual review" in text
    assert "(hidden tests, not shown)" in html.unescape(
        (batch.course / "feedback" / "alice" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text())
