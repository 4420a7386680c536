"""Diagrams of the RNN encoder-decoder (chapters 2-4), drawn from a :class:`~course_lib.seq2seq.Seq2SeqConfig`.

- :func:`draw_seq2seq`: the unrolled encoder -> context vector -> decoder that the study notes
  on sequence to sequence draw, on "Hello, world!" -> "세상아, 안녕!": tokens, embeddings x_t,
  encoder states h_t (one row per layer), the context vector c = h_S that starts the decoder
  (ĥ_0 = c), decoder states ĥ_t, p_t = softmax(W ĥ_t + b) over the target vocabulary, and the
  token each step writes; with ``feed_back=True`` (greedy decoding, chapter 3) the argmax of
  each step is drawn going back in as the next step's input.
- :func:`draw_teacher_forcing`: the same decoder run twice on one target (chapter 4): reading
  the gold previous token (teacher forcing, training) and reading its own previous output
  (free running, inference), with each prediction marked right or wrong against the gold.

Every size written on a figure (E, H, the vocabularies, the cell, the layers) is read from
the config, so the figure describes the model the chapter builds.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib.diagrams import arrow, box, canvas, figure_tokens, label
from course_lib.seq2seq import Seq2SeqConfig

__all__ = ["draw_seq2seq", "draw_teacher_forcing", "MAX_LAYERS", "MAX_TOKENS"]

MAX_TOKENS = 12  # tokens of one sentence that fit on a figure a page wide
MAX_LAYERS = 4  # stacked RNN layers drawn one row each
BOS, EOS = "<bos>", "<eos>"

_STEP = 1.45  # distance between two time steps
_W, _H = 1.15, 0.62  # a box
_ROW = 1.15  # distance between two rows
_WRONG = "#c0392b"  # the edge of a wrong prediction, and of an input that came from one
_FEEDBACK = "#2e7d32"  # a token fed back as the next input
_GOLD = "#2f6fa8"  # a gold token read as the next input


def _checked(config: Seq2SeqConfig) -> Seq2SeqConfig:
    """The config, validated again (a field may have been changed after construction)."""
    if not isinstance(config, Seq2SeqConfig):
        raise TypeError(f"expected a Seq2SeqConfig, got {type(config).__name__}")
    checked = dataclasses.replace(config)  # runs __post_init__'s checks on the current values
    if checked.num_layers > MAX_LAYERS:
        raise ValueError(f"num_layers {checked.num_layers}: a diagram draws at most {MAX_LAYERS} layers")
    return checked


def _cell_name(config: Seq2SeqConfig) -> str:
    layers = "1 layer" if config.num_layers == 1 else f"{config.num_layers} layers"
    return f"{config.cell.upper()}, {layers}"


def _context_text(config: Seq2SeqConfig, length: int) -> str:
    """What the context box says: c = h_S (with the LSTM's memory cell m_S), its shape, and that it is ĥ_0."""
    state = f"$c = h_{{{length}}}$" if config.cell != "lstm" else f"$c = (h_{{{length}}}, m_{{{length}}})$"
    return f"context\n{state}\n({config.num_layers}, H={config.hidden_size})\n" r"$= \hat h_0$"


def _state(symbol: str, t: int, layer: int, layers: int) -> str:
    """Mathtext of a state: h_t, or h_t^(l) when there are several layers."""
    return f"${symbol}_{{{t}}}$" if layers == 1 else f"${symbol}_{{{t}}}^{{({layer + 1})}}$"


def _feedback(ax: Axes, start: tuple[float, float, float, float], end: tuple[float, float, float, float]) -> None:
    """A dashed line from the right of box ``start`` down the gap to the left of box ``end``."""
    x0, y0 = start[0] + start[2], start[1] + start[3] / 2
    x1, y1 = end[0], end[1] + end[3] / 2
    gap = (x0 + x1) / 2
    ax.plot([x0, gap, gap], [y0, y0, y1], color=_FEEDBACK, linewidth=1.2, linestyle="--")
    arrow(ax, (gap, y1), (x1, y1), color=_FEEDBACK, dashed=True)


def _mark_wrong(ax: Axes) -> None:
    """Give the box drawn last the red edge of a wrong token."""
    ax.patches[-1].set(edgecolor=_WRONG, linewidth=2.2)


def draw_seq2seq(config: Seq2SeqConfig, source: Sequence[str] = ("Hello", ",", "world", "!"),
                 target: Sequence[str] = ("세상아", ",", "안녕", "!"), *, feed_back: bool = False) -> Figure:
    """The encoder-decoder unrolled over one sentence pair, with ``config``'s sizes written on it.

    ``source`` and ``target`` are token lists (1 to :data:`MAX_TOKENS` each); the decoder reads
    ``<bos>`` and the target, and writes the target and ``<eos>``. With ``feed_back`` (greedy
    decoding) a dashed arrow takes each step's argmax back in as the next step's input.
    """
    config = _checked(config)
    source, target = figure_tokens(source, "source", MAX_TOKENS), figure_tokens(target, "target", MAX_TOKENS)
    layers = config.num_layers
    dec_in, dec_out = [BOS, *target], [*target, EOS]
    n_src, n_tgt = len(source), len(dec_out)
    enc_x = [0.3 + j * _STEP for j in range(n_src)]
    ctx_x = enc_x[-1] + _STEP + 0.1
    dec_x = [ctx_x + _STEP + 0.25 + k * _STEP for k in range(n_tgt)]
    y_token, y_emb = 0.9, 0.9 + _ROW
    y_layer = [0.9 + (2 + layer) * _ROW for layer in range(layers)]
    y_prob, y_word = y_layer[-1] + _ROW, y_layer[-1] + 2 * _ROW
    width, height = dec_x[-1] + _W + 0.3, y_word + _H + 1.0
    fig, ax = canvas(width, height, inches_per_unit=0.62)
    middle = _W / 2

    # encoder: tokens -> embeddings -> one row of states per layer, left to right
    for j, (x, token) in enumerate(zip(enc_x, source), start=1):
        box(ax, x, y_token, _W, _H, token, "input")
        box(ax, x, y_emb, _W, _H, f"$x_{{{j}}}$", "input")
        arrow(ax, (x + middle, y_token + _H), (x + middle, y_emb), f"E={config.emb_dim}" if j == 1 else "")
        below = y_emb
        for layer, y in enumerate(y_layer):
            box(ax, x, y, _W, _H, _state("h", j, layer, layers), "encoder")
            arrow(ax, (x + middle, below + _H), (x + middle, y))
            below = y
            if j > 1:
                arrow(ax, (x - _STEP + _W, y + _H / 2), (x, y + _H / 2))
    label(ax, (enc_x[0] + enc_x[-1] + _W) / 2, y_word + _H / 2,
          f"encoder: {_cell_name(config)}, H={config.hidden_size}\nsource vocabulary {config.src_vocab_size:,}",
          fontsize=10)

    # the context vector: the encoder's last state of every layer starts the decoder's same layer
    ctx_bottom, ctx_top = y_layer[0] - 0.05, y_layer[-1] + _H + 0.05
    ctx_y = min(ctx_bottom, (ctx_bottom + ctx_top) / 2 - 0.75)
    ctx_h = max(ctx_top - ctx_bottom, 1.5)
    box(ax, ctx_x - 0.1, ctx_y, _W + 0.2, ctx_h, _context_text(config, n_src), "context", fontsize=8)
    for y in y_layer:
        arrow(ax, (enc_x[-1] + _W, y + _H / 2), (ctx_x - 0.1, y + _H / 2))
        arrow(ax, (ctx_x + _W + 0.1, y + _H / 2), (dec_x[0], y + _H / 2))

    # decoder: <bos> and the previous tokens -> embeddings -> states -> p_t -> the token written
    for k, (x, given, written) in enumerate(zip(dec_x, dec_in, dec_out), start=1):
        box(ax, x, y_token, _W, _H, given, "input")
        box(ax, x, y_emb, _W, _H, f"$x_{{{k}}}$", "input")
        arrow(ax, (x + middle, y_token + _H), (x + middle, y_emb), f"E={config.emb_dim}" if k == 1 else "")
        below = y_emb
        for layer, y in enumerate(y_layer):
            box(ax, x, y, _W, _H, _state(r"\hat h", k, layer, layers), "decoder")
            arrow(ax, (x + middle, below + _H), (x + middle, y))
            below = y
            if k > 1:
                arrow(ax, (x - _STEP + _W, y + _H / 2), (x, y + _H / 2))
        box(ax, x, y_prob, _W, _H, f"$p_{{{k}}}$", "output")
        arrow(ax, (x + middle, y_layer[-1] + _H), (x + middle, y_prob),
              f"V={config.tgt_vocab_size:,}" if k == 1 else "")
        box(ax, x, y_word, _W, _H, written, "output")
        arrow(ax, (x + middle, y_prob + _H), (x + middle, y_word), "argmax" if k == 1 else "")
    if feed_back:
        for k in range(n_tgt - 1):
            _feedback(ax, (dec_x[k], y_word, _W, _H), (dec_x[k + 1], y_token, _W, _H))
    mode = "greedy: each argmax is the next input" if feed_back else "reads <bos>, then the previous token"
    label(ax, (dec_x[0] + dec_x[-1] + _W) / 2, y_word + _H + 0.45,
          f"decoder: {_cell_name(config)}, H={config.hidden_size}, target vocabulary {config.tgt_vocab_size:,}"
          f"\n{mode}", fontsize=10)
    label(ax, width / 2, 0.35, r"$p_t = \mathrm{softmax}(W \hat h_t + b)$ over the target vocabulary;"
          f"  embeddings E = {config.emb_dim}, hidden states H = {config.hidden_size}", fontsize=9)
    return fig


def _decoder_panel(ax: Axes, config: Seq2SeqConfig, y0: float, title: str, gold: list[str], reads: list[str],
                   predicts: list[str], *, own: bool) -> None:
    """One run of the decoder over the target: rows gold y_t, input read, ĥ_t, prediction."""
    y_gold, y_in, y_state, y_pred = y0, y0 + _ROW, y0 + 2 * _ROW, y0 + 3 * _ROW
    left = 2.2
    xs = [left + _STEP + 0.2 + t * _STEP for t in range(len(gold))]
    middle = _W / 2
    for name, y in [("gold $y_t$", y_gold), ("reads", y_in), ("state", y_state), ("predicts", y_pred)]:
        label(ax, 0.15, y + _H / 2, name, fontsize=9, ha="left")
    label(ax, left, y_pred + _H + 0.55, title, fontsize=10, ha="left")
    box(ax, left - 0.1, y_state - 0.1, _W + 0.2, _H + 0.2, f"context $c$\nH={config.hidden_size}", "context",
        fontsize=8)
    arrow(ax, (left + _W + 0.1, y_state + _H / 2), (xs[0], y_state + _H / 2))
    for t, x in enumerate(xs):
        box(ax, x, y_gold, _W, _H, gold[t], "plain")
        if t >= len(predicts):  # free running stopped at its <eos>
            label(ax, x + middle, y_state + _H / 2, "(stopped)", fontsize=8, color="#777777")
            continue
        box(ax, x, y_in, _W, _H, reads[t], "input")
        if reads[t] != ([BOS] + gold)[t]:
            _mark_wrong(ax)
        box(ax, x, y_state, _W, _H, f"$\\hat h_{{{t + 1}}}$", "decoder")
        arrow(ax, (x + middle, y_in + _H), (x + middle, y_state), f"E={config.emb_dim}" if t == 0 else "")
        if t > 0:
            arrow(ax, (x - _STEP + _W, y_state + _H / 2), (x, y_state + _H / 2))
        right = predicts[t] == gold[t]
        box(ax, x, y_pred, _W, _H, predicts[t], "output")
        ax.text(x + middle, y_pred + _H + 0.17, "✓" if right else "✗", ha="center", va="center", fontsize=12,
                color=_FEEDBACK if right else _WRONG)
        if not right:
            _mark_wrong(ax)
        arrow(ax, (x + middle, y_state + _H), (x + middle, y_pred),
              f"V={config.tgt_vocab_size:,}" if t == 0 else "")
        if t > 0:
            if own:
                _feedback(ax, (xs[t - 1], y_pred, _W, _H), (x, y_in, _W, _H))
            else:
                arrow(ax, (xs[t - 1] + _W, y_gold + _H), (x, y_in), color=_GOLD)


def draw_teacher_forcing(config: Seq2SeqConfig, target: Sequence[str] = ("세상아", ",", "안녕", "!"),
                         teacher_forced: Sequence[str] | None = None,
                         free_running: Sequence[str] | None = None) -> Figure:
    """Teacher forcing (top) against free running (bottom): the same decoder, step by step on one target.

    ``target`` is the gold sentence's tokens (1 to :data:`MAX_TOKENS` - 1); the decoder must write
    them and ``<eos>``. ``teacher_forced`` are its predictions when step t reads the gold y_{t-1};
    ``free_running`` its predictions when step t reads its own output of step t-1, up to its
    ``<eos>`` (at most as many steps). Both default to the gold tokens (a model that makes no
    mistake), which shows the wiring alone; given a real model's outputs, the figure shows a
    mistake being carried forward. Wrong tokens have a red edge and a ✗.
    """
    config = _checked(config)
    gold = [*figure_tokens(target, "target", MAX_TOKENS - 1), EOS]
    teacher_forced = gold if teacher_forced is None else figure_tokens(teacher_forced, "teacher_forced", MAX_TOKENS)
    if len(teacher_forced) != len(gold):
        raise ValueError(f"teacher_forced must hold one prediction per target step ({len(gold)}: the target"
                         f" and <eos>), got {len(teacher_forced)}")
    free_running = teacher_forced if free_running is None else figure_tokens(free_running, "free_running", MAX_TOKENS)
    if len(free_running) > len(gold):
        raise ValueError(f"free_running may hold at most {len(gold)} predictions (the target and <eos>),"
                         f" got {len(free_running)}")
    if EOS in free_running[:-1]:
        raise ValueError("free_running stops at its first <eos>: nothing may follow it")
    width = 2.2 + _STEP + 0.2 + len(gold) * _STEP + 0.2
    panel = 4 * _ROW + 0.7
    fig, ax = canvas(width, 2 * panel + 0.9, inches_per_unit=0.62)
    _decoder_panel(ax, config, panel + 0.75, "teacher forcing (training): step $t$ reads the gold token $y_{t-1}$",
                   gold, [BOS, *gold[:-1]], list(teacher_forced), own=False)
    _decoder_panel(ax, config, 0.45, "free running (inference): step $t$ reads its own output of step $t-1$",
                   gold, [BOS, *free_running[:-1]], list(free_running), own=True)
    label(ax, width / 2, 0.2, f"{config.cell.upper()} decoder: embeddings E = {config.emb_dim}, states H ="
          f" {config.hidden_size}, softmax over V = {config.tgt_vocab_size:,} target tokens;"
          " red edge: a wrong token", fontsize=8)
    return fig
