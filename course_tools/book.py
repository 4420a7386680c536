"""Building the rendered book: Jupyter Book with cached execution and warnings as errors.

jupyter-cache re-executes a chapter only when its code cells change. A chapter's output
also depends on ``course_lib``, on the benchmark results it quotes and on the installed
packages, so the whole cache is
dropped whenever any of those change (their fingerprint is kept beside the cache), and with it
Sphinx's record of what it has read: Sphinx re-reads only the pages whose text changed, so
without that the other chapters would keep their old outputs.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

BUILD_DIR = "_build"
CACHE_DIR = "_build/.jupyter_cache"
DOCTREES_DIR = "_build/.doctrees"  # Sphinx's environment: which pages it has read, and their parsed form
FINGERPRINT = "_build/.jupyter_cache.fingerprint"
FINGERPRINTED = ("course_lib/**/*.py", "benchmarks/results/*.json", "requirements.lock", "pyproject.toml",
                 "_config.yml")


def fingerprint(root: Path) -> str:
    """Hash of everything outside the chapters that their executed outputs depend on."""
    digest = hashlib.sha256()
    for pattern in FINGERPRINTED:
        for path in sorted(Path(root).glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def refresh_cache(root: Path) -> bool:
    """Drop the execution cache, and Sphinx's environment so that every page is read (and
    executed) again, if course_lib or the environment changed; True if dropped."""
    root = Path(root)
    stamp, current = root / FINGERPRINT, fingerprint(root)
    if stamp.is_file() and stamp.read_text() == current:
        return False
    dropped = (root / CACHE_DIR).exists()
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    shutil.rmtree(root / DOCTREES_DIR, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)
    return dropped


def failure_reports(root: Path) -> list[Path]:
    """The execution reports myst-nb writes for chapters whose cells raised."""
    return sorted((Path(root) / BUILD_DIR / "html" / "reports").rglob("*.err.log"))


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def describe_failure(report: Path) -> str:
    """'chapter X, code cell N' plus the failing cell and its error, from a myst-nb report."""
    text = ANSI.sub("", report.read_text(encoding="utf-8", errors="replace"))
    chapter = report.name.removesuffix(".err.log")
    cell = re.search(r"In\[(\d+)\]", text)
    where = f"chapter {chapter}, code cell {cell.group(1)}" if cell else f"chapter {chapter}"
    detail = text.split("An error occurred while executing the following cell:", 1)[-1].strip()
    return f"=== {where} raised ===\n{detail}"


def build(root: Path) -> int:
    """Build the book into _build/html; return the exit status (non-zero on any warning or error)."""
    root = Path(root).resolve()
    if refresh_cache(root):
        print("course_lib or the environment changed: chapters will be executed again")
    for report in failure_reports(root):
        report.unlink()
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root),
               "--warningiserror", "--nitpick", "--keep-going"]
    start = time.perf_counter()
    status = subprocess.run(command, cwd=root).returncode
    for report in failure_reports(root):
        print("\n" + describe_failure(report))
    print(f"book build took {time.perf_counter() - start:.0f} s (exit status {status})")
    return status
