"""Tests for course_lib.data (tokenisers, Vocab, batching), the generated tasks and the English→Korean grammar."""
from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_lib.data import (
    BOS, BOS_ID, EOS, EOS_ID, PAD, PAD_ID, TASKS, UNK, UNK_ID, Seq2SeqBatch, Seq2SeqData, Vocab, char_detokenize,
    char_tokenize, load_task, pad_batch, split_pairs, word_detokenize, word_tokenize,
)
from course_lib.en_ko_grammar import EXAMPLE_SENTENCES, has_batchim, particle
from course_lib.tasks import DATE_FORMATS, DATE_LOCALES, date_pairs, digit_pairs, grammar_pairs, render_date

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dates() -> Seq2SeqData:
    return load_task("dates", n=2000, seed=0)


@pytest.fixture(scope="module")
def en_ko() -> Seq2SeqData:
    return load_task("en-ko", n=2000, seed=0)


# --- tokenisers -----------------------------------------------------------------

@pytest.mark.parametrize("text, tokens", [
    ("Hello, world!", ["Hello", ",", "world", "!"]),
    ("The cat sat on the mat.", ["The", "cat", "sat", "on", "the", "mat", "."]),
    ("세상아, 안녕!", ["세상아", ",", "안녕", "!"]),
    ("고양이가 매트 위에 앉았다.", ["고양이가", "매트", "위에", "앉았다", "."]),
    ("let's go (now)", ["let's", "go", "(", "now", ")"]),
])
def test_word_tokenize_and_round_trip(text, tokens):
    assert word_tokenize(text) == tokens
    assert word_detokenize(tokens) == text


def test_example_and_grammar_sentences_round_trip():
    for src, tgt in EXAMPLE_SENTENCES + grammar_pairs(300, seed=3):
        assert word_detokenize(word_tokenize(src)) == src
        assert word_detokenize(word_tokenize(tgt)) == tgt


def test_char_tokenize_keeps_spaces():
    assert char_tokenize("3월 3일") == ["3", "월", " ", "3", "일"]
    for text in ["Tuesday, March 3, 2020", "2020년 3월 3일 화요일", ""]:
        assert char_detokenize(char_tokenize(text)) == text


# --- Vocab ----------------------------------------------------------------------

def test_specials_have_fixed_ids():
    vocab = Vocab(["a", "b", "a", PAD])
    assert vocab.itos == [PAD, BOS, EOS, UNK, "a", "b"]
    assert [vocab.stoi[t] for t in (PAD, BOS, EOS, UNK)] == [PAD_ID, BOS_ID, EOS_ID, UNK_ID] == [0, 1, 2, 3]
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)
    assert len(vocab) == 6 and "a" in vocab and "z" not in vocab


def test_build_orders_by_frequency_then_token_and_applies_min_freq():
    vocab = Vocab.build([["b", "a", "c"], ["a", "c", "d"], ["c"]])
    assert vocab.itos[4:] == ["c", "a", "b", "d"]
    assert Vocab.build([["b", "a", "c"], ["a", "c"]], min_freq=2).itos[4:] == ["a", "c"]
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build([["a"]], min_freq=0)


