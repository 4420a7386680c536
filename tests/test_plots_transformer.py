"""Transformer figures (chapter 6): heads, positional encodings, masks; Hangul drawn without missing glyphs."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from course_lib.plots import plot_attention_heads, plot_masks, plot_positional_encoding
from course_lib.transformer import SinusoidalPositionalEncoding, causal_mask

WORDS = "지난 회사 에서 사수님 과 동기 를 만났다 . 그분 은 친절했다 .".split()


def test_one_panel_per_head_with_the_tokens_on_the_axes(tmp_path):
    weights = torch.rand(3, len(WORDS), len(WORDS)).softmax(-1)
    fig = plot_attention_heads(weights, WORDS, WORDS, columns=2)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3 and [ax.get_title() for ax in panels] == ["head 1", "head 2", "head 3"]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == WORDS
    assert [t.get_text() for t in panels[0].get_yticklabels()] == WORDS
    assert np.allclose(panels[2].images[0].get_array(), weights[2].numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would be an error
        fig.savefig(tmp_path / "heads.png")


def test_heads_must_match_the_tokens():
    with pytest.raises(ValueError, match=r"\(heads, L_query, L_key\)"):
        plot_attention_heads(torch.rand(2, 4, 5), WORDS[:5], WORDS[:5])


def test_positional_encoding_figure_shows_the_matrix_and_curves():
    pe = SinusoidalPositionalEncoding(16, max_len=50)(50)
    fig = plot_positional_encoding(pe, dims=(0, 1, 6))
    matrix = next(ax for ax in fig.axes if ax.images)
    curves = next(ax for ax in fig.axes if ax.lines)
    assert matrix.images[0].get_array().shape == (16, 50)  # dimensions on y, positions on x
    assert len(curves.lines) == 3 and np.allclose(curves.lines[0].get_ydata(), pe[:, 0].numpy())
    with pytest.raises(ValueError, match="positions, d_model"):
        plot_positional_encoding(pe[0])


def test_masks_are_drawn_as_ones_and_zeros(tmp_path):
    tokens = ["<bos>", "천천히", "<eos>"]
    fig = plot_masks({"causal": causal_mask(3)}, tokens, tokens)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["1", "0", "0", "1", "1", "0", "1", "1", "1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(tmp_path / "mask.png")
