"""Diagrams of pre-training (chapters 7-8): BERT's input and heads, three attention patterns, six corruptions.

- :func:`draw_bert_inputs`: BERT's input for a sentence pair, ``[CLS] A [SEP] B [SEP]``, as
  the sum of a token, a segment and a position embedding at every position, then LayerNorm,
  the encoder's layers, the masked-LM head on the masked positions and the next-sentence head
  on ``[CLS]``; the vocabulary, H, L, A and the number of positions are read from a
  :class:`~course_lib.bert.BertConfig` (the BERT paper's Figure 2, with the heads added).
- :func:`draw_attention_patterns`: which key each query may attend to in BERT (every token
  sees every token), GPT (causal) and an encoder-decoder such as T5 or BART (a bidirectional
  encoder, a causal decoder, and cross-attention from every decoder token to every source
  token), drawn from the masks of ``course_lib.transformer``.
- :func:`draw_noisings`: BART's five noisings and T5's span corruption applied to one sentence
  by ``course_lib.noising``'s own functions (:func:`noising_rows`), with fixed seeds, so the
  figure shows what the code does.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import matplotlib.patches
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib.bert import BertConfig
from course_lib.diagrams import COLORS, arrow, box, canvas, figure_tokens, label
from course_lib.noising import (document_rotation, sentence_permutation, span_corruption, split_sentences,
                                t5_sentinel_tokens, text_infilling, token_deletion, token_masking)
from course_lib.transformer import causal_mask

__all__ = ["draw_bert_inputs", "draw_attention_patterns", "draw_noisings", "noising_rows", "MAX_TOKENS",
           "MAX_PATTERN_TOKENS", "MAX_NOISE_TOKENS", "MASK"]

MAX_TOKENS = 14  # positions of a BERT input that fit on a figure a page wide ([CLS] and both [SEP]s included)
MAX_LAYERS_DRAWN = 3  # more layers are drawn as the first, "layers 2-(L-1)", the last
MAX_PATTERN_TOKENS = 8  # tokens of one side of an attention-pattern grid
MAX_NOISE_TOKENS = 18  # tokens of the sentence the noisings are applied to
MASK = "<mask>"  # BART's mask token

_COL = 1.0  # distance between two positions of the BERT figure
_W, _H = 0.9, 0.5  # one position's box
_SPECIAL = ("[CLS]", "[SEP]", "[MASK]", "[PAD]")
_ALLOWED = "allowed"  # the gid of a grid cell whose query may attend to its key


def _checked(config: BertConfig) -> BertConfig:
    """The config, validated again (a field may have been changed after construction)."""
    if not isinstance(config, BertConfig):
        raise TypeError(f"expected a BertConfig, got {type(config).__name__}")
    return dataclasses.replace(config)  # runs __post_init__'s checks on the current values


def _layer_names(num_layers: int) -> list[str]:
    """The names of the layer boxes: every layer up to MAX_LAYERS_DRAWN, else first, middle range, last."""
    if num_layers <= MAX_LAYERS_DRAWN:
        return [f"layer {i}" for i in range(1, num_layers + 1)]
    middle = "layer 2" if num_layers == 3 else f"layers 2–{num_layers - 1}"
    return ["layer 1", middle, f"layer {num_layers}"]


def draw_bert_inputs(config: BertConfig, tokens_a: Sequence[str] = ("the", "cat", "sat", "on", "the", "mat", "."),
                     tokens_b: Sequence[str] = ("it", "fell", "asleep", "."), *,
                     masked: Sequence[int] = (2, 10)) -> Figure:
    """BERT's input for the pair (``tokens_a``, ``tokens_b``), its encoder, and its two pre-training heads.

    The positions are ``[CLS] A [SEP] B [SEP]`` (at most :data:`MAX_TOKENS`, and no more than
    ``config.max_position``); ``masked`` are positions of that sequence shown as ``[MASK]``,
    whose original token the masked-LM head predicts (never a special token's position). Each
    position's input is the sum of three rows of embedding tables whose sizes come from
    ``config``: token (vocab x H), segment (type_vocab_size x H) and position (max_position x H).
    """
    config = _checked(config)
    a, b = figure_tokens(tokens_a, "tokens_a", MAX_TOKENS - 3), figure_tokens(tokens_b, "tokens_b", MAX_TOKENS - 3)
    tokens = ["[CLS]", *a, "[SEP]", *b, "[SEP]"]
    n = len(tokens)
    if n > MAX_TOKENS:
        raise ValueError(f"[CLS] A [SEP] B [SEP] has {n} positions; a figure holds at most {MAX_TOKENS}")
    if n > config.max_position:
        raise ValueError(f"[CLS] A [SEP] B [SEP] has {n} positions, more than the config's max_position"
                         f" {config.max_position}: BERT has no position embedding for the rest")
    masked = sorted(set(masked))
    for position in masked:
        if not isinstance(position, int) or not 0 <= position < n:
            raise ValueError(f"masked positions must be ints in 0..{n - 1}, got {position!r}")
        if tokens[position] in _SPECIAL:
            raise ValueError(f"position {position} is {tokens[position]}: only real tokens are masked")
    segments = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    H = config.hidden_size

    left = 3.3  # the row names
    xs = [left + i * _COL for i in range(n)]
    y_in, y_tok, y_seg, y_pos = 0.4, 1.2, 1.9, 2.6
    y_sum = 3.45
    names = _layer_names(config.num_layers)
    y_layers = [y_sum + 0.85 + i * 0.75 for i in range(len(names))]
    y_head = y_layers[-1] + 0.95
    y_out = y_head + 0.85
    width, height = xs[-1] + _W + 0.3, y_out + _H + 0.9
    fig, ax = canvas(width, height, inches_per_unit=0.72)
    right = xs[-1] + _W

    rows = [(y_in, "input"), (y_tok, f"token embedding\n{config.vocab_size:,} × {H}"),
            (y_seg, f"segment embedding\n{config.type_vocab_size} × {H}"),
            (y_pos, f"position embedding\n{config.max_position} × {H}")]
    for y, text in rows:
        label(ax, 0.15, y + _H / 2, text, fontsize=8, ha="left")
    for i, (x, token) in enumerate(zip(xs, tokens)):
        shown = "[MASK]" if i in masked else token
        box(ax, x, y_in, _W, _H, shown, "attention" if i in masked else "input", fontsize=8)
        emb = shown if shown.startswith("[") else f"[{shown}]"
        box(ax, x, y_tok, _W, _H, f"E{emb}", "input", fontsize=7)
        box(ax, x, y_seg, _W, _H, "$E_A$" if segments[i] == 0 else "$E_B$", "input", fontsize=8)
        box(ax, x, y_pos, _W, _H, f"$E_{{{i}}}$", "input", fontsize=8)
        for y in (y_tok, y_seg):
            ax.text(x + _W / 2, y + _H + 0.1, "+", ha="center", va="center", fontsize=9)
        arrow(ax, (x + _W / 2, y_in + _H), (x + _W / 2, y_tok))
        arrow(ax, (x + _W / 2, y_pos + _H), (x + _W / 2, y_sum))
    box(ax, xs[0], y_sum, right - xs[0], _H,
        f"sum of the three, then LayerNorm and dropout: {n} vectors of H = {H}", "norm", fontsize=9)
    label(ax, 0.15, y_sum + _H / 2, "input vectors", fontsize=8, ha="left")

    below = y_sum
    for name, y in zip(names, y_layers):
        arrow(ax, ((xs[0] + right) / 2, below + _H), ((xs[0] + right) / 2, y))
        box(ax, xs[0], y, right - xs[0], _H,
            f"encoder {name}: self-attention, {config.num_heads} heads, no mask;"
            f" feed-forward {config.intermediate_size}",
            "encoder", fontsize=8)
        below = y
    label(ax, 0.15, (y_layers[0] + y_layers[-1] + _H) / 2,
          f"BERT encoder\nL = {config.num_layers}, H = {H}\nA = {config.num_heads} heads", fontsize=8, ha="left")

    label(ax, 0.15, y_head + _H / 2, "pre-training\nheads", fontsize=8, ha="left")
    top = y_layers[-1] + _H
    nsp = box(ax, xs[0] - 0.05, y_head, 2 * _COL - 0.05, _H, "pooler → NSP\n2 classes", "output", fontsize=7)
    arrow(ax, (xs[0] + _W / 2, top), (xs[0] + _W / 2, y_head), f"$h_{{[CLS]}}$ ({H})")
    label(ax, nsp[0] + nsp[2] / 2, y_out + _H / 2, "IsNext /\nNotNext", fontsize=8)
    for i in masked:
        x = xs[i]
        box(ax, x, y_head, _W, _H, f"MLM\n{config.vocab_size:,}", "output", fontsize=7)
        arrow(ax, (x + _W / 2, top), (x + _W / 2, y_head))
        box(ax, x, y_out, _W, _H, tokens[i], "output", fontsize=8)
        arrow(ax, (x + _W / 2, y_head + _H), (x + _W / 2, y_out))
    label(ax, width / 2, height - 0.35,
          "BERT's input = token + segment + position embedding; masked-LM head on the masked positions,"
          " next-sentence head on [CLS]", fontsize=9)
    return fig


def _grid(ax: Axes, x0: float, y_top: float, kinds: list[list[str | None]], cell: float) -> None:
    """Cells of an attention pattern: row i (a query) from the top, column j (a key) from the left, coloured
    by ``kinds[i][j]`` (a key of ``COLORS``) where the query may attend to the key, white where it may not."""
    for i, row in enumerate(kinds):
        for j, kind in enumerate(row):
            patch = matplotlib.patches.Rectangle((x0 + j * cell, y_top - (i + 1) * cell), cell, cell,
                                                 facecolor=COLORS[kind or "plain"], edgecolor="#999999",
                                                 linewidth=0.6)
            patch.set_gid(_ALLOWED if kind else "masked")
            ax.add_patch(patch)


def _kinds(allowed: list[list[bool]], kind: str) -> list[list[str | None]]:
    return [[kind if ok else None for ok in row] for row in allowed]


def _axis_labels(ax: Axes, x0: float, y_top: float, queries: list[str], keys: list[str], cell: float, *,
                 queries_on_left: bool = True) -> None:
    for i, token in enumerate(queries):
        if queries_on_left:
            label(ax, x0 - 0.08, y_top - (i + 0.5) * cell, token, fontsize=8, ha="right")
    for j, token in enumerate(keys):
        label(ax, x0 + (j + 0.5) * cell, y_top + 0.08, token, fontsize=8, va="bottom", rotation=90)


def draw_attention_patterns(source: Sequence[str] = ("Hello", ",", "world", "!"),
                            target: Sequence[str] = ("<bos>", "세상아", ",", "안녕", "!")) -> Figure:
    """Which keys (columns) each query (row) may attend to: BERT, GPT, and an encoder-decoder.

    BERT and GPT read ``source``; the encoder-decoder's encoder reads ``source`` and its
    decoder reads ``target`` (its input: the start token, then the target so far). A coloured
    cell is a key the query sees, a white one a key its mask hides; the masks are
    ``course_lib.transformer.causal_mask`` for GPT and the decoder, none for BERT and the encoder.
    """
    src = figure_tokens(source, "source", MAX_PATTERN_TOKENS)
    tgt = figure_tokens(target, "target", MAX_PATTERN_TOKENS)
    n, m = len(src), len(tgt)
    full_src = [[True] * n for _ in range(n)]
    causal_src = causal_mask(n).tolist()
    causal_tgt = causal_mask(m).tolist()
    cross = [[True] * n for _ in range(m)]

    cell = 0.5
    margin = 1.5  # room for the query labels
    y_bottom = 1.9  # the grids' lower edge: the key captions and the legend go below it
    y_top = y_bottom + (n + m) * cell
    x_bert = margin
    x_gpt = x_bert + n * cell + margin
    x_enc = x_gpt + n * cell + margin + 1.1
    width = x_enc + (n + m) * cell + 0.4
    height = y_top + 1.85
    fig, ax = canvas(width, height, inches_per_unit=0.62)
    y_title = y_top + 1.35

    _grid(ax, x_bert, y_top, _kinds(full_src, "encoder"), cell)
    _axis_labels(ax, x_bert, y_top, src, src, cell)
    label(ax, x_bert + n * cell / 2, y_title, f"BERT (encoder)\nevery token sees all {n}", fontsize=9)

    _grid(ax, x_gpt, y_top, _kinds(causal_src, "decoder"), cell)
    _axis_labels(ax, x_gpt, y_top, src, src, cell)
    label(ax, x_gpt + n * cell / 2, y_title, "GPT (decoder, causal mask)\nsees itself and what came before",
          fontsize=9)

    # encoder-decoder: queries = source then target; keys = source then target
    encoder_rows = [row + [None] * m for row in _kinds(full_src, "encoder")]
    decoder_rows = [c + t for c, t in zip(_kinds(cross, "attention"), _kinds(causal_tgt, "decoder"))]
    _grid(ax, x_enc, y_top, encoder_rows + decoder_rows, cell)
    _axis_labels(ax, x_enc, y_top, src + tgt, src + tgt, cell)
    ax.plot([x_enc, x_enc + (n + m) * cell], [y_top - n * cell] * 2, color="#333333", linewidth=1.5)
    ax.plot([x_enc + n * cell] * 2, [y_bottom, y_top], color="#333333", linewidth=1.5)
    label(ax, x_enc + (n + m) * cell / 2, y_title, "encoder–decoder (T5, BART)\nencoder, decoder, cross-attention",
          fontsize=9)
    for x0, size in ((x_bert, n), (x_gpt, n)):
        label(ax, x0 + size * cell / 2, y_top - size * cell - 0.3, "keys", fontsize=8)
    label(ax, x_enc + n * cell / 2, y_bottom - 0.3, "source keys", fontsize=8)
    label(ax, x_enc + (n + m / 2) * cell, y_bottom - 0.3, "target keys", fontsize=8)
    query_x = x_enc - 0.08 - 0.1 * max(len(t) for t in src + tgt) - 0.25
    label(ax, query_x, y_top - n * cell / 2, "encoder\nqueries", fontsize=8, ha="right")
    label(ax, query_x, y_top - (n + m / 2) * cell, "decoder\nqueries", fontsize=8, ha="right")

    for k, (kind, text) in enumerate([("encoder", "bidirectional self-attention (no mask)"),
                                      ("attention", "cross-attention: each decoder token to every source token"),
                                      ("decoder", "causal self-attention"), ("plain", "hidden by the mask")]):
        x, y = 0.3 + (k % 2) * width / 2, 0.8 - (k // 2) * 0.5
        box(ax, x, y - 0.15, 0.3, 0.3, "", kind)
        label(ax, x + 0.4, y, text, fontsize=8, ha="left")
    return fig


def noising_rows(tokens: Sequence[str], *, full_stop: str = ".", rng: int = 0) -> dict[str, list[str]]:
    """The original sentence and what each corruption of ``course_lib.noising`` makes of it.

    Each function gets its own seed, ``rng`` + its row number (token masking 1, token
    deletion 2, text infilling 3, sentence permutation 4, document rotation 5, span
    corruption 6), so that each row can be reproduced alone. The sentence needs at least two
    sentences (ending with ``full_stop``) for the permutation to have something to permute.
    """
    words = figure_tokens(tokens, "tokens", MAX_NOISE_TOKENS)
    if len(words) < 4:
        raise ValueError(f"tokens must hold at least 4 tokens for every corruption to apply, got {len(words)}")
    if isinstance(rng, bool) or not isinstance(rng, int):
        raise TypeError(f"rng must be an int seed, got {type(rng).__name__}")
    sentinels = t5_sentinel_tokens()
    reserved = [t for t in words if t == MASK or t in sentinels]
    if reserved:
        raise ValueError(f"the sentence must not contain the special tokens it is corrupted with: {reserved}")
    if len(split_sentences(words, full_stop)) < 2:
        raise ValueError(f"the sentence needs at least two sentences ending with {full_stop!r} for the sentence"
                         " permutation")
    example = span_corruption(words, sentinels=sentinels, rng=rng + 6)
    return {
        "original": words,
        "token masking (BART, 15 %)": token_masking(words, mask=MASK, rng=rng + 1),
        "token deletion (BART, 15 %)": token_deletion(words, rng=rng + 2),
        "text infilling (BART, 30 %)": text_infilling(words, mask=MASK, rng=rng + 3),
        "sentence permutation (BART)": sentence_permutation(words, full_stop=full_stop, rng=rng + 4),
        "document rotation (BART)": document_rotation(words, rng=rng + 5),
        "span corruption (T5): input": example.inputs,
        "span corruption (T5): target": example.targets,
    }


def _token_width(token: str) -> float:
    return 0.3 + 0.105 * len(token) + (0.1 if any(ord(c) > 0x1100 for c in token) else 0.0)


def draw_noisings(tokens: Sequence[str] = ("The", "cat", "sat", "on", "the", "mat", ".", "It", "was", "tired",
                                           "and", "fell", "asleep", "."),
                  *, full_stop: str = ".", rng: int = 0) -> Figure:
    """One sentence under BART's five noisings and T5's span corruption (:func:`noising_rows`), one row each.

    Masks and sentinels are coloured; on the right, what the decoder must write for that
    input: BART's decoder the whole original, T5's only the target row.
    """
    rows = noising_rows(tokens, full_stop=full_stop, rng=rng)
    sentinels = set(t5_sentinel_tokens())
    original = rows["original"]
    name_width, gap, row_height = 3.3, 0.08, 0.72
    widest = max(sum(_token_width(t) + gap for t in row) for row in rows.values())
    note_width = 3.1
    width = name_width + widest + note_width + 0.3
    height = len(rows) * row_height + 0.75
    fig, ax = canvas(width, height, inches_per_unit=0.72)
    target_row = "span corruption (T5): target"
    for r, (name, row) in enumerate(rows.items()):
        y = height - 0.9 - r * row_height
        label(ax, 0.15, y + 0.22, name, fontsize=8, ha="left")
        x = name_width
        in_span = False
        for token in row:
            if token == MASK:
                kind = "attention"
            elif token in sentinels:
                kind, in_span = "context", name == target_row
            elif name == target_row and in_span:
                kind = "output"
            else:
                kind = "plain" if name == "original" else "input"
            w = _token_width(token)
            box(ax, x, y, w, 0.44, token, kind, fontsize=7.5)
            x += w + gap
        if name == "original":
            note = f"{len(original)} tokens"
        elif name == target_row:
            note = f"T5's decoder writes this: {len(row)} tokens"
        elif name.startswith("span corruption"):
            note = f"{len(row)} tokens in"
        else:
            note = f"{len(row)} in; decoder writes all {len(original)}"
        label(ax, name_width + widest + 0.2, y + 0.22, note, fontsize=7.5, ha="left", color="#333333")
    label(ax, width / 2, height - 0.3, "One text, six corruptions: <mask> (BART) in red, T5's sentinels in"
          " purple, the spans T5's decoder writes in green", fontsize=9)
    return fig
