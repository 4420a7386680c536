"""Named training setups: the data, the model's config and how to train it, in one place.

Chapters and benchmarks that train "the dates GRU" call :func:`dates_gru` and so train the
same model the same way; :func:`digits_rnn` is the copy/reverse setup of chapter 2's
bottleneck plot; :func:`dates_attention` is chapter 5's dates model with an attention decoder;
:func:`dates_transformer` chapter 6's; :func:`text_to_text_t5` is chapter 8's small T5 trained
on three tasks at once. A :class:`Recipe` is deterministic: same arguments, same data, same initial
weights, same batches in the same order, so the same numbers on the same machine.

    recipe = dates_gru()
    model = recipe.build_model()
    history = recipe.train(model, device=device)
    evaluate_seq2seq(model, recipe.data, "test")

Training runs in *stages* (epochs at one learning rate each: a step schedule), each stage a
call to :func:`course_lib.train.fit` with a fresh optimizer (Adam; T5 gets Adafactor). The
dates GRU trains one epoch at a high rate, then one at a low rate; the second epoch is what
lifts it over the benchmark's target. What each recipe reaches is measured by its benchmark
and recorded in ``benchmarks/results/*.json`` (the book's performance page shows them), not
written here, where it would go stale.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from course_lib.attention import ATTENTION_CHOICES, attention_seq2seq
from course_lib.data import Seq2SeqBatch, Seq2SeqData, load_task
from course_lib.device import seed_everything
from course_lib.seq2seq import Seq2SeqConfig
from course_lib.t5 import T5Config, T5ForConditionalGeneration
from course_lib.text_to_text import text_to_text_data
from course_lib.train import OPTIMIZERS, History, fit, t5_loss
from course_lib.transformer import Transformer, TransformerConfig


@dataclass(frozen=True)
class Stage:
    """``epochs`` epochs at learning rate ``lr``."""

    epochs: int
    lr: float

    def __post_init__(self) -> None:
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"a stage needs epochs >= 1, got {self.epochs!r}")
        if not self.lr > 0:
            raise ValueError(f"a stage needs a positive learning rate, got {self.lr!r}")


@dataclass
class Recipe:
    """A named, deterministic training setup: data, model config, batch size and stages.

    The data is shared between recipes built with the same data arguments (it is cached):
    read it, don't modify it.
    """

    name: str
    data: Seq2SeqData
    config: Seq2SeqConfig | TransformerConfig | T5Config
    batch_size: int = 64
    stages: tuple[Stage, ...] = (Stage(1, 1e-3),)
    seed: int = 0
    clip: float | None = 1.0
    attention: str = "none"
    last_stage_batches: int | None = None
    optimizer: str = "adam"

    def __post_init__(self) -> None:
        self.stages = tuple(s if isinstance(s, Stage) else Stage(*s) for s in self.stages)
        if not self.stages:
            raise ValueError("a recipe needs at least one stage")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: choose one of {list(OPTIMIZERS)}")
        if self.attention not in ATTENTION_CHOICES:
            raise ValueError(f"unknown attention {self.attention!r}: choose one of {ATTENTION_CHOICES}")
        if self.last_stage_batches is not None and (not isinstance(self.last_stage_batches, int)
                                                    or self.last_stage_batches < 1):
            raise ValueError(f"last_stage_batches must be a positive int or None, got {self.last_stage_batches!r}")

    @property
    def epochs(self) -> int:
        """Epochs over all stages."""
        return sum(stage.epochs for stage in self.stages)

    def _in_last_stage(self, epoch: int) -> bool:
        return self.last_stage_batches is not None and epoch >= self.epochs - self.stages[-1].epochs

    @property
    def steps(self) -> int:
        """Optimizer steps over all stages (batches per epoch times epochs, the last stage possibly cut)."""
        per_epoch = -(-len(self.data.train) // self.batch_size)
        return sum(min(per_epoch, self.last_stage_batches) if self._in_last_stage(epoch) else per_epoch
                   for epoch in range(self.epochs))

    def build_model(self) -> nn.Module:
        """A freshly initialised model, the same one every time (seeded by ``seed``)."""
        seed_everything(self.seed)
        if isinstance(self.config, TransformerConfig):
            return Transformer(self.config)
        if isinstance(self.config, T5Config):
            return T5ForConditionalGeneration(self.config)
        return attention_seq2seq(self.config, self.attention)

    def train_batches(self, epoch: int) -> list[Seq2SeqBatch]:
        """Epoch ``epoch``'s training batches (0-based, counted over all stages), shuffled by seed.

        In the last stage, with ``last_stage_batches`` set, only the first batches of each epoch:
        a short cool-down at a low rate instead of whole epochs.
        """
        batches = self.data.batches("train", self.batch_size, shuffle=True, seed=1000 * self.seed + epoch)
        return batches[: self.last_stage_batches] if self._in_last_stage(epoch) else batches

    def valid_batches(self, batch_size: int = 256) -> list[Seq2SeqBatch]:
        """The validation split, in order (a word the training split never had becomes <unk>)."""
        return self.data.batches("valid", batch_size, unk=True)

    def train(self, model: nn.Module, *, device: str | torch.device | None = None, progress: bool = False,
              validate: bool = True, max_seconds: float | None = None, **fit_kwargs) -> History:
        """Train ``model`` through every stage; one :class:`History` for the whole run.

        ``fit_kwargs`` go to each :func:`~course_lib.train.fit` call (``teacher_forcing_ratio``,
        ``evaluate``, ``loss_fn``); a T5 recipe's loss is :func:`~course_lib.train.t5_loss` unless one is given.
        ``validate=False`` skips the validation loss. ``max_seconds`` bounds the training time
        of the whole run (stages included). History's ``seconds`` count training steps only,
        summed over the stages.
        """
        history = History()
        valid = self.valid_batches() if validate else None
        if isinstance(self.config, T5Config):
            fit_kwargs.setdefault("loss_fn", t5_loss)
        start_epoch, spent = 0, 0.0
        for index, stage in enumerate(self.stages):
            budget = None if max_seconds is None else max_seconds - spent
            part = fit(model, lambda epoch, first=start_epoch: self.train_batches(first + epoch), valid,
                       epochs=stage.epochs, lr=stage.lr, device=device, seed=self.seed + index, clip=self.clip,
                       progress=progress, max_seconds=budget, optimizer=self.optimizer, **fit_kwargs)
            history.train_loss += part.train_loss
            history.valid_loss += part.valid_loss
            history.metrics += part.metrics
            history.seconds += [spent + s for s in part.seconds]
            spent += part.seconds[-1] if part.seconds else 0.0
            start_epoch += stage.epochs
            if part.out_of_time:
                history.out_of_time = True
                break
        return history


@functools.lru_cache(maxsize=8)
def _task(name: str, n: int, seed: int, length: tuple[int, int] | None) -> Seq2SeqData:
    kwargs = {} if length is None else {"length": length}
    return load_task(name, n=n, seed=seed, **kwargs)


DATES_STAGES = (Stage(1, 5e-3), Stage(1, 1e-3))
"""Two epochs over 24,000 dates: one at a high learning rate, one at a low one."""


def dates_gru(*, n: int = 30_000, seed: int = 0, data_seed: int = 0, emb_dim: int = 64, hidden_size: int = 128,
              cell: str = "gru", batch_size: int = 64,
              stages: Sequence[Stage | tuple[int, float]] = DATES_STAGES, **config_overrides) -> Recipe:
    """The dates task (multi-language dates -> ISO) with the RNN seq2seq, no attention.

    The defaults are the benchmark's (``benchmarks/rnn_dates.py``): 30,000 dates (24,000 to
    train on), ``Seq2SeqConfig.small`` (emb 64, hidden 128), batches of 64, one epoch at
    lr 5e-3 then one at 1e-3: 750 steps. ``seed`` sets the initial weights and the batch
    order, ``data_seed`` the dates.
    """
    data = _task("dates", n, data_seed, None)
    config = Seq2SeqConfig(len(data.src_vocab), len(data.tgt_vocab), emb_dim=emb_dim, hidden_size=hidden_size,
                           cell=cell, **config_overrides)
    return Recipe(f"dates-{cell}", data, config, batch_size=batch_size, stages=tuple(stages), seed=seed)


def digits_rnn(task: str = "copy", *, length: tuple[int, int] = (3, 12), n: int = 12_000, seed: int = 0,
               data_seed: int = 0, cell: str = "gru", emb_dim: int = 32, hidden_size: int = 128,
               batch_size: int = 128, stages: Sequence[Stage | tuple[int, float]] = (Stage(4, 4e-3),),
               **config_overrides) -> Recipe:
    """Copy (or reverse) digit strings of ``length`` digits, RNN seq2seq without attention.

    Chapter 2's bottleneck: everything the decoder writes must pass through one context
    vector, and a string of L digits holds L digits of information, so exact match falls as
    L grows. Copying is the harder order: the first digit to write is the one read longest ago.
    """
    data = _task(task, n, data_seed, tuple(length))
    config = Seq2SeqConfig(len(data.src_vocab), len(data.tgt_vocab), emb_dim=emb_dim, hidden_size=hidden_size,
                           cell=cell, **config_overrides)
    return Recipe(f"{task}-{cell}", data, config, batch_size=batch_size, stages=tuple(stages), seed=seed)


ATTENTION_STAGES = (Stage(1, 7e-3), Stage(1, 1e-3))
"""One epoch at a high rate, then a cool-down at a low one (cut to ``COOL_DOWN_BATCHES`` batches)."""
COOL_DOWN_BATCHES = 40


def dates_attention(attention: str = "bahdanau", *, seed: int = 0, hidden_size: int = 64, batch_size: int = 96,
                    stages: Sequence[Stage | tuple[int, float]] = ATTENTION_STAGES,
                    last_stage_batches: int | None = COOL_DOWN_BATCHES, **kwargs) -> Recipe:
    """The dates task with an attention decoder (or ``"none"``): chapter 2's data, a smaller, faster model.

    Hidden size 64, batches of 96: one epoch at lr 7e-3, then 40 batches at lr 1e-3 (290
    steps, about 28,000 dates). The cool-down is what makes the result stable across seeds:
    without it, the last steps at a constant rate leave the exact match varying from seed to
    seed. ``benchmarks/attention_dates.py`` trains it for every variant.
    """
    base = dates_gru(seed=seed, hidden_size=hidden_size, batch_size=batch_size, stages=stages, **kwargs)
    return dataclasses.replace(base, name=f"dates-{base.config.cell}-{attention}", attention=attention,
                               last_stage_batches=last_stage_batches)


TRANSFORMER_STAGES = (Stage(2, 4e-3), Stage(1, 5e-4))
"""Two epochs at a high rate, then a cool-down at a low one (cut to ``TRANSFORMER_COOL_DOWN`` batches)."""
TRANSFORMER_COOL_DOWN = 100


def dates_transformer(*, n: int = 30_000, seed: int = 0, data_seed: int = 0, d_model: int = 64, num_heads: int = 4,
                      num_encoder_layers: int = 2, num_decoder_layers: int = 2, d_ff: int = 128,
                      positional: str = "learned", batch_size: int = 128,
                      stages: Sequence[Stage | tuple[int, float]] = TRANSFORMER_STAGES,
                      last_stage_batches: int | None = TRANSFORMER_COOL_DOWN, **config_overrides) -> Recipe:
    """Chapter 2's dates with a small pre-norm Transformer (chapter 6).

    d_model 64, 4 heads, 2 + 2 blocks, d_ff 128, learned positions, no dropout; batches of
    128, two epochs at lr 4e-3, then a cool-down of 100 batches at 5e-4 (476 steps).
    ``benchmarks/transformer_dates.py`` trains it and prints its exact match and training
    time. Learned positions were chosen by measurement: with the same steps they did better
    than ``--positional sinusoidal`` (run the benchmark both ways to see by how much).
    """
    base = dates_gru(n=n, seed=seed, data_seed=data_seed, batch_size=batch_size, stages=stages)
    data = base.data
    config = TransformerConfig(len(data.src_vocab), len(data.tgt_vocab), d_model=d_model, num_heads=num_heads,
                               num_encoder_layers=num_encoder_layers, num_decoder_layers=num_decoder_layers,
                               d_ff=d_ff, dropout=0.0, norm_first=True, positional=positional, max_len=64,
                               **config_overrides)
    return dataclasses.replace(base, name="dates-transformer", config=config, last_stage_batches=last_stage_batches)


T5_STAGES = (Stage(7, 3e-2), Stage(1, 3e-3))
"""Adafactor: seven epochs at relative step 3e-2, one at 3e-3."""


def text_to_text_t5(*, n_per_task: int = 4000, seed: int = 0, data_seed: int = 0, d_model: int = 64,
                    num_heads: int = 4, num_layers: int = 2, d_ff: int = 128, batch_size: int = 128,
                    stages: Sequence[Stage | tuple[int, float]] = T5_STAGES, **config_overrides) -> Recipe:
    """Chapter 8: one small T5 trained on three tasks at once, each told by a prefix (``course_lib.text_to_text``).

    d_model 64, 4 heads, 2 + 2 layers, d_ff 128, ReLU, tied output, 16 relative-position
    buckets up to distance 32, no dropout; 4,000 pairs per task (3,200 of each to train on),
    batches of 128, Adafactor (T5's optimizer) for the stages above. The vocabulary is shared
    by the encoder and the decoder (T5 shares one embedding table); decoding starts from the
    data's ``<bos>`` (id 1) and stops at its ``<eos>`` (id 2), which the config's ``eos_id`` says.

    Why Adafactor: T5 initialises its embeddings N(0, 1), for an optimizer whose steps scale
    with each parameter's size. Adam's fixed-size steps move them slowly, and translation
    suffers most (``benchmarks/t5_text_to_text.py --optimizer adam --lr 3e-3 3e-4`` trains it
    with Adam, the same steps, to compare with the run without the options).
    """
    data = _text_to_text(n_per_task, data_seed)
    config = T5Config(len(data.src_vocab), d_model=d_model, num_heads=num_heads, num_encoder_layers=num_layers,
                      num_decoder_layers=num_layers, d_ff=d_ff, relative_attention_num_buckets=16,
                      relative_attention_max_distance=32, dropout=0.0, pad_id=data.src_vocab.pad_id,
                      eos_id=data.src_vocab.eos_id, **config_overrides)
    return Recipe("text-to-text-t5", data, config, batch_size=batch_size, stages=stages, seed=seed,
                  optimizer="adafactor")


@functools.lru_cache(maxsize=2)
def _text_to_text(n_per_task: int, seed: int) -> Seq2SeqData:
    return text_to_text_data(n_per_task, seed=seed)
