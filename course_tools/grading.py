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

import concurrent.futures
import csv
import hashlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from nbgrader.api import Gradebook

from course_tools import class_report, export, feedback
from course_tools.assignments import RELEASE_DIR, SOURCE_DIR, check_names, release
from course_tools.events import EVENTS_FILE, RESULT_FILE, WorkerResult, read_events
from course_tools.execute import SandboxedExecute
from course_tools.nbgrader_cli import nbgrader_env
from course_tools.report import Outcome, Report, clean_reason
from course_tools.sandbox import bwrap_problem
from course_tools.submissions import MAX_NOTEBOOK_MB, check_submission

SUBMITTED_DIR, GRADES_CSV, REPORT_JSON = "submitted", "grades.csv", "grading_report.json"
REPORTS_DIR = "grading_reports"  # one report per run, named by its time (UTC)
STATE_JSON = ".grading_state.json"  # each graded submission's fingerprint: what a later run need not grade again
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
    scheduler: str | None = None  # a Dask scheduler's address (tcp://host:8786): grade on its workers
    students: list[str] = field(default_factory=list)  # only these students (default: everyone in submitted/)
    force: bool = False  # grade again what has not changed since it was last graded
    preflight: bool = True  # grade the instructor's solutions first; stop if they do not get full marks

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


@dataclass
class Job:
    """One (student, assignment) to grade, with everything the grading needs: no shared file system."""

    student: str
    assignment: str
    filename: str  # the notebook's name in submitted/STUDENT/ASSIGNMENT/
    notebook: str  # its JSON, checked and repaired against the release
    timestamp: str | None  # submitted/.../timestamp.txt, when there is one
    config: str  # the course's nbgrader_config.py
    gradebook: bytes  # the gradebook every scratch course starts from (the assignment's cells registered)
    worker_args: list[str]
    cap: int  # seconds for the whole run


@dataclass
class Graded:
    """What grading one Job gave back: the worker's result, its scratch gradebook and its output files."""

    result: WorkerResult
    gradebook: bytes = b""
    files: dict[str, bytes] = field(default_factory=dict)  # "autograded/STUDENT/ASSIGNMENT/..." -> content
    host: str = ""


def _regular_files(folder: Path, relative_to: Path) -> dict[str, bytes]:
    return {str(p.relative_to(relative_to)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()} if folder.is_dir() else {}


def grade_in_scratch(job: Job) -> Graded:
    """Autograde one notebook and write its feedback in a scratch course of its own, in a worker
    process under the job's cap; return what it made. Runs wherever it is sent: a thread of the
    grading command or a Dask worker on another machine with the course's environment."""
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "nbgrader_config.py").write_text(job.config, encoding="utf-8")
        (scratch / DB_NAME).write_bytes(job.gradebook)
        target = scratch / SUBMITTED_DIR / job.student / job.assignment
        target.mkdir(parents=True)
        (target / job.filename).write_text(job.notebook, encoding="utf-8")
        if job.timestamp is not None:
            (target / "timestamp.txt").write_text(job.timestamp, encoding="utf-8")
        out = scratch / "worker"  # the worker's events and result
        out.mkdir()
        worker = [sys.executable, "-m", "course_tools.grade_worker", str(out), job.assignment, job.student,
                  f"--SandboxedKernelManager.runtime_root={scratch}", *job.worker_args]
        result = run_worker(worker, scratch, job.cap, out)
        files = {}
        for kind in ("autograded", "feedback"):
            files.update(_regular_files(scratch / kind / job.student / job.assignment, scratch))
        return Graded(result, (scratch / DB_NAME).read_bytes(), files, socket.gethostname())


