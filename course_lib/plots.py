"""The course's figures: training curves, hidden states over time, accuracy by length.

Each function builds a ``matplotlib.figure.Figure`` directly (no pyplot, no
global state) and returns it: a notebook displays it once when it is the
cell's last value, and ``fig.savefig(...)`` writes it anywhere.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import matplotlib.patches
import numpy as np
import torch
from matplotlib import font_manager
from matplotlib.figure import Figure

HANGUL_FONT = "NanumGothic"


def hangul_font_path() -> Path:
    """NanumGothic, shipped inside the koreanize-matplotlib wheel (found without importing it:
    its import changes matplotlib's settings and warns)."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Hangul font is missing: pip install koreanize-matplotlib")
    return Path(spec.submodule_search_locations[0]) / "fonts" / "NanumGothic.ttf"


def use_hangul_font() -> None:
    """Draw Latin text in DejaVu Sans and fall back to NanumGothic for Hangul, in every figure.

    Done once when this module is imported, so figures made with pyplot directly in a
    chapter get it too; without it Hangul labels are drawn as empty boxes.
    """
    font_manager.fontManager.addfont(str(hangul_font_path()))
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", HANGUL_FONT]


use_hangul_font()


def _font() -> dict:
    """rcParams applied while each course figure is built (fonts are set globally above)."""
    return {}


def _figure(figsize: tuple[float, float]) -> Figure:
    return Figure(figsize=figsize, layout="constrained")


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=float)


def plot_history(history) -> Figure:
    """Training and validation loss per epoch; metrics from ``evaluate`` on a second panel."""
    epochs = np.arange(1, len(history.train_loss) + 1)
    metric_names = list(dict.fromkeys(k for m in history.metrics for k in m))
    with matplotlib.rc_context(_font()):
        fig = _figure((9.0 if metric_names else 5.0, 3.5))
        axes = fig.subplots(1, 2 if metric_names else 1, squeeze=False)[0]
        axes[0].plot(epochs, history.train_loss, marker="o", label="train")
        if not np.all(np.isnan(history.valid_loss)):
            axes[0].plot(epochs, history.valid_loss, marker="o", label="valid")
        axes[0].set(xlabel="epoch", ylabel="loss (cross-entropy per token)", title="Loss")
        axes[0].legend()
        if metric_names:
            for name in metric_names:
                axes[1].plot(epochs, [m.get(name, np.nan) for m in history.metrics], marker="o", label=name)
            axes[1].set(xlabel="epoch", title="Validation metrics")
            axes[1].legend()
    return fig


def plot_hidden_states(states, tokens: Sequence[str], title: str = "Hidden states h_t") -> Figure:
    """Heatmap of the hidden state at each step: states (T, H), one column per input token."""
    values = _to_numpy(states)  # (T, H)
    if values.ndim != 2 or values.shape[0] != len(tokens):
        raise ValueError(f"states must be (T, H) with T = len(tokens) = {len(tokens)}, got shape {values.shape}")
    limit = float(np.abs(values).max()) or 1.0
    with matplotlib.rc_context(_font()):
        T, H = values.shape
        fig = _figure((max(4.0, 0.6 * T + 2.0), max(3.0, min(8.0, 0.15 * H + 1.5))))
        ax = fig.subplots()
        image = ax.imshow(values.T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)  # (H, T)
        ax.set_xticks(range(T), labels=list(tokens))
        ax.set(xlabel="input token (time step t)", ylabel="hidden unit", title=title)
        fig.colorbar(image, ax=ax)
    return fig


def plot_accuracy_by_length(results: Mapping[str, Mapping[int, float]],
                            title: str = "Exact match by source length") -> Figure:
    """One line per model: {label: {source length: accuracy}}, as from ``train.accuracy_by_length``."""
    with matplotlib.rc_context(_font()):
        fig = _figure((6.0, 3.5))
        ax = fig.subplots()
        for label, by_length in results.items():
            lengths = sorted(by_length)
            ax.plot(lengths, [by_length[n] for n in lengths], marker="o", label=label)
        ax.set(xlabel="source length (tokens)", ylabel="exact match", ylim=(-0.02, 1.02), title=title)
        ax.legend()
    return fig


TAXONOMY = {  # shape: (number of inputs, number of outputs, outputs start after the inputs)
    "one-to-one": (1, 1, False),
    "one-to-many": (1, 3, False),
    "many-to-one": (3, 1, True),
    "many-to-many\n(aligned: tagging)": (3, 3, False),
    "many-to-many\n(sequence to sequence)": (3, 2, True),
}


def plot_rnn_taxonomy() -> Figure:
    """The five ways to wire one recurrent cell: inputs (bottom), hidden states, outputs (top)."""
    fig = _figure((12.0, 2.4))
    for ax, (title, (n_in, n_out, after)) in zip(fig.subplots(1, len(TAXONOMY)), TAXONOMY.items()):
        steps = n_in + n_out if after and n_out > 1 else max(n_in, n_out)
        first_out = n_in - 1 if after and n_out == 1 else (n_in if after else 0)
        for t in range(steps):
            ax.add_patch(matplotlib.patches.FancyBboxPatch((t - 0.3, 0.7), 0.6, 0.6, boxstyle="round,pad=0.02",
                                                           color="#f4c27a"))
            ax.text(t, 1.0, "h", ha="center", va="center")
            if t > 0:
                ax.annotate("", (t - 0.3, 1.0), (t - 0.7, 1.0), arrowprops={"arrowstyle": "->"})
            if t < n_in:
                ax.add_patch(matplotlib.patches.Rectangle((t - 0.25, -0.3), 0.5, 0.5, color="#9ec5e8"))
                ax.text(t, -0.05, "x", ha="center", va="center")
                ax.annotate("", (t, 0.7), (t, 0.2), arrowprops={"arrowstyle": "->"})
            if first_out <= t < first_out + n_out:
                ax.add_patch(matplotlib.patches.Rectangle((t - 0.25, 1.8), 0.5, 0.5, color="#a8d5a2"))
                ax.text(t, 2.05, "y", ha="center", va="center")
                ax.annotate("", (t, 1.8), (t, 1.3), arrowprops={"arrowstyle": "->"})
        ax.set(xlim=(-0.6, 4.6), ylim=(-0.5, 2.5), title=title, aspect="equal")
        ax.axis("off")
    return fig
