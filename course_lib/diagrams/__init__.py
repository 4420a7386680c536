"""Diagrams of the architectures the chapters teach, drawn with matplotlib from the models' own sizes.

A plot shows numbers a model computed; a diagram shows how the model is wired: which box
feeds which, with the shapes on the arrows. The study notes draw these by hand; here each
is a function that takes a config (or the sentence to show) and returns a
``matplotlib.figure.Figure``, so the figure states the sizes of the model the chapter builds,
renders offline, and draws Hangul with the font ``course_lib.plots`` sets up.

One module per chapter's topic: ``seq2seq`` (chapters 1-4), ``attention`` (5),
``transformer`` (6), ``pretraining`` (7-8), ``korean`` (the appendix on Korean tokens). This package holds what they share: one canvas,
one box, one arrow, and one colour per kind of part, the same in every chapter (an encoder is
always blue, a decoder always orange), on a white background that reads in the light and the
dark theme alike.
"""
from __future__ import annotations

import matplotlib.patches
from typing import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib import plots  # noqa: F401  (the Hangul font, set up when plots is imported)

# one colour per kind of part, light enough for black text
COLORS = {
    "input": "#dbe9f6",      # tokens, embeddings
    "encoder": "#9ec5e8",    # encoder states and layers
    "decoder": "#f4c27a",    # decoder states and layers
    "context": "#c9b3e6",    # context vectors
    "attention": "#f2a5a5",  # scores, weights, attention sub-layers
    "output": "#a8d5a2",     # predictions, heads
    "norm": "#e6e6e6",       # add & norm, residuals
    "plain": "#ffffff",
}


def canvas(width: float, height: float, *, inches_per_unit: float = 0.9) -> tuple[Figure, Axes]:
    """A white figure with one axis in data units (0..width, 0..height), no ticks or frame."""
    fig = Figure(figsize=(width * inches_per_unit, height * inches_per_unit), facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, width), ylim=(0, height), aspect="equal")
    ax.axis("off")
    return fig, ax


def box(ax: Axes, x: float, y: float, width: float, height: float, text: str = "", kind: str = "plain", *,
        fontsize: float = 10, **text_kw) -> tuple[float, float, float, float]:
    """A rounded box of ``kind``'s colour with its lower-left corner at (x, y), and centred text; returns
    (x, y, width, height) for placing arrows."""
    if kind not in COLORS:
        raise ValueError(f"unknown kind {kind!r}: choose one of {sorted(COLORS)}")
    ax.add_patch(matplotlib.patches.FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02,rounding_size=0.08",
                                                   facecolor=COLORS[kind], edgecolor="#333333", linewidth=1.0))
    if text:
        ax.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=fontsize, **text_kw)
    return x, y, width, height


def arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], text: str = "", *,
          fontsize: float = 8, color: str = "#333333", style: str = "-|>", dashed: bool = False) -> None:
    """An arrow from ``start`` to ``end``; ``text`` (a shape, say) written beside its middle: above a
    flat arrow, to the right of a steep one."""
    ax.annotate("", end, start, arrowprops={"arrowstyle": style, "color": color, "linewidth": 1.2,
                                            "linestyle": "--" if dashed else "-", "shrinkA": 0, "shrinkB": 0})
    if text:
        middle_x, middle_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        if abs(end[0] - start[0]) >= abs(end[1] - start[1]):
            ax.text(middle_x, middle_y + 0.06, text, ha="center", va="bottom", fontsize=fontsize, color="#333333")
        else:
            ax.text(middle_x + 0.08, middle_y, text, ha="left", va="center", fontsize=fontsize, color="#333333")


def label(ax: Axes, x: float, y: float, text: str, *, fontsize: float = 10, **kw) -> None:
    """Free text (a title of a group of boxes, a note), centred at (x, y)."""
    ax.text(x, y, text, ha=kw.pop("ha", "center"), va=kw.pop("va", "center"), fontsize=fontsize, **kw)


def figure_tokens(tokens: Sequence[str], name: str, limit: int) -> list[str]:
    """``tokens`` as a list of 1..limit non-empty strings (what fits on a figure), else a ValueError naming
    the argument."""
    if isinstance(tokens, str):
        raise ValueError(f"{name} must be a sequence of tokens, not one string: {tokens!r}")
    tokens = list(tokens)
    if not 1 <= len(tokens) <= limit:
        raise ValueError(f"{name} must hold 1 to {limit} tokens to fit on the figure, got {len(tokens)}")
    if not all(isinstance(t, str) and t for t in tokens):
        raise ValueError(f"{name} must hold non-empty strings, got {tokens!r}")
    return tokens
