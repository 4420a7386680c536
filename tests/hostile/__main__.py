"""Grade the hostile corpus in a scratch copy of the course and print what happened, as a table.

    .venv/bin/python -m tests.hostile [--jobs 2] [--cell-timeout 5] [--notebook-timeout 45]

The same batch as tests/test_hostile.py (every case plus alice and bob), graded by the real
command; one Markdown row per student: what grading did, the score, the time it took.
"""
from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import ROOT
from tests.hostile import CASES, Targets, build_corpus
from tests.test_grading import course_copy


def describe(outcome: dict) -> str:
    if outcome["status"] != "graded":
        return f"not graded: {outcome['reason']}"
    said = outcome["notes"] + [f"**flagged**: {flag}" for flag in outcome["flags"][:2]]
    return "; ".join(said) or "graded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--cell-timeout", default="5")
    parser.add_argument("--notebook-timeout", default="45")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        course = course_copy(base)
        (base / "home").mkdir()
        (base / "outside").mkdir()
        (base / "home" / "secret.txt").write_text("the instructor's own file")
        with socket.create_server(("127.0.0.1", 0)) as listener:
            build_corpus(course, Targets(course, base / "home" / "secret.txt", listener.getsockname()[1], base / "outside"))
            subprocess.run([sys.executable, "-m", "course_tools", "--root", str(course), "grade", "--jobs", args.jobs,
                            "--cell-timeout", args.cell_timeout, "--notebook-timeout", args.notebook_timeout],
                           capture_output=True, text=True, cwd=ROOT)
        outcomes = {o["student"]: o for o in json.loads((course / "grading_report.json").read_text())["outcomes"]}
    print("| case | what grading did | score | time |")
    print("| --- | --- | --- | --- |")
    for name in ["alice", "bob", *(c.name for c in CASES)]:
        o = outcomes[name]
        score = f"{o['score']:g} / {o['max_score']:g}" if o["status"] == "graded" else "—"
        print(f"| {name} | {describe(o).replace('|', '/')} | {score} | {o['seconds']:.1f} s |")


if __name__ == "__main__":
    main()
