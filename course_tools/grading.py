"""The instructor's grading command: autograde everything in submitted/, export grades, write feedback.

Layout nbgrader expects (relative to the course root):
    submitted/<student>/<assignment>/<notebook>.ipynb   collected student work (input)
    autograded/<student>/<assignment>/                  executed, scored copies (output)
    feedback/<student>/<assignment>/<notebook>.html     what each student gets back (output)
    gradebook.db                                        nbgrader's gradebook (output)
    grades.csv                                          one row per student and assignment (output)
    grading_report.json                                 what this run did, student by student (output)

Each student's assignment is graded on its own, several at a time (``jobs``):
1. ``course_tools.submissions`` checks the notebook before anything runs (JSON, size,
   nbformat, file name, graded cells against the release) and gives up with a one-line
   reason or repairs what it can;
2. ``nbgrader autograde`` and ``generate_feedback`` run in a worker process
   (``course_tools.grade_worker``) in a scratch course of their own (a copy of the gradebook,
   the one notebook, no solutions), with the kernel sandboxed by nbgrader_config.py
   (course_tools.pipeline) and the whole run under a wall-clock cap; the worker writes a
   result file (``course_tools.events.WorkerResult``) that says what happened, and a worker
   that dies without one is a failure with the reason;
3. the result is published into the course under a lock: the student's grades are merged
   into a copy of gradebook.db that then replaces it, so the gradebook is never half-written,
   and autograded/ and feedback/ get the student's folders.
A submission that cannot be graded leaves the gradebook as it was for that student and is
reported as failed; the others go on. The report says, for each student and assignment,
the score or the reason, and what needs a human look (flags).
"""
from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from nbgrader.api import Gradebook

from course_tools.assignments import RELEASE_DIR, check_names, release
from course_tools.events import EVENTS_FILE, RESULT_FILE, WorkerResult, read_events
from course_tools.execute import SandboxedExecute
from course_tools.nbgrader_cli import nbgrader_env, run_nbgrader
from course_tools.report import Outcome, Report, clean_reason
from course_tools.sandbox import bwrap_problem
from course_tools.submissions import MAX_NOTEBOOK_MB, check_submission

SUBMITTED_DIR, GRADES_CSV, REPORT_JSON = "submitted", "grades.csv", "grading_report.json"
DB_NAME = "gradebook.db"
STARTUP_SECONDS = 120  # nbgrader's own start, the feedback and the copies, on top of the notebook's budget


class GradingError(RuntimeError):
    """Grading as a whole cannot go on (no sandbox, a failed export); one bad submission never raises it."""


@dataclass
class Settings:
    """How a run grades: sandbox, parallel students and caps (None: nbgrader_config.py's value)."""

    jobs: int = os.cpu_count() or 1
    sandboxed: bool = True
    cell_timeout: int | None = None
    notebook_timeout: int | None = None
    max_notebook_mb: float = MAX_NOTEBOOK_MB

    def nbgrader_args(self) -> list[str]:
        args = []
        if self.cell_timeout:
            args.append(f"--ExecutePreprocessor.timeout={self.cell_timeout}")
        if self.notebook_timeout:
            args.append(f"--SandboxedExecute.notebook_timeout={self.notebook_timeout}")
        if not self.sandboxed:
            args.append("--SandboxedKernelManager.sandboxed=False")
        return args



