"""The book build's cache invalidation and failure report, and the pinned environment files."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib

import yaml

from course_tools import book
from tests.conftest import ROOT


def test_cache_is_dropped_when_course_lib_changes(tmp_path):
    (tmp_path / "course_lib").mkdir()
    module = tmp_path / "course_lib" / "model.py"
    module.write_text("x = 1\n")
    cache = tmp_path / book.CACHE_DIR
    book.refresh_cache(tmp_path)
    cache.mkdir(parents=True)
    assert book.refresh_cache(tmp_path) is False and cache.exists(), "nothing changed: keep the cache"
    module.write_text("x = 2\n")
    assert book.refresh_cache(tmp_path) is True and not cache.exists(), "course_lib changed: drop the cache"


def test_failing_chapter_fails_the_build_naming_chapter_and_cell(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/broken\n")
    (tmp_path / "book").mkdir()
    for folder in ("_ext", "_static"):  # the local Sphinx extensions and the favicon _config.yml names
        shutil.copytree(ROOT / "book" / folder, tmp_path / "book" / folder)
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book")
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "book" / "broken.md").write_text(
        (ROOT / "book" / "01-rnn-taxonomy.md").read_text().split("# 1.")[0]
        + "# Broken\n\n```{code-cell} ipython3\nx = 1\n```\n\n```{code-cell} ipython3\nraise ValueError('boom')\n```\n"
    )
    result = subprocess.run([sys.executable, "-m", "course_tools", "--root", str(tmp_path), "book"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "=== chapter broken, code cell 2 raised ===" in result.stdout
    assert "ValueError: boom" in result.stdout


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
