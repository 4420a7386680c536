"""Choosing the device once, and seeding every random generator the course uses.

The course runs on a laptop CPU first; the same code runs on CUDA or Apple MPS.
Pick the device once with :func:`get_device` and pass it down to models, data
and training helpers: nothing in the course calls ``.cuda()`` on its own.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

DEVICE_ENV_VAR = "COURSE_DEVICE"
"""Environment variable that overrides the automatic choice (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(preferred: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on: CUDA, then Apple MPS, then CPU.

    ``preferred`` (or the ``COURSE_DEVICE`` environment variable) overrides the
    automatic choice; asking for a device this machine lacks is an error that
    says what is available instead of a failure deep inside torch later on.
    """
    choice = preferred if preferred is not None else os.environ.get(DEVICE_ENV_VAR, "").strip()
    if not choice:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"unknown device {choice!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps'"
            f" (set through get_device(...) or {DEVICE_ENV_VAR})"
        ) from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {choice!r} was asked for but this machine has no CUDA GPU;"
            f" unset {DEVICE_ENV_VAR} or use 'cpu'"
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(
            f"device {choice!r} was asked for but only {torch.cuda.device_count()} CUDA device(s) exist"
        )
    if device.type == "mps" and not _mps_available():
        raise ValueError(f"device {choice!r} was asked for but Apple MPS is not available; use 'cpu'")
    return device


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and torch's generators (all devices); return a torch generator.

    The returned CPU generator is for code that wants its own stream (data
    shuffling, masking) without disturbing the global one.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)
