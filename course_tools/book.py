"""Building the rendered book: Jupyter Book with cached execution and warnings as errors.

jupyter-cache re-executes a chapter only when its code cells change. A chapter's output
also depends on ``course_lib``, on the benchmark results it quotes and on the installed
packages, so the whole cache is
dropped whenever any of those change (their fingerprint is kept beside the cache), and with it
Sphinx's record of what it has read: Sphinx re-reads only the pages whose text changed, so
without that the other chapters would keep their old outputs.

Sphinx reads pages one after another, and myst-nb executes a chapter when it reads it. So the
chapters the cache lacks are executed first, one per core at a time, into the same cache
(read as myst-nb reads them, so the cache keys match); Sphinx then finds every chapter there.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

BUILD_DIR = "_build"
CACHE_DIR = "_build/.jupyter_cache"
DOCTREES_DIR = "_build/.doctrees"  # Sphinx's environment: which pages it has read, and their parsed form
KOREAN_TITLE = "시퀀스-투-시퀀스, RNN에서 T5까지"  # the book's title in the Korean edition
KOREAN_DIR = "_build/ko"  # the Korean edition's own Sphinx run (its doctrees under _build/ko/_build/)
FINGERPRINT = "_build/.jupyter_cache.fingerprint"
FINGERPRINTED = ("course_lib/**/*.py", "benchmarks/results/*.json", "requirements.lock", "pyproject.toml",
                 "_config.yml")
SECONDS = "_build/.chapter_seconds.json"  # each chapter's last execution time: the longest start first
READER = {"type": "plugin", "name": "myst_nb_md"}  # myst-nb's reader of MyST Markdown notebooks, for jupyter-cache


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
    shutil.rmtree(root / KOREAN_DIR, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)
    return dropped


def failure_reports(root: Path) -> list[Path]:
    """The execution reports myst-nb writes for chapters whose cells raised."""
    return sorted((Path(root) / BUILD_DIR / "html" / "reports").rglob("*.err.log"))


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def describe_failure(chapter: str, traceback: str) -> str:
    """'chapter X, code cell N' plus the failing cell and its error, from nbclient's traceback."""
    text = ANSI.sub("", traceback)
    cell = re.search(r"In\[(\d+)\]", text)
    where = f"chapter {chapter}, code cell {cell.group(1)}" if cell else f"chapter {chapter}"
    detail = text.split("An error occurred while executing the following cell:", 1)[-1].strip()
    return f"=== {where} raised ===\n{detail}"


def chapters(root: Path) -> list[Path]:
    """The pages of _toc.yml that are notebooks (MyST Markdown with a kernelspec header)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    pages = [root / f"{name}.md" for name in re.findall(r"^\s*-?\s*(?:root|file):\s*(\S+)", toc, re.M)]
    return [page for page in pages if page.is_file() and is_myst_markdown_notebook(page.read_text(encoding="utf-8"))]


def _execute(job: tuple[str, str, int]) -> tuple[str, float, str | None]:
    """Execute one chapter of the cache's project and store its outputs in the cache (in a pool's
    worker process): its path, seconds, and nbclient's traceback if a cell raised."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution

    cache_dir, uri, timeout = job
    cache = get_cache(cache_dir)
    notebook = cache.get_project_notebook(uri).nb
    result = single_nb_execution(notebook, cwd=str(Path(uri).parent), timeout=timeout, allow_errors=False)
    if result.err is None:
        cache.cache_notebook_bundle(CacheBundleIn(notebook, uri, data={"execution_seconds": result.time}),
                                    check_validity=False, overwrite=True)
    return uri, result.time, result.exc_string if result.err is not None else None


