"""The appendix's diagram: one row per unit with its tokens and count, the embedding sizes given, a long
row elided, bad arguments refused, Hangul and jamo drawn without missing glyphs."""
from __future__ import annotations

import io
import unicodedata
import warnings

import pytest

from course_lib.diagrams import COLORS
from course_lib.diagrams.korean import MAX_TOKENS, MAX_UNITS, draw_token_units

SENTENCE = "나는 고양이를 본다"
UNITS = {"words": ["나는", "고양이를", "본다"], "morphemes": ["나/NP", "는/JX", "고양이/NNG", "를/JKO", "보/VV", "ᆫ다/EF"],
         "syllables": list(SENTENCE), "jamo": list(unicodedata.normalize("NFD", SENTENCE))}
SIZES = {"words": 302, "morphemes": 242, "syllables": 238, "jamo": 56}


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_one_row_per_unit_with_its_count_and_embedding_size():
    fig = draw_token_units(UNITS, SIZES, 64, SENTENCE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (Hangul, jamo) would warn
        fig.savefig(io.BytesIO(), format="png")
    written = texts(fig)
    for name, size in SIZES.items():
        assert name in written and f"embedding {size:,} x 64" in written
    assert "3 tokens" in written and "6 tokens" in written and "10 tokens" in written and "22 tokens" in written
    assert "E = 64" in written[0] and SENTENCE in written[0]
    assert "…" in written  # 22 jamo do not fit; the 10 syllables do
    assert "␣" in written and "고양이/NNG" in written
    embeddings = [p for p in fig.axes[0].patches
                  if "#%02x%02x%02x" % tuple(round(255 * c) for c in p.get_facecolor()[:3]) == COLORS["encoder"]]
    assert len(embeddings) == len(UNITS)
    two = draw_token_units({"words": UNITS["words"]}, SIZES, 32)
    assert "embedding 302 x 32" in texts(two) and "1 kind of token" in texts(two)[0]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="rows"):
        draw_token_units({}, SIZES, 64)
    with pytest.raises(ValueError, match="rows"):
        draw_token_units({f"u{i}": ["a"] for i in range(MAX_UNITS + 1)}, {f"u{i}": 1 for i in range(MAX_UNITS + 1)}, 64)
    with pytest.raises(ValueError, match="not one string"):
        draw_token_units({"words": "나는 고양이를"}, SIZES, 64)
    with pytest.raises(ValueError, match=f"unit 'words' must hold 1 to {MAX_TOKENS} tokens to fit on the figure"):
        draw_token_units({"words": ["x"] * (MAX_TOKENS + 1)}, SIZES, 64)
    with pytest.raises(ValueError, match="non-empty"):
        draw_token_units({"words": ["나는", ""]}, SIZES, 64)
    with pytest.raises(ValueError, match="vocabulary size"):
        draw_token_units({"pieces": ["a"]}, SIZES, 64)
    with pytest.raises(ValueError, match="emb_dim"):
        draw_token_units(UNITS, SIZES, 0)
