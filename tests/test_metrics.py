"""Scoring decoded outputs (course_lib.metrics): exact match, token accuracy, BLEU."""
from __future__ import annotations

import pytest
import torch

from course_lib.metrics import bleu, exact_match, token_accuracy


def test_exact_match_compares_whole_strings():
    assert exact_match(["a", "b", "c"], ["a", "x", "c"]) == pytest.approx(2 / 3)
    assert exact_match(["세상아, 안녕!"], ["세상아, 안녕"]) == 0.0  # one character short is wrong
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        exact_match(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="at least one prediction"):
        exact_match([], [])


def test_token_accuracy_counts_real_gold_positions_only():
    pred = torch.tensor([[5, 6, 9, 9], [5, 0, 0, 0]])
    gold = torch.tensor([[5, 6, 7, 0], [5, 6, 0, 0]])
    assert token_accuracy(pred, gold, pad_id=0) == pytest.approx(3 / 5)  # the 9 under gold padding counts nothing
    with pytest.raises(ValueError, match="shape"):
        token_accuracy(pred[:, :2], gold)
    with pytest.raises(ValueError, match="only padding"):
        token_accuracy(pred, torch.zeros_like(gold))


def test_bleu_is_sacrebleus_corpus_bleu():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert bleu(["세상아, 안녕!"], ["세상아, 안녕!"], tokenize="char") == pytest.approx(100.0)
    assert 0.0 < bleu(["고양이가 매트 위에 앉았다."], ["고양이가 매트 위에 앉는다."], tokenize="char") < 100.0
    with pytest.raises(ValueError, match="predictions"):
        bleu(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="tokenize"):
        bleu(["a"], ["a"], tokenize="klingon")
