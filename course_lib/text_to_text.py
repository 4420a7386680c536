"""Text-to-text: several tasks for one model, each told by a prefix of its input (T5, chapter 8).

T5 casts every problem as text in, text out, and says which problem it is in the input
itself: "translate English to German: …", "summarize: …". Here three of the course's tasks
get the same treatment:

- ``date: Tuesday, March 3, 2020`` → ``2020-03-03`` (chapter 2's dates),
- ``reverse: 38472`` → ``27483`` (chapter 1's digit strings),
- ``translate English to Korean: the cat sat on the mat.`` → ``고양이가 매트 위에 앉았다.``
  (the course's English→Korean grammar).

One tokenizer serves all three: digits one token each (so numbers can be copied digit by
digit), runs of letters (English or Hangul) one token each, punctuation one token each.
"""
from __future__ import annotations

import dataclasses
import random
import re
from typing import Iterable, Sequence

import torch
from torch import nn

from course_lib.data import Seq2SeqData, Vocab, pad_batch, split_pairs
from course_lib.decoding import eval_mode, greedy_decode
from course_lib.tasks import Pair, date_pairs, digit_pairs, grammar_pairs

PREFIXES = {"date": "date: ", "reverse": "reverse: ", "translate": "translate English to Korean: "}
_TOKEN = re.compile(r"\d|[^\W\d_]+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Digits and punctuation marks one token each, runs of letters one token: '3월' -> ['3', '월']."""
    return _TOKEN.findall(text)


def detokenize(tokens: Iterable[str]) -> str:
    """Join tokens, with a space only between two words (or a word and a digit): the inverse of
    ``tokenize`` on the course's targets (ISO dates, digit strings, Korean sentences)."""
    out = ""
    previous = None
    for token in tokens:
        if previous is not None and token[0].isalpha() and (previous[-1].isalpha() or previous in ",."):
            out += " "
        out += token
        previous = token
    return out


def task_of(source: str) -> str:
    """The task a source names by its prefix, or 'unknown'."""
    for task, prefix in PREFIXES.items():
        if source.startswith(prefix):
            return task
    return "unknown"


def task_pairs(task: str, n: int, *, seed: int = 0) -> list[Pair]:
    """``n`` (prefixed source, target) pairs of one task."""
    if task == "date":
        pairs = date_pairs(n, seed=seed)
    elif task == "reverse":
        pairs = digit_pairs(n, (3, 10), task="reverse", seed=seed)
    elif task == "translate":
        pairs = grammar_pairs(n, seed=seed, include_examples=False)
    else:
        raise ValueError(f"unknown task {task!r}; known tasks: {', '.join(PREFIXES)}")
    return [(PREFIXES[task] + source, target) for source, target in pairs]


def text_to_text_data(n_per_task: int = 4000, *, seed: int = 0,
                      fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> Seq2SeqData:
    """All tasks mixed into one ``Seq2SeqData``, split per task (so every task has its share of
    each split), with one vocabulary for sources and targets alike (built on train only): T5
    shares one embedding table between its encoder, its decoder and its output layer, so a
    token must mean the same thing on both sides."""
    splits: dict[str, list[Pair]] = {"train": [], "valid": [], "test": []}
    for i, task in enumerate(PREFIXES):
        train, valid, test = split_pairs(task_pairs(task, n_per_task, seed=seed + i), fractions, seed=seed)
        for name, part in zip(splits, (train, valid, test)):
            splits[name] += part
    for name, part in splits.items():
        random.Random(seed).shuffle(part)
    vocab = Vocab.build(tokenize(text) for pair in splits["train"] for text in pair)
    return Seq2SeqData("text-to-text", splits["train"], splits["valid"], splits["test"], vocab, vocab,
                       tokenize, tokenize, detokenize, detokenize)


def only_task(data: Seq2SeqData, task: str) -> Seq2SeqData:
    """The same data (same vocabularies) restricted to one task's pairs, for per-task scores."""
    if task not in PREFIXES:
        raise ValueError(f"unknown task {task!r}; known tasks: {', '.join(PREFIXES)}")
    keep = lambda pairs: [p for p in pairs if task_of(p[0]) == task]  # noqa: E731
    return dataclasses.replace(data, name=f"{data.name}/{task}", train=keep(data.train), valid=keep(data.valid),
                               test=keep(data.test))


def generate(model: nn.Module, data: Seq2SeqData, sources: Sequence[str], *, max_len: int = 48,
             batch_size: int = 256) -> list[str]:
    """Greedy outputs of ``model`` for source texts, any texts: a word the vocabulary lacks becomes <unk>."""
    if isinstance(sources, str) or not sources:
        raise ValueError("sources must be a non-empty list of texts (wrap a single text in a list)")
    device = next(model.parameters()).device
    outputs: list[str] = []
    with eval_mode(model):
        for start in range(0, len(sources), batch_size):
            ids = [data.encode_source(text, unk=True) for text in sources[start:start + batch_size]]
            src, lengths, _ = pad_batch(ids, device=device)
            result = greedy_decode(model, src, lengths, max_len=max_len, bos_id=data.tgt_vocab.bos_id,
                                   eos_id=data.tgt_vocab.eos_id, pad_id=data.tgt_vocab.pad_id)
            outputs += [data.decode_target(row) for row in result.tokens.tolist()]
    return outputs