def test_encode_decode_round_trip():
    tokens = word_tokenize("Hello, world!")
    vocab = Vocab(tokens)
    ids = vocab.encode(tokens, add_bos=True, add_eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID and len(ids) == len(tokens) + 2
    assert vocab.decode(ids) == tokens
    assert vocab.decode(vocab.encode(tokens)) == tokens
    assert vocab.decode(torch.tensor(ids)) == tokens


def test_unknown_tokens_raise_unless_unk():
    vocab = Vocab("abc")
    with pytest.raises(ValueError, match=r"'z'.*'y'.*unk=True"):
        vocab.encode(list("azby"))
    assert vocab.encode(list("azby"), unk=True) == [4, UNK_ID, 5, UNK_ID]


def test_decode_rejects_ids_outside_the_vocabulary():
    vocab = Vocab("abc")
    with pytest.raises(ValueError, match=r"id 7 .*size 7"):
        vocab.decode([4, 7])
    with pytest.raises(ValueError, match=r"id -1"):
        vocab.decode(torch.tensor([4, -1]))
    with pytest.raises(ValueError, match="1-D"):
        vocab.decode(torch.zeros(2, 3, dtype=torch.long))


def test_decode_strips_specials_and_stops_at_eos():
    vocab = Vocab("ab")
    ids = [BOS_ID, 4, PAD_ID, 5, EOS_ID, 4, PAD_ID]
    assert vocab.decode(ids) == ["a", "b"]
    assert vocab.decode(ids, strip_special=False) == [BOS, "a", PAD, "b", EOS, "a", PAD]
    assert vocab.decode([4, UNK_ID]) == ["a", UNK]


def test_vocab_saves_as_json():
    vocab = Vocab.build([word_tokenize(s) for s, _ in EXAMPLE_SENTENCES])
    again = Vocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again == vocab and again.stoi == vocab.stoi
    with pytest.raises(ValueError, match="starts with"):
        Vocab.from_dict({"itos": ["a", BOS, EOS, UNK]})


# --- batching -------------------------------------------------------------------

def test_pad_batch_shapes_lengths_and_mask():
    ids, lengths, mask = pad_batch([[5, 6, 7], [8], [9, 10]])
    assert ids.shape == (3, 3) and ids.dtype == torch.long
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert lengths.tolist() == [3, 1, 2] and lengths.dtype == torch.long
    assert mask.dtype == torch.bool
    assert mask.tolist() == [[True, True, True], [True, False, False], [True, True, False]]
    ids, _, _ = pad_batch([[5], [6, 7]], pad_id=-1)
    assert ids.tolist() == [[5, -1], [6, 7]]


def test_pad_batch_rejects_empty_input():
    with pytest.raises(ValueError, match="no sequences"):
        pad_batch([])
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        pad_batch([[4], [], [5]])


def test_seq2seq_batch_teacher_forcing_views(dates):
    batch = dates.batches("train", 16)[0]
    assert isinstance(batch, Seq2SeqBatch) and len(batch) == 16
    B, T = batch.tgt.shape
    assert batch.tgt_in.shape == batch.tgt_out.shape == (B, T - 1)
    assert (batch.tgt_in[:, 0] == BOS_ID).all()
    assert torch.equal(batch.tgt_in[:, 1:], batch.tgt_out[:, :-1])
    assert torch.equal(batch.src_mask, batch.src != PAD_ID)
    assert torch.equal(batch.src_mask.sum(1), batch.src_lengths)
    for row, (src, tgt) in enumerate(batch.pairs):
        n_out = len(tgt) + 1  # the characters, then <eos>
        assert batch.tgt_out[row, n_out - 1] == EOS_ID and (batch.tgt_out[row, n_out:] == PAD_ID).all()
        assert dates.decode_target(batch.tgt[row]) == tgt
        assert dates.decode_source(batch.src[row]) == src
    moved = batch.to("cpu")
    assert moved is not batch and torch.equal(moved.tgt, batch.tgt) and moved.pairs == batch.pairs


def test_batches_cover_the_split_and_are_deterministic(dates):
    plain = dates.batches("valid", 64)
    assert [p for b in plain for p in b.pairs] == dates.valid
    assert [len(b) for b in plain] == [64, 64, 64, 8]
    a = dates.batches("train", 64, shuffle=True, seed=1)
    b = dates.batches("train", 64, shuffle=True, seed=1)
    c = dates.batches("train", 64, shuffle=True, seed=2)
    assert all(torch.equal(x.src, y.src) and torch.equal(x.tgt, y.tgt) for x, y in zip(a, b))
    assert [p for x in a for p in x.pairs] != [p for x in c for p in x.pairs]
    assert sorted(p for x in a for p in x.pairs) == sorted(dates.train)
    with pytest.raises(ValueError, match="unknown split"):
        dates.batches("dev", 8)
    with pytest.raises(ValueError, match="batch_size"):
        dates.batches("train", 0)


# --- datasets -------------------------------------------------------------------

@pytest.mark.parametrize("lang, fmt, text", [
    ("ko", "full", "2020년 3월 3일 화요일"),
    ("en", "full", "Tuesday, March 3, 2020"),
    ("fr", "full", "mardi 3 mars 2020"),
    ("de", "full", "Dienstag, 3. März 2020"),
    ("en", "y/MM/dd", "2020/03/03"),
])
def test_babel_renderings(lang, fmt, text):
    assert render_date(datetime.date(2020, 3, 3), lang, fmt) == text


def test_date_pairs_are_unambiguous_plain_text():
    pairs = date_pairs(1000, seed=5, start_year=1990, end_year=2010)
    assert len({s for s, _ in pairs}) == 1000
    for src, tgt in pairs:
        day = datetime.date.fromisoformat(tgt)
        assert 1990 <= day.year <= 2010 and re.fullmatch(r"\d{4}-\d\d-\d\d", tgt)
        assert str(day.year) in src  # no two-digit years
        assert not re.search(r"[\u00a0\u2009\u202f]", src)
    assert {s for s, _ in date_pairs(200, seed=1, languages=("ko",))} <= {
        render_date(datetime.date.fromisoformat(t), "ko", f) for _, t in date_pairs(200, seed=1, languages=("ko",))
        for f in DATE_FORMATS}
    with pytest.raises(ValueError, match="unknown languages"):
        date_pairs(10, languages=("en", "jp"))


def test_digit_pairs():
    pairs = digit_pairs(500, (2, 6), task="reverse", seed=0)
    assert len({s for s, _ in pairs}) == 500
    assert all(t == s[::-1] and s.isdigit() and 2 <= len(s) <= 6 for s, t in pairs)
    assert {len(s) for s, _ in pairs} == {2, 3, 4, 5, 6}
    assert all(s == t and len(s) == 4 for s, t in digit_pairs(50, 4, task="copy"))
    with pytest.raises(ValueError, match="task"):
        digit_pairs(5, 3, task="sort")
    with pytest.raises(ValueError, match="only 100 distinct"):
        digit_pairs(101, 2)


@pytest.mark.parametrize("make", [
    lambda seed: date_pairs(300, seed=seed),
    lambda seed: digit_pairs(300, (3, 8), task="copy", seed=seed),
    lambda seed: grammar_pairs(300, seed=seed),
])
def test_generators_are_deterministic_under_seed(make):
    assert make(0) == make(0)
    assert make(0) != make(1)


def test_generation_does_not_depend_on_the_hash_seed():
    """Iterating a set would make the data differ between Python processes; check in a fresh one."""
    code = ("import course_lib.data as d, course_lib.tasks as t; print(repr(tuple("
            "t.grammar_pairs(300, seed=4) + t.date_pairs(50) + d.load_task('en-ko', n=300).train)))")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-W", "error", "-c", code],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr  # importing is quiet
    here = grammar_pairs(300, seed=4) + date_pairs(50) + load_task("en-ko", n=300).train
    assert out.stdout.strip() == repr(tuple(here))


def test_split_pairs_dedupes_and_is_disjoint():
    pairs = [(str(i % 50), f"t{i}") for i in range(100)]
    train, valid, test = split_pairs(pairs, (0.6, 0.2, 0.2), seed=0)
    assert (len(train), len(valid), len(test)) == (30, 10, 10)
    assert sorted(train + valid + test) == sorted((str(i), f"t{i}") for i in range(50))  # first target kept
    assert split_pairs(pairs, seed=3) == split_pairs(pairs, seed=3) != split_pairs(pairs, seed=4)
    train, _, _ = split_pairs(pairs, (0.1, 0.45, 0.45), keep_in_train=["7", "42"])
    assert {"7", "42"} <= {s for s, _ in train}
    with pytest.raises(ValueError, match="fractions"):
        split_pairs(pairs, (0.8, 0.3, 0.1))


# --- English → Korean grammar ---------------------------------------------------

@pytest.mark.parametrize("noun, kind, expected", [
    ("고양이", "object", "를"), ("책", "object", "을"), ("나", "topic", "는"), ("사람", "topic", "은"),
    ("고양이", "subject", "가"), ("선생님", "subject", "이"), ("세상", "vocative", "아"), ("친구", "vocative", "야"),
    ("매트", "object", "를"), ("내 큰 고양이", "subject", "가"),
])
def test_particle_follows_batchim(noun, kind, expected):
    assert particle(noun, kind) == expected


def test_particle_errors():
    assert has_batchim("책") and not has_batchim("고양이") and has_batchim("힣") and not has_batchim("가")
    with pytest.raises(ValueError, match="Hangul"):
        particle("cat", "object")
    with pytest.raises(ValueError, match="unknown particle kind"):
        particle("책", "genitive")


def test_example_sentences_are_the_courses_running_examples():
    assert EXAMPLE_SENTENCES == [
        ("Hello, world!", "세상아, 안녕!"),
        ("take your time", "천천히"),
        ("The cat sat on the mat.", "고양이가 매트 위에 앉았다."),
        ("I see the cat", "나는 고양이를 본다"),
    ]


@pytest.mark.parametrize("seed", [0, 1])
def test_grammar_pairs_contain_the_example_sentences(seed):
    pairs = grammar_pairs(2000, seed=seed)
    assert len({s for s, _ in pairs}) == 2000
    assert set(EXAMPLE_SENTENCES) <= set(pairs)
    natural = set(grammar_pairs(5000, seed=seed, include_examples=False))
    assert {("Hello, world!", "세상아, 안녕!"), ("take your time", "천천히")} <= natural


def test_grammar_is_sov_with_particles():
    pairs = grammar_pairs(3000, seed=2, include_examples=False)
    sentence = r"(I|You|He|She|We|They|The \w+) \w+ the \w+(\.?)"
    simple = [(m, tgt) for src, tgt in pairs if (m := re.fullmatch(sentence, src))]
    assert len(simple) > 50
    for match, tgt in simple:
        assert tgt.endswith(".") == bool(match[2])
        subj, obj, verb = tgt.rstrip(".").split()  # S O V
        kind = "subject" if match[1].startswith("The ") else "topic"
        assert subj[-1] == particle(subj[:-1], kind) and obj[-1] == particle(obj[:-1], "object")
        assert verb.endswith("다")
    en = {w for s, _ in pairs for w in word_tokenize(s)}
    ko = {w for _, t in pairs for w in word_tokenize(t)}
    assert 150 < len(en) < 600 and 150 < len(ko) < 800


# --- tasks ----------------------------------------------------------------------

def test_load_task_each_name_and_disjoint_splits():
    for name, kwargs in [("dates", {}), ("copy", {"length": (2, 5)}), ("reverse", {"length": 6}), ("en-ko", {})]:
        data = load_task(name, n=400, seed=1, **kwargs)
        assert data.name == name and len(data.train) == 320 and len(data.valid) == len(data.test) == 40
        sources = [set(s for s, _ in split) for split in (data.train, data.valid, data.test)]
        assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
        assert set(data.src_vocab.itos[4:]) == {t for s, _ in data.train for t in data.src_tokenize(s)}
        assert set(data.tgt_vocab.itos[4:]) == {t for _, t in data.train for t in data.tgt_tokenize(t)}
    assert load_task("reverse", n=50, length=4).train[0][1] == load_task("reverse", n=50, length=4).train[0][0][::-1]
    with pytest.raises(ValueError, match="known tasks: " + ", ".join(TASKS)):
        load_task("fr-en", n=10)


def test_dates_train_split_covers_every_character(dates):
    alphabet = {c for lang in DATE_LOCALES for fmt in DATE_FORMATS for month in range(1, 13) for day in range(1, 8)
                for c in render_date(datetime.date(2021, month, day), lang, fmt)}
    assert alphabet <= set(dates.src_vocab.itos)
    assert set(dates.tgt_vocab.itos[4:]) == set("0123456789-")
    assert dates.batches("test", 500)  # no unknown character anywhere


def test_en_ko_keeps_example_sentences_in_train_and_unknown_words_need_unk(en_ko):
    assert set(EXAMPLE_SENTENCES) <= set(en_ko.train)
    assert en_ko.decode_target(en_ko.encode_target("고양이가 매트 위에 앉았다.")) == "고양이가 매트 위에 앉았다."
    with pytest.raises(ValueError, match=r"'platypus'.*unk=True"):
        en_ko.encode_source("I see the platypus")
    ids = en_ko.encode_source("I see the platypus", unk=True)
    assert ids[-1] == UNK_ID and en_ko.src_vocab.decode(ids) == ["I", "see", "the", UNK]
    src, tgt = en_ko.encode_pair(*EXAMPLE_SENTENCES[3])
    assert tgt[0] == BOS_ID and tgt[-1] == EOS_ID and en_ko.decode_target(tgt) == "나는 고양이를 본다"
    assert len(src) == 4 and BOS_ID not in src


def test_referent_sentences_point_the_pronoun_at_the_right_person():
    from course_lib.tasks import _HONORED, _PLAIN, referent_sentences

    sentences = referent_sentences(400, seed=3)
    assert sentences == referent_sentences(400, seed=3) and sentences != referent_sentences(400, seed=4)
    firsts = set()
    for words, referent in sentences:
        assert len(words) == 13 and words[9] in ("그분", "걔") and referent in (3, 5)
        assert words[referent] in (_HONORED if words[9] == "그분" else _PLAIN)
        assert words[8 - referent] not in (_HONORED if words[9] == "그분" else _PLAIN)  # the other person
        firsts.add(words[3] in _HONORED)
        assert words[4] == ("과" if words[3].endswith(("님", "생")) else "와")
    assert firsts == {True, False}  # both orders occur
