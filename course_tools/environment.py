"""environment.yml for conda and Binder users, written from the pinned requirements.lock."""
from __future__ import annotations

from pathlib import Path

HEADER = """\
# Generated from requirements.lock by `make lock` (python -m course_tools environment): do not edit.
# conda env create -f environment.yml && conda activate seq2seq-course && pip install -e .
name: seq2seq-course
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
"""


def render(lock_text: str) -> str:
    pins = [line.strip() for line in lock_text.splitlines() if line.strip() and not line.startswith("#")]
    return HEADER + "".join(f"      - {pin}\n" for pin in pins)


def write(root: Path) -> Path:
    root = Path(root)
    target = root / "environment.yml"
    target.write_text(render((root / "requirements.lock").read_text()))
    return target