class Grader:
    """Grades (student, assignment) pairs of one course: checks each here, has it graded (here or on
    a Dask cluster) and publishes the results into the course, one at a time."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root, self.settings = root, settings
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        self.course_id = config.CourseDirectory.get("course_id", "")
        budget = settings.notebook_timeout or config.SandboxedExecute.get(
            "notebook_timeout", SandboxedExecute.class_traits()["notebook_timeout"].default())
        self.cap = int(budget) + STARTUP_SECONDS  # one student's whole run: the notebook, nbgrader's start, feedback
        self.lock = threading.Lock()  # one writer for gradebook.db, autograded/ and feedback/
        self.snapshot: Path | None = None  # the gradebook every scratch course starts from

    def prepare(self, student: str, assignment: str, folder: Path | None = None) -> tuple[Outcome, Job | None]:
        """Check one submission (in submitted/, or in ``folder``) against the release; the job to
        grade it, or None with the reason."""
        outcome = Outcome(student, assignment, "failed")
        try:
            release_nb = next((self.root / RELEASE_DIR / assignment).glob("*.ipynb"))
            folder = folder or self.root / SUBMITTED_DIR / student / assignment
            checked = check_submission(folder, release_nb, max_bytes=int(self.settings.max_notebook_mb * 2**20))
        except Exception as err:  # noqa: BLE001 - one submission must never stop the batch
            outcome.reason = clean_reason(f"the grader failed: {type(err).__name__}: {err}")
            return outcome, None
        outcome.notes, outcome.flags = checked.notes, checked.flags
        if checked.notebook is None:
            outcome.reason = checked.reason
            return outcome, None
        stamp = folder / "timestamp.txt"
        job = Job(student, assignment, checked.filename, json.dumps(checked.notebook),
                  stamp.read_text(encoding="utf-8") if stamp.is_file() else None,
                  (self.root / "nbgrader_config.py").read_text(encoding="utf-8"), self.snapshot.read_bytes(),
                  self.settings.nbgrader_args(), self.cap)
        return outcome, job

    def finish(self, outcome: Outcome, graded: Graded | None, error: str = "") -> Outcome:
        """Publish what grading gave back (or record why there is nothing); never raises."""
        try:
            if graded is None:
                outcome.reason = clean_reason(error or "grading gave nothing back")
            else:
                self._finish(outcome, graded)
        except Exception as err:  # noqa: BLE001
            outcome.status, outcome.reason = "failed", clean_reason(f"the grader failed: {type(err).__name__}: {err}")
        return outcome

    def _finish(self, outcome: Outcome, graded: Graded) -> None:
        student, assignment, result = outcome.student, outcome.assignment, graded.result
        outcome.notes += list(dict.fromkeys(clean_reason(note) for note in result.notes))
        outcome.flags += [clean_reason(flag) for flag in result.flags]
        if not result.steps.get("autograde") or not any(name.startswith("autograded/") for name in graded.files):
            outcome.reason = clean_reason(result.error or "autograding wrote no graded notebook")
            return
        if self.settings.sandboxed and not result.sandboxed:
            outcome.reason = ("the kernel did not run sandboxed (is course_tools.pipeline configured in "
                              "nbgrader_config.py?)")
            return
        if not result.steps.get("feedback"):
            outcome.notes.append(f"no feedback: {clean_reason(result.error)}")
        with tempfile.TemporaryDirectory(prefix="graded-") as scratch_name:
            scratch = Path(scratch_name)
            (scratch / DB_NAME).write_bytes(graded.gradebook)
            for name, content in graded.files.items():
                path = (scratch / name).resolve()
                if not path.is_relative_to(scratch.resolve()) or name.split("/")[1:3] != [student, assignment]:
                    raise GradingError(f"grading gave back a file outside the student's folders: {name}")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
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
        feedback.offline_math(self.root / "feedback" / student)
        with Gradebook(f"sqlite:///{self.root / DB_NAME}", self.course_id) as gb:
            submission = gb.find_submission(assignment, student)
            outcome.score = submission.score - (submission.late_submission_penalty or 0)
            outcome.max_score = submission.max_score
        outcome.status = "graded"


def fingerprint(root: Path, student: str, assignment: str, settings: Settings) -> str:
    """What a grade depends on: the submission's files, the release and its hidden tests, the
    configuration and the caps. A submission whose fingerprint is unchanged is not graded again."""
    digest = hashlib.sha256()
    folders = (root / SUBMITTED_DIR / student / assignment, root / RELEASE_DIR / assignment,
               root / SOURCE_DIR / assignment)
    for path in [root / "nbgrader_config.py"] + [p for folder in folders for p in sorted(folder.rglob("*"))]:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps(settings.nbgrader_args()).encode())
    return digest.hexdigest()


def read_state(root: Path) -> dict[str, str]:
    """student/assignment -> the fingerprint of its last successful grading."""
    try:
        return json.loads((root / STATE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def unchanged_outcome(root: Path, course_id: str, student: str, assignment: str) -> Outcome | None:
    """The grade already in the gradebook, for a submission not graded again; None if it has none."""
    try:
        with Gradebook(f"sqlite:///{root / DB_NAME}", course_id) as gb:
            submission = gb.find_submission(assignment, student)
            score, max_score = submission.score - (submission.late_submission_penalty or 0), submission.max_score
    except Exception:  # noqa: BLE001 - no grade: grade it
        return None
    return Outcome(student, assignment, "unchanged", score=score, max_score=max_score)


PREFLIGHT_STUDENT = "instructor-preflight"


def failed_cells(graded: Graded) -> list[str]:
    """The graded cells of a graded notebook that raised, as 'grade_id: the error's last line'."""
    found = []
    for name, content in graded.files.items():
        if name.startswith("autograded/") and name.endswith(".ipynb"):
            for cell in json.loads(content.decode("utf-8")).get("cells", []):
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if errors and grade_id:
                    found.append(f"{grade_id}: {errors[0].get('ename', '')}: {errors[0].get('evalue', '')}"[:200])
    return found


