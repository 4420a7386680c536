"""Releasing assignments: solutions/ (instructor source) -> assignments/ (what students get).

nbgrader's ``generate_assignment`` strips the solutions and the hidden tests. The released
notebooks are committed, so a test checks they are up to date and free of hidden tests.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from course_tools.nbgrader_cli import run_nbgrader
from course_tools.notebooks import HIDDEN_BEGIN, HIDDEN_END, cell_source, hidden_test_lines

SOURCE_DIR, RELEASE_DIR = "solutions", "assignments"


class AssignmentError(RuntimeError):
    """An assignment could not be found or released."""


def known_assignments(root: Path) -> list[str]:
    """Names of the assignments in solutions/ (folders holding at least one notebook)."""
    source = Path(root) / SOURCE_DIR
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def check_names(root: Path, names: list[str] | None) -> list[str]:
    """Return the assignments to act on; an unknown name is an error listing the known ones."""
    known = known_assignments(root)
    if not names:
        return known
    unknown = [name for name in names if name not in known]
    if unknown:
        raise AssignmentError(
            f"unknown assignment {', '.join(map(repr, unknown))}; known assignments: {', '.join(known)}"
        )
    return list(names)


def release(root: Path, names: list[str] | None = None, release_dir: Path | None = None,
            db_url: str | None = None) -> list[str]:
    """Generate the student version of each assignment into ``release_dir`` (default assignments/).

    ``db_url`` is the gradebook that records the assignment's cells; by default a
    throw-away one, since releasing needs no gradebook of its own.
    """
    root = Path(root).resolve()
    names = check_names(root, names)
    target = Path(release_dir).resolve() if release_dir else root / RELEASE_DIR
    with tempfile.TemporaryDirectory() as scratch:
        db = db_url or f"sqlite:///{Path(scratch) / 'release.db'}"
        for name in names:
            result = run_nbgrader(
                root, "generate_assignment", name, "--force",
                f"--CourseDirectory.release_directory={target}", f"--CourseDirectory.db_url={db}",
            )
            if result.returncode != 0:
                raise AssignmentError(f"nbgrader could not release {name}:\n{result.stdout}{result.stderr}")
    return names


def stale_files(root: Path) -> list[str]:
    """Files that differ between assignments/ and a fresh release of solutions/ (empty when up to date)."""
    root = Path(root).resolve()
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "release"
        release(root, release_dir=fresh)
        committed = root / RELEASE_DIR
        paths = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        paths |= {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
        return sorted(
            str(path) for path in paths
            if not (fresh / path).is_file() or not (committed / path).is_file()
            or (fresh / path).read_bytes() != (committed / path).read_bytes()
        )


def leaked_hidden_lines(root: Path) -> list[tuple[str, str]]:
    """(released file, line) for every hidden-test line or marker found in assignments/."""
    root = Path(root)
    leaks = []
    for name in known_assignments(root):
        secret = {HIDDEN_BEGIN, HIDDEN_END}
        for notebook in (root / SOURCE_DIR / name).glob("*.ipynb"):
            secret.update(hidden_test_lines(notebook))
        for released in (root / RELEASE_DIR / name).rglob("*"):
            if not released.is_file():
                continue
            text = released.read_text(encoding="utf-8", errors="replace")
            if released.suffix == ".ipynb":
                cells = json.loads(text)["cells"]
                text = "\n".join(cell_source(c) for c in cells)
            released_lines = {line.strip() for line in text.splitlines()}
            leaks += [(str(released.relative_to(root)), line) for line in sorted(secret & released_lines)]
    return leaks


def clean_release_dir(root: Path) -> None:
    """Remove released assignments whose source no longer exists."""
    root = Path(root)
    known = set(known_assignments(root))
    for folder in (root / RELEASE_DIR).iterdir():
        if folder.is_dir() and folder.name not in known:
            shutil.rmtree(folder)
