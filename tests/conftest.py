"""Shared test settings: one torch thread per test process (pytest runs two in parallel)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("OMP_NUM_THREADS", "1")  # for kernels that nbgrader starts
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]

# The markers of pyproject.toml, given here by test module or by test function, so that
# `make check` (pytest -m "not book and not grading and not slow") leaves out exactly these.
MARKED_MODULES = {
    "test_browser": "book",  # headless Chromium over _build/html
    "test_grading": "grading",
    "test_grading_runs": "grading",
    "test_sandbox": "grading",
    "test_hostile": "grading",
}
MARKED_TESTS = {  # (module, test function) -> marker
    ("test_assignments", "test_wrong_solution_loses_only_its_parts_points"): "slow",  # a full run per wrong solution
    ("test_assignments", "test_visible_tests_reject_at_least_half_of_the_wrong_solutions"): "slow",
    ("test_course_tools", "test_book_build_fails_naming_the_chapter_and_cell_that_raised"): "slow",  # a book build
    ("test_course_tools", "test_book_chapters_are_executed_again_when_course_lib_changes"): "slow",  # three builds
    ("test_course_tools", "test_book_chapters_are_executed_at_the_same_time"): "slow",  # a book build
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests as MARKED_MODULES and MARKED_TESTS say; a name there that no test file defines
    is an error, so that renaming a test cannot quietly move it into `make check`."""
    for module, name in MARKED_TESTS:
        if f"def {name}(" not in (ROOT / "tests" / f"{module}.py").read_text(encoding="utf-8"):
            raise pytest.UsageError(f"tests/conftest.py marks {module}::{name}, which does not exist: "
                                    "update MARKED_TESTS")
    for item in items:
        module, name = item.path.stem, getattr(item, "originalname", item.name)
        marker = MARKED_MODULES.get(module) or MARKED_TESTS.get((module, name))
        if marker:
            item.add_marker(marker)


@pytest.fixture
def root() -> Path:
    return ROOT


def an_end_token(tokens: torch.Tensor, pad_id: int) -> int:
    """A token a model produces in some rows but not all: used as end token, it stops rows at different steps."""
    for token in tokens.flatten().tolist():
        if token != pad_id and not (tokens == token).any(dim=1).all():
            return token
    raise AssertionError(f"every row produces the same tokens: {tokens}")
