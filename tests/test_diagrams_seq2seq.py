"""The encoder-decoder diagrams (chapters 2-4): sizes read from the config, one box per step and layer,
right and wrong tokens marked, bad arguments refused, Hangul drawn without missing glyphs."""
from __future__ import annotations

import dataclasses
import re

import pytest

from course_lib.diagrams.seq2seq import MAX_LAYERS, MAX_TOKENS, draw_seq2seq, draw_teacher_forcing
from course_lib.seq2seq import Seq2SeqConfig
from tests.diagram_helpers import boxes, rendered, texts

SOURCE = ["Hello", ",", "world", "!"]
TARGET = ["세상아", ",", "안녕", "!"]


def test_the_sizes_written_are_the_configs():
    config = Seq2SeqConfig(src_vocab_size=321, tgt_vocab_size=4567, emb_dim=48, hidden_size=96, cell="lstm")
    fig = rendered(draw_seq2seq(config))
    written = "\n".join(texts(fig))
    for size in ["E=48", "H=96", "V=4,567", "source vocabulary 321", "target vocabulary 4,567", "LSTM, 1 layer"]:
        assert size in written, size
    assert "(1, H=96)" in written and "$c = (h_{4}, m_{4})$" in written  # the context's shape, the LSTM's memory
    other = draw_seq2seq(dataclasses.replace(config, emb_dim=8, hidden_size=12, cell="gru"))
    assert "E=8" in "\n".join(texts(other)) and "H=96" not in "\n".join(texts(other))


def test_one_box_per_token_step_and_layer():
    for layers in (1, 2, 3):
        config = Seq2SeqConfig.tiny(30, 40, num_layers=layers)
        fig = draw_seq2seq(config, SOURCE, TARGET)
        encoder_states = [t for t in texts(fig) if re.fullmatch(r"\$h_\{\d\}(\^\{\(\d\)\})?\$", t)]
        decoder_states = [t for t in texts(fig) if t.startswith(r"$\hat h_")]
        assert len(encoder_states) == len(SOURCE) * layers
        assert len(decoder_states) == (len(TARGET) + 1) * layers  # the target and <eos>
        assert len(boxes(fig, "encoder")) == len(SOURCE) * layers
        assert len(boxes(fig, "decoder")) == (len(TARGET) + 1) * layers
        assert len(boxes(fig, "context")) == 1
        assert f"{layers} layer" in "\n".join(texts(fig))
    three = draw_seq2seq(Seq2SeqConfig.tiny(30, 40, num_layers=3))
    assert r"$h_{4}^{(3)}$" in texts(three) and r"$\hat h_{5}^{(3)}$" in texts(three)


def test_the_sentence_pair_is_drawn_with_bos_and_eos():
    fig = rendered(draw_seq2seq(Seq2SeqConfig.tiny(30, 40), SOURCE, TARGET))
    written = texts(fig)
    assert all(token in written for token in SOURCE + TARGET + ["<bos>", "<eos>"])
    assert written.count("안녕") == 2  # written by step 3, read by step 4


def test_greedy_feedback_is_one_dashed_line_per_step_after_the_first():
    config = Seq2SeqConfig.tiny(30, 40)
    plain, greedy = draw_seq2seq(config), draw_seq2seq(config, feed_back=True)
    assert len(plain.axes[0].lines) == 0
    assert len(greedy.axes[0].lines) == len(TARGET)  # from y_1..y_T to the inputs of steps 2..T+1
    assert all(line.get_linestyle() == "--" for line in greedy.axes[0].lines)
    assert any("greedy" in t for t in texts(greedy)) and "argmax" in texts(greedy)


def test_teacher_forcing_marks_wrong_tokens_and_carries_them_forward_only_when_free_running():
    config = Seq2SeqConfig.small(300, 400)
    gold = ["나는", "고양이를", "본다", "."]
    forced = ["나는", "고양이를", "좋아한다", ".", "<eos>"]  # one mistake, then back on track
    free = ["나는", "강아지를", "좋아한다", "<eos>"]  # a mistake, read back in, and an early stop
    fig = rendered(draw_teacher_forcing(config, gold, forced, free))
    written = texts(fig)
    assert written.count("✗") == 1 + 3 and written.count("✓") == 4 + 1
    assert written.count("(stopped)") == 1  # free running wrote <eos> at step 4 of 5
    red = [p for p in fig.axes[0].patches if p.get_linewidth() > 2]
    assert len(red) == 1 + 3 + 2  # wrong predictions, and the two inputs read from them
    assert len(fig.axes[0].lines) == len(free) - 1  # own outputs fed back; gold ones are plain arrows
    assert "E=64" in written and "V=400" in written and any("H = 128" in t for t in written)


def test_teacher_forcing_defaults_to_a_model_that_makes_no_mistake():
    fig = draw_teacher_forcing(Seq2SeqConfig.tiny(30, 40))
    assert texts(fig).count("✗") == 0 and texts(fig).count("✓") == 2 * (len(TARGET) + 1)
    assert len(boxes(fig, "decoder")) == 2 * (len(TARGET) + 1)


def test_a_bad_config_or_sentence_is_a_clear_error():
    config = Seq2SeqConfig.tiny(30, 40)
    broken = dataclasses.replace(config)
    broken.hidden_size = 0  # changed after construction: checked again when drawn
    with pytest.raises(ValueError, match="hidden_size must be a positive int, got 0"):
        draw_seq2seq(broken)
    broken = dataclasses.replace(config)
    broken.cell = "transformer"
    with pytest.raises(ValueError, match="unknown cell 'transformer'"):
        draw_teacher_forcing(broken)
    with pytest.raises(ValueError, match=f"draws at most {MAX_LAYERS} layers"):
        draw_seq2seq(Seq2SeqConfig.tiny(30, 40, num_layers=MAX_LAYERS + 1))
    with pytest.raises(TypeError, match="expected a Seq2SeqConfig"):
        draw_seq2seq({"emb_dim": 16})
    with pytest.raises(ValueError, match="source must hold 1 to"):
        draw_seq2seq(config, [], TARGET)
    with pytest.raises(ValueError, match="target must hold 1 to"):
        draw_seq2seq(config, SOURCE, ["x"] * (MAX_TOKENS + 1))
    with pytest.raises(ValueError, match="not one string"):
        draw_seq2seq(config, "Hello, world!", TARGET)
    with pytest.raises(ValueError, match="one prediction per target step"):
        draw_teacher_forcing(config, TARGET, TARGET)  # no <eos> step
    with pytest.raises(ValueError, match="nothing may follow it"):
        draw_teacher_forcing(config, TARGET, free_running=["세상아", "<eos>", "!"])
    with pytest.raises(ValueError, match="at most 5 predictions"):
        draw_teacher_forcing(config, TARGET, free_running=TARGET + ["!", "<eos>"])
