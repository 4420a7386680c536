"""The course's figures (course_lib.plots): training curves, hidden states, accuracy by length, attention.

Figures are checked by what they hold (labels, panels, bar heights) and by rendering them with
warnings as errors: matplotlib warns when a glyph, such as a Hangul syllable, is missing.
"""
from __future__ import annotations

import io
import warnings

import matplotlib
import pytest
import torch
from matplotlib.figure import Figure

from course_lib.plots import (HANGUL_FONT, attention_explorer, plot_accuracy_by_length, plot_attention,
                              plot_attention_steps, plot_hidden_states, plot_history)
from course_lib.train import History


def _render(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png")


# --- training curves, hidden states, accuracy by length ----------------------------------------------

def test_importing_plots_sets_the_hangul_fallback_font():
    assert matplotlib.rcParams["font.family"][-1] == HANGUL_FONT  # the documented import-time setting


def test_plots_render():
    history = History(train_loss=[2.0, 1.0], valid_loss=[2.1, 1.2], metrics=[{"em": 0.1}, {"em": 0.5}],
                      seconds=[1.0, 2.0])
    fig = plot_history(history)
    _render(fig)
    assert len(fig.axes) == 2 and [line.get_ydata().tolist() for line in fig.axes[1].lines] == [[0.1, 0.5]]
    no_validation = plot_history(History(train_loss=[2.0, 1.0], valid_loss=[float("nan")] * 2, metrics=[{}, {}],
                                         seconds=[1.0, 2.0]))
    _render(no_validation)
    assert len(no_validation.axes) == 1 and len(no_validation.axes[0].lines) == 1  # no empty validation curve
    _render(plot_hidden_states(torch.randn(4, 37), ["Hello", ",", "world", "!"]))
    fig = plot_accuracy_by_length({"GRU": {3: 0.9, 4: 0.8, 5: 0.5}, "LSTM": {3: 0.95, 5: 0.7}})
    _render(fig)
    assert [line.get_xdata().tolist() for line in fig.axes[0].lines] == [[3, 4, 5], [3, 5]]
    with pytest.raises(ValueError, match="len\\(tokens\\)"):
        plot_hidden_states(torch.randn(4, 37), ["a", "b"])


def test_hangul_labels_render_without_missing_glyphs(tmp_path):
    fig = plot_hidden_states(torch.randn(4, 6), ["세상아", ",", "안녕", "천천히"], title="2020년 3월 3일 화요일")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig.savefig(tmp_path / "hangul.png")


# --- attention (chapter 5) ---------------------------------------------------------------------------

SOURCE = ["take", "your", "time"]
TARGET = ["천천히", "<eos>"]


def weights(T: int = len(TARGET), S: int = len(SOURCE), seed: int = 0) -> torch.Tensor:
    return torch.randn(T, S, generator=torch.Generator().manual_seed(seed)).softmax(-1)  # (T, S)


def test_heatmap_puts_source_on_x_and_target_on_y():
    fig = plot_attention(weights(), SOURCE, TARGET, title="take your time")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == SOURCE
    assert [t.get_text() for t in ax.get_yticklabels()] == TARGET
    assert ax.images[0].get_array().shape == (2, 3)
    assert len(ax.texts) == 6  # a small grid is annotated with its weights


def test_heatmap_shows_a_space_token_and_skips_annotation_of_large_grids():
    source = list("2020년 3월 3일")  # character tokens, spaces included
    fig = plot_attention(weights(10, len(source)), source, list("2020-03-03"), annotate=False)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[5] == "␣" and len(fig.axes[0].texts) == 0


def test_hangul_attention_figures_render_without_missing_glyphs(tmp_path):
    source, target = list("2020년 3월 3일 화요일"), list("2020-03-03") + ["<eos>"]
    w = weights(len(target), len(source))
    figures = [plot_attention(w, source, target, title="2020년 3월 3일 화요일 → 2020-03-03"),
               plot_attention_steps(w, source, target, title="나는 고양이를 본다"),
               attention_explorer(w, source, target).figure(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        for i, fig in enumerate(figures):
            fig.savefig(tmp_path / f"hangul{i}.png")


def test_steps_grid_has_one_panel_per_output_token():
    w = weights(5, 3)
    fig = plot_attention_steps(w, SOURCE, ["a", "b", "c", "d", "e"], columns=2)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(fig.axes) == 6 and len(visible) == 5  # 3 rows of 2, the last panel blank
    assert visible[4].get_title() == "step 5: writes 'e'"
    heights = [bar.get_height() for bar in visible[1].patches]
    assert heights == pytest.approx(w[1].tolist())
    colors = [bar.get_facecolor() for bar in visible[1].patches]
    top = int(w[1].argmax())
    assert all((c == colors[top]) == (j == top) for j, c in enumerate(colors))  # the largest weight stands out


@pytest.mark.parametrize("bad", [torch.ones(3, 3), torch.ones(2, 3, 1), torch.ones(3)])
def test_weights_must_match_the_tokens(bad):
    for make in (plot_attention, plot_attention_steps, attention_explorer):
        with pytest.raises(ValueError, match=r"\(T, S\)"):
            make(bad, SOURCE, TARGET)


def test_explorer_builds_and_its_callback_updates_the_view():
    w = weights(4, 3)
    target = ["천천히", "해", ".", "<eos>"]
    explorer = attention_explorer(w, SOURCE, target)
    assert explorer.slider.min == 1 and explorer.slider.max == 4 and explorer.step == 0
    first_image, first_html = bytes(explorer.image.value), explorer.sentence.value
    assert first_image.startswith(b"\x89PNG") and "<mark" in first_html and "천천히</b>" in first_html

    explorer.show(2)  # what the slider's callback does, called from code
    assert explorer.step == 2 and explorer.slider.value == 3
    assert "<b>.</b>" in explorer.sentence.value and bytes(explorer.image.value) != first_image

    explorer.slider.value = 2  # a user moving the slider
    assert explorer.step == 1 and "<b>해</b>" in explorer.sentence.value

    with pytest.raises(ValueError, match="step must be"):
        explorer.show(4)


def test_explorer_displays_as_a_widget_quietly(capfd):
    explorer = attention_explorer(weights(), SOURCE, TARGET)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    out, err = capfd.readouterr()
    assert err == ""
