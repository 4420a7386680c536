"""The RNN seq2seq without attention on multi-language dates: quality and training time.

Goal: at least 93 % exact match on held-out dates after at most 60 s of training on two
CPU cores. The recipe is ``course_lib.recipes.dates_gru``, shared with the chapters that
train this model: a fixed number of epochs under a seed, never a time budget, so every run
trains the same steps; the time is measured, not imposed.

    .venv/bin/python benchmarks/rnn_dates.py            # on get_device(): CUDA, MPS or CPU
    COURSE_DEVICE=cpu .venv/bin/python benchmarks/rnn_dates.py --threads 2
    COURSE_DEVICE=cpu .venv/bin/python benchmarks/rnn_dates.py --save   # the table the performance page shows

On the CPU it uses one torch thread unless told otherwise: when anything else runs on the
machine, two threads wait on each other at every small operation (measured on a shared
2-core machine: about 40 ms per step with one thread, over 1 s with two).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

import results
from course_lib import get_device
from course_lib.recipes import dates_gru
from course_lib.train import accuracy_by_length, count_parameters, evaluate_seq2seq

TARGET_EXACT_MATCH = 0.93
TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="initial weights and batch order")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1; 0: torch's choice)")
    parser.add_argument("--save", action="store_true",
                        help="write the table to benchmarks/results/rnn_dates.json (the book's performance page shows it)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows even when piped to a file
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device()

    recipe = dates_gru(seed=args.seed)
    model = recipe.build_model()
    print(f"device: {device}  torch threads: {torch.get_num_threads()}  torch {torch.__version__}")
    print(f"load average before training: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"recipe {recipe.name}: {recipe.data}")
    print(f"  emb {recipe.config.emb_dim}, hidden {recipe.config.hidden_size}, {count_parameters(model):,} parameters;"
          f" batch {recipe.batch_size}; stages {[(s.epochs, s.lr) for s in recipe.stages]}; {recipe.steps} steps")

    cpu_start, wall_start = time.process_time(), time.perf_counter()
    history = recipe.train(model, device=device, validate=False)
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    seconds = history.seconds[-1]
    print(f"training: {seconds:.1f} s in steps ({recipe.steps / seconds:.1f} steps/s), {wall:.1f} s with batching;"
          f" process CPU time {cpu:.1f} s; train loss per epoch {[round(x, 4) for x in history.train_loss]}")

    test = evaluate_seq2seq(model, recipe.data, "test", teacher_forced=True)
    print(f"test ({len(recipe.data.test)} dates): exact match {test['exact_match']:.2%},"
          f" token accuracy {test['token_accuracy']:.2%}")
    print(f"token accuracy teacher-forced {test['teacher_forced_token_accuracy']:.2%}"
          f" vs free-running {test['token_accuracy']:.2%}")
    by_length = accuracy_by_length(model, recipe.data, "test", bucket_size=5)
    print("exact match by source length (characters): "
          + ", ".join(f"{n}-{n + 4}: {acc:.1%}" for n, acc in by_length.items()))
    quality_ok = test["exact_match"] >= TARGET_EXACT_MATCH
    time_ok = seconds <= TARGET_SECONDS
    print(f"{'PASS' if quality_ok else 'FAIL'}: exact match {test['exact_match']:.2%}"
          f" (target >= {TARGET_EXACT_MATCH:.0%})")
    print(f"{'PASS' if time_ok else 'FAIL'}: training {seconds:.1f} s (target <= {TARGET_SECONDS:.0f} s"
          " on 2 CPU cores; a busy machine inflates it, see the load average above)")
    if args.save:
        row = {"model": "GRU encoder-decoder, no attention", "parameters": count_parameters(model),
               "exact_match": test["exact_match"], "token_accuracy": test["token_accuracy"],
               "teacher_forced_token_accuracy": test["teacher_forced_token_accuracy"], "seconds": seconds,
               "steps_per_second": recipe.steps / seconds, "cpu": cpu}
        path = results.save("rnn_dates", device, [row], recipe=recipe.name, steps=recipe.steps,
                            test_size=len(recipe.data.test), seed=args.seed,
                            targets={"exact_match": TARGET_EXACT_MATCH, "seconds": TARGET_SECONDS})
        print(f"saved {path}")


if __name__ == "__main__":
    main()
