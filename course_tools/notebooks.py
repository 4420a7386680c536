"""What every part of the course's tools reads in a notebook, written once.

Cell sources and outputs come as one string or as a list of lines (nbformat allows both);
nbgrader keeps a cell's grading metadata under ``metadata.nbgrader``; hidden tests sit
between two marker lines inside a test cell. Releasing (no hidden test may leak), checking
a submission, the integrity guard and feedback (no hidden test may be shown) all use these.
"""
from __future__ import annotations

import json
from pathlib import Path

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "# (hidden tests, not shown)"  # what feedback shows in place of a hidden region


def joined(text: str | list[str]) -> str:
    """A source or output text as one string (nbformat also stores them as lists of lines)."""
    return text if isinstance(text, str) else "".join(text)


def cell_source(cell: dict) -> str:
    """The cell's source as one string."""
    return joined(cell.get("source", ""))


def grade_id(cell: dict) -> str | None:
    """The cell's nbgrader ``grade_id``, or None for a cell nbgrader does not track."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def read_cells(path: Path) -> list[dict]:
    """The cells of a notebook file, each with its source as one string."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        cell["source"] = cell_source(cell)
    return cells


def hidden_lines(source: str) -> list[str]:
    """The stripped, non-empty lines between the hidden-test markers of a cell's source."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == HIDDEN_BEGIN:
            inside = True
        elif line.strip() == HIDDEN_END:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def without_hidden_tests(source: str) -> str:
    """The cell's source with each hidden-test region replaced by one comment line."""
    kept, inside = [], False
    for line in source.splitlines():
        if line.strip() == HIDDEN_BEGIN:
            inside = True
            kept.append(line[:len(line) - len(line.lstrip())] + HIDDEN_NOTE)
        elif line.strip() == HIDDEN_END:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def hidden_test_lines(notebook: Path) -> set[str]:
    """The hidden-test lines of a source notebook that appear nowhere else in it (what must never leak)."""
    cells = read_cells(notebook)
    hidden = {line for cell in cells for line in hidden_lines(cell["source"])}
    visible = {line.strip() for cell in cells for line in without_hidden_tests(cell["source"]).splitlines()
               if line.strip() != HIDDEN_NOTE}
    return hidden - visible