def preflight(grader: Grader, assignments: list[str], settings: Settings) -> None:
    """Grade the instructor's own solution of each assignment, the way the class will be graded
    (same sandbox, caps and workers); stop with the reason before any student if one does not
    get full marks: a broken environment, a sandbox the kernel cannot start in, a wrong test."""
    jobs, problems = [], []
    for assignment in assignments:
        outcome, job = grader.prepare(PREFLIGHT_STUDENT, assignment, grader.root / SOURCE_DIR / assignment)
        if job is None:
            problems.append(f"{assignment}: {outcome.reason}")
        else:
            jobs.append(job)
    for job, graded, error in dispatch(jobs, settings):
        if graded is None:
            problems.append(f"{job.assignment}: {error}")
            continue
        if not graded.result.steps.get("autograde"):
            problems.append(f"{job.assignment}: {clean_reason(graded.result.error or 'autograding failed')}")
            continue
        with tempfile.TemporaryDirectory() as scratch:
            (Path(scratch) / DB_NAME).write_bytes(graded.gradebook)
            with Gradebook(f"sqlite:///{Path(scratch) / DB_NAME}", grader.course_id) as gb:
                submission = gb.find_submission(job.assignment, PREFLIGHT_STUDENT)
                score, max_score = submission.score, submission.max_score
        if score < max_score:
            cells = "; ".join(failed_cells(graded)[:3]) or clean_reason(graded.result.error) or "no cell raised"
            problems.append(f"{job.assignment}: the instructor's solution scores {score:g} / {max_score:g} ({cells})")
    if problems:
        raise GradingError("preflight: the instructor's solutions do not get full marks where the class will be "
                           "graded, so no student was graded:\n  " + "\n  ".join(problems))


