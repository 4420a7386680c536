"""The course's figures: training curves, hidden states over time, accuracy by length, attention.

Each function builds a ``matplotlib.figure.Figure`` directly (not through pyplot) and
returns it: a notebook displays it once when it is the cell's last value, and
``fig.savefig(...)`` writes it anywhere.

Importing this module changes two global settings, once and on purpose, so that every
chapter gets them from its imports alone: matplotlib's font family falls back to
NanumGothic for Hangul (:func:`use_hangul_font`; figures made with pyplot get it too),
and in IPython a Figure that a cell returns is shown as a PNG (:func:`show_figures_inline`).
"""
from __future__ import annotations

import html
import importlib.util
import io
from pathlib import Path
from typing import Mapping, Sequence

import ipywidgets as widgets
import matplotlib
import matplotlib.patches
import numpy as np
import torch
from IPython import get_ipython
from IPython.core.pylabtools import select_figure_formats
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


def show_figures_inline() -> None:
    """In a notebook, display a Figure that a cell returns as an image, as pyplot's inline
    backend does for its own figures (course figures are built without pyplot)."""
    shell = get_ipython()
    if shell is not None and hasattr(shell, "display_formatter"):
        select_figure_formats(shell, {"png"})


show_figures_inline()


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


# --- attention (chapter 5) -------------------------------------------------------------------

def _attention_values(weights, source_tokens: Sequence[str], target_tokens: Sequence[str]) -> np.ndarray:
    """Weights as a (T, S) array, checked against the token lists."""
    values = _to_numpy(weights)
    if values.ndim != 2 or values.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(f"weights must be (T, S) = (len(target_tokens), len(source_tokens)) = "
                         f"({len(target_tokens)}, {len(source_tokens)}), got shape {values.shape}")
    return values


def _shown(token: str) -> str:
    """A token as a label: a space character would be invisible."""
    return "␣" if token == " " else token


def plot_attention(weights, source_tokens: Sequence[str], target_tokens: Sequence[str],
                   title: str = "Attention weights", annotate: bool | None = None) -> Figure:
    """Heatmap of attention weights (T, S): source tokens on x, target tokens on y.

    Row i is decoder step i (it wrote target_tokens[i]); it sums to 1 over the source.
    ``annotate`` writes each weight in its cell (default: when the grid is small).
    """
    values = _attention_values(weights, source_tokens, target_tokens)  # (T, S)
    T, S = values.shape
    annotate = T * S <= 120 if annotate is None else annotate
    fig = _figure((max(3.5, 0.42 * S + 2.2), max(2.5, 0.38 * T + 1.4)))
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(S), labels=[_shown(t) for t in source_tokens])
    ax.set_yticks(range(T), labels=[_shown(t) for t in target_tokens])
    if max((len(t) for t in source_tokens), default=0) > 2:
        ax.tick_params(axis="x", labelrotation=60)
    ax.set(xlabel="source token (key = value: encoder state h_j)", ylabel="output token (step i)", title=title)
    if annotate:
        for i in range(T):
            for j in range(S):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if values[i, j] > 0.6 else "black")
    fig.colorbar(image, ax=ax, label="weight a_ij")
    return fig


def _attention_bars(ax, row: np.ndarray, source_tokens: Sequence[str], title: str, small: bool) -> None:
    """One decoding step: a bar per source token, the most attended one highlighted."""
    colors = ["#1f77b4"] * len(row)
    colors[int(np.argmax(row))] = "#d62728"
    ax.bar(range(len(row)), row, color=colors)
    ax.set_ylim(0.0, 1.0)
    ax.set_xticks(range(len(row)), labels=[_shown(t) for t in source_tokens], fontsize=6 if small else 9)
    ax.set_title(title, fontsize=9 if small else 11)
    if small:
        ax.tick_params(axis="y", labelsize=6)


def _step_title(step: int, target_tokens: Sequence[str]) -> str:
    return f"step {step + 1}: writes '{_shown(target_tokens[step])}'"