def execute_chapters(root: Path, jobs: int) -> list[str]:
    """Execute the chapters the cache has no outputs for, ``jobs`` at a time, longest first (as
    last measured), into the cache that myst-nb reads; return a report for each that raised."""
    from jupyter_cache import get_cache

    execute = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")).get("execute", {})
    if execute.get("execute_notebooks") != "cache":  # "off", "force", "auto": leave execution to myst-nb
        return []
    cache = get_cache(str(root / CACHE_DIR))
    uris = [str(cache.add_nb_to_project(str(page), read_data=READER).uri) for page in chapters(root)]
    to_run = [record.uri for record in cache.list_unexecuted(filter_uris=uris)]
    if not to_run:
        return []
    seconds_file = root / SECONDS
    seconds = json.loads(seconds_file.read_text()) if seconds_file.is_file() else {}
    to_run.sort(key=lambda uri: -seconds.get(str(Path(uri).relative_to(root)), 0))
    timeout = execute.get("timeout", 300)
    print(f"executing {len(to_run)} chapter(s), {min(jobs, len(to_run))} at a time", flush=True)
    failures = []
    with multiprocessing.get_context("spawn").Pool(min(jobs, len(to_run))) as pool:
        work = [(str(root / CACHE_DIR), uri, timeout) for uri in to_run]
        for uri, took, traceback in pool.imap_unordered(_execute, work, chunksize=1):
            page = str(Path(uri).relative_to(root))
            seconds[page] = round(took, 1)
            print(f"{'FAILED' if traceback else 'executed'} {page} in {took:.0f} s", flush=True)
            if traceback:
                failures.append(describe_failure(Path(page).stem, traceback))
    seconds_file.write_text(json.dumps(seconds, indent=1, sort_keys=True) + "\n")
    return failures


def usable_cores() -> int:
    """The cores this process may run on (Linux can restrict them; macOS has no sched_getaffinity)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def build(root: Path, jobs: int | None = None) -> int:
    """Build the book into _build/html; return the exit status (non-zero on any warning or error).
    Chapters are executed ``jobs`` at a time (default: the cores this process may use)."""
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs is the number of chapters executed at a time: at least 1, not {jobs}")
    root = Path(root).resolve()
    start = time.perf_counter()
    if refresh_cache(root):
        print("course_lib or the environment changed: chapters will be executed again")
    for report in failure_reports(root):
        report.unlink()
    failures = execute_chapters(root, jobs or usable_cores())
    if failures:  # Sphinx would execute those chapters again only to fail the same way
        print("\n" + "\n\n".join(failures))
        status = 1
    else:
        command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root),
                   "--warningiserror", "--nitpick", "--keep-going"]
        status = subprocess.run(command, cwd=root).returncode
        for report in failure_reports(root):
            print("\n" + describe_failure(report.name.removesuffix(".err.log"),
                                          report.read_text(encoding="utf-8", errors="replace")))
    print(f"English edition took {time.perf_counter() - start:.0f} s (exit status {status})")
    if status == 0:
        status = build_korean(root)
    return status


def edition_config(root: Path, name: str, sphinx_config: dict, execute: dict | None = None) -> Path:
    """Write _build/<name>/_config.yml: the book's _config.yml with these Sphinx settings (and
    execution settings) on top, so that both editions and the extraction share one configuration."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("sphinx", {}).setdefault("config", {}).update(sphinx_config)
    config["execute"] = {**config.get("execute", {}), **(execute or {})}
    config["execute"]["cache"] = str(root / CACHE_DIR)  # the English build's cache, whichever folder builds
    local = config["sphinx"].get("local_extensions") or {}  # Jupyter Book finds them beside the config file
    config["sphinx"]["local_extensions"] = {name: str(root / folder) for name, folder in local.items()}
    path = root / BUILD_DIR / name / "_config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def executed_records(root: Path) -> set[tuple[int, str]]:
    """The execution cache's records (id, creation time): a chapter executed adds or replaces one."""
    from jupyter_cache import get_cache

    return {(r.pk, r.created.isoformat()) for r in get_cache(str(root / CACHE_DIR)).list_cache_records()}


def build_korean(root: Path) -> int:
    """Build the Korean edition (language ko, the .po files of locales/ko/) into _build/html/ko/.
    It reads the chapters' outputs from the English build's jupyter-cache, and fails if that made
    any chapter execute (the cache changed). Warnings are errors here too."""
    start = time.perf_counter()
    before = executed_records(root)
    config = edition_config(root, "ko", {"language": "ko", "html_title": KOREAN_TITLE})
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--config", str(config),
               "--path-output", str(root / KOREAN_DIR), "--warningiserror", "--nitpick", "--keep-going",
               "--all"]  # every page again: a translated title appears in every page's sidebar
    status = subprocess.run(command, cwd=root).returncode
    if executed_records(root) != before:
        print("the Korean edition executed chapters: it must find every one in the English build's cache")
        status = status or 1
    if status == 0:
        target = root / BUILD_DIR / "html" / "ko"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(root / KOREAN_DIR / "_build" / "html", target)
    print(f"Korean edition took {time.perf_counter() - start:.0f} s (exit status {status})")
    return status
