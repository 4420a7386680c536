"""Grading a class on a Dask cluster against grading it on one machine (issue 20).

A class of ``--students`` students (default 8) hands in all 8 assignments: half the reference
solution, half the untouched release (every part raises), so 64 submissions by default. They
are graded twice, on copies of the same course: by the command alone with ``--jobs 2``, and
with ``--scheduler`` on a `dask scheduler` with two `dask worker` processes (one thread each)
started here. Prints both times, their ratio and whether every grade is the same.

    .venv/bin/python benchmarks/grading_cluster.py                # 64 submissions: about 15 min on 2 cores
    .venv/bin/python benchmarks/grading_cluster.py --students 2   # 16
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_tools.assignments import known_assignments  # noqa: E402
from course_tools.sandbox import bwrap_problem  # noqa: E402
from tests.hostile import course_copy, filled_release, reference_code  # noqa: E402


def make_class(folder: Path, students: int) -> Path:
    course = course_copy(folder)
    for assignment in known_assignments(ROOT):
        notebook = f"{assignment}/{assignment}.ipynb"
        release = json.loads((course / "assignments" / notebook).read_text())
        answered = filled_release(release, reference_code(json.loads((course / "solutions" / notebook).read_text())))
        for number in range(students):
            target = course / "submitted" / f"student{number:02d}" / notebook
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(answered if number % 2 == 0 else release))
    return course


def grade(course: Path, *args: str) -> tuple[float, dict]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "course_tools", "--root", str(course), "grade", *args],
                            capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"grading failed:\n{result.stdout}\n{result.stderr}")
    with open(course / "grades.csv", newline="") as f:
        return seconds, {(r["student_id"], r["assignment"]): r["score"] for r in csv.DictReader(f)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=8, help="students in the class (default 8)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if problem := bwrap_problem():
        sys.exit(problem)
    dask = str(Path(sys.executable).parent / "dask")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for name in ("local", "cluster"):
            (scratch / name).mkdir()
        local_course, cluster_course = make_class(scratch / "local", args.students), make_class(scratch / "cluster", args.students)
        submissions = args.students * len(known_assignments(ROOT))
        local_s, local = grade(local_course, "--jobs", "2")
        print(f"one machine, --jobs 2: {submissions} submissions in {local_s:.0f} s")
        address_file = scratch / "scheduler.json"
        processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                       "--scheduler-file", str(address_file)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            while not address_file.exists():
                time.sleep(0.2)
            address = json.loads(address_file.read_text())["address"]
            processes += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard",
                                            "--host", "127.0.0.1"], env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
            cluster_s, cluster = grade(cluster_course, "--scheduler", address)
        finally:
            for process in processes:
                process.kill()
    print(f"Dask, two workers on this machine: {submissions} submissions in {cluster_s:.0f} s")
    print(f"ratio cluster / local: {cluster_s / local_s:.2f}; grades identical: {cluster == local}")


if __name__ == "__main__":
    main()
