"""Diagrams of attention inside a sequence-to-sequence model (chapter 5), drawn from the model's config.

``draw_attention_steps`` draws the five steps of dot-product attention as the study note on seq2seq
learning draws them (encoder states, scores, softmax weights, context vector, concatenation with the
decoder state through a feed-forward layer to the output), with the shapes of the chapter's model:
the note's toy <4x3>, <1x3>, <1x3>, <4x1> become <H x S>, <1 x S>, <1 x S>, <H x 1>.
``draw_bahdanau_step`` draws one step of Bahdanau's decoder: s_{i-1} scores every encoder state, the
weights make the context c_i, and s_i = f(s_{i-1}, y_{i-1}, c_i) feeds the output layer.
The decoder's state is always s (the encoder's h), in Luong's case as in Bahdanau's.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from matplotlib.figure import Figure

from course_lib.diagrams import arrow, box, canvas, figure_tokens, label
from course_lib.seq2seq import Seq2SeqConfig

__all__ = ["draw_attention_steps", "draw_bahdanau_step", "MAX_SOURCE"]

MAX_SOURCE = 64  # the longest source drawn (its first positions, an ellipsis and the last one)
SHOWN = 7  # encoder states drawn at most, the ellipsis included


def _checked(config: Seq2SeqConfig) -> Seq2SeqConfig:
    """The config, validated again (a field may have been changed after construction)."""
    if not isinstance(config, Seq2SeqConfig):
        raise TypeError(f"expected a Seq2SeqConfig, got {type(config).__name__}")
    return dataclasses.replace(config)  # runs __post_init__'s checks on the current values


def _encoder_row(ax, tokens: list[str], x0: float, width: float, y: float) -> list[tuple[float, float]]:
    """Source tokens under one encoder state box each, chained left to right (a long source shows its first
    positions, an ellipsis and the last one); returns the tops of the boxes."""
    shown: list[int | None] = list(range(1, len(tokens) + 1))
    if len(tokens) > SHOWN:
        shown = shown[: SHOWN - 2] + [None, len(tokens)]
    step = width / len(shown)
    w = min(1.0, step * 0.8)
    tops = []
    for k, j in enumerate(shown):
        x = x0 + k * step + (step - w) / 2
        if j is None:
            label(ax, x + w / 2, y + 0.275, "…", fontsize=12)
            continue
        token = tokens[j - 1]
        label(ax, x + w / 2, y - 0.45, "␣" if token == " " else token, fontsize=9)
        box(ax, x, y, w, 0.55, f"$h_{{{j}}}$", "encoder", fontsize=9 if j < 10 else 8)
        arrow(ax, (x + w / 2, y - 0.3), (x + w / 2, y))
        if k > 0 and shown[k - 1] is not None:
            arrow(ax, (x - (step - w), y + 0.275), (x, y + 0.275))
        tops.append((x + w / 2, y + 0.55))
    return tops


def draw_attention_steps(config: Seq2SeqConfig, source: Sequence[str] = ("take", "your", "time"),
                         output: str = "천천히") -> Figure:
    """The five steps of dot-product attention for one decoder step, with the shapes of ``config``'s model.

    The encoder reads ``source``; the decoder's state s_1 (after <bos>) is the query. Steps: (1) the
    encoder states <H x S>, (2) the scores s_1^T h_j <1 x S>, (3) their softmax <1 x S>, (4) the context
    vector <H x 1>, (5) [c_1; s_1] <2H x 1> through tanh(W_c .) <H x 1> and W_s to the logits <V x 1>,
    whose argmax is ``output``.
    """
    config = _checked(config)
    tokens = figure_tokens(source, "source", MAX_SOURCE)
    if not isinstance(output, str) or not output:
        raise ValueError(f"output must be a non-empty string, got {output!r}")
    H, S, V = config.hidden_size, len(tokens), config.tgt_vocab_size
    fig, ax = canvas(15.0, 6.4)
    label(ax, 7.5, 6.1, f"Attention in seq2seq, five steps: hidden size H = {H}, source length S = {S}, "
                        f"target vocabulary V = {V:,}", fontsize=11)

    # the encoder (bottom left) and the decoder's state s_1 (bottom right)
    tops = _encoder_row(ax, tokens, 0.2, 5.4, 1.0)
    label(ax, 2.9, 0.1, f"encoder ({config.cell.upper()}, E={config.emb_dim}, H={H})", fontsize=9)
    label(ax, 8.35, 0.55, "<bos>", fontsize=9)
    dec = box(ax, 7.75, 1.0, 1.2, 0.55, "$s_1$", "decoder")
    arrow(ax, (8.35, 0.7), (8.35, 1.0))
    label(ax, 8.35, 0.1, f"decoder state (H={H})", fontsize=9)

    # the five steps, left to right
    y, h = 3.0, 1.25
    steps = [
        (0.2, 2.6, f"① encoder states\n$[h_1 \\dots h_S]$\n<{H} x {S}>", "encoder"),
        (3.2, 2.4, f"② scores\n$e_{{1j}} = s_1^\\top h_j$\n<1 x {S}>", "attention"),
        (6.0, 2.2, f"③ softmax\n$a_{{1j}}$\n<1 x {S}>", "attention"),
        (8.6, 2.4, f"④ context vector\n$c_1 = \\sum_j a_{{1j}} h_j$\n<{H} x 1>", "context"),
        (11.4, 3.4, f"⑤ concat $[c_1; s_1]$ <{2 * H} x 1>\n→ $\\tanh(W_c\\,\\cdot)$ <{H} x 1>\n"
                    f"→ $W_s$ → logits <{V:,} x 1>", "output"),
    ]
    for x, w, text, kind in steps:
        box(ax, x, y, w, h, text, kind, fontsize=9)
    for (x, w, _, _), (nx, _, _, _) in zip(steps, steps[1:]):
        arrow(ax, (x + w, y + h / 2), (nx, y + h / 2))
    for top_x, top_y in tops:  # every encoder state goes into step 1
        arrow(ax, (top_x, top_y), (min(max(top_x, 0.4), 2.6), y))
    arrow(ax, (dec[0] + 0.3, 1.55), (4.4, y), "query")  # s_1 to the scores
    arrow(ax, (dec[0] + dec[2] - 0.1, 1.55), (12.4, y), "")  # s_1 to the concatenation
    # step 1's states are summed again in step 4 (they are the values): a dashed line above the row
    ax.plot([1.5, 1.5, 9.8], [y + h, y + h + 0.75, y + h + 0.75], color="#333333", linestyle="--", linewidth=1.2)
    arrow(ax, (9.8, y + h + 0.75), (9.8, y + h), dashed=True)
    label(ax, 5.6, y + h + 0.95, "the same states, weighted by $a_{1j}$ (keys and values)", fontsize=9)
    arrow(ax, (13.1, y), (13.1, 1.9))
    box(ax, 12.4, 1.0, 1.4, 0.9, f"{output}\n(argmax)", "output", fontsize=10)
    return fig


def draw_bahdanau_step(config: Seq2SeqConfig, source: Sequence[str] = ("2020년", "3월", "3일"),
                       attention_size: int | None = None) -> Figure:
    """One step i of Bahdanau's decoder for ``config``'s model: s_{i-1} scores every encoder state h_j with
    v^T tanh(W_q s_{i-1} + W_k h_j), the softmax weights make c_i, the RNN computes
    s_i = f(s_{i-1}, y_{i-1}, c_i) from [embedding of y_{i-1}; c_i], and W_out [s_i; c_i] gives the logits.
    ``attention_size`` A defaults to H, as in ``course_lib.attention``."""
    config = _checked(config)
    tokens = figure_tokens(source, "source", MAX_SOURCE)
    H, E, V, S = config.hidden_size, config.emb_dim, config.tgt_vocab_size, len(tokens)
    A = attention_size if attention_size is not None else H
    if not isinstance(A, int) or A < 1:
        raise ValueError(f"attention_size must be a positive integer, got {attention_size!r}")
    fig, ax = canvas(15.0, 6.4)
    label(ax, 7.5, 6.1, f"One step of Bahdanau's decoder: H = {H}, E = {E}, A = {A}, S = {S}, V = {V:,}",
          fontsize=11)

    tops = _encoder_row(ax, tokens, 0.2, 4.4, 1.0)
    label(ax, 2.4, 0.1, f"encoder states $h_j$ (H={H})", fontsize=9)
    prev = box(ax, 0.4, 4.3, 1.6, 0.8, f"$s_{{i-1}}$\n(1, {H})", "decoder")
    y = 2.9
    score = box(ax, 2.6, y, 2.9, 1.1, f"scores\n$e_{{ij}} = v^\\top\\tanh(W_q s_{{i-1}} + W_k h_j)$\n(1, {S})",
                "attention", fontsize=9)
    weights = box(ax, 6.0, y, 1.7, 1.1, f"softmax\n$a_{{ij}}$\n(1, {S})", "attention", fontsize=9)
    context = box(ax, 8.2, y, 1.9, 1.1, f"context\n$c_i = \\sum_j a_{{ij}} h_j$\n(1, {H})", "context", fontsize=9)
    for top_x, top_y in tops:
        arrow(ax, (top_x, top_y), (min(max(top_x, 2.8), 5.3), y))
    arrow(ax, (prev[0] + prev[2], 4.7), (score[0] + 0.4, y + 1.1), "query")
    arrow(ax, (score[0] + score[2], y + 0.55), (weights[0], y + 0.55))
    arrow(ax, (weights[0] + weights[2], y + 0.55), (context[0], y + 0.55))
    ax.plot([4.6, 4.6, 9.15], [1.3, 2.2, 2.2], color="#333333", linestyle="--", linewidth=1.2)
    arrow(ax, (9.15, 2.2), (9.15, y), dashed=True)
    label(ax, 6.9, 2.0, "the same $h_j$, weighted (values)", fontsize=9)

    # the recurrence s_i = f(s_{i-1}, y_{i-1}, c_i) and the output
    label(ax, 11.5, 1.0, "$y_{i-1}$", fontsize=10)
    embed = box(ax, 10.8, 1.5, 1.4, 0.7, f"embedding\n(1, {E})", "input", fontsize=9)
    arrow(ax, (11.5, 1.2), (11.5, 1.5))
    cell = box(ax, 10.6, 4.3, 2.4, 1.1, f"{config.cell.upper()} $f$\n$s_i = f(s_{{i-1}}, y_{{i-1}}, c_i)$\n"
                                        f"in: ({E} + {H}) → (1, {H})", "decoder", fontsize=9)
    arrow(ax, (11.5, 2.2), (11.5, 4.3))
    arrow(ax, (context[0] + context[2], y + 0.8), (11.0, 4.3), "$c_i$")
    ax.plot([1.2, 1.2, 11.8], [5.1, 5.7, 5.7], color="#333333", linewidth=1.2)
    arrow(ax, (11.8, 5.7), (11.8, 5.4))
    label(ax, 6.5, 5.85, "$s_{i-1}$ is the RNN's previous state", fontsize=9)
    out = box(ax, 13.4, 2.9, 1.5, 1.1, f"output\n$W_{{out}}[s_i; c_i]$\n({2 * H}) → {V:,}", "output", fontsize=9)
    arrow(ax, (12.6, 4.3), (14.0, 4.0), "$s_i$")
    arrow(ax, (context[0] + context[2], y + 0.3), (13.4, y + 0.3))
    label(ax, 14.15, 2.5, "logits $y_i$", fontsize=9)
    return fig
