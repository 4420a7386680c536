"""Diagrams of the Transformer (chapter 6), drawn from a :class:`~course_lib.transformer.TransformerConfig`.

- :func:`draw_transformer`: the encoder and decoder as the paper's Figure 1 draws them: embeddings and
  positional encoding, one encoder layer and one decoder layer with their sub-layers, residual
  connections and layer norms (after each sub-layer or before it, as ``norm_first`` says), each
  marked "N x", and the output linear layer and softmax, with d_model, h, d_k, d_ff and N written
  from the config.
- :func:`draw_transformer_stacks`: the stacks as the textbook notes draw them, N encoder layers and N
  decoder layers, the last encoder layer's output read by every decoder layer.
- :func:`draw_multi_head_attention`: Q, K and V projected, split into h heads of d_k, attended per
  head, concatenated and mixed by W^O, with the shapes.
- :func:`draw_attention_masks`: where each of the three masks applies (encoder self-attention,
  decoder self-attention, encoder-decoder attention), computed by ``course_lib.transformer``'s own
  mask functions on a short padded example and drawn as grids of True and False.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.patches
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib.diagrams import COLORS, arrow, box, canvas, label
from course_lib.inputs import check_heads, check_sizes
from course_lib.transformer import TransformerConfig, causal_mask, padding_mask

_COLUMN_WIDTH = 3.6  # width of a sub-layer box in draw_transformer


def _check_config(config: TransformerConfig) -> None:
    """The sizes a diagram writes must be valid, else a clear ValueError (a config can be edited after it is made)."""
    if not isinstance(config, TransformerConfig):
        raise ValueError(f"expected a course_lib.transformer.TransformerConfig, got {type(config).__name__}")
    check_sizes(config, "src_vocab_size", "tgt_vocab_size", "d_model", "num_heads", "num_encoder_layers",
                "num_decoder_layers", "d_ff")
    check_heads(config.d_model, config.num_heads)


def _norm_name(config: TransformerConfig) -> str:
    return "pre-norm (norm before each sub-layer)" if config.norm_first else "post-norm (norm after each sub-layer)"


def _residual(ax: Axes, centre: float, x_left: float, y_from: float, y_to: float, x_to: float) -> None:
    """A residual connection: leaves the column's centre at ``y_from``, goes out to ``x_left``, up, and into
    (x_to, y_to)."""
    ax.plot([centre, x_left, x_left], [y_from, y_from, y_to], color="#333333", lw=1.1)
    arrow(ax, (x_left, y_to), (x_to, y_to))


def _sublayers(ax: Axes, x: float, y: float, sublayers: Sequence[tuple[str, str]], norm_first: bool,
               side_inputs: dict[int, list[float]]) -> float:
    """Draw one layer's sub-layers bottom-up in a column whose left edge is ``x``, from height ``y``.

    ``sublayers``: (text, kind) per sub-layer. Each sits in a residual connection with a layer norm:
    post-norm ``Add & Norm`` after it, pre-norm ``LayerNorm`` before it and an addition after. The
    y of each sub-layer box's middle is stored in ``side_inputs[i]`` (for the encoder's output to
    reach the cross-attention). Returns the height where the layer's output leaves.
    """
    w, centre, x_res = _COLUMN_WIDTH, x + _COLUMN_WIDTH / 2, x - 0.35
    for i, (text, kind) in enumerate(sublayers):
        start = y  # where the residual branch leaves
        y += 0.3
        if norm_first:
            box(ax, x + 0.5, y, w - 1.0, 0.42, "LayerNorm", "norm", fontsize=8)
            arrow(ax, (centre, start), (centre, y))
            y += 0.42
            arrow(ax, (centre, y), (centre, y + 0.25))
            y += 0.25
        else:
            arrow(ax, (centre, start), (centre, y))
        box(ax, x, y, w, 0.8, text, kind, fontsize=8)
        side_inputs[i] = [y + 0.4]
        y += 0.8
        if norm_first:
            add_y = y + 0.45
            arrow(ax, (centre, y), (centre, add_y - 0.17))
            ax.add_patch(matplotlib.patches.Circle((centre, add_y), 0.17, facecolor=COLORS["norm"],
                                                   edgecolor="#333333"))
            ax.text(centre, add_y, "+", ha="center", va="center", fontsize=10)
            _residual(ax, centre, x_res, start + 0.12, add_y, centre - 0.17)
            y = add_y + 0.17
        else:
            arrow(ax, (centre, y), (centre, y + 0.3))
            y += 0.3
            box(ax, x + 0.5, y, w - 1.0, 0.42, "Add & Norm", "norm", fontsize=8)
            _residual(ax, centre, x_res, start + 0.12, y + 0.21, x + 0.5)
            y += 0.42
    return y


def draw_transformer(config: TransformerConfig) -> Figure:
    """The encoder-decoder Transformer as the paper's Figure 1, with the sizes of ``config`` written on it.

    Left, the encoder: source embeddings x sqrt(d_model) plus positional encoding, then one encoder
    layer (multi-head self-attention, feed-forward), marked ``N = num_encoder_layers x``. Right, the
    decoder: target embeddings (shifted right) plus positions, one decoder layer (masked
    self-attention, attention over the encoder output, feed-forward) marked ``N = num_decoder_layers
    x``, then the output linear layer and softmax. Every sub-layer sits in a residual connection with
    a layer norm, after it (post-norm) or before it (pre-norm) as ``config.norm_first`` says.
    """
    _check_config(config)
    d, h, d_ff = config.d_model, config.num_heads, config.d_ff
    d_k = d // h
    attn = f"h = {h} heads, d_k = {d_k}"
    ffn = f"Feed-forward\n{d} → {d_ff} → {d}"
    encoder = [(f"Multi-head self-attention\n{attn}", "attention"), (ffn, "encoder")]
    decoder = [(f"Masked multi-head self-attention\n{attn}", "attention"),
               (f"Multi-head attention over the\nencoder output, {attn}", "attention"), (ffn, "decoder")]
    unit = 2.39 if config.norm_first else 1.82  # height of one sub-layer with its norm and residual (_sublayers)
    final = 0.72 if config.use_final_norm else 0.0
    height = 2.6 + 3 * unit + 0.15 + final + 2.35 + 0.6
    fig, ax = canvas(14.0, height, inches_per_unit=0.62)
    x_enc, x_dec = 2.5, 8.9
    positions = "learned" if config.positional == "learned" else "sinusoidal"

    def inputs(x: float, tokens: str, vocab: int, name: str) -> float:
        centre = x + _COLUMN_WIDTH / 2
        box(ax, x, 0.25, _COLUMN_WIDTH, 0.5, tokens, "input", fontsize=8)
        arrow(ax, (centre, 0.75), (centre, 1.05))
        box(ax, x, 1.05, _COLUMN_WIDTH, 0.6, f"{name} embedding ({vocab:,} × {d})\n× √d_model", "input", fontsize=8)
        arrow(ax, (centre, 1.65), (centre, 2.0))
        ax.add_patch(matplotlib.patches.Circle((centre, 2.17), 0.17, facecolor=COLORS["norm"], edgecolor="#333333"))
        ax.text(centre, 2.17, "+", ha="center", va="center", fontsize=10)
        return 2.34

    for x, tokens, vocab, name in ((x_enc, "source tokens (B, S)", config.src_vocab_size, "source"),
                                   (x_dec, "target tokens, shifted right (B, T)",
                                    config.tgt_vocab_size, "target")):
        inputs(x, tokens, vocab, name)
    # positional encoding, between the two columns, added on both sides
    box(ax, 6.45, 1.95, 2.1, 0.45, f"{positions} positions", "input", fontsize=8)
    arrow(ax, (6.45, 2.17), (x_enc + _COLUMN_WIDTH / 2 + 0.17, 2.17))
    arrow(ax, (8.55, 2.17), (x_dec + _COLUMN_WIDTH / 2 - 0.17, 2.17))

    layer_bottom = 2.6
    enc_marks: dict[int, list[float]] = {}
    dec_marks: dict[int, list[float]] = {}
    for x, sublayers, marks in ((x_enc, encoder, enc_marks), (x_dec, decoder, dec_marks)):
        arrow(ax, (x + _COLUMN_WIDTH / 2, 2.34), (x + _COLUMN_WIDTH / 2, layer_bottom))
    enc_top = _sublayers(ax, x_enc, layer_bottom, encoder, config.norm_first, enc_marks)
    dec_top = _sublayers(ax, x_dec, layer_bottom, decoder, config.norm_first, dec_marks)
    for x, top, count, name in ((x_enc, enc_top, config.num_encoder_layers, "encoder"),
                                (x_dec, dec_top, config.num_decoder_layers, "decoder")):
        ax.add_patch(matplotlib.patches.FancyBboxPatch(
            (x - 0.6, layer_bottom - 0.05), _COLUMN_WIDTH + 0.75, top - layer_bottom + 0.2,
            boxstyle="round,pad=0.02,rounding_size=0.15", facecolor="none", edgecolor="#555555", linewidth=1.0,
            linestyle="--"))
        side = x - 0.75 if name == "encoder" else x + _COLUMN_WIDTH + 0.3
        label(ax, side, (layer_bottom + top) / 2, f"N = {count} ×\n{name}\nlayer{'s' if count > 1 else ''}",
              fontsize=9, ha="right" if name == "encoder" else "left")
    y_out = {}
    for x, top, name in ((x_enc, enc_top, "encoder"), (x_dec, dec_top, "decoder")):
        centre = x + _COLUMN_WIDTH / 2
        y = top + 0.15
        if config.use_final_norm:
            arrow(ax, (centre, y), (centre, y + 0.3))
            box(ax, x + 0.5, y + 0.3, _COLUMN_WIDTH - 1.0, 0.42, "LayerNorm (final)", "norm", fontsize=8)
            y += 0.72
        y_out[name] = y
    # the encoder's output: keys and values of every decoder layer's second attention
    centre_enc = x_enc + _COLUMN_WIDTH / 2
    cross_y = dec_marks[1][0]
    top_y = y_out["encoder"] + 0.45
    bus = 7.6
    ax.plot([centre_enc, centre_enc, bus, bus], [y_out["encoder"], top_y, top_y, cross_y], color="#333333", lw=1.2)
    arrow(ax, (bus, cross_y), (x_dec, cross_y))
    label(ax, centre_enc, top_y + 0.3, f"encoder output (B, S, {d})", fontsize=8)
    label(ax, bus - 0.12, cross_y - 0.3, "keys,\nvalues", fontsize=8, ha="right")
    # output layer and softmax
    centre_dec = x_dec + _COLUMN_WIDTH / 2
    y = y_out["decoder"]
    arrow(ax, (centre_dec, y), (centre_dec, y + 0.3))
    box(ax, x_dec, y + 0.3, _COLUMN_WIDTH, 0.55, f"Linear {d} → {config.tgt_vocab_size:,}", "output", fontsize=8)
    arrow(ax, (centre_dec, y + 0.85), (centre_dec, y + 1.1))
    box(ax, x_dec, y + 1.1, _COLUMN_WIDTH, 0.5, "Softmax", "output", fontsize=8)
    arrow(ax, (centre_dec, y + 1.6), (centre_dec, y + 1.9))
    label(ax, centre_dec, y + 2.1, f"next-token probabilities (B, T, {config.tgt_vocab_size:,})", fontsize=8)
    label(ax, 7.0, height - 0.3, f"Transformer: d_model = {d}, h = {h}, d_ff = {d_ff}, "
          f"N = {config.num_encoder_layers} + {config.num_decoder_layers}, {_norm_name(config)}", fontsize=10)
    return fig


def draw_transformer_stacks(config: TransformerConfig) -> Figure:
    """N encoder layers and N decoder layers stacked, as the textbook notes draw them: the source goes up
    the encoder stack; the last encoder layer's output is read by the encoder-decoder attention of every
    decoder layer; the decoder stack ends in the output layer."""
    _check_config(config)
    n_enc, n_dec = config.num_encoder_layers, config.num_decoder_layers
    step, bh, base = 0.8, 0.55, 1.2
    height = base + max(n_enc, n_dec) * step + 1.6
    fig, ax = canvas(11.0, height, inches_per_unit=0.6)
    x_enc, x_dec, w = 0.4, 6.6, 4.0
    box(ax, x_enc, 0.2, w, 0.6, f"source: embeddings + positions\n(B, S, {config.d_model})", "input", fontsize=8)
    box(ax, x_dec, 0.2, w, 0.6, f"target: embeddings + positions\n(B, T, {config.d_model})", "input", fontsize=8)
    for x, count, name in ((x_enc, n_enc, "encoder"), (x_dec, n_dec, "decoder")):
        arrow(ax, (x + w / 2, 0.8), (x + w / 2, base))
        for i in range(count):
            y = base + i * step
            box(ax, x, y, w, bh, f"{name} layer {i + 1}", name, fontsize=8)
            if i:
                arrow(ax, (x + w / 2, y - step + bh), (x + w / 2, y))
    top_enc = base + (n_enc - 1) * step + bh
    # the last encoder layer's output goes to every decoder layer's encoder-decoder attention
    bus, out_y = 5.7, top_enc - bh / 2
    ys = [base + i * step + bh / 2 for i in range(n_dec)]
    ax.plot([x_enc + w, bus], [out_y, out_y], color="#3a78b5", lw=1.6)
    ax.plot([bus, bus], [min(ys + [out_y]), max(ys + [out_y])], color="#3a78b5", lw=1.6)
    for y in ys:
        ax.annotate("", (x_dec, y), (bus, y), arrowprops={"arrowstyle": "-|>", "color": "#3a78b5", "lw": 1.4,
                                                            "shrinkA": 0, "shrinkB": 0})
    label(ax, (x_enc + w + bus) / 2, out_y + 0.4, "encoder output", fontsize=8, color="#3a78b5")
    top_dec = base + (n_dec - 1) * step + bh
    arrow(ax, (x_dec + w / 2, top_dec), (x_dec + w / 2, top_dec + 0.3))
    box(ax, x_dec, top_dec + 0.3, w, 0.5, f"linear + softmax over {config.tgt_vocab_size:,} tokens", "output",
        fontsize=8)
    label(ax, 5.5, height - 0.3, f"{n_enc} encoder layers (self-attention + feed-forward), {n_dec} decoder layers "
          "(masked self-attention +\nattention over the encoder output + feed-forward), "
          f"d_model = {config.d_model}, h = {config.num_heads}", fontsize=8.5, va="top")
    return fig


def draw_multi_head_attention(config: TransformerConfig, length: int = 5) -> Figure:
    """Multi-head attention with the shapes of ``config`` on one sequence of ``length`` tokens: X projected by
    W^Q, W^K, W^V, split into h heads of d_k = d_model / h, scaled dot-product attention in every head,
    the heads concatenated and mixed by W^O."""
    _check_config(config)
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}")
    d, h = config.d_model, config.num_heads
    d_k, L = d // h, length
    fig, ax = canvas(15.0, 5.2, inches_per_unit=0.62)
    box(ax, 0.2, 2.1, 1.6, 1.0, f"X\n({L} × {d})", "input", fontsize=9)
    names = ("Q", "K", "V")
    for i, name in enumerate(names):
        y = 3.6 - i * 1.5
        arrow(ax, (1.8, 2.6), (2.5, y + 0.3))
        box(ax, 2.5, y, 1.9, 0.6, f"$W^{name}$ ({d} × {d})", "plain", fontsize=8)
        arrow(ax, (4.4, y + 0.3), (5.0, y + 0.3))
        box(ax, 5.0, y, 1.4, 0.6, f"{name} ({L} × {d})", "input", fontsize=8)
        arrow(ax, (6.4, y + 0.3), (7.0, 2.6))
    shown = min(h, 4)
    gap = 4.2 / shown
    for j in range(shown):
        y = 0.5 + j * gap
        text = f"head {j + 1}" if j < shown - 1 or shown == h else f"head {h}"
        box(ax, 7.0, y, 2.6, gap * 0.7, f"{text}: softmax(QKᵀ/√{d_k})V\n{L} × {d_k}", "attention", fontsize=7.5)
        arrow(ax, (9.6, y + gap * 0.35), (10.3, 2.6))
    if shown < h:
        label(ax, 8.3, 0.5 + (shown - 1) * gap - 0.12 * gap, "⋮", fontsize=11)
    label(ax, 8.3, 4.95, f"split into h = {h} heads of d_k = {d} / {h} = {d_k}", fontsize=9)
    box(ax, 10.3, 2.1, 1.7, 1.0, f"concat\n({L} × {h}·{d_k} = {d})", "attention", fontsize=8)
    arrow(ax, (12.0, 2.6), (12.5, 2.6))
    box(ax, 12.5, 2.1, 1.1, 1.0, f"$W^O$\n({d} × {d})", "plain", fontsize=8)
    arrow(ax, (13.6, 2.6), (14.1, 2.6))
    box(ax, 14.1, 2.1, 0.8, 1.0, f"out\n{L}×{d}", "output", fontsize=8)
    return fig


def _grid(ax: Axes, x: float, y: float, mask: torch.Tensor, rows: Sequence[str], cols: Sequence[str],
          cell: float) -> None:
    """A boolean mask as a grid with its lower-left corner at (x, y): True green with 'T', False grey with 'F'."""
    n_rows, n_cols = mask.shape
    for i in range(n_rows):
        for j in range(n_cols):
            allowed = bool(mask[i, j])
            cy = y + (n_rows - 1 - i) * cell
            ax.add_patch(matplotlib.patches.Rectangle((x + j * cell, cy), cell, cell, edgecolor="#333333",
                                                      facecolor=COLORS["output"] if allowed else COLORS["norm"]))
            ax.text(x + (j + 0.5) * cell, cy + cell / 2, "T" if allowed else "F", ha="center", va="center",
                    fontsize=8, color="#111111" if allowed else "#777777")
    for i, token in enumerate(rows):
        ax.text(x - 0.08, y + (n_rows - 1 - i + 0.5) * cell, token, ha="right", va="center", fontsize=8)
    for j, token in enumerate(cols):
        ax.text(x + (j + 0.5) * cell, y + n_rows * cell + 0.08, token, ha="center", va="bottom", fontsize=8,
                rotation=60)


def draw_attention_masks(src_tokens: Sequence[str], tgt_tokens: Sequence[str], pad: str = "<pad>") -> Figure:
    """Where each attention mask of the Transformer applies, on one padded source and target.

    Three grids (rows: queries, columns: keys; T = may attend, F = masked), each computed by
    ``course_lib.transformer`` as the model computes it: the encoder's self-attention under the source
    padding mask (padding columns masked), the decoder's self-attention under the causal mask (the
    future masked; the target's right padding comes after every real token, so the causal mask
    already hides it from them), and the encoder-decoder attention under the source padding mask
    again (decoder rows, source columns). ``pad`` marks padding; it may only end a sequence.
    """
    for name, tokens in (("src_tokens", src_tokens), ("tgt_tokens", tgt_tokens)):
        if len(tokens) == 0 or any(not isinstance(t, str) for t in tokens):
            raise ValueError(f"{name} must be a non-empty sequence of strings")
        real = [t != pad for t in tokens]
        if not real[0] or any(later and not earlier for earlier, later in zip(real, real[1:])):
            raise ValueError(f"{name}: padding {pad!r} may only follow the real tokens (right padding), got {tokens}")
    S, T = len(src_tokens), len(tgt_tokens)
    src_real = sum(t != pad for t in src_tokens)
    src_mask = padding_mask(torch.tensor([src_real]), S)[0]  # (S,)
    masks = [("Encoder self-attention", "source padding mask (keys)", src_mask.expand(S, S), src_tokens, src_tokens,
              "encoder"),
             ("Decoder masked self-attention", "causal mask", causal_mask(T), tgt_tokens, tgt_tokens, "decoder"),
             ("Encoder-decoder attention", "source padding mask (keys)", src_mask.expand(T, S), tgt_tokens,
              src_tokens, "decoder")]
    cell = 0.42
    widths = [m[2].shape[1] * cell for m in masks]
    tallest = max(m[2].shape[0] for m in masks) * cell
    width = sum(widths) + 1.7 * len(masks) + 0.4
    fig, ax = canvas(width, tallest + 2.1, inches_per_unit=0.75)
    x = 1.5
    for (where, which, mask, rows, cols, kind), w in zip(masks, widths):
        box(ax, x - 1.1, tallest + 1.15, w + 1.3, 0.75, f"{where}\n{which}", kind, fontsize=8)
        _grid(ax, x, 0.3 + tallest - mask.shape[0] * cell, mask, rows, cols, cell)
        x += w + 1.7
    label(ax, width / 2, 0.12, "rows: queries, columns: keys;  T: may attend, F: masked (score −∞, weight 0)",
          fontsize=8)
    return fig
