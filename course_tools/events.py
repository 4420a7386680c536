"""What grading records while a notebook runs, and the worker's result file.

This is the vocabulary the execution step, the integrity guard, the grading worker and the
grading command share; it imports nothing from course_tools, so every module may import it.

An execution step calls ``record(kind, text)``. That logs one human-readable line starting
with ``course-grader:`` (for an instructor reading nbgrader's log) and, in a worker that
called ``start_recording``, appends the event to a JSON-lines file as it happens, so that a
worker killed halfway still leaves what it saw. When its steps are done the worker writes a
``WorkerResult`` (which steps worked, why one failed, the events, whether the kernel ran
sandboxed) that ``course_tools.grading`` reads back: no log line is ever parsed.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

LOG_PREFIX = "course-grader:"  # starts every log line of an event
META = "course_grader"  # cell and notebook metadata key of what the grader added to a notebook
NOTE, FLAG, SANDBOXED = "note", "flag", "sandboxed"
KINDS = (NOTE, FLAG, SANDBOXED)  # a note for the report, a flag for manual review, a kernel started sandboxed
RESULT_FILE, EVENTS_FILE = "result.json", "events.jsonl"  # what a worker writes into its output folder


@dataclass(frozen=True)
class Event:
    """One thing grading ran into: ``kind`` is NOTE, FLAG or SANDBOXED; ``text`` says what, in one line."""

    kind: str
    text: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}: use one of {', '.join(KINDS)}")

    def to_json(self) -> dict:
        return {"kind": self.kind, "text": self.text}

    @classmethod
    def from_json(cls, data: dict) -> Event:
        return cls(data["kind"], data["text"])


_recording: Path | None = None  # the events file of this process, when a worker records
_lock = threading.Lock()
_log = logging.getLogger("course_tools")


def start_recording(path: Path | None) -> None:
    """From now on, append every event this process records to ``path`` (JSON lines); None stops."""
    global _recording
    _recording = None if path is None else Path(path)
    if _recording is not None:
        _recording.touch()


def record(kind: str, text: str, log: logging.Logger | logging.LoggerAdapter | None = None) -> Event:
    """Log the event as one ``course-grader:`` line and, when recording, append it to the events file."""
    event = Event(kind, text)
    line = f"manual review: {text}" if kind == FLAG else text
    (log or _log).log(logging.INFO if kind == SANDBOXED else logging.WARNING, "%s %s", LOG_PREFIX, line)
    if _recording is not None:
        with _lock, open(_recording, "a", encoding="utf-8") as f:
            f.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
    return event


def read_events(path: Path) -> list[Event]:
    """The events of a JSON-lines file (none when it does not exist); a last line cut short, by a
    worker killed while writing it, is left out."""
    if not Path(path).is_file():
        return []
    found = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            found.append(Event.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def grader_cell_metadata() -> dict:
    """Metadata of a cell the grader puts into a notebook (not the student's: cells are numbered without it)."""
    return {META: {"grader_cell": True}}


def is_grader_cell(cell: dict) -> bool:
    """Whether the grader put this cell into the notebook (see ``grader_cell_metadata``)."""
    return bool(cell.get("metadata", {}).get(META, {}).get("grader_cell"))


@dataclass
class WorkerResult:
    """What the grading worker did with one submission; written as JSON, read by the grading command."""

    steps: dict[str, bool] = field(default_factory=dict)  # step name ("autograde", "feedback") -> it worked
    error: str = ""  # why the step that failed failed, in one line
    events: list[Event] = field(default_factory=list)  # what the steps recorded, in order
    sandboxed: bool = False  # whether the notebook's kernel started in the sandbox

    @property
    def notes(self) -> list[str]:
        return [e.text for e in self.events if e.kind == NOTE]

    @property
    def flags(self) -> list[str]:
        return [e.text for e in self.events if e.kind == FLAG]

    def to_json(self) -> dict:
        return {"steps": self.steps, "error": self.error, "events": [e.to_json() for e in self.events],
                "sandboxed": self.sandboxed}

    @classmethod
    def from_json(cls, data: dict) -> WorkerResult:
        return cls(steps={str(k): bool(v) for k, v in data["steps"].items()}, error=str(data["error"]),
                   events=[Event.from_json(e) for e in data["events"]], sandboxed=bool(data["sandboxed"]))

    def write(self, path: Path) -> None:
        """Write the result in one step (a reader never sees half a file)."""
        path = Path(path)
        staged = path.with_name(f".{path.name}.tmp")
        staged.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(staged, path)

    @classmethod
    def read(cls, path: Path) -> WorkerResult | None:
        """The result written at ``path``, or None when there is none (the worker died before writing it)."""
        path = Path(path)
        if not path.is_file():
            return None
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"{path} is not a grading worker's result ({err}); grade the submission again") from err
