"""Autograde one student's assignment and write its feedback, in one process.

    python -m course_tools.grade_worker OUT ASSIGNMENT STUDENT [--Section.option=value ...]

Run by course_tools.grading inside a scratch course (the working directory holds
nbgrader_config.py, gradebook.db and submitted/STUDENT/ASSIGNMENT/). It does what
``nbgrader autograde`` and then ``nbgrader generate_feedback`` do, through nbgrader's own
API and configuration, but pays for starting Python and importing nbgrader once.

The log goes to stdout, for people. What the grading command reads is the folder OUT:
``events.jsonl``, what execution recorded, appended as it happens, and, once the steps are
done, ``result.json`` (``course_tools.events.WorkerResult``: which steps worked, why one
failed, the events, whether the kernel ran sandboxed). The exit status is 0 when both steps
worked, 1 when autograding failed and 3 when only the feedback did.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from traitlets.config.loader import KVArgParseConfigLoader, PyFileConfigLoader

from nbgrader.apps.api import NbGraderAPI

from course_tools import events


def describe(error: BaseException) -> str:
    """One line for an exception: the message of a RuntimeError (the sandbox's and the kernel's
    own errors say what happened), the type and message of anything else."""
    message = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    if isinstance(error, RuntimeError) and message:
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class FirstError(logging.Handler):
    """Keeps the first exception that was being handled when an error was logged.

    nbgrader catches a notebook's failure, logs it with its traceback and goes on; the step's
    own result then only says to look at the log. This handler keeps the exception itself.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.error = ""
        self.last_message = ""

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
        if error is not None and not self.error:
            self.error = describe(error)
        lines = [line.strip() for line in record.getMessage().splitlines() if line.strip()]
        if lines:
            self.last_message = lines[-1]


def run_steps(api: NbGraderAPI, assignment: str, student: str) -> events.WorkerResult:
    """Autograde, then write feedback; stop at the first step that fails and say why."""
    result = events.WorkerResult()
    for name, step in (("autograde", api.autograde), ("feedback", api.generate_feedback)):
        catcher = FirstError()
        logging.getLogger().addHandler(catcher)
        try:
            outcome = step(assignment, student)
        finally:
            logging.getLogger().removeHandler(catcher)
        result.steps[name] = bool(outcome["success"])
        if not outcome["success"]:
            traceback_end = (outcome.get("error") or "").strip().splitlines()[-1:]
            result.error = catcher.error or catcher.last_message or "".join(traceback_end) or "no output"
            print(outcome.get("error") or "", flush=True)
            break
    return result


def main(argv: list[str]) -> int:
    out, assignment, student, *options = argv
    out = Path(out)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="[%(levelname)s] %(message)s", force=True)
    events.start_recording(out / events.EVENTS_FILE)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(Path.cwd())).load_config()
    config.merge(KVArgParseConfigLoader(argv=options).load_config())
    config.Exchange.root = str(Path.cwd() / "exchange")  # no exchange here; keeps nbgrader from looking for one
    result = run_steps(NbGraderAPI(config=config), assignment, student)
    result.events = events.read_events(out / events.EVENTS_FILE)
    result.sandboxed = any(event.kind == events.SANDBOXED for event in result.events)
    result.write(out / events.RESULT_FILE)
    if all(result.steps.values()):
        return 0
    return 1 if not result.steps.get("autograde") else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
