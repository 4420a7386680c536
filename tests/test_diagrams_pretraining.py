"""The pre-training diagrams (course_lib.diagrams.pretraining): the sizes they write come from the config, the
boxes they hold are the ones the model and the code have, and a bad input is refused with a clear message."""
from __future__ import annotations

import dataclasses
import io
import warnings

import pytest
from matplotlib.figure import Figure

from course_lib.bert import BertConfig
from course_lib.diagrams.pretraining import (MASK, MAX_TOKENS, draw_attention_patterns, draw_bert_inputs,
                                             draw_noisings, noising_rows)
from course_lib.noising import (document_rotation, sentence_permutation, span_corruption, t5_sentinel_tokens,
                                text_infilling, token_deletion, token_masking)

SENTENCE = ["The", "cat", "sat", "on", "the", "mat", ".", "It", "was", "tired", "and", "fell", "asleep", "."]


def _render(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (Hangul) is a warning
        fig.savefig(io.BytesIO(), format="png")


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


# --- BERT's input ------------------------------------------------------------------------------------

def test_bert_inputs_write_the_config_sizes():
    config = BertConfig(vocab_size=1000, hidden_size=48, num_layers=2, num_heads=3, intermediate_size=96,
                        max_position=40, type_vocab_size=2)
    fig = draw_bert_inputs(config, ["the", "cat"], ["it", "slept"], masked=[2])
    _render(fig)
    texts = "\n".join(_texts(fig))
    for written in ("1,000 × 48", "2 × 48", "40 × 48", "L = 2, H = 48", "A = 3 heads", "3 heads", "feed-forward 96",
                    "7 vectors of H = 48"):
        assert written in texts, written
    base = "\n".join(_texts(draw_bert_inputs(BertConfig.base())))
    assert "30,522 × 768" in base and "512 × 768" in base and "L = 12, H = 768" in base and "A = 12 heads" in base


def test_bert_inputs_draw_one_box_per_layer_up_to_three_then_first_middle_last():
    def layers(num_layers: int) -> list[str]:
        config = BertConfig(vocab_size=100, hidden_size=16, num_layers=num_layers, num_heads=2, intermediate_size=32,
                            max_position=32)
        return [t.split(":")[0] for t in _texts(draw_bert_inputs(config)) if t.startswith("encoder layer")]

    assert layers(2) == ["encoder layer 1", "encoder layer 2"]
    assert layers(3) == ["encoder layer 1", "encoder layer 2", "encoder layer 3"]
    assert layers(12) == ["encoder layer 1", "encoder layers 2–11", "encoder layer 12"]


def test_bert_inputs_show_the_pair_segments_positions_and_heads():
    fig = draw_bert_inputs(BertConfig.base(), ["my", "dog"], ["he", "barks", "."], masked=[2, 5])
    texts = _texts(fig)
    tokens = ["[CLS]", "my", "[MASK]", "[SEP]", "he", "[MASK]", ".", "[SEP]"]  # positions 2 and 5 masked
    assert [t for t in texts if t in set(tokens) | {"dog", "barks"}][:len(tokens)] == tokens
    assert texts.count("$E_A$") == 4 and texts.count("$E_B$") == 4  # [CLS] my dog [SEP] | he barks . [SEP]
    assert [t for t in texts if t.startswith("$E_{")] == [f"$E_{{{i}}}$" for i in range(8)]
    assert texts.count("MLM\n30,522") == 2 and "dog" in texts and "barks" in texts  # what the MLM head predicts
    assert sum("NSP" in t for t in texts) == 1


def test_bert_inputs_refuse_what_does_not_fit_or_is_not_a_config():
    config = BertConfig.tiny(100)
    with pytest.raises(ValueError, match="special token|only real tokens"):
        draw_bert_inputs(config, ["a"], ["b"], masked=[0])
    with pytest.raises(ValueError, match="masked positions must be ints in 0..4"):
        draw_bert_inputs(config, ["a"], ["b"], masked=[5])
    with pytest.raises(ValueError, match=f"at most {MAX_TOKENS}"):
        draw_bert_inputs(config, ["a"] * 6, ["b"] * 6, masked=[])
    with pytest.raises(ValueError, match="max_position 4"):
        draw_bert_inputs(dataclasses.replace(config, max_position=4), ["a"], ["b"], masked=[])
    with pytest.raises(ValueError, match="tokens_a must be a sequence of tokens, not one string"):
        draw_bert_inputs(config, "the cat", ["b"])
    with pytest.raises(ValueError, match="tokens_b must hold 1 to"):
        draw_bert_inputs(config, ["a"], [])
    broken = BertConfig.tiny(100)
    broken.num_heads = 5  # changed after construction: 64 is not divisible by 5
    with pytest.raises(ValueError, match="num_heads|hidden_size"):
        draw_bert_inputs(broken)
    with pytest.raises(TypeError, match="expected a BertConfig"):
        draw_bert_inputs({"hidden_size": 768})


# --- attention patterns ------------------------------------------------------------------------------

def _cells(fig: Figure) -> list[str]:
    return [p.get_gid() for p in fig.axes[0].patches if p.get_gid() in ("allowed", "masked")]


@pytest.mark.parametrize("n, m", [(4, 5), (3, 2), (1, 1), (8, 8)])
def test_attention_patterns_hold_the_cells_each_mask_allows(n, m):
    fig = draw_attention_patterns([f"s{i}" for i in range(n)], [f"t{i}" for i in range(m)])
    _render(fig)
    cells = _cells(fig)
    bert, gpt, encoder_decoder = cells[:n * n], cells[n * n:2 * n * n], cells[2 * n * n:]
    assert bert.count("allowed") == n * n  # every token sees every token
    assert gpt.count("allowed") == n * (n + 1) // 2 and gpt.count("masked") == n * (n - 1) // 2
    assert len(encoder_decoder) == (n + m) ** 2
    # encoder n x n, cross-attention m x n, causal decoder m(m+1)/2; the encoder never sees the target
    assert encoder_decoder.count("allowed") == n * n + m * n + m * (m + 1) // 2


def test_attention_patterns_draw_hangul_and_refuse_bad_tokens():
    fig = draw_attention_patterns()
    _render(fig)
    assert {"세상아", "안녕", "Hello", "<bos>"} <= set(_texts(fig))
    with pytest.raises(ValueError, match="source must hold 1 to 8 tokens"):
        draw_attention_patterns([f"s{i}" for i in range(9)])
    with pytest.raises(ValueError, match="target must hold non-empty strings"):
        draw_attention_patterns(["a"], ["b", ""])


# --- BART's noisings and T5's span corruption --------------------------------------------------------

def test_noising_rows_are_what_the_noising_functions_make_with_the_same_seeds():
    rows = noising_rows(SENTENCE, rng=10)
    sentinels = t5_sentinel_tokens()
    example = span_corruption(SENTENCE, sentinels=sentinels, rng=16)
    assert list(rows.values()) == [
        SENTENCE, token_masking(SENTENCE, mask=MASK, rng=11), token_deletion(SENTENCE, rng=12),
        text_infilling(SENTENCE, mask=MASK, rng=13), sentence_permutation(SENTENCE, full_stop=".", rng=14),
        document_rotation(SENTENCE, rng=15), example.inputs, example.targets]
    assert noising_rows(SENTENCE, rng=10) == rows  # fixed seeds, the same figure every time


def test_noisings_figure_holds_every_row_token_and_colours_masks_and_sentinels():
    rows = noising_rows(SENTENCE)
    fig = draw_noisings(SENTENCE)
    _render(fig)
    texts = _texts(fig)
    for name in rows:
        assert name in texts
    boxes = [t for t in texts if t in set(SENTENCE) | {MASK} or t.startswith("<extra_id_")]
    assert boxes == [token for row in rows.values() for token in row]
    masks = sum(row.count(MASK) for row in rows.values())
    red = [p for p in fig.axes[0].patches if p.get_facecolor()[:3] == pytest.approx((0xf2 / 255, 0xa5 / 255,
                                                                                   0xa5 / 255))]
    assert masks >= 1 and len(red) == masks
    target = rows["span corruption (T5): target"]
    assert f"T5's decoder writes this: {len(target)} tokens" in texts


def test_noisings_refuse_a_sentence_they_cannot_corrupt():
    with pytest.raises(ValueError, match="at least two sentences"):
        noising_rows(["a", "b", "c", "d", "."])
    with pytest.raises(ValueError, match="at least 4 tokens"):
        noising_rows(["a", ".", "b"])
    with pytest.raises(ValueError, match="must not contain the special tokens"):
        noising_rows(["a", MASK, ".", "b", "."])
    with pytest.raises(ValueError, match="tokens must hold 1 to 18 tokens"):
        noising_rows(["a", "."] * 10)
    with pytest.raises(TypeError, match="int seed"):
        noising_rows(SENTENCE, rng=1.5)
