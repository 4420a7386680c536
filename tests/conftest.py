"""Shared test settings: one torch thread per test process (pytest runs two in parallel)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("OMP_NUM_THREADS", "1")  # for kernels that nbgrader starts
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    return ROOT


def an_end_token(tokens: torch.Tensor, pad_id: int) -> int:
    """A token a model produces in some rows but not all: used as end token, it stops rows at different steps."""
    for token in tokens.flatten().tolist():
        if token != pad_id and not (tokens == token).any(dim=1).all():
            return token
    raise AssertionError(f"every row produces the same tokens: {tokens}")
