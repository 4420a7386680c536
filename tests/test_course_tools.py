"""The book build's cache invalidation and failure report, and the pinned environment files."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml

from course_tools import book
from tests.conftest import ROOT


def test_book_cache_is_dropped_when_course_lib_changes(tmp_path):
    (tmp_path / "course_lib").mkdir()
    module = tmp_path / "course_lib" / "model.py"
    module.write_text("x = 1\n")
    cache = tmp_path / book.CACHE_DIR
    book.refresh_cache(tmp_path)
    cache.mkdir(parents=True)
    assert book.refresh_cache(tmp_path) is False and cache.exists(), "nothing changed: keep the cache"
    module.write_text("x = 2\n")
    assert book.refresh_cache(tmp_path) is True and not cache.exists(), "course_lib changed: drop the cache"


def tiny_book(root, chapter_code: str) -> None:
    """A course folder with the real _config.yml and one chapter whose only code cell is chapter_code."""
    shutil.copy(ROOT / "_config.yml", root)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/chapter\n")
    (root / "book").mkdir()
    for folder in ("_ext", "_static"):  # the local Sphinx extensions and the favicon _config.yml names
        shutil.copytree(ROOT / "book" / folder, root / "book" / folder)
    shutil.copy(ROOT / "book" / "references.bib", root / "book")
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "book" / "chapter.md").write_text(
        (ROOT / "book" / "01-rnn-taxonomy.md").read_text().split("# 1.")[0]  # the jupytext header
        + f"# Chapter\n\n```{{code-cell}} ipython3\n{chapter_code}\n```\n"
    )


def build_book(root) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_tools", "--root", str(root), "book"],
                          capture_output=True, text=True, timeout=600)


def test_book_build_fails_naming_the_chapter_and_cell_that_raised(tmp_path):
    tiny_book(tmp_path, "x = 1\n```\n\n```{code-cell} ipython3\nraise ValueError('boom')")
    result = build_book(tmp_path)
    assert result.returncode != 0
    assert "=== chapter chapter, code cell 2 raised ===" in result.stdout
    assert "ValueError: boom" in result.stdout


def test_book_chapters_are_executed_again_when_course_lib_changes(tmp_path):
    """Only course_lib changes, not the chapter's text: the rebuilt page must show the new output."""
    (tmp_path / "course_lib").mkdir()
    model = tmp_path / "course_lib" / "model.py"
    model.write_text("ANSWER = 'first version'\n")
    tiny_book(tmp_path, "print(open('../course_lib/model.py').read())")  # chapters run in book/
    page = tmp_path / "_build" / "html" / "book" / "chapter.html"
    for version in ("first version", "second version"):
        model.write_text(f"ANSWER = {version!r}\n")
        result = build_book(tmp_path)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert version in page.read_text(encoding="utf-8"), f"the page does not show {version!r}"
        assert "Using cached notebook" in result.stderr + result.stdout, "executed before Sphinx read it"
        assert "Executing notebook" not in result.stderr + result.stdout, "Sphinx executed it again"
    result = build_book(tmp_path)  # nothing changed: nothing is executed
    assert "executing" not in result.stdout and "Executed notebook" not in result.stdout + result.stderr


def test_book_chapters_are_executed_at_the_same_time(tmp_path, capfd):
    """Each of two chapters waits for the other to start: executed one after the other, the first would time out."""
    wait = ("import pathlib, time\n"
            "pathlib.Path('started-{me}').touch()\n"
            "for _ in range(600):\n"
            "    if pathlib.Path('started-{other}').exists(): break\n"
            "    time.sleep(0.1)\n"
            "else: raise TimeoutError('{other} did not start while {me} ran')")
    tiny_book(tmp_path, wait.format(me="a", other="b"))
    header = (tmp_path / "book" / "chapter.md").read_text().split("# Chapter")[0]
    (tmp_path / "book" / "second.md").write_text(header + f"# Second\n\n```{{code-cell}} ipython3\n"
                                                 + wait.format(me="b", other="a") + "\n```\n")
    (tmp_path / "_toc.yml").write_text((tmp_path / "_toc.yml").read_text() + "  - file: book/second\n")
    assert book.build(tmp_path, jobs=2) == 0, capfd.readouterr()
    out = capfd.readouterr()
    assert "executing 2 chapter(s), 2 at a time" in out.out
    assert "Using cached notebook" in out.out + out.err and "Executing notebook" not in out.out + out.err


def test_book_build_refuses_zero_jobs(tmp_path):
    with pytest.raises(ValueError, match="at least 1, not 0"):
        book.build(tmp_path, jobs=0)


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*-?\s*([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)\s*", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def test_lock_pins_torch_and_every_declared_dependency():
    locked = pins((ROOT / "requirements.lock").read_text().splitlines())
    assert locked["torch"] == "2.13.0"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    names = {re.split(r"[<>=\[ ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}
    assert names - {"course-lib"} <= set(locked), f"declared but not locked: {names - set(locked)}"


def test_environment_yml_matches_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pins(pip_section) == pins((ROOT / "requirements.lock").read_text().splitlines())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python=3.11"
