"""course_lib.device: which device a chapter runs on, and one seed for every random generator."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from course_lib import get_device, seed_everything


def test_default_device_is_cpu_without_accelerators(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")


def test_cuda_is_preferred_when_present(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "cuda:banana"])
def test_unknown_device_names_are_a_clear_error(monkeypatch, bad):
    monkeypatch.setenv("COURSE_DEVICE", bad)
    with pytest.raises(ValueError, match="unknown device"):
        get_device()


def test_missing_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        get_device("cuda")


def test_seeding_repeats_every_generator():
    def draw():
        gen = seed_everything(123)
        return random.random(), float(np.random.rand()), torch.rand(3).tolist(), torch.rand(2, generator=gen).tolist()

    assert draw() == draw()
    with pytest.raises(ValueError):
        seed_everything(-1)
