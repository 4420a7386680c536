"""The attention diagrams (chapter 5): the shapes written are the config's, one encoder state per source
token (a long source elided), bad arguments refused, Hangul drawn without missing glyphs."""
from __future__ import annotations

import dataclasses
import re

import pytest

from course_lib.diagrams.attention import MAX_SOURCE, SHOWN, draw_attention_steps, draw_bahdanau_step
from course_lib.seq2seq import Seq2SeqConfig
from tests.diagram_helpers import boxes, rendered, texts


def test_the_five_steps_carry_the_configs_shapes():
    config = Seq2SeqConfig(src_vocab_size=321, tgt_vocab_size=4567, emb_dim=48, hidden_size=96)
    written = "\n".join(texts(rendered(draw_attention_steps(config))))
    for shape in ["<96 x 3>", "<1 x 3>", "<96 x 1>", "<192 x 1>", "<4,567 x 1>", "H = 96", "S = 3"]:
        assert shape in written, shape
    assert all(f"{n} " in written for n in "①②③④⑤") and "천천히" in written
    four = "\n".join(texts(draw_attention_steps(dataclasses.replace(config, hidden_size=4), ["a", "b", "c"])))
    assert "<4 x 3>" in four and "<4 x 1>" in four and "<96" not in four  # the note's own toy shapes


def test_one_encoder_state_per_source_token_and_an_ellipsis_for_a_long_source():
    config = Seq2SeqConfig.tiny(30, 40)
    for n in (1, 3, SHOWN):
        fig = draw_attention_steps(config, [f"w{i}" for i in range(n)])
        states = [t for t in texts(fig) if re.fullmatch(r"\$h_\{\d+\}\$", t)]
        assert len(states) == n and f"<1 x {n}>" in "\n".join(texts(fig))
        assert len(boxes(fig, "decoder")) == 1 and len(boxes(fig, "context")) == 1
    long = draw_bahdanau_step(config, list("2020년 3월 3일 화요일"))
    written = texts(rendered(long))
    assert "…" in written and "$h_{15}$" in written and "$h_{6}$" not in written and "(1, 15)" in "\n".join(written)
    assert len([t for t in written if re.fullmatch(r"\$h_\{\d+\}\$", t)]) == SHOWN - 1


def test_the_bahdanau_step_writes_the_recurrence_with_its_sizes():
    config = Seq2SeqConfig(60, 14, emb_dim=32, hidden_size=64, cell="lstm")
    written = "\n".join(texts(rendered(draw_bahdanau_step(config, ["2020년", "3월"], attention_size=16))))
    assert "f(s_{i-1}, y_{i-1}, c_i)" in written and "LSTM" in written
    for size in ["H = 64", "E = 32", "A = 16", "S = 2", "V = 14", "(32 + 64) → (1, 64)", "(128) → 14"]:
        assert size in written, size
    assert "A = 64" in "\n".join(texts(draw_bahdanau_step(config, ["x"])))  # A defaults to H


@pytest.mark.parametrize("draw", [draw_attention_steps, draw_bahdanau_step])
def test_bad_arguments_are_refused_clearly(draw):
    config = Seq2SeqConfig.tiny(30, 40)
    with pytest.raises(TypeError, match="Seq2SeqConfig"):
        draw({"hidden_size": 4})
    broken = Seq2SeqConfig.tiny(30, 40)
    broken.hidden_size = 0
    with pytest.raises(ValueError, match="hidden_size"):
        draw(broken)
    with pytest.raises(ValueError, match="not one string"):
        draw(config, "take your time")
    with pytest.raises(ValueError, match="1 to"):
        draw(config, [])
    with pytest.raises(ValueError, match="1 to"):
        draw(config, ["x"] * (MAX_SOURCE + 1))
    with pytest.raises(ValueError, match="non-empty"):
        draw(config, ["a", ""])
