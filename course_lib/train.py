"""Training and evaluating sequence-to-sequence models.

``fit`` is one loop for every model in the course: Adam, gradient clipping, a
validation loss after each epoch, optional extra metrics, and an optional time
budget (the benchmarks compare models at equal seconds of training).
``evaluate_seq2seq`` reports free-running (greedy) accuracy next to
teacher-forced accuracy: the gap between them is exposure bias (chapter 4).
"""
from __future__ import annotations

import inspect
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable, Protocol, Sequence

import torch
from torch import nn
from tqdm import TqdmWarning

from course_lib.decoding import eval_mode, greedy_decode
from course_lib.device import get_device, seed_everything
from course_lib.metrics import exact_match, token_accuracy
from course_lib.seq2seq import masked_cross_entropy

with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmWarning)  # on stderr, in a notebook without ipywidgets
    from tqdm.auto import tqdm



class Batch(Protocol):
    """What ``fit`` needs of a batch: a copy on a device. ``Seq2SeqBatch`` and ``PretrainingBatch`` are batches;
    what else a batch holds is the loss function's business (``seq2seq_loss`` reads .src, .src_lengths, .tgt_in,
    .tgt_out)."""

    def to(self, device: torch.device) -> Batch: ...


Batches = Sequence[Batch]
LossFn = Callable[[nn.Module, Batch], torch.Tensor]


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _pad_id(model: nn.Module) -> int:
    return getattr(getattr(model, "config", None), "pad_id", 0)


