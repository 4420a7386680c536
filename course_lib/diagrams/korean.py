"""A diagram of the Korean appendix: one sentence cut into several kinds of token, each row feeding its
own embedding table, with the sizes measured on the course's text."""
from __future__ import annotations

from typing import Mapping, Sequence

from matplotlib.figure import Figure

from course_lib.diagrams import arrow, box, canvas, figure_tokens, label

__all__ = ["draw_token_units", "MAX_UNITS", "MAX_TOKENS"]

MAX_UNITS = 6  # rows
MAX_TOKENS = 24  # tokens drawn in one row (a longer row shows its first ones and an ellipsis)
_SHOWN = 14


def _display(token: str) -> str:
    return "␣" if token == " " else token


def draw_token_units(units: Mapping[str, Sequence[str]], vocab_sizes: Mapping[str, int], emb_dim: int,
                     sentence: str = "") -> Figure:
    """One row per unit (words, morphemes, syllables, jamo, ...): the tokens of ``sentence`` in that unit,
    how many there are, and the embedding table they are looked up in, vocabulary x ``emb_dim``, with the
    vocabulary size of ``vocab_sizes``. Raises ValueError on an empty or oversized row, a unit without a
    vocabulary size, or a size that is not a positive int."""
    if not 1 <= len(units) <= MAX_UNITS:
        raise ValueError(f"units must hold 1 to {MAX_UNITS} rows, got {len(units)}")
    if not isinstance(emb_dim, int) or isinstance(emb_dim, bool) or emb_dim < 1:
        raise ValueError(f"emb_dim must be a positive int, got {emb_dim!r}")
    rows = {}
    for name, tokens in units.items():
        tokens = figure_tokens(tokens, f"unit {name!r}", MAX_TOKENS)
        size = vocab_sizes.get(name)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"unit {name!r} needs a positive int vocabulary size, got {size!r}")
        rows[name] = tokens
    height = 1.1 * len(rows) + 1.0
    fig, ax = canvas(15.0, height)
    kinds = "1 kind" if len(rows) == 1 else f"{len(rows)} kinds"
    title = f"One sentence, {kinds} of token, one embedding table each (E = {emb_dim})"
    label(ax, 7.5, height - 0.35, title + (f": {sentence}" if sentence else ""), fontsize=11)
    for r, (name, tokens) in enumerate(rows.items()):
        y = height - 1.3 - 1.1 * r
        label(ax, 1.05, y + 0.3, name, fontsize=9)
        shown = tokens if len(tokens) <= _SHOWN else tokens[: _SHOWN - 1]
        longest = max(len(_display(t)) for t in shown)
        step = min(max(0.62, 0.14 * longest), 7.2 / len(shown))
        for k, token in enumerate(shown):
            box(ax, 2.2 + k * step, y, step * 0.92, 0.6, _display(token), "input",
                fontsize=9 if len(token) <= 2 else 7 if len(token) <= 4 else 6)
        end = 2.2 + len(shown) * step
        if len(shown) < len(tokens):
            label(ax, end + 0.2, y + 0.3, "…", fontsize=12)
            end += 0.4
        label(ax, end + 0.55, y + 0.3, f"{len(tokens)} tokens", fontsize=8)
        arrow(ax, (11.3, y + 0.3), (12.0, y + 0.3))
        box(ax, 12.0, y - 0.02, 2.8, 0.64, f"embedding {vocab_sizes[name]:,} x {emb_dim}", "encoder", fontsize=9)
    return fig
