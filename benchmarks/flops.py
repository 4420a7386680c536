"""How close a model runs to what the machine can do: its FLOP rate against a measured matmul peak.

A ratio against another implementation (ours / Hugging Face's) says nothing about how far
both are from the hardware. This module gives the second number, the way nanoGPT's
``estimate_mfu`` does, with two changes: the work is counted by torch's own
``FlopCounterMode`` on the real call (not by a formula), and the peak is measured on this
machine, with the same threads, instead of read from a data sheet.

- ``count_flops(fn)``: floating-point operations of one call, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` (matrix multiplies and attention, forward and
  backward; a multiply-add counts 2; element-wise work such as softmax, GELU and layer norm
  counts nothing, as in every MFU figure). torch 2.13 has no formula for the CPU kernels of
  fused attention (``_scaled_dot_product_flash_attention_for_cpu`` and its backward); we register
  torch's own formulas for the other fused kernels under their names.
- ``matmul_peak(device)``: the best FLOP rate of a large float32 square matrix multiply, the
  most the BLAS reaches on this machine with the current torch threads.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from torch.utils import flop_counter

aten = torch.ops.aten


def _sdpa_for_cpu(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """torch's formula for fused attention (q k^T and weights @ v), for the CPU kernel it has none for."""
    return flop_counter.sdpa_flop_count(query_shape, key_shape, value_shape)


def _sdpa_backward_for_cpu(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None,
                           **kwargs) -> int:
    """torch's formula for the backward pass of fused attention, for the CPU kernel."""
    return flop_counter.sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


MISSING_FORMULAS = {aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_for_cpu,
                    aten._scaled_dot_product_flash_attention_for_cpu_backward: _sdpa_backward_for_cpu}


def count_flops(fn: Callable[[], object]) -> int:
    """Floating-point operations of one call of ``fn`` (multiply-adds count 2), as torch counts them."""
    with flop_counter.FlopCounterMode(display=False, custom_mapping=MISSING_FORMULAS) as counter:
        fn()
    return counter.get_total_flops()


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, size: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of the fastest of ``repeats`` float32 (size x size) @ (size x size) products on ``device``.

    The best, not the median: the peak is what the hardware can do, and a busy machine only slows
    some of the runs. The model's rate is a median, so its share of the peak errs low, not high.
    """
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    torch.mm(a, b)  # warm up: threads started, memory touched
    best = float("inf")
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b)
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def rate_columns(flops: int, seconds: float, peak: float) -> dict:
    """The columns a saved result row carries: work, rate, peak and the share of it."""
    return {"gflop": flops / 1e9, "gflop_per_s": flops / seconds / 1e9, "peak_gflop_per_s": peak / 1e9,
            "share_of_peak": flops / seconds / peak}


def describe_rate(flops: int, seconds: float, peak: float) -> str:
    """'12.3 GFLOP/s, 64 % of the matmul peak (19.1 GFLOP/s)'."""
    rate = flops / seconds
    return f"{rate / 1e9:.1f} GFLOP/s, {100 * rate / peak:.0f} % of the matmul peak ({peak / 1e9:.1f} GFLOP/s)"
