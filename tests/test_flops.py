"""benchmarks/flops.py: the work the speed benchmarks divide by their time is counted right."""
from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("flops", ROOT / "benchmarks" / "flops.py")
flops = importlib.util.module_from_spec(spec)
spec.loader.exec_module(flops)


def test_a_matrix_multiply_counts_two_flops_per_multiply_add():
    a, b = torch.randn(8, 16), torch.randn(16, 4)
    assert flops.count_flops(lambda: a @ b) == 2 * 8 * 16 * 4


def test_fused_attention_on_the_cpu_is_counted_as_its_two_matrix_products():
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    written_out = 2 * (2 * 3 * 5 * 8 * 7) + 2 * (2 * 3 * 5 * 7 * 4)  # q k^T, then weights @ v
    assert flops.count_flops(lambda: F.scaled_dot_product_attention(q, k, v)) == written_out
    assert flops.count_flops(lambda: torch.softmax(q @ k.transpose(-2, -1), -1) @ v) == written_out


def test_the_backward_pass_of_fused_attention_is_counted():
    q, k, v = (torch.randn(2, 3, 6, 8, requires_grad=True) for _ in range(3))
    forward = flops.count_flops(lambda: F.scaled_dot_product_attention(q, k, v))
    both = flops.count_flops(lambda: F.scaled_dot_product_attention(q, k, v).sum().backward())
    assert both == forward * 3.5  # torch's formulas: the backward is 2.5 times the forward's two products


def test_the_share_of_peak_is_the_rate_over_the_peak():
    row = flops.rate_columns(flops=3e9, seconds=0.5, peak=10e9)
    assert row["gflop_per_s"] == 6.0 and row["share_of_peak"] == 0.6
