"""Grading a class run after run: one student, only what changed, and on a Dask cluster whose
worker dies mid-run (issue 20). Real grading of assignment 01 in a temporary copy of the course."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from course_tools.nbgrader_cli import run_nbgrader
from course_tools.sandbox import bwrap_problem
from tests.helpers import ASSIGNMENT, answered, grade, submit
from tests.hostile import course_copy

SANDBOX = [] if bwrap_problem() is None else ["--unsandboxed"]


def _scores(course: Path) -> dict[str, tuple[float, float]]:
    with open(course / "grades.csv", newline="") as f:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(f)
                if row["assignment"] == ASSIGNMENT}


def _statuses(stdout: str) -> dict[str, str]:
    """student -> the status word of its line (graded, unchanged, FAILED)."""
    found = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) >= 3 and words[1] == ASSIGNMENT:
            found[words[0]] = words[2]
    return found


def _class(course: Path, students: dict[str, str]) -> None:
    """Hand in, per student, the reference solution ("right") or the untouched release ("blank")."""
    release = course / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for student, kind in students.items():
        submit(course, student, answered(course, ASSIGNMENT) if kind == "right" else release)


def test_a_second_run_grades_only_what_changed_and_force_or_student_choose(tmp_path):
    course = course_copy(tmp_path)
    _class(course, {"alice": "right", "bob": "blank"})
    first = grade(course, "--jobs", "2", *SANDBOX)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _statuses(first.stdout) == {"alice": "graded", "bob": "graded"}, first.stdout
    scores = _scores(course)
    page = course / "class_report" / f"{ASSIGNMENT}.html"
    assert f"class report: {page.as_uri()}" in first.stdout
    text = page.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 2  # the distribution and the pass rates, offline
    assert "2 graded submissions" in text and "50 %" in text  # alice passes every part, bob none
    assert "1× NotImplementedError" in text  # the blank release raises in every part
    assert "BEGIN HIDDEN TESTS" not in text

    again = grade(course, "--jobs", "2", *SANDBOX)
    assert _statuses(again.stdout) == {"alice": "unchanged", "bob": "unchanged"}, again.stdout
    assert "2 unchanged" in again.stdout and _scores(course) == scores

    notebook = course / "submitted" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook.write_text(json.dumps(answered(course, ASSIGNMENT)), encoding="utf-8")  # bob hands in again
    changed = grade(course, "--jobs", "2", *SANDBOX)
    assert _statuses(changed.stdout) == {"alice": "unchanged", "bob": "graded"}, changed.stdout
    assert _scores(course)["bob"] == scores["alice"]

    one = grade(course, "--student", "alice", "--force", *SANDBOX)
    assert _statuses(one.stdout) == {"alice": "graded"}, one.stdout
    nobody = grade(course, "--student", "zoe", *SANDBOX)
    assert "submitted/zoe: no submission" in nobody.stdout


def _start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill a process and everything it started, as a machine that dies would."""
    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in tree:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    process.wait(timeout=30)


def _grading_on(worker: subprocess.Popen) -> bool:
    try:
        return any("course_tools.grade_worker" in " ".join(p.cmdline())
                   for p in psutil.Process(worker.pid).children(recursive=True))
    except psutil.Error:
        return False