def dispatch(jobs: list[Job], settings: Settings) -> Iterator[tuple[Job, Graded | None, str]]:
    """Grade the jobs, ``settings.jobs`` at a time on this machine or on the Dask cluster at
    ``settings.scheduler``; yield each (job, what it gave, why it gave nothing) as it finishes.
    On Dask a job whose worker died is run again on another worker (the scheduler's own retry);
    each result comes back here once, and only this process writes into the course."""
    if not jobs:
        return
    if settings.scheduler:
        try:
            from distributed import Client, as_completed
        except ImportError as err:
            raise GradingError("--scheduler needs Dask distributed: pip install distributed") from err
        try:
            client = Client(settings.scheduler, timeout=30)
        except (OSError, TimeoutError) as err:
            raise GradingError(f"no Dask scheduler answered at {settings.scheduler}: {err}") from err
        with client:
            run = uuid.uuid4().hex[:8]
            futures = {client.submit(grade_in_scratch, job, key=f"grade-{job.student}-{job.assignment}-{run}",
                                     pure=False): job for job in jobs}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result(), ""
                except Exception as err:  # noqa: BLE001 - a task that failed on every worker it was given
                    yield futures[future], None, f"the Dask cluster could not grade it: {type(err).__name__}: {err}"
        return
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        futures = {pool.submit(grade_in_scratch, job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            try:
                yield futures[future], future.result(), ""
            except Exception as err:  # noqa: BLE001
                yield futures[future], None, f"the grader failed: {type(err).__name__}: {err}"


def grade(root: Path, assignments: list[str] | None = None, settings: Settings | None = None,
          on_outcome: Callable[[Outcome], None] | None = None,
          on_total: Callable[[int], None] | None = None) -> Report:
    """Autograde the submissions of the named assignments (all by default) that changed since
    they were last graded (all with ``settings.force``); export and feed back. ``on_outcome`` is
    called with each submission's outcome as soon as it is known (the command prints a line)."""
    root = Path(root).resolve()
    settings = settings or Settings()
    names = check_names(root, assignments)  # raises before anything is written
    pairs, problems = find_submissions(root, names)
    if settings.students:
        present = {student for student, _ in pairs}
        problems += [f"{SUBMITTED_DIR}/{s}: no submission of {', '.join(names)}" for s in settings.students
                     if s not in present]
        pairs = [(student, a) for student, a in pairs if student in settings.students]
    report = Report(problems=problems, sandboxed=settings.sandboxed)
    if not pairs:
        return report
    if settings.sandboxed and not settings.scheduler and (problem := bwrap_problem()):
        raise GradingError(f"{problem}; or, knowing that student code then runs as you, grade with --unsandboxed")
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader's Gradebook runs `alembic` from there
    tell = on_outcome or (lambda outcome: None)
    if on_total:
        on_total(len(pairs))
    state = read_state(root)
    with tempfile.TemporaryDirectory() as scratch:  # registers each assignment's cells in the gradebook
        release(root, sorted({a for _, a in pairs}), release_dir=Path(scratch), db_url=f"sqlite:///{DB_NAME}")
        grader = Grader(root, settings)
        grader.snapshot = Path(scratch) / "snapshot.db"
        shutil.copyfile(root / DB_NAME, grader.snapshot)
        outcomes, jobs, prints, to_grade = {}, [], {}, []
        for student, assignment in pairs:
            prints[student, assignment] = fingerprint(root, student, assignment, settings)
            if not settings.force and state.get(f"{student}/{assignment}") == prints[student, assignment] and \
                    (kept := unchanged_outcome(root, grader.course_id, student, assignment)):
                outcomes[student, assignment] = kept
                tell(kept)
            else:
                to_grade.append((student, assignment))
        if to_grade and settings.preflight:
            preflight(grader, sorted({assignment for _, assignment in to_grade}), settings)
        for student, assignment in to_grade:
            outcome, job = grader.prepare(student, assignment)
            outcomes[student, assignment] = outcome
            if job is None:
                tell(outcome)
            else:
                jobs.append(job)
        started = {id(job): time.monotonic() for job in jobs}
        for job, graded, error in dispatch(jobs, settings):
            outcome = grader.finish(outcomes[job.student, job.assignment], graded, error)
            outcome.seconds = round(time.monotonic() - started[id(job)], 1)
            if outcome.status == "graded":
                state[f"{job.student}/{job.assignment}"] = prints[job.student, job.assignment]
            else:
                state.pop(f"{job.student}/{job.assignment}", None)
            tell(outcome)
    report.outcomes = [outcomes[pair] for pair in pairs]
    _write_atomically(root / STATE_JSON, json.dumps(state, indent=1, sort_keys=True) + "\n")
    # the report first: a failed export must not lose what grading did (the grades are in gradebook.db)
    text = json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n"
    (root / REPORTS_DIR).mkdir(exist_ok=True)  # every run's report is kept; the latest is also REPORT_JSON
    _write_atomically(root / REPORTS_DIR / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}.json", text)
    _write_atomically(root / REPORT_JSON, text)
    try:
        export.export(root, grader.course_id, report.outcomes, DB_NAME, SUBMITTED_DIR, GRADES_CSV)
        report.class_reports = [str(p.relative_to(root)) for p in
                                class_report.write(root, grader.course_id, DB_NAME, REPORTS_DIR)]
    except Exception as err:  # noqa: BLE001
        raise GradingError(f"exporting the grades failed: {type(err).__name__}: {clean_reason(str(err))}; the grades "
                           f"are in {DB_NAME} and what grading did is in {REPORT_JSON}: grade again to export") from err
    return report


def _write_atomically(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)
