"""What the grading command reports: one outcome per student and assignment, and the lines it prints.

``course_tools.grading`` fills these in; ``grading_report.json`` is ``Report.to_json()``.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field


def flagged_lines(flags: list[str], limit: int = 4) -> str:
    """Flags as one line: the first few, then how many more."""
    shown = "; ".join(flags[:limit])
    return shown + (f"; and {len(flags) - limit} more" if len(flags) > limit else "")


def clean_reason(text: str) -> str:
    """One printable line (no control characters, at most 300 characters)."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()[:300]


@dataclass
class Outcome:
    """What grading did with one student's one assignment."""

    student: str
    assignment: str
    status: str  # "graded", "unchanged" (graded before, nothing changed since) or "failed"
    score: float | None = None
    max_score: float | None = None
    reason: str = ""  # why it failed
    notes: list[str] = field(default_factory=list)  # what grading repaired or ran into
    flags: list[str] = field(default_factory=list)  # what needs a human look
    seconds: float = 0.0

    def line(self) -> str:
        head = f"{self.student:20s} {self.assignment:24s} "
        if self.status in ("graded", "unchanged"):
            text = head + f"{self.status:9s} {self.score:g} / {self.max_score:g}"
        else:
            text = head + f"FAILED    {self.reason}"
        if self.flags:
            text += f"  MANUAL REVIEW: {flagged_lines(self.flags)}"
        if self.notes:
            text += f"  (notes: {flagged_lines(self.notes)})"
        return text


@dataclass
class Report:
    """What one run of the grading command did: an outcome per submission, and what it could not grade."""

    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # things in submitted/ that were not graded
    sandboxed: bool = True
    class_reports: list[str] = field(default_factory=list)  # class_report/<assignment>.html, for the instructor

    @property
    def ok(self) -> bool:
        return all(o.status in ("graded", "unchanged") for o in self.outcomes)

    def lines(self) -> list[str]:
        rows = [o.line() for o in self.outcomes] + [f"not graded: {p}" for p in self.problems]
        if rows and not self.sandboxed:
            rows.insert(0, "UNSANDBOXED: student code ran as you, without the sandbox (--unsandboxed)")
        return rows

    def summary(self) -> list[str]:
        """What the command prints after the per-submission lines: what was not graded, and the counts."""
        rows = [f"not graded: {p}" for p in self.problems]
        if self.outcomes:
            counts = {status: sum(o.status == status for o in self.outcomes) for status in ("graded", "unchanged", "failed")}
            rows.append(", ".join(f"{n} {status}" for status, n in counts.items() if n)
                        + (" (unchanged: graded before, nothing changed since; --force grades them again)"
                           if counts["unchanged"] else ""))
        if rows and not self.sandboxed:
            rows.insert(0, "UNSANDBOXED: student code ran as you, without the sandbox (--unsandboxed)")
        return rows

    def to_json(self) -> dict:
        return {"sandboxed": self.sandboxed, "outcomes": [asdict(o) for o in self.outcomes], "problems": self.problems}
