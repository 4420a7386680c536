"""What the diagram tests read off a figure: its texts, its boxes of one kind, and a render that fails on a missing glyph."""
from __future__ import annotations

import io
import warnings

from matplotlib.figure import Figure

from course_lib.diagrams import COLORS


def texts(fig: Figure) -> list[str]:
    """Every text artist's string, in drawing order."""
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def boxes(fig: Figure, kind: str) -> list:
    """The box patches of one kind (by the colour of COLORS[kind])."""
    wanted = COLORS[kind]
    return [p for ax in fig.axes for p in ax.patches
            if "#%02x%02x%02x" % tuple(round(255 * c) for c in p.get_facecolor()[:3]) == wanted]


def rendered(fig: Figure) -> Figure:
    """The figure, after drawing it to PNG with warnings as errors ("Glyph ... missing from font(s)" fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png")
    return fig
