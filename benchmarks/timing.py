"""Timing two implementations fairly: interleaved runs, medians, device synchronised."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def seconds(fn: Callable[[], object], device: torch.device) -> float:
    """Wall time of one call, waiting for the GPU to finish when there is one."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def interleaved_medians(ours: Callable[[], object], theirs: Callable[[], object], device: torch.device,
                        repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Median seconds of each, run alternately so that drifts in machine load hit both sides."""
    for _ in range(warmup):
        ours(), theirs()
    our_times, their_times = [], []
    for _ in range(repeats):
        our_times.append(seconds(ours, device))
        their_times.append(seconds(theirs, device))
    return statistics.median(our_times), statistics.median(their_times)
