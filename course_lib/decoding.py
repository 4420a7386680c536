"""Turning a trained model's next-token distributions into output sequences.

Chapter 3. Greedy decoding takes y_t = argmax p_t and feeds it back until
<eos>; beam search keeps the ``beam_size`` best partial sequences instead of one.

Both work for any model with three methods (the RNN seq2seq, the attention
model and the Transformer all have them):

- ``encode(src, src_lengths) -> state``
- ``decode_step(prev_tokens (B,), state) -> (logits (B, V), state)``
- ``reorder_state(state, index (B',)) -> state``: keep/repeat batch rows ``index``

Whatever ``state`` holds (hidden states, encoder outputs, masks, caches) is
the model's business; decoding only passes it back and reorders it.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from torch import nn

from course_lib.inputs import check_lengths, check_token_ids


@dataclass
class DecodeResult:
    tokens: torch.Tensor  # (B, L) long: no <bos>, the <eos> when produced, then pad
    lengths: torch.Tensor  # (B,) tokens up to and including <eos>
    scores: torch.Tensor  # (B,) sum of log p over those tokens (beam search: divided by length**length_penalty)
    step_probs: torch.Tensor | None = None  # (B, L, V) softmax at each step, when asked for


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Run a block with dropout off (``model.eval()``), then restore the model's previous mode."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _src_vocab_size(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    for name in ("src_vocab_size", "vocab_size"):
        size = getattr(config, name, None)
        if isinstance(size, int):
            return size
    return None


def _check_inputs(model: nn.Module, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int,
                  beam_size: int = 1) -> None:
    vocab_size = _src_vocab_size(model)
    # A model whose config names no vocabulary size (a test's scripted model): ids need only be non-negative.
    check_token_ids("src", src, vocab_size if vocab_size is not None else torch.iinfo(torch.long).max)
    if src.size(0) == 0:
        raise ValueError("empty batch: src has 0 rows; pass at least one sequence to decode")
    check_lengths("src_lengths", src_lengths, src.size(0), src.size(1))
    if not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be an int >= 1 (the most tokens to generate), got {max_len!r}")
    if not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be an int >= 1 (1 is greedy decoding), got {beam_size!r}")


@torch.no_grad()
def greedy_decode(model: nn.Module, src: torch.Tensor, src_lengths: torch.Tensor, *, max_len: int,
                  bos_id: int = 1, eos_id: int = 2, pad_id: int = 0, return_probs: bool = False) -> DecodeResult:
    """Decode a batch greedily: y_t = argmax_j p_t[j], fed back as the next input.

    All sequences step together; each stops at its own <eos> (pad after it), or
    at ``max_len`` tokens. ``return_probs`` keeps p_t at every step, for tracing.
    """
    src_lengths = torch.as_tensor(src_lengths, device=src.device)
    _check_inputs(model, src, src_lengths, max_len)
    with eval_mode(model):
        B = src.size(0)
        state = model.encode(src, src_lengths)
        prev = torch.full((B,), bos_id, dtype=torch.long, device=src.device)  # (B,)
        finished = torch.zeros(B, dtype=torch.bool, device=src.device)
        lengths = torch.zeros(B, dtype=torch.long, device=src.device)
        scores = torch.zeros(B, device=src.device)
        tokens, probs = [], []
        for _ in range(max_len):
            logits, state = model.decode_step(prev, state)  # (B, V)
            log_p = logits.float().log_softmax(-1)  # (B, V)
            next_tokens = log_p.argmax(-1).masked_fill(finished, pad_id)  # (B,)
            scores += torch.where(finished, 0.0, log_p.gather(1, next_tokens[:, None]).squeeze(1))
            lengths += ~finished
            finished |= next_tokens == eos_id
            tokens.append(next_tokens)
            if return_probs:
                probs.append(log_p.exp())
            prev = next_tokens
            if finished.all():
                break
        return DecodeResult(
            tokens=torch.stack(tokens, dim=1),  # (B, L)
            lengths=lengths,
            scores=scores,
            step_probs=torch.stack(probs, dim=1) if return_probs else None,  # (B, L, V)
        )


@torch.no_grad()
def beam_search(model: nn.Module, src: torch.Tensor, src_lengths: torch.Tensor, *, beam_size: int,
                max_len: int, bos_id: int = 1, eos_id: int = 2, pad_id: int = 0,
                length_penalty: float = 1.0) -> DecodeResult:
    """Keep the ``beam_size`` best partial sequences per example; return the best one.

    A hypothesis y_1..y_n scores  Σ_t log p(y_t | y_<t, x) / n**length_penalty
    (0: the plain sum, which favours short outputs; 1: the mean log-probability).
    Beams are flattened into the batch, (B * K) rows, and ``reorder_state``
    follows each surviving hypothesis back to its parent. A hypothesis that
    has produced <eos> keeps its place and score and only grows padding, so
    with ``beam_size=1`` this is exactly greedy decoding.
    """
    src_lengths = torch.as_tensor(src_lengths, device=src.device)
    _check_inputs(model, src, src_lengths, max_len, beam_size)
    with eval_mode(model):
        B, K = src.size(0), beam_size
        device = src.device
        rows = torch.arange(B, device=device).repeat_interleave(K)  # (B*K,) example of each beam
        state = model.reorder_state(model.encode(src, src_lengths), rows)
        prev = torch.full((B * K,), bos_id, dtype=torch.long, device=device)
        # Only the first beam is live at the start; the others would duplicate it.
        scores = torch.full((B, K), float("-inf"), device=device)
        scores[:, 0] = 0.0
        scores = scores.view(-1)  # (B*K,) sum of log p
        lengths = torch.zeros(B * K, dtype=torch.long, device=device)
        finished = torch.zeros(B * K, dtype=torch.bool, device=device)
        tokens = torch.empty(B * K, 0, dtype=torch.long, device=device)
        for t in range(max_len):
            logits, state = model.decode_step(prev, state)  # (B*K, V)
            log_p = logits.float().log_softmax(-1)  # (B*K, V)
            V = log_p.size(-1)
            # 1) a finished hypothesis may only grow padding, at no cost
            log_p[finished] = float("-inf")
            log_p[finished, pad_id] = 0.0
            # 2) score every one-token extension of every hypothesis
            cand_scores = scores[:, None] + log_p  # (B*K, V)
            cand_lengths = (lengths + ~finished)[:, None]  # (B*K, 1)
            ranked = cand_scores / cand_lengths.float() ** length_penalty  # (B*K, V)
            # 3) keep the K best extensions of each example
            _, best = ranked.view(B, K * V).topk(K, dim=1)  # (B, K) indices into K*V
            parent = (torch.arange(B, device=device)[:, None] * K + best // V).view(-1)  # (B*K,)
            next_tokens = (best % V).view(-1)  # (B*K,)
            scores = cand_scores.view(B, K * V).gather(1, best).view(-1)
            lengths = cand_lengths.view(-1)[parent]
            finished = finished[parent] | (next_tokens == eos_id)
            tokens = torch.cat([tokens[parent], next_tokens[:, None]], dim=1)  # (B*K, t + 1)
            state = model.reorder_state(state, parent)
            prev = next_tokens
            # 4) retire live hypotheses that can no longer beat their example's best finished one:
            #    log p <= 0, so a sum only falls as it grows; at best it keeps its value until
            #    the length that favours it most (the next step's, or max_len).
            done_best = torch.where(finished, scores / lengths.float() ** length_penalty, float("-inf"))
            done_best = done_best.view(B, K).max(dim=1).values.repeat_interleave(K)  # (B*K,)
            live_best = scores / max((t + 2) ** length_penalty, max_len ** length_penalty)
            hopeless = ~finished & (live_best < done_best)
            scores = scores.masked_fill(hopeless, float("-inf"))
            finished |= hopeless
            if finished.all():
                break
        final = (scores / lengths.float() ** length_penalty).view(B, K)  # (B, K)
        best_scores, best_beam = final.max(dim=1)  # (B,)
        pick = torch.arange(B, device=device) * K + best_beam  # (B,)
        return DecodeResult(tokens=tokens[pick], lengths=lengths[pick], scores=best_scores)


def top_candidates(step_probs_row: torch.Tensor, vocab, k: int = 3) -> list[list[tuple[str, float]]]:
    """For one decoded sequence's (L, V) probabilities: the k likeliest tokens at each step.

    ``vocab`` is anything with ``itos`` (id -> token), or that list itself.
    """
    itos: Sequence[str] = getattr(vocab, "itos", vocab)
    probs, ids = step_probs_row.topk(min(k, step_probs_row.size(-1)), dim=-1)  # (L, k)
    return [[(itos[i], p) for i, p in zip(row_ids.tolist(), row_probs.tolist())]
            for row_ids, row_probs in zip(ids, probs)]