def test_a_dask_cluster_grades_like_one_machine_even_when_a_worker_dies(tmp_path):
    """A `dask scheduler` and two `dask worker` processes on the loopback; the first worker seen
    grading is killed with its grading; every grade equals the local run's, each written once."""
    students = {"alice": "right", "bob": "blank", "carol": "right", "dave": "blank"}
    (tmp_path / "local").mkdir()
    (tmp_path / "cluster").mkdir()
    local = course_copy(tmp_path / "local")
    _class(local, students)
    assert grade(local, "--jobs", "2", *SANDBOX).returncode == 0
    expected = _scores(local)

    course = course_copy(tmp_path / "cluster")
    _class(course, students)
    dask = str(Path(sys.executable).parent / "dask")
    address_file = tmp_path / "scheduler.json"
    scheduler = _start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(address_file)], tmp_path / "scheduler.log")
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        for name in ("w1", "w2"):
            workers.append(_start([dask, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                                   "--no-dashboard", "--host", "127.0.0.1"], tmp_path / f"{name}.log"))
        run = subprocess.Popen([sys.executable, "-m", "course_tools", "--root", str(course), "grade",
                                "--scheduler", address, *SANDBOX], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        killed = None
        deadline = time.monotonic() + 300
        while killed is None and run.poll() is None and time.monotonic() < deadline:
            killed = next((w for w in workers if _grading_on(w)), None)
            time.sleep(0.2)
        assert killed is not None, "no worker was seen grading"
        _kill_tree(killed)
        stdout, stderr = run.communicate(timeout=600)
    finally:
        for process in [*workers, scheduler]:
            _kill_tree(process)
    assert run.returncode == 0, stdout + stderr
    assert _statuses(stdout) == dict.fromkeys(students, "graded"), stdout
    assert _scores(course) == expected
    report = json.loads((course / "grading_report.json").read_text())
    assert sorted(o["student"] for o in report["outcomes"]) == sorted(students)  # each result written once


def test_the_export_has_a_row_per_student_with_a_status_and_each_parts_score(tmp_path):
    """A roster student who handed in nothing is missing (no score, not 0); a notebook that cannot
    be graded says why; per-part scores add up; each run's report is kept."""
    course = course_copy(tmp_path)
    (course / "roster.csv").write_text("id,first_name,last_name,email\nzoe,Zoe,Kim,zoe@example.org\n"
                                       "alice,Alice,Lee,alice@example.org\n", encoding="utf-8")
    imported = run_nbgrader(course, "db", "student", "import", "roster.csv")  # as the instructors' page says
    assert imported.returncode == 0, imported.stdout + imported.stderr
    notebook = answered(course, ASSIGNMENT)  # with a cell of her own that fails deep inside torch
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "mine", "metadata": {},
                              "outputs": [], "source": "import torch\ntorch.nn.functional.softmax('x', dim=0)"})
    submit(course, "alice", notebook)
    broken = course / "submitted" / "bob" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text("{ not a notebook", encoding="utf-8")
    result = grade(course, *SANDBOX)
    assert result.returncode == 1, result.stdout + result.stderr  # bob's notebook failed

    with open(course / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"alice", "bob", "zoe"}
    assert rows["alice"]["status"] == "graded" and rows["alice"]["score"] == rows["alice"]["max_score"] != ""
    assert rows["alice"]["email"] == "alice@example.org"
    assert rows["bob"]["status"] == "not graded" and rows["bob"]["score"] == "" and "JSON" in rows["bob"]["reason"]
    assert rows["zoe"]["status"] == "missing" and rows["zoe"]["score"] == "" and rows["zoe"]["last_name"] == "Kim"

    with open(course / "grades" / f"{ASSIGNMENT}.csv", newline="") as f:
        reader = csv.DictReader(f)
        parts = [c for c in reader.fieldnames if c not in ("student_id", "last_name", "first_name", "email",
                                                          "assignment", "status", "score", "max_score", "reason")]
        alice = next(row for row in reader if row["student_id"] == "alice")
    assert len(parts) >= 3 and all(p.startswith("test_") or p for p in parts)
    assert sum(float(alice[p]) for p in parts) == float(alice["score"])

    feedback = (course / "feedback" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "Feedback for alice" in feedback and time.strftime("%Y-%m-%d", time.gmtime()) in feedback
    table = feedback[feedback.index("Feedback for alice"):feedback.index("Assignment 01")]
    assert "Part 2: the last real hidden state (3 points)" in table and "test_last_hidden" in table  # each test's part
    for prefix in {sys.prefix, str(Path(sys.prefix).resolve())}:  # as written, or under the kernel's home (~)
        assert prefix not in feedback and "~" + prefix.removeprefix("/tmp") not in feedback, "a path of the grader"
    assert "&lt;python&gt;" in feedback or "<python>" in feedback  # the traceback, with the path shortened
    assert "cdnjs" not in feedback and '<script src="../mathjax/tex-svg.js">' in feedback  # math offline
    assert (course / "feedback" / "alice" / "mathjax" / "tex-svg.js").stat().st_size > 100_000

    grade(course, "--force", *SANDBOX)
    assert len(list((course / "grading_reports").glob("*.json"))) == 2


def test_the_preflight_stops_a_broken_setup_before_any_student(tmp_path):
    """A kernel that cannot run the assignment (here: 64 MB of memory) gives the instructor's own
    solution less than full marks: the command stops before grading anyone, saying so."""
    course = course_copy(tmp_path)
    _class(course, {"alice": "right"})
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.SandboxedKernelManager.memory_mb = 64\n")
    result = grade(course, *SANDBOX)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "preflight" in result.stderr and f"{ASSIGNMENT}: " in result.stderr, result.stderr
    assert "alice" not in result.stdout and not (course / "autograded").exists()
    assert not (course / "grades.csv").exists()


def test_a_symlinked_environment_grades_normally(tmp_path):
    """The grading command started through a symlink to the virtual environment (the kernel is
    started by the linked name, the packages live at the real one) and a course copied far from
    the environment's course_lib: the solution still gets full marks, nothing fails to start."""
    link = tmp_path / "linked-venv"
    link.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    course = course_copy(tmp_path)
    _class(course, {"alice": "right"})
    result = subprocess.run([str(link / "bin" / "python"), "-m", "course_tools", "--root", str(course), "grade",
                             *SANDBOX], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _statuses(result.stdout) == {"alice": "graded"}, result.stdout
    score, max_score = _scores(course)["alice"]
    assert score == max_score > 0
