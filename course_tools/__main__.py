"""Command line: python -m course_tools {release,check,grade,book,translations,environment}."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course_tools import assignments, book, environment, grading, translations


def progress_bar():
    """A bar on stderr with the time left (tqdm), counting submissions as they are graded; the
    lines of the graded submissions go to stdout above it."""
    from tqdm import tqdm

    class Bar(tqdm):
        def write(self, line: str) -> None:  # noqa: D102
            tqdm.write(line, file=sys.stdout)

    return Bar(total=None, unit="notebook", file=sys.stderr, dynamic_ncols=True, disable=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (default: current folder)")
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="regenerate assignments/ from solutions/")
    release.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    commands.add_parser("check", help="fail if assignments/ is stale or leaks hidden tests")
    grade = commands.add_parser("grade", help="autograde submitted/ (sandboxed), export grades.csv, write feedback/")
    grade.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                       help="students graded at once (default: the number of cores, %(default)s here)")
    grade.add_argument("--unsandboxed", action="store_true",
                       help="run student code without the sandbox, as you (only where bubblewrap cannot be installed)")
    grade.add_argument("--cell-timeout", type=int, metavar="SECONDS",
                       help="per-cell limit (default: nbgrader_config.py)")
    grade.add_argument("--notebook-timeout", type=int, metavar="SECONDS",
                       help="wall-clock limit for a whole notebook (default: nbgrader_config.py)")
    grade.add_argument("--student", action="append", default=[], metavar="ID",
                       help="grade only this student (repeat for more)")
    grade.add_argument("--force", action="store_true",
                       help="grade again every submission, also those unchanged since they were last graded")
    grade.add_argument("--no-preflight", action="store_true",
                       help="do not grade the instructor's solutions first (they must get full marks, or nothing is graded)")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on a Dask cluster: its scheduler's address, e.g. tcp://10.0.0.5:8786")
    grade.add_argument("--max-notebook-mb", type=float, default=grading.MAX_NOTEBOOK_MB,
                       help="larger notebooks are not graded (default: %(default)s)")
    commands.add_parser("book", help="build the rendered book: English into _build/html, Korean into _build/html/ko")
    translate = commands.add_parser("translations", help="update locales/ko/ from the book's pages (after `make book`)")
    translate.add_argument("--check", action="store_true",
                           help="change nothing: list every message not translated, fuzzy or missing; fail if any")
    commands.add_parser("environment", help="write environment.yml from requirements.lock")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    try:
        if args.command == "release":
            names = assignments.release(root, args.assignments or None)
            if not args.assignments:
                assignments.clean_release_dir(root)
            print("released:", ", ".join(names))
        elif args.command == "check":
            stale, leaks = assignments.stale_files(root), assignments.leaked_hidden_lines(root)
            for path in stale:
                print(f"out of date with solutions/: assignments/{path} (run `make assignments`)")
            for path, line in leaks:
                print(f"hidden test line in {path}: {line}")
            return 1 if stale or leaks else 0
        elif args.command == "grade":
            settings = grading.Settings(jobs=args.jobs, sandboxed=not args.unsandboxed, cell_timeout=args.cell_timeout,
                                        notebook_timeout=args.notebook_timeout, max_notebook_mb=args.max_notebook_mb,
                                        scheduler=args.scheduler, students=args.student, force=args.force,
                                        preflight=not args.no_preflight)
            with progress_bar() as bar:
                def tell(outcome):
                    bar.write(outcome.line())
                    bar.update(1)
                def total(n):
                    bar.reset(total=n)
                if not settings.sandboxed:
                    print("UNSANDBOXED: student code runs as you, without the sandbox (--unsandboxed)", flush=True)
                report = grading.grade(root, args.assignments or None, settings, on_outcome=tell, on_total=total)
            print("\n".join(report.summary()) or "nothing to grade in submitted/")
            if report.outcomes:
                print(f"grades: {root / grading.GRADES_CSV}; feedback: {root / 'feedback'}/; "
                      f"report: {root / grading.REPORT_JSON}")
                for page in report.class_reports:
                    print(f"class report: {(root / page).as_uri()}")
            return 0 if report.ok else 1
        elif args.command == "book":
            return book.build(root)
        elif args.command == "translations":
            if not args.check:
                translations.update(root)
                return 0
            found = translations.problems(root, translations.extract(root))
            print("\n".join(translations.report(root) + found))
            print(f"{len(found)} message(s) keep the Korean edition from being complete" if found
                  else "every message of the book is translated")
            return 1 if found else 0
        elif args.command == "environment":
            print("wrote", environment.write(root))
    except (assignments.AssignmentError, grading.GradingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