def find_submissions(root: Path, assignments: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(student, assignment) pairs to grade, and what in submitted/ was skipped and why."""
    submitted = Path(root) / SUBMITTED_DIR
    pairs, problems = [], []
    if not submitted.is_dir():
        return pairs, [f"{SUBMITTED_DIR}/ does not exist: collect submissions into "
                       f"{SUBMITTED_DIR}/<student>/<assignment>/"]
    for student in sorted(submitted.iterdir()):
        where = f"{SUBMITTED_DIR}/{student.name}"
        if not student.is_dir() or student.is_symlink():
            problems.append(f"{where}: a stray file, not a student folder")
            continue
        entries = sorted(student.iterdir())
        if not entries:
            problems.append(f"{where}: an empty student folder")
            continue
        for entry in entries:
            if not entry.is_dir() or entry.is_symlink():
                problems.append(f"{where}/{entry.name}: a stray file, not an assignment folder")
            elif entry.name in assignments:
                pairs.append((student.name, entry.name))
    return pairs, problems


def read_grades(csv_path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, max_score) from nbgrader's exported CSV."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        return {
            (row["student_id"], row["assignment"]): (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(f)
        }


def run_capped(command: list[str], cwd: Path, seconds: int) -> tuple[int | None, str]:
    """Run a command in its own session; kill the whole session after ``seconds`` (returncode None)."""
    env = nbgrader_env()
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")  # also for unsandboxed kernels
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, text=True)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            returncode = None
        else:
            returncode = proc.returncode
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind
            except ProcessLookupError:
                pass
        out.seek(0)
        return returncode, out.read()


def _last_line(text: str) -> str:
    """The last line of a command's output that says anything ("" when none does)."""
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def _stopped_without_result(returncode: int, log: str) -> str:
    """Why a worker left no result: how it ended, and the last line it printed (a Python error's, say)."""
    if returncode < 0:
        try:
            ended = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            ended = f"killed by signal {-returncode}"
    else:
        ended = f"exit status {returncode}"
    return f"the grading worker stopped without a result ({ended}): {_last_line(log) or 'no output'}"


def run_worker(command: list[str], cwd: Path, seconds: int, out: Path) -> WorkerResult:
    """Run a grading worker that writes into ``out`` under a cap of ``seconds``, and read what it did.

    A worker that ran past its cap, or died without writing its result, gives a result with no
    step done and the reason as its error, with the events it had recorded before.
    """
    returncode, log = run_capped(command, cwd, seconds)
    if returncode is None:
        return WorkerResult(error=f"grading ran past its {seconds} s cap and was stopped",
                            events=read_events(out / EVENTS_FILE))
    result = WorkerResult.read(out / RESULT_FILE)
    if result is None:
        return WorkerResult(error=_stopped_without_result(returncode, log), events=read_events(out / EVENTS_FILE))
    return result


def _merge_into_gradebook(main_db: Path, scratch_db: Path, course_id: str, assignment: str, student: str) -> None:
    """Copy one student's grades from the scratch gradebook; main_db is replaced in one step."""
    warnings.filterwarnings("ignore", module="nbgrader.api")  # SQLAlchemy's autoflush chatter inside nbgrader
    staged = main_db.with_name(f".{main_db.name}.{student}.{assignment}.tmp")
    shutil.copyfile(main_db, staged)
    try:
        with Gradebook(f"sqlite:///{scratch_db}", course_id) as source, \
                Gradebook(f"sqlite:///{staged}", course_id) as target:
            submitted = source.find_submission(assignment, student)
            target.update_or_create_student(student)
            target.update_or_create_submission(assignment, student, timestamp=submitted.timestamp)
            for notebook in submitted.notebooks:
                into = target.find_submission_notebook(notebook.name, assignment, student)
                into.flagged = notebook.flagged
                into.late_submission_penalty = notebook.late_submission_penalty
                for grade in notebook.grades:
                    mine = target.find_grade(grade.name, notebook.name, assignment, student)
                    mine.auto_score = grade.auto_score
                    mine.needs_manual_grade = grade.needs_manual_grade or mine.manual_score is not None
                for comment in notebook.comments:
                    mine = target.find_comment(comment.name, notebook.name, assignment, student)
                    mine.auto_comment = comment.auto_comment
            target.db.commit()
        os.replace(staged, main_db)
    finally:
        staged.unlink(missing_ok=True)


def _replace_folder(source: Path, target: Path) -> None:
    """Put a copy of ``source`` (regular files only) at ``target``, replacing what was there."""
    staged = target.with_name(f".{target.name}.new")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(source, staged, symlinks=True, ignore=lambda d, names: [
        n for n in names if (Path(d) / n).is_symlink() or not ((Path(d) / n).is_file() or (Path(d) / n).is_dir())])
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        target.rename(old)
    staged.rename(target)
    shutil.rmtree(old, ignore_errors=True)


class Grader:
    """Grades (student, assignment) pairs of one course, each in a scratch course of its own."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root, self.settings = root, settings
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        self.course_id = config.CourseDirectory.get("course_id", "")
        budget = settings.notebook_timeout or config.SandboxedExecute.get(
            "notebook_timeout", SandboxedExecute.class_traits()["notebook_timeout"].default())
        self.cap = int(budget) + STARTUP_SECONDS  # one student's whole run: the notebook, nbgrader's start, feedback
        self.lock = threading.Lock()  # one writer for gradebook.db, autograded/ and feedback/
        self.snapshot: Path | None = None  # the gradebook every scratch course starts from

    def grade_one(self, student: str, assignment: str) -> Outcome:
        """Check, autograde and publish one student's assignment; never raises for a bad submission."""
        started = time.monotonic()
        outcome = Outcome(student, assignment, "failed")
        try:
            self._grade(outcome)
        except Exception as err:  # noqa: BLE001 - one submission must never stop the batch
            outcome.status, outcome.reason = "failed", clean_reason(f"the grader failed: {type(err).__name__}: {err}")
        outcome.seconds = round(time.monotonic() - started, 1)
        return outcome

    def _grade(self, outcome: Outcome) -> None:
        student, assignment = outcome.student, outcome.assignment
        release_nb = next((self.root / RELEASE_DIR / assignment).glob("*.ipynb"))
        folder = self.root / SUBMITTED_DIR / student / assignment
        checked = check_submission(folder, release_nb, max_bytes=int(self.settings.max_notebook_mb * 2**20))
        outcome.notes, outcome.flags = checked.notes, checked.flags
        if checked.notebook is None:
            outcome.reason = checked.reason
            return
        with tempfile.TemporaryDirectory(prefix="grade-") as scratch_name:
            scratch = Path(scratch_name)
            shutil.copy(self.root / "nbgrader_config.py", scratch)
            shutil.copyfile(self.snapshot, scratch / DB_NAME)
            target = scratch / SUBMITTED_DIR / student / assignment
            target.mkdir(parents=True)
            (target / checked.filename).write_text(json.dumps(checked.notebook), encoding="utf-8")
            if (folder / "timestamp.txt").is_file():
                shutil.copyfile(folder / "timestamp.txt", target / "timestamp.txt")
            out = scratch / "worker"  # the worker's events and result
            out.mkdir()
            worker = [sys.executable, "-m", "course_tools.grade_worker", str(out), assignment, student,
                      f"--SandboxedKernelManager.runtime_root={scratch}", *self.settings.nbgrader_args()]
            result = run_worker(worker, scratch, self.cap, out)
            outcome.notes += list(dict.fromkeys(clean_reason(note) for note in result.notes))
            outcome.flags += [clean_reason(flag) for flag in result.flags]
            if not result.steps.get("autograde") or not (scratch / "autograded" / student / assignment).is_dir():
                outcome.reason = clean_reason(result.error or "autograding wrote no graded notebook")
                return
            if self.settings.sandboxed and not result.sandboxed:
                outcome.reason = ("the kernel did not run sandboxed (is course_tools.pipeline configured in "
                                  "nbgrader_config.py?)")
                return
            if not result.steps.get("feedback"):
                outcome.notes.append(f"no feedback: {clean_reason(result.error)}")
            with self.lock, open(self.root / f".{DB_NAME}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # also against another grading command on this course
                self._publish(scratch, outcome)

    def _publish(self, scratch: Path, outcome: Outcome) -> None:
        student, assignment = outcome.student, outcome.assignment
        _merge_into_gradebook(self.root / DB_NAME, scratch / DB_NAME, self.course_id, assignment, student)
        for kind in ("autograded", "feedback"):
            source = scratch / kind / student / assignment
            if source.is_dir():
                (self.root / kind / student).mkdir(parents=True, exist_ok=True)
                _replace_folder(source, self.root / kind / student / assignment)
        with Gradebook(f"sqlite:///{self.root / DB_NAME}", self.course_id) as gb:
            submission = gb.find_submission(assignment, student)
            outcome.score = submission.score - (submission.late_submission_penalty or 0)
            outcome.max_score = submission.max_score
        outcome.status = "graded"


def grade(root: Path, assignments: list[str] | None = None, settings: Settings | None = None) -> Report:
    """Autograde every submission of the named assignments (all by default); export and feed back."""
    root = Path(root).resolve()
    settings = settings or Settings()
    names = check_names(root, assignments)  # raises before anything is written
    pairs, problems = find_submissions(root, names)
    report = Report(problems=problems, sandboxed=settings.sandboxed)
    if not pairs:
        return report
    if settings.sandboxed and (problem := bwrap_problem()):
        raise GradingError(f"{problem}; or, knowing that student code then runs as you, grade with --unsandboxed")
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader's Gradebook runs `alembic` from there
    with tempfile.TemporaryDirectory() as scratch:  # registers each assignment's cells in the gradebook
        release(root, sorted({a for _, a in pairs}), release_dir=Path(scratch), db_url=f"sqlite:///{DB_NAME}")
        grader = Grader(root, settings)
        grader.snapshot = Path(scratch) / "snapshot.db"
        shutil.copyfile(root / DB_NAME, grader.snapshot)
        with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
            report.outcomes = list(pool.map(lambda pair: grader.grade_one(*pair), pairs))
    # the report first: a failed export must not lose what grading did (the grades are in gradebook.db)
    (root / REPORT_JSON).write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    export = run_nbgrader(root, "export", f"--to={GRADES_CSV}")
    if export.returncode != 0:
        said = _last_line(export.stdout + export.stderr)
        raise GradingError(f"nbgrader export failed: {clean_reason(said)}; the grades are "
                              f"in {DB_NAME} and what grading did is in {REPORT_JSON}: run `nbgrader export` again")
    return report
