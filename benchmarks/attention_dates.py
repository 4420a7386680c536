"""GRU + attention on multi-language dates: Bahdanau's quality and training time, and all five variants.

Goal: GRU + Bahdanau attention reaches at least 99.5 % exact match on held-out dates after
at most 30 s of training on two CPU cores. The other variants (no attention, Luong dot,
general and concat) get the same recipe, so the table compares them at equal steps.

The recipe is ``course_lib.recipes.dates_attention``: chapter 2's data (the same 30,000
dates and splits) with hidden size 64 and batches of 96, one epoch at lr 7e-3, then a
cool-down of 40 batches of the next epoch at lr 1e-3 (290 steps, about 28,000 dates).
A fixed number of steps under a seed, never a time budget: every run trains the same steps,
and the time is measured, not imposed. Chapter 5 trains the first steps of this recipe.

    .venv/bin/python benchmarks/attention_dates.py             # on get_device(): CUDA, MPS or CPU
    COURSE_DEVICE=cpu .venv/bin/python benchmarks/attention_dates.py --save   # the table chapter 5 quotes
    .venv/bin/python benchmarks/attention_dates.py --variants bahdanau --seed 1   # the target only
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

import results
from course_lib import get_device
from course_lib.attention import ATTENTION_CHOICES
from course_lib.recipes import dates_attention
from course_lib.train import count_parameters, evaluate_seq2seq

TARGET_EXACT_MATCH = 0.995
TARGET_SECONDS = 30.0


def run(attention: str, seed: int, device: torch.device) -> dict:
    """Train one variant with the recipe; return its numbers."""
    recipe = dates_attention(attention, seed=seed)
    model = recipe.build_model()
    cpu_start = time.process_time()
    history = recipe.train(model, device=device, validate=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    cpu = time.process_time() - cpu_start
    test = evaluate_seq2seq(model, recipe.data, "test", device=device)
    seconds = history.seconds[-1]
    return {"variant": attention, "exact_match": test["exact_match"],
            "token_accuracy": test["token_accuracy"], "parameters": count_parameters(model), "seconds": seconds,
            "steps_per_second": recipe.steps / seconds, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="initial weights and batch order")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1; 0: torch's choice)")
    parser.add_argument("--variants", nargs="+", default=list(ATTENTION_CHOICES), choices=ATTENTION_CHOICES,
                        help="which variants to train (default: all five)")
    parser.add_argument("--save", action="store_true",
                        help="write the table to benchmarks/results/attention_dates.json (the book quotes it)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device()

    recipe = dates_attention(seed=args.seed)
    print(f"device: {device}  torch threads: {torch.get_num_threads()}  torch {torch.__version__}")
    print(f"load average before training: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"recipe {recipe.name}: {recipe.data}")
    print(f"  emb {recipe.config.emb_dim}, hidden {recipe.config.hidden_size}, batch {recipe.batch_size};"
          f" stages {[(s.epochs, s.lr) for s in recipe.stages]}, the last one cut to {recipe.last_stage_batches}"
          f" batches; {recipe.steps} steps, seed {args.seed}")

    rows = []
    for variant in args.variants:
        row = run(variant, args.seed, device)
        rows.append(row)
        print(f"  trained {variant}: {row['seconds']:.1f} s, exact match {row['exact_match']:.2%}", flush=True)

    print()
    print(f"{'variant':14} {'test exact match':>16} {'token acc.':>10} {'parameters':>10} {'train s':>8}"
          f" {'steps/s':>8} {'CPU s':>7}")
    for row in rows:
        print(f"{row['variant']:14} {row['exact_match']:16.2%} {row['token_accuracy']:10.2%} {row['parameters']:10,}"
              f" {row['seconds']:8.1f} {row['steps_per_second']:8.2f} {row['cpu']:7.1f}")
    print(f"(test: {len(recipe.data.test)} held-out dates; train s: time in training steps;"
          " CPU s: process CPU time over those steps and the batching)")

    if args.save:
        path = results.save("attention_dates", device, rows, recipe=recipe.name, steps=recipe.steps,
                            test_size=len(recipe.data.test), seed=args.seed,
                            targets={"exact_match": TARGET_EXACT_MATCH, "seconds": TARGET_SECONDS})
        print(f"saved {path}")
    bahdanau = next((row for row in rows if row["variant"] == "bahdanau"), None)
    if bahdanau is None:
        return
    quality_ok = bahdanau["exact_match"] >= TARGET_EXACT_MATCH
    time_ok = bahdanau["seconds"] <= TARGET_SECONDS
    print(f"{'PASS' if quality_ok else 'FAIL'}: Bahdanau exact match {bahdanau['exact_match']:.2%}"
          f" (target >= {TARGET_EXACT_MATCH:.1%})")
    print(f"{'PASS' if time_ok else 'FAIL'}: Bahdanau training {bahdanau['seconds']:.1f} s"
          f" (target <= {TARGET_SECONDS:.0f} s on 2 CPU cores; a busy machine inflates it, see the load average)")


if __name__ == "__main__":
    main()