def plot_attention_steps(weights, source_tokens: Sequence[str], target_tokens: Sequence[str],
                         columns: int = 4, title: str | None = None) -> Figure:
    """The explorer's view, all at once: one small bar chart of a_i. over the source per step i."""
    values = _attention_values(weights, source_tokens, target_tokens)  # (T, S)
    T, S = values.shape
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive int, got {columns!r}")
    columns = min(columns, T)
    rows = -(-T // columns)
    fig = _figure((columns * max(2.4, 0.16 * S + 0.8), rows * 1.9 + (0.4 if title else 0.0)))
    axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
    for step, ax in enumerate(axes.flat):
        if step < T:
            _attention_bars(ax, values[step], source_tokens, _step_title(step, target_tokens), small=True)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def _target_html(target_tokens: Sequence[str], step: int) -> str:
    """The decoded sentence with the token written at ``step`` highlighted."""
    words = [html.escape(_shown(t)) for t in target_tokens]
    words[step] = f"<mark style='background:#ffd54f'><b>{words[step]}</b></mark>"
    return "output: " + " ".join(words)


class AttentionExplorer:
    """A slider over decoding steps; at each step the decoded sentence with that step's output
    token highlighted, and a bar chart of that step's weights over the source tokens.

    Displays as its ipywidgets ``widget`` (slider, sentence, chart). Moving the slider redraws
    the view; ``show(step)`` moves it from code, which also works without a front end (tests).
    """

    def __init__(self, weights, source_tokens: Sequence[str], target_tokens: Sequence[str]):
        self.values = _attention_values(weights, source_tokens, target_tokens)  # (T, S)
        self.source_tokens, self.target_tokens = list(source_tokens), list(target_tokens)
        T = len(self.target_tokens)
        self.slider = widgets.IntSlider(value=1, min=1, max=T, step=1, description="step",
                                        continuous_update=True)
        self.sentence = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([self.slider, self.sentence, self.image])
        self.slider.observe(lambda change: self._draw(change["new"] - 1), names="value")
        self.step = 0
        self._draw(0)

    def figure(self, step: int) -> Figure:
        """The bar chart of step ``step`` (0-based)."""
        fig = _figure((max(4.0, 0.3 * len(self.source_tokens) + 1.5), 2.6))
        _attention_bars(fig.subplots(), self.values[step], self.source_tokens,
                        _step_title(step, self.target_tokens), small=False)
        return fig

    def show(self, step: int) -> None:
        """Show decoding step ``step`` (0-based): move the slider there, which redraws the view."""
        if not isinstance(step, (int, np.integer)) or not 0 <= step < len(self.target_tokens):
            raise ValueError(f"step must be an int in 0..{len(self.target_tokens) - 1}, got {step!r}")
        if self.slider.value == step + 1:
            self._draw(int(step))
        else:
            self.slider.value = int(step) + 1  # the slider's observer calls _draw

    def _draw(self, step: int) -> None:
        """Highlight the output token of ``step`` and draw its weights over the source."""
        self.step = step
        self.sentence.value = _target_html(self.target_tokens, step)
        buffer = io.BytesIO()
        self.figure(step).savefig(buffer, format="png", dpi=90)
        self.image.value = buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def attention_explorer(weights, source_tokens: Sequence[str], target_tokens: Sequence[str]) -> AttentionExplorer:
    """An interactive view of one decoded sentence's attention (T, S): step through the output.

    A notebook with a kernel shows a slider; a static page shows no callbacks, so put
    :func:`plot_attention_steps` (the same view for every step) next to it.
    """
    return AttentionExplorer(weights, source_tokens, target_tokens)


# --- the Transformer (chapter 6) -------------------------------------------------------------

def plot_attention_heads(weights, query_tokens: Sequence[str], key_tokens: Sequence[str],
                         title: str = "Attention weights per head", columns: int = 4) -> Figure:
    """One heatmap per head: weights (heads, L_query, L_key), query tokens on y, key tokens on x."""
    values = _to_numpy(weights)
    if values.ndim != 3 or values.shape[1:] != (len(query_tokens), len(key_tokens)):
        raise ValueError(f"weights must be (heads, L_query, L_key) = (h, {len(query_tokens)}, {len(key_tokens)}),"
                         f" got shape {values.shape}")
    heads = values.shape[0]
    columns = min(columns, heads)
    rows = -(-heads // columns)
    cell = max(1.8, 0.28 * max(len(key_tokens), len(query_tokens)))
    fig = _figure((columns * cell + 1.0, rows * cell + 0.6))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for h, ax in enumerate(axes):
        if h >= heads:
            ax.axis("off")
            continue
        image = ax.imshow(values[h], cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(key_tokens)), labels=[_shown(t) for t in key_tokens], fontsize=7, rotation=90)
        ax.set_yticks(range(len(query_tokens)),
                      labels=[_shown(t) for t in query_tokens] if h % columns == 0 else [], fontsize=7)
        ax.set_title(f"head {h + 1}", fontsize=9)
    fig.colorbar(image, ax=axes.tolist(), shrink=0.8, label="weight")
    fig.suptitle(title)
    return fig


def plot_positional_encoding(pe, dims: Sequence[int] = (0, 1, 4, 5, 10, 11)) -> Figure:
    """Sinusoidal positional encodings (positions, d_model): the whole matrix, and a few dimensions as curves."""
    values = _to_numpy(pe)
    if values.ndim != 2:
        raise ValueError(f"pe must be (positions, d_model), got shape {values.shape}")
    fig = _figure((11, 3.6))
    left, right = fig.subplots(1, 2, width_ratios=[1.3, 1])
    image = left.imshow(values.T, cmap="RdBu", vmin=-1, vmax=1, aspect="auto", origin="lower")
    left.set(xlabel="position pos", ylabel="dimension i", title="PE(pos, i)")
    fig.colorbar(image, ax=left)
    for i in dims:
        if i < values.shape[1]:
            right.plot(values[:, i], label=f"i = {i} ({'sin' if i % 2 == 0 else 'cos'})")
    right.set(xlabel="position pos", ylabel="PE(pos, i)", title="low dimensions turn fast, high ones slowly")
    right.legend(fontsize=7, loc="lower left")
    return fig


def plot_masks(masks: Mapping[str, object], query_tokens: Sequence[str] | None = None,
               key_tokens: Sequence[str] | None = None) -> Figure:
    """Boolean masks (L_query, L_key) side by side: filled = may attend, empty = blocked."""
    fig = _figure((3.2 * len(masks), 3.2))
    axes = np.atleast_1d(fig.subplots(1, len(masks)))
    for ax, (name, mask) in zip(axes, masks.items()):
        values = _to_numpy(mask)
        ax.imshow(values, cmap="Greens", vmin=0, vmax=1.4)
        for (i, j), allowed in np.ndenumerate(values):
            ax.text(j, i, "1" if allowed else "0", ha="center", va="center", fontsize=7)
        if key_tokens is not None and len(key_tokens) == values.shape[1]:
            ax.set_xticks(range(values.shape[1]), labels=[_shown(t) for t in key_tokens], fontsize=8, rotation=90)
        if query_tokens is not None and len(query_tokens) == values.shape[0]:
            ax.set_yticks(range(values.shape[0]), labels=[_shown(t) for t in query_tokens], fontsize=8)
        ax.set(title=name, xlabel="key position", ylabel="query position")
    return fig