def seq2seq_loss(model: nn.Module, batch, teacher_forcing_ratio: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """The default loss: masked cross-entropy of the model's logits for batch.tgt_out.

    A ratio below 1 (a recurrent decoder fed its own predictions now and then, chapter 4) reaches
    the model with the generator of its coin flips; at 1 the model only reads the gold targets,
    which every model can, a Transformer included.
    """
    if teacher_forcing_ratio == 1.0:
        logits = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    elif "teacher_forcing_ratio" not in inspect.signature(model.forward).parameters:
        raise ValueError(f"{type(model).__name__} reads the whole target at once (teacher forcing is how it trains):"
                         f" teacher_forcing_ratio must be 1.0, got {teacher_forcing_ratio}")
    else:
        logits = model(batch.src, batch.src_lengths, batch.tgt_in, teacher_forcing_ratio=teacher_forcing_ratio,
                       generator=generator)
    return masked_cross_entropy(logits, batch.tgt_out, _pad_id(model))


def t5_loss(model: nn.Module, batch) -> torch.Tensor:
    """Masked cross-entropy of a T5 (or BART) on a batch: they take an attention mask, not lengths."""
    return masked_cross_entropy(model(batch.src, batch.src_mask, batch.tgt_in), batch.tgt_out, model.config.pad_id)


OPTIMIZERS = ("adam", "adafactor")


def make_optimizer(name: str, parameters: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam, or Adafactor (T5's, with relative steps: see ``fit``)."""
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr)
    if name == "adafactor":
        return torch.optim.Adafactor(parameters, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}: choose one of {list(OPTIMIZERS)}")


@dataclass
class History:
    """One entry per epoch."""

    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)  # nan when there is no validation data
    metrics: list[dict[str, float]] = field(default_factory=list)  # from ``evaluate``, if given
    seconds: list[float] = field(default_factory=list)  # training time so far (validation not counted)
    out_of_time: bool = False  # stopped by ``max_seconds``; the last epoch may be partial

    def rows(self) -> list[dict[str, float]]:
        return [{"epoch": i + 1, "train_loss": tl, "valid_loss": vl, **m, "seconds": s}
                for i, (tl, vl, m, s) in enumerate(zip(self.train_loss, self.valid_loss, self.metrics, self.seconds))]

    def as_table(self) -> str:
        """A plain-text table, one line per epoch."""
        rows = self.rows()
        if not rows:
            return "(no epochs)"
        columns = list(dict.fromkeys(key for row in rows for key in row))
        widths = [max(len(c), 7) for c in columns]
        lines = ["  ".join(f"{c:>{w}}" for c, w in zip(columns, widths))]
        for row in rows:
            cells = [row.get(c, float("nan")) for c in columns]
            lines.append("  ".join(f"{c:>{w}d}" if isinstance(c, int) else f"{c:>{w}.4f}"
                                   for c, w in zip(cells, widths)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_table()


@torch.no_grad()
def _mean_loss(model: nn.Module, batches: Batches, loss_fn: LossFn, device: torch.device) -> float:
    losses = [loss_fn(model, batch.to(device)).item() for batch in batches]
    return sum(losses) / len(losses) if losses else float("nan")


def fit(model: nn.Module, train_batches: Batches | Callable[[int], Batches], valid_batches: Batches | None, *,
        epochs: int, lr: float = 1e-3, device: str | torch.device | None = None, seed: int = 0,
        clip: float | None = 1.0, teacher_forcing_ratio: float = 1.0, loss_fn: LossFn | None = None,
        max_seconds: float | None = None, progress: bool = True,
        evaluate: Callable[[nn.Module], dict[str, float]] | None = None, optimizer: str = "adam") -> History:
    """Train ``model`` with Adam (or Adafactor) for ``epochs`` epochs; return the loss (and metric) history.

    ``train_batches`` is a list of batches, or a function ``epoch -> batches``
    to reshuffle every epoch. ``loss_fn(model, batch) -> loss`` defaults to
    masked cross-entropy with ``teacher_forcing_ratio``; validation always
    uses the teacher-forced loss. ``evaluate(model) -> dict`` adds metrics
    after each epoch. Same seed, same data, same model init: same history.
    ``optimizer="adafactor"`` is T5's optimizer: its steps are ``lr`` times each parameter's
    RMS (relative steps), capped at 1/sqrt(step), which suits T5's N(0, 1) embeddings.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if loss_fn is not None and teacher_forcing_ratio != 1.0:
        raise ValueError("teacher_forcing_ratio applies to the default loss only; with your own loss_fn,"
                         " feed the model inside loss_fn")
    device = get_device(device)
    generator = seed_everything(seed)  # also draws the teacher-forcing coin flips
    model.to(device)
    optimizer = make_optimizer(optimizer, model.parameters(), lr)
    train_loss_fn = loss_fn or partial(seq2seq_loss, teacher_forcing_ratio=teacher_forcing_ratio,
                                       generator=generator)
    valid_loss_fn = loss_fn or seq2seq_loss
    history = History()
    trained = 0.0
    bar = tqdm(range(epochs), desc="epochs", disable=not progress, file=sys.stdout)
    for epoch in bar:
        batches = train_batches(epoch) if callable(train_batches) else train_batches
        model.train()
        losses = []
        for batch in batches:
            start = time.perf_counter()
            loss = train_loss_fn(model, batch.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(loss.item())
            trained += time.perf_counter() - start
            if max_seconds is not None and trained >= max_seconds:
                history.out_of_time = True
                break
        model.eval()
        history.train_loss.append(sum(losses) / len(losses) if losses else float("nan"))
        history.valid_loss.append(_mean_loss(model, valid_batches or [], valid_loss_fn, device))
        history.metrics.append(dict(evaluate(model)) if evaluate is not None else {})
        history.seconds.append(trained)
        bar.set_postfix(train=f"{history.train_loss[-1]:.3f}", valid=f"{history.valid_loss[-1]:.3f}",
                        **{k: f"{v:.3f}" for k, v in history.metrics[-1].items()})
        if history.out_of_time:
            break
    bar.close()
    model.train()
    return history


def _pad_to(tokens: torch.Tensor, length: int, pad_id: int) -> torch.Tensor:
    """(B, L) -> (B, length): cut, or pad on the right."""
    if tokens.size(1) >= length:
        return tokens[:, :length]
    return torch.nn.functional.pad(tokens, (0, length - tokens.size(1)), value=pad_id)


def _score_examples(model: nn.Module, data, split: str, *, batch_size: int, device, max_len: int | None,
                    bos_id: int, eos_id: int, pad_id: int):
    """Yield (batch, greedy tokens cut/padded to the gold length, their texts, the gold texts) per batch."""
    for batch in data.batches(split, batch_size, shuffle=False, device=device, unk=True):
        gold = batch.tgt_out  # (B, T): y_1 .. y_n <eos> pad
        # Beyond the gold length a prediction is wrong anyway, so that is all we need to generate.
        result = greedy_decode(model, batch.src, batch.src_lengths, max_len=max_len or gold.size(1),
                               bos_id=bos_id, eos_id=eos_id, pad_id=pad_id)
        pred = _pad_to(result.tokens, gold.size(1), pad_id)  # (B, T)
        pred_text = [data.decode_target(row) for row in pred.tolist()]
        gold_text = [data.decode_target(row) for row in gold.tolist()]
        yield batch, pred, pred_text, gold_text


def _stack_padded(batches: list[torch.Tensor], pad_id: int) -> torch.Tensor:
    """(B_i, T_i) tensors -> one (sum B_i, max T_i) tensor, padded on the right."""
    length = max(t.size(1) for t in batches)
    return torch.cat([_pad_to(t, length, pad_id) for t in batches])


@torch.no_grad()
def evaluate_seq2seq(model: nn.Module, data, split: str = "valid", *, batch_size: int = 256,
                     device: str | torch.device | None = None, max_len: int | None = None,
                     teacher_forced: bool = False, bos_id: int = 1, eos_id: int = 2,
                     pad_id: int = 0) -> dict[str, float]:
    """Greedy (free-running) exact match and token accuracy on ``data``'s ``split``.

    Exact match compares decoded strings (``data.decode_target``); token
    accuracy compares ids position by position. With ``teacher_forced`` it also
    reports the token accuracy when every gold previous token is fed
    (``teacher_forced_token_accuracy``), as in training; the gap between the
    two measures exposure bias. ``max_len`` defaults to each batch's gold length;
    ``device`` to the model's.
    """
    device = _model_device(model) if device is None else get_device(device)
    model.to(device)
    pred_texts, gold_texts, preds, golds, tf_preds = [], [], [], [], []
    with eval_mode(model):
        for batch, pred, pred_text, gold_text in _score_examples(model, data, split, batch_size=batch_size,
                                                                 device=device, max_len=max_len, bos_id=bos_id,
                                                                 eos_id=eos_id, pad_id=pad_id):
            pred_texts += pred_text
            gold_texts += gold_text
            preds.append(pred)
            golds.append(batch.tgt_out)  # (B, T)
            if teacher_forced:
                tf_preds.append(model(batch.src, batch.src_lengths, batch.tgt_in).argmax(-1))  # (B, T)
    if not golds:
        raise ValueError(f"split {split!r} has no examples to evaluate")
    gold = _stack_padded(golds, pad_id)  # every example of the split, (N, T_max)
    results = {"exact_match": exact_match(pred_texts, gold_texts),
               "token_accuracy": token_accuracy(_stack_padded(preds, pad_id), gold, pad_id)}
    if teacher_forced:
        results["teacher_forced_token_accuracy"] = token_accuracy(_stack_padded(tf_preds, pad_id), gold, pad_id)
    return results


@torch.no_grad()
def accuracy_by_length(model: nn.Module, data, split: str = "test", *, batch_size: int = 256,
                       device: str | torch.device | None = None, max_len: int | None = None,
                       bucket_size: int = 1, bos_id: int = 1, eos_id: int = 2,
                       pad_id: int = 0) -> dict[int, float]:
    """Greedy exact match grouped by source length (in tokens): the bottleneck plot's data.

    With ``bucket_size`` > 1 lengths are grouped into ranges, keyed by their
    lower end (bucket_size 5: 0-4 -> 0, 5-9 -> 5, ...).
    """
    device = _model_device(model) if device is None else get_device(device)
    model.to(device)
    by_length: dict[int, list[bool]] = defaultdict(list)
    with eval_mode(model):
        for batch, _, pred_text, gold_text in _score_examples(model, data, split, batch_size=batch_size,
                                                              device=device, max_len=max_len, bos_id=bos_id,
                                                              eos_id=eos_id, pad_id=pad_id):
            for length, p, g in zip(batch.src_lengths.tolist(), pred_text, gold_text):
                by_length[length // bucket_size * bucket_size].append(p == g)
    return {length: sum(oks) / len(oks) for length, oks in sorted(by_length.items())}
