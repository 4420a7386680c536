"""The Transformer diagrams (chapter 6): sizes read from the config, one box per sub-layer and per layer, the norm
where ``norm_first`` puts it, masks computed as the model computes them, bad arguments refused, Hangul drawn."""
from __future__ import annotations

import dataclasses

import pytest

from course_lib.diagrams.transformer import (draw_attention_masks, draw_multi_head_attention, draw_transformer,
                                             draw_transformer_stacks)
from course_lib.transformer import TransformerConfig
from tests.diagram_helpers import rendered, texts

SOURCE = ["take", "your", "time", "<pad>", "<pad>"]
TARGET = ["<bos>", "천천히", "<eos>", "<pad>"]


def test_the_sizes_written_are_the_configs():
    config = TransformerConfig(321, 4567, d_model=96, num_heads=3, num_encoder_layers=5, num_decoder_layers=4,
                               d_ff=384)
    words = "\n".join(texts(rendered(draw_transformer(config))))
    assert "d_model = 96, h = 3, d_ff = 384, N = 5 + 4" in words
    assert words.count("h = 3 heads, d_k = 32") == 3  # encoder self-attention, decoder self- and cross-attention
    assert words.count("96 → 384 → 96") == 2  # one feed-forward network per layer
    assert "N = 5 ×" in words and "N = 4 ×" in words
    assert "source embedding (321 × 96)" in words and "target embedding (4,567 × 96)" in words
    assert "Linear 96 → 4,567" in words and "sinusoidal positions" in words
    learned = dataclasses.replace(config, positional="learned")
    assert "learned positions" in "\n".join(texts(draw_transformer(learned)))


def test_post_norm_adds_then_normalises_and_pre_norm_normalises_first():
    post = texts(rendered(draw_transformer(TransformerConfig.tiny(10, 10, norm_first=False))))
    pre = texts(rendered(draw_transformer(TransformerConfig.tiny(10, 10, norm_first=True))))
    # one norm per sub-layer: 2 in the encoder layer, 3 in the decoder layer
    assert post.count("Add & Norm") == 5 and "LayerNorm" not in post and post.count("+") == 2
    assert pre.count("LayerNorm") == 5 and "Add & Norm" not in pre
    assert pre.count("+") == 2 + 5  # the two embeddings + positions, then one residual addition per sub-layer
    assert pre.count("LayerNorm (final)") == 2 and "LayerNorm (final)" not in post  # final norm only with pre-norm
    assert any("post-norm" in t for t in post) and any("pre-norm" in t for t in pre)


def test_the_stacks_have_one_box_per_layer():
    def layers(config: TransformerConfig, side: str) -> list[str]:
        return [t for t in texts(rendered(draw_transformer_stacks(config))) if t.startswith(f"{side} layer ")]

    two, three = TransformerConfig.tiny(10, 10), TransformerConfig.tiny(10, 10, num_encoder_layers=3)
    assert layers(two, "encoder") == ["encoder layer 1", "encoder layer 2"]
    assert layers(three, "encoder") == ["encoder layer 1", "encoder layer 2", "encoder layer 3"]
    assert len(layers(three, "decoder")) == 2
    base = TransformerConfig.base(37_000, 37_000)
    words = "\n".join(texts(draw_transformer_stacks(base)))
    assert len(layers(base, "decoder")) == 6 and "d_model = 512, h = 8" in words and "37,000 tokens" in words


def test_multi_head_attention_shows_the_split():
    words = texts(rendered(draw_multi_head_attention(TransformerConfig.small(10, 10), length=7)))
    assert "X\n(7 × 64)" in words and "Q (7 × 64)" in words and "$W^O$\n(64 × 64)" in words
    heads = [t for t in words if t.startswith("head ")]
    assert len(heads) == 4 and all("7 × 16" in t for t in heads)
    assert any("h = 4 heads of d_k = 64 / 4 = 16" in t for t in words)
    many = texts(rendered(draw_multi_head_attention(TransformerConfig.base(10, 10))))  # 8 heads: 4 boxes drawn
    assert [t.split(":")[0] for t in many if t.startswith("head ")] == ["head 1", "head 2", "head 3", "head 8"]
    assert "⋮" in many


def test_masks_are_the_models_masks():
    fig = rendered(draw_attention_masks(SOURCE, TARGET))
    words = texts(fig)
    cells = [t for t in words if t in ("T", "F")]
    assert len(cells) == 5 * 5 + 4 * 4 + 4 * 5
    encoder, decoder, cross = cells[:25], cells[25:41], cells[41:]
    assert encoder == ["T", "T", "T", "F", "F"] * 5  # padding columns masked, every row alike
    assert decoder == ["T", "F", "F", "F", "T", "T", "F", "F", "T", "T", "T", "F", "T", "T", "T", "T"]  # causal
    assert cross == ["T", "T", "T", "F", "F"] * 4
    assert "천천히" in words and any("causal mask" in t for t in words)


@pytest.mark.parametrize("change", [{"num_heads": 5}, {"d_model": 0}, {"num_encoder_layers": 0}, {"d_ff": 2.5}])
def test_a_bad_config_is_refused_with_a_clear_message(change):
    config = TransformerConfig.tiny(10, 10)
    for name, value in change.items():
        setattr(config, name, value)  # a config edited after it was made skips its own checks
    for draw in (draw_transformer, draw_transformer_stacks, draw_multi_head_attention):
        with pytest.raises(ValueError, match="must be a positive int|not divisible"):
            draw(config)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="TransformerConfig"):
        draw_transformer({"d_model": 64})
    with pytest.raises(ValueError, match="length"):
        draw_multi_head_attention(TransformerConfig.tiny(10, 10), length=0)
    with pytest.raises(ValueError, match="non-empty"):
        draw_attention_masks([], TARGET)
    with pytest.raises(ValueError, match="right padding"):
        draw_attention_masks(["<pad>", "take"], TARGET)
    with pytest.raises(ValueError, match="right padding"):
        draw_attention_masks(SOURCE, ["<bos>", "<pad>", "천천히"])
