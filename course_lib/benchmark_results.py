"""Reading the tables that ``benchmarks/<script>.py --save`` writes, for the book to quote.

A benchmark takes minutes, too long to run while a page builds; the page reads the numbers
the script saved instead, with the command, device and date they came from.
"""
from __future__ import annotations

import json
from pathlib import Path


def find_benchmark(name: str, start: Path | str | None = None) -> Path | None:
    """``benchmarks/results/<name>.json`` in ``start`` (default: the working folder) or a folder above it."""
    start = Path.cwd() if start is None else Path(start)
    for folder in (start, *start.resolve().parents):
        path = folder / "benchmarks" / "results" / f"{name}.json"
        if path.exists():
            return path
    return None


def load_benchmark(name: str, start: Path | str | None = None) -> dict | None:
    """The saved table as a dict, or None (with a line saying how to make it) when there is none.

    None happens outside the course repository, e.g. a chapter opened alone on Colab.
    """
    path = find_benchmark(name, start)
    if path is None:
        print(f"no saved results for {name!r} here: run `python benchmarks/{name}.py --save` in the course"
              " repository to measure them")
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def describe(record: dict) -> str:
    """One line: which command produced the numbers, where and when."""
    return f"`{record['command']}` on {record['device']}, {record['date']}, torch {record['torch']}"
