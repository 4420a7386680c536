"""The course Transformer against torch's own: attention, a training step, and cached decoding.

Goals, fp32, batch 32, length 64, d_model 256, 8 heads, measured on two CPU cores:

- our multi-head attention, forward + backward, over ``torch.nn.MultiheadAttention``'s: <= 1.0
- our encoder-decoder training step over ``torch.nn.Transformer``'s, same configuration: <= 1.05
- greedy decoding of 64 new tokens: without the key/value cache over with it: >= 3

Each row also prints the work of one call of ours (FLOPs counted by torch's FlopCounterMode,
``flops.py``), the FLOP rate it reaches and its share of this machine's float32 matmul peak,
measured with the same threads: how close the model runs to what the CPU can do.

Both sides of each ratio are timed in the same run, interleaved (ours, theirs, ours, ...),
and the median of the repeats is compared, so a slower or busier machine moves both.
The Transformer comparison wraps ``torch.nn.Transformer``'s stacks in our embeddings,
positions and output layer, and copies its stack weights into ours: only the encoder and
decoder stacks' code differs. torch's attention runs with ``need_weights=False``, its fastest path.

    .venv/bin/python benchmarks/transformer_speed.py            # on get_device(): CUDA, MPS or CPU
    COURSE_DEVICE=cpu .venv/bin/python benchmarks/transformer_speed.py --threads 2 --save
"""
from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

import results
from flops import count_flops, describe_rate, matmul_peak, rate_columns
from course_lib import get_device, seed_everything
from course_lib.checkpoints import load_torch_transformer
from course_lib.transformer import MultiHeadAttention, Transformer, TransformerConfig, causal_mask, padding_mask
from timing import interleaved_medians

BATCH, LENGTH, D_MODEL, HEADS, D_FF, LAYERS, VOCAB = 32, 64, 256, 8, 1024, 3, 1000
TARGETS = {"attention": 1.0, "training_step": 1.05, "cache_speedup": 3.0}


class TorchStacks(nn.Module):
    """Our model's embeddings, positions and output layer around torch.nn.Transformer's stacks."""

    def __init__(self, ours: Transformer):
        super().__init__()
        c = ours.config
        self.ours = ours
        self.stacks = nn.Transformer(c.d_model, c.num_heads, c.num_encoder_layers, c.num_decoder_layers, c.d_ff,
                                     c.dropout, batch_first=True, norm_first=c.norm_first)

    def forward(self, src, src_lengths, tgt_in):
        pad = ~padding_mask(src_lengths, src.size(1))
        y = self.stacks(self.ours.embed(src, self.ours.src_embedding), self.ours.embed(tgt_in, self.ours.tgt_embedding),
                        tgt_mask=~causal_mask(tgt_in.size(1), tgt_in.device), src_key_padding_mask=pad,
                        memory_key_padding_mask=pad, tgt_is_causal=True)
        return self.ours.out(y)


def attention_ratio(device, repeats) -> dict:
    seed_everything(0)
    ours = MultiHeadAttention(D_MODEL, HEADS).to(device)
    theirs = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True).to(device)
    x = torch.randn(BATCH, LENGTH, D_MODEL, device=device, requires_grad=True)

    def our_step():
        ours(x)[0].sum().backward()

    def their_step():
        theirs(x, x, x, need_weights=False)[0].sum().backward()

    our_s, their_s = interleaved_medians(our_step, their_step, device, repeats)
    return {"name": "attention", "flops": count_flops(our_step), "seconds": our_s, "what": "multi-head self-attention, forward + backward",
            "ours_ms": 1000 * our_s, "reference_ms": 1000 * their_s, "reference": "torch.nn.MultiheadAttention",
            "ratio": our_s / their_s, "target": f"<= {TARGETS['attention']}"}


