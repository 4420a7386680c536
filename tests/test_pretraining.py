"""BERT's pre-training data: WordPiece trained with tokenizers, 80/10/10 masking, next-sentence pairs."""
from __future__ import annotations

import pytest
import torch

from course_lib.data import grammar_pairs
from course_lib.pretraining import SPECIAL_TOKENS, mask_tokens, nsp_pairs, train_wordpiece


@pytest.fixture(scope="module")
def korean_tokenizer():
    korean = [ko for _, ko in grammar_pairs(3000, seed=0)]
    return train_wordpiece(korean, vocab_size=300)


def test_wordpiece_trained_on_korean_splits_words_into_pieces(korean_tokenizer):
    assert [korean_tokenizer.token_to_id(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert 300 <= korean_tokenizer.get_vocab_size() < 1000  # every syllable seen is kept, so it may exceed 300
    encoding = korean_tokenizer.encode("고양이가 매트 위에 앉았다.")
    assert encoding.tokens[0] == "[CLS]" and encoding.tokens[-1] == "[SEP]"
    assert encoding.tokens[1:5] == ["고", "##양", "##이", "##가"]  # the seed's 고양이 -> 고, ##양, ##이
    assert korean_tokenizer.decode(encoding.ids) == "고양이가 매트 위에 앉았다."
    assert "[UNK]" in korean_tokenizer.encode("읽었다").tokens  # 읽 never occurs in the grammar
    pair = korean_tokenizer.encode("고양이", "책")
    first_sep = pair.tokens.index("[SEP]")
    assert pair.type_ids == [0 if i <= first_sep else 1 for i in range(len(pair.tokens))]
    assert pair.tokens[-1] == "[SEP]" and first_sep < len(pair.tokens) - 1
    with pytest.raises(ValueError, match="vocab_size must exceed"):
        train_wordpiece(["a b"], vocab_size=5)


def test_masking_follows_the_80_10_10_rule_and_spares_special_tokens():
    ids = torch.randint(5, 1000, (400, 64), generator=torch.Generator().manual_seed(0))
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP]
    ids[:100, 40:] = 0  # padding
    special = (ids == 0) | (ids == 2) | (ids == 3)
    out = mask_tokens(ids, special, mask_id=4, vocab_size=1000, generator=torch.Generator().manual_seed(1))
    chosen = out.labels != -100
    assert not chosen[special].any()
    assert torch.equal(out.labels[chosen], ids[chosen]) and torch.equal(out.input_ids[~chosen], ids[~chosen])
    rate = chosen.sum() / (~special).sum()
    assert abs(rate - 0.15) < 0.01
    masked = (out.input_ids[chosen] == 4).float().mean()
    kept = (out.input_ids[chosen] == ids[chosen]).float().mean()
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1) < 0.02
    assert (out.input_ids[chosen] >= 4).all()
    again = mask_tokens(ids, special, mask_id=4, vocab_size=1000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again.input_ids, out.input_ids)
    with pytest.raises(ValueError, match="rate must lie"):
        mask_tokens(ids, special, mask_id=4, vocab_size=1000, rate=1.0)
    with pytest.raises(ValueError, match="special_mask must be a bool tensor"):
        mask_tokens(ids, special.long(), mask_id=4, vocab_size=1000)


def test_nsp_pairs_are_half_next_half_from_another_document():
    documents = [[f"d{d} s{i}" for i in range(30)] for d in range(20)]
    pairs = nsp_pairs(documents, seed=0)
    assert len(pairs) == 20 * 29 and pairs == nsp_pairs(documents, seed=0)
    for a, b, label in pairs:
        doc_a, i = a.split()
        doc_b, j = b.split()
        if label == 1:
            assert doc_a == doc_b and int(j[1:]) == int(i[1:]) + 1
        else:
            assert doc_a != doc_b
    share = sum(label for *_, label in pairs) / len(pairs)
    assert 0.45 < share < 0.55
    with pytest.raises(ValueError, match="at least two"):
        nsp_pairs([["only", "one"]])
