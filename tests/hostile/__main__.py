"""Grade the hostile corpus in a scratch copy of the course and print what happened, as a table.

    .venv/bin/python -m tests.hostile [--jobs 2] [--cell-timeout 5] [--notebook-timeout 45]

The same batch as tests/test_hostile.py (every case plus alice and bob), graded by the real
command; one Markdown row per student: what grading did, the score, the time it took.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.hostile import CASES, grade_corpus


def describe(outcome: dict) -> str:
    if outcome["status"] != "graded":
        return f"not graded: {outcome['reason']}"
    said = outcome["notes"] + [f"**flagged**: {flag}" for flag in outcome["flags"][:2]]
    return "; ".join(said) or "graded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cell-timeout", type=int, default=5)
    parser.add_argument("--notebook-timeout", type=int, default=45)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        outcomes = grade_corpus(Path(scratch), args.jobs, args.cell_timeout, args.notebook_timeout).outcomes
    print("| case | what grading did | score | time |")
    print("| --- | --- | --- | --- |")
    for name in ["alice", "bob", *(c.name for c in CASES)]:
        o = outcomes[name]
        score = f"{o['score']:g} / {o['max_score']:g}" if o["status"] == "graded" else "—"
        print(f"| {name} | {describe(o).replace('|', '/')} | {score} | {o['seconds']:.1f} s |")


if __name__ == "__main__":
    main()