def batch(device, generator):
    src = torch.randint(3, VOCAB, (BATCH, LENGTH), generator=generator).to(device)
    lengths = torch.randint(LENGTH // 2, LENGTH + 1, (BATCH,), generator=generator).to(device)
    lengths[0] = LENGTH
    src = src.masked_fill(~padding_mask(lengths, LENGTH), 0)
    tgt = torch.randint(3, VOCAB, (BATCH, LENGTH + 1), generator=generator).to(device)
    return src, lengths, tgt


def training_ratio(device, repeats) -> dict:
    seed_everything(0)
    config = TransformerConfig(VOCAB, VOCAB, d_model=D_MODEL, num_heads=HEADS, num_encoder_layers=LAYERS,
                               num_decoder_layers=LAYERS, d_ff=D_FF, dropout=0.1, final_norm=True)
    theirs = TorchStacks(Transformer(config)).to(device).train()
    ours = Transformer(config)
    ours.load_state_dict(theirs.ours.state_dict())  # the same embeddings and output layer
    load_torch_transformer(ours, theirs.stacks)  # and the same stack weights
    ours = ours.to(device).train()
    src, lengths, tgt = batch(device, torch.Generator().manual_seed(0))
    optimizers = {id(ours): torch.optim.Adam(ours.parameters(), 1e-4),
                  id(theirs): torch.optim.Adam(theirs.parameters(), 1e-4)}

    def step(model):
        def run():
            logits = model(src, lengths, tgt[:, :-1])
            loss = nn.functional.cross_entropy(logits.transpose(1, 2), tgt[:, 1:], ignore_index=0)
            optimizers[id(model)].zero_grad(set_to_none=True)
            loss.backward()
            optimizers[id(model)].step()
        return run

    our_s, their_s = interleaved_medians(step(ours), step(theirs), device, repeats)
    return {"name": "training_step", "flops": count_flops(step(ours)), "seconds": our_s, "what": f"training step, {LAYERS}+{LAYERS} layers, d_ff {D_FF}, Adam",
            "ours_ms": 1000 * our_s, "reference_ms": 1000 * their_s, "reference": "torch.nn.Transformer",
            "ratio": our_s / their_s, "target": f"<= {TARGETS['training_step']}"}


def cache_ratio(device, repeats) -> dict:
    seed_everything(0)
    config = TransformerConfig(VOCAB, VOCAB, d_model=D_MODEL, num_heads=HEADS, num_encoder_layers=LAYERS,
                               num_decoder_layers=LAYERS, d_ff=D_FF, max_len=LENGTH + 1)
    model = Transformer(config).to(device).eval()
    src, lengths, _ = batch(device, torch.Generator().manual_seed(1))

    def greedy(cache: bool):
        @torch.no_grad()
        def run():
            model.kv_cache = cache
            state = model.encode(src, lengths)
            prev = torch.full((BATCH,), 1, dtype=torch.long, device=device)
            for _ in range(LENGTH):  # always 64 steps: no early stop at <eos>
                logits, state = model.decode_step(prev, state)
                prev = logits.argmax(-1)
            return prev
        return run

    assert torch.equal(greedy(True)(), greedy(False)()), "cached and uncached decoding must agree"
    cached, uncached = interleaved_medians(greedy(True), greedy(False), device, max(3, repeats // 4), warmup=1)
    return {"name": "cache_speedup", "flops": count_flops(greedy(True)), "seconds": cached, "what": f"greedy decoding of {LENGTH} new tokens",
            "ours_ms": 1000 * cached, "reference_ms": 1000 * uncached, "reference": "the same model without the cache",
            "ratio": uncached / cached, "target": f">= {TARGETS['cache_speedup']}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2; 0: torch's choice)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats of each side")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/transformer_speed.json")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device()
    print(f"device: {results.describe_device(device)}  torch {torch.__version__}")
    print(f"batch {BATCH}, length {LENGTH}, d_model {D_MODEL}, {HEADS} heads, fp32; median of {args.repeats} repeats")
    peak = matmul_peak(device)
    print(f"float32 matmul peak with {torch.get_num_threads()} thread(s): {peak / 1e9:.1f} GFLOP/s")
    rows = []
    for measure in (attention_ratio, training_ratio, cache_ratio):
        row = measure(device, args.repeats)
        flops, seconds = row.pop("flops"), row.pop("seconds")
        row.update(rate_columns(flops, seconds, peak))
        rows.append(row)
        ok = row["ratio"] >= TARGETS[row["name"]] if row["name"] == "cache_speedup" else \
            row["ratio"] <= TARGETS[row["name"]]
        row["pass"] = ok
        print(f"{'PASS' if ok else 'FAIL'}: {row['what']}: ours {row['ours_ms']:.1f} ms, {row['reference']}"
              f" {row['reference_ms']:.1f} ms, ratio {row['ratio']:.2f} (target {row['target']});"
              f" ours {describe_rate(flops, seconds, peak)}")
    if args.save:
        print("saved", results.save("transformer_speed", device, rows, batch=BATCH, length=LENGTH, d_model=D_MODEL,
                                    heads=HEADS))


if __name__ == "__main__":
    main()
