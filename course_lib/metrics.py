"""Scoring decoded outputs against references: exact match, token accuracy, BLEU.

Exact match and token accuracy suit tasks with one right answer (dates,
copying); BLEU (via sacrebleu, so numbers are comparable with papers) suits
translation, where many outputs are acceptable.
"""
from __future__ import annotations

import logging
from typing import Sequence

import sacrebleu
import torch
from sacrebleu.metrics.bleu import BLEU


def _check_pair(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references:"
                         " pass one reference per prediction, in the same order")
    if len(predictions) == 0:
        raise ValueError("no predictions to score: pass at least one prediction and its reference")


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Fraction of predictions equal to their reference, character for character."""
    _check_pair(predictions, references)
    return sum(p == r for p, r in zip(predictions, references)) / len(predictions)


def token_accuracy(pred_ids: torch.Tensor, gold_ids: torch.Tensor, pad_id: int = 0) -> float:
    """Fraction of real (non-pad) gold positions where the prediction has the same id.

    pred_ids, gold_ids: (B, T). Position-wise: one missing token shifts
    everything after it, which is what a free-running decoder must be judged on.
    """
    if pred_ids.shape != gold_ids.shape:
        raise ValueError(f"pred_ids {tuple(pred_ids.shape)} and gold_ids {tuple(gold_ids.shape)} differ in shape:"
                         " pad or cut the predictions to the gold length first")
    mask = gold_ids != pad_id  # (B, T)
    if not mask.any():
        raise ValueError("gold_ids holds only padding: nothing to score")
    return ((pred_ids == gold_ids) & mask).sum().item() / mask.sum().item()


def bleu(predictions: Sequence[str], references: Sequence[str], tokenize: str = "13a") -> float:
    """Corpus BLEU, 0-100, one reference per prediction (sacrebleu's ``corpus_bleu``).

    ``tokenize`` is sacrebleu's tokenizer: '13a' (its default, for English),
    'char' (every character a token: a fair choice for Korean without a
    morpheme analyser), 'intl', or 'none' for text already split by spaces.
    """
    _check_pair(predictions, references)
    if tokenize not in BLEU.TOKENIZERS:
        raise ValueError(f"unknown tokenize {tokenize!r}: sacrebleu knows {sorted(BLEU.TOKENIZERS)}")
    logger = logging.getLogger("sacrebleu")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its hints ("lines end in a tokenized period") go to stderr
    try:
        return sacrebleu.corpus_bleu(list(predictions), [list(references)], tokenize=tokenize).score
    finally:
        logger.setLevel(level)
