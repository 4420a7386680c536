"""The grading sandbox's overhead: grading the reference solutions sandboxed against unsandboxed.

Goal: sandboxed time / unsandboxed time <= 1.2 for ``python -m course_tools grade`` on one
student who handed in the reference solution of every assignment (typed into the released
notebooks, as a student would), one student at a time (``--jobs 1``).

Both sides run the same command on copies of the same course; only ``--unsandboxed``
differs (no bubblewrap, no resource limits, tcp instead of ipc sockets). Runs alternate
and the medians are compared, so machine load hits both.

    .venv/bin/python benchmarks/sandbox_overhead.py            # needs bubblewrap
    .venv/bin/python benchmarks/sandbox_overhead.py --repeats 3 --save
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import results

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_tools.assignments import known_assignments  # noqa: E402
from course_tools.sandbox import bwrap_problem  # noqa: E402
from tests.hostile import course_copy, filled_release, reference_code  # noqa: E402

TARGET = 1.2


def make_course(folder: Path, assignments: list[str]) -> Path:
    """A course copy with one student, alice, who handed in every reference solution."""
    course = course_copy(folder)
    for assignment in assignments:
        notebook = f"{assignment}/{assignment}.ipynb"
        answered = filled_release(json.loads((course / "assignments" / notebook).read_text()),
                                  reference_code(json.loads((course / "solutions" / notebook).read_text())))
        target = course / "submitted" / "alice" / notebook
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(answered))
    return course


def grade_seconds(course: Path, assignments: list[str], sandboxed: bool) -> float:
    """Wall time of one grading run from scratch (no gradebook, no earlier results)."""
    for generated in ("autograded", "feedback", "gradebook.db", "grades.csv", "grading_report.json"):
        path = course / generated
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "course_tools", "--root", str(course), "grade", "--jobs", "1", "--force",
               "--no-preflight", *assignments]  # grading only: no preflight, nothing skipped as unchanged
    start = time.perf_counter()
    result = subprocess.run(command + ([] if sandboxed else ["--unsandboxed"]), capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    report = json.loads((course / "grading_report.json").read_text())
    full = all(o["status"] == "graded" and o["score"] == o["max_score"] for o in report["outcomes"])
    if result.returncode != 0 or not full or report["sandboxed"] != sandboxed:
        sys.exit(f"grading did not give full marks ({'sandboxed' if sandboxed else 'unsandboxed'}):\n{result.stdout}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignments to grade (default: all)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each side (default 2)")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/sandbox_overhead.json")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if problem := bwrap_problem():
        sys.exit(problem)
    assignments = args.assignments or known_assignments(ROOT)
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as scratch:
        course = make_course(Path(scratch), assignments)
        for repeat in range(args.repeats):
            for sandboxed in (True, False) if repeat % 2 == 0 else (False, True):
                times[sandboxed].append(grade_seconds(course, assignments, sandboxed))
                print(f"run {repeat + 1}: {'sandboxed  ' if sandboxed else 'unsandboxed'} {times[sandboxed][-1]:6.1f} s")
    sandboxed_s, plain_s = statistics.median(times[True]), statistics.median(times[False])
    ratio = sandboxed_s / plain_s
    device = torch.device("cpu")
    print(f"device: {results.describe_device(device)}")
    print(f"grading the reference solutions of {len(assignments)} assignment(s), one student, --jobs 1;"
          f" median of {args.repeats}")
    print(f"sandboxed {sandboxed_s:.1f} s, unsandboxed {plain_s:.1f} s: ratio {ratio:.3f} (goal <= {TARGET})"
          f" {'PASS' if ratio <= TARGET else 'FAIL'}")
    if args.save:
        row = {"what": f"course_tools grade, reference solutions of {len(assignments)} assignments, --jobs 1",
               "sandboxed_s": round(sandboxed_s, 2), "unsandboxed_s": round(plain_s, 2),
               "per_notebook_sandboxed_s": round(sandboxed_s / len(assignments), 2),
               "per_notebook_unsandboxed_s": round(plain_s / len(assignments), 2),
               "ratio": round(ratio, 3), "target": f"<= {TARGET}", "pass": ratio <= TARGET,
               "runs_s": {"sandboxed": [round(t, 2) for t in times[True]], "unsandboxed": [round(t, 2) for t in times[False]]}}
        print("saved", results.save("sandbox_overhead", device, [row]))


if __name__ == "__main__":
    main()
