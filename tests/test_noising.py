"""T5's span corruption and BART's five noising functions: statistics under a seed, invariants, errors."""
from __future__ import annotations

import math
import random
from collections import Counter
from itertools import groupby, permutations

import pytest

from course_lib.noising import (document_rotation, noise_span_counts, random_segmentation, random_spans_noise_mask,
                                reconstruct_spans, sentence_permutation, span_corruption, split_sentences,
                                t5_sentinel_ids, t5_sentinel_tokens, text_infilling, token_deletion, token_masking)

VOCAB = 32100
SENTINELS = t5_sentinel_ids(VOCAB)  # 32099, 32098, ...
IS_SENTINEL = set(SENTINELS)
EOS, PAD, MASK = 1, 0, 4


def runs(mask):
    """Lengths of the runs of True in a bool list."""
    return [len(list(group)) for value, group in groupby(mask) if value]


def document(rng, length):
    """Ordinary ids 5.. (distinct, increasing: a span's length can be read off the kept neighbours), eos, padding."""
    return list(range(5, 5 + length)) + [EOS] + [PAD] * rng.randrange(4)


def cut_into(tokens, sentences):
    """Split tokens back into the given sentences (greedy, first match), or fail."""
    pieces, i = [], 0
    while i < len(tokens):
        match = next(s for s in sentences if tokens[i:i + len(s)] == s)
        pieces.append(match)
        i += len(match)
    return pieces


def test_t5_sentinels_count_down_from_the_end_of_the_vocabulary():
    assert t5_sentinel_ids(VOCAB, 3) == [32099, 32098, 32097]
    assert len(SENTINELS) == 100 and len(set(SENTINELS)) == 100
    assert t5_sentinel_tokens(2) == ["<extra_id_0>", "<extra_id_1>"]
    with pytest.raises(ValueError, match="count must lie"):
        t5_sentinel_ids(10, 11)


def test_random_segmentation_makes_every_split_equally_likely():
    rng = random.Random(0)
    counts = Counter(tuple(random_segmentation(6, 3, rng)) for _ in range(20000))
    assert len(counts) == 10  # C(5, 2) ways to cut 6 items into 3 non-empty segments
    assert all(sum(split) == 6 and min(split) >= 1 for split in counts)
    assert all(abs(n / 20000 - 0.1) < 0.01 for n in counts.values()), counts
    assert random_segmentation(5, 5, rng) == [1] * 5 and random_segmentation(5, 1, rng) == [5]
    with pytest.raises(ValueError, match="non-empty segments"):
        random_segmentation(3, 4, rng)


def test_noise_mask_follows_t5_counts_and_alternates_starting_with_kept_tokens():
    assert noise_span_counts(200, 0.15, 3.0) == (30, 10)
    assert noise_span_counts(10, 0.15, 3.0) == (2, 1)  # round(1.5) = 2, round(2/3) = 1
    assert noise_span_counts(2, 0.01, 3.0) == (1, 1)  # at least one noise token and one span
    assert noise_span_counts(50, 0.0, 3.0) == (0, 0)
    rng = random.Random(1)
    for length in [2, 3, 7, 10, 31, 100, 512]:
        num_noise, num_spans = noise_span_counts(length, 0.15, 3.0)
        for _ in range(20):
            mask = random_spans_noise_mask(length, rng=rng)
            assert len(mask) == length and sum(mask) == num_noise and len(runs(mask)) == num_spans
            assert not mask[0] and mask[-1]  # kept, noise, kept, noise ... as T5's code interleaves them
    assert random_spans_noise_mask(20, noise_density=0.0, rng=rng) == [False] * 20


def test_span_lengths_vary_around_the_mean_as_random_segmentation_makes_them():
    rng = random.Random(2)
    lengths = [n for _ in range(2000) for n in runs(random_spans_noise_mask(200, rng=rng))]
    # 30 noise tokens cut into 10 spans, all C(29, 9) splits equally likely:
    # P(a span has length l) = C(29 - l, 8) / C(29, 9)
    share = Counter(lengths)
    for span in (1, 3, 6):
        want = math.comb(29 - span, 8) / math.comb(29, 9)
        assert abs(share[span] / len(lengths) - want) < 0.01, (span, share[span] / len(lengths), want)
    assert max(lengths) >= 10  # not spans of a fixed length 3


def test_corruption_rate_and_mean_span_length_over_many_documents():
    rng = random.Random(3)
    noise = spans = total = 0
    for _ in range(1500):
        tokens = document(rng, rng.randrange(20, 300))
        out = span_corruption(tokens, sentinels=SENTINELS, rng=rng, eos=EOS, pad=PAD)
        body = len(tokens) - tokens[::-1].index(EOS) - 1
        k = sum(1 for t in out.inputs if t in IS_SENTINEL)
        dropped = len(out.targets) - (k + 1) - 1  # minus the sentinels and the eos
        noise, spans, total = noise + dropped, spans + k, total + body
    assert abs(noise / total - 0.15) < 0.005
    assert abs(noise / spans - 3.0) < 0.1


def test_sentinels_in_order_and_input_plus_target_rebuild_the_original():
    rng = random.Random(4)
    for _ in range(500):
        tokens = document(rng, rng.randrange(2, 120))
        tail_start = tokens.index(EOS)
        out = span_corruption(tokens, sentinels=SENTINELS, rng=rng, eos=EOS, pad=PAD)
        in_sentinels = [t for t in out.inputs if t in IS_SENTINEL]
        k = len(in_sentinels)
        assert k >= 1 and in_sentinels == SENTINELS[:k]  # <extra_id_0>, <extra_id_1>, ... each once
        assert [t for t in out.targets if t in IS_SENTINEL] == SENTINELS[:k + 1]  # and one to close the targets
        assert out.targets[0] == SENTINELS[0] and out.targets[-2:] == [SENTINELS[k], EOS]
        # eos and padding stay where they were relative to the end: no span crosses them
        assert out.inputs[-(len(tokens) - tail_start):] == tokens[tail_start:]
        assert EOS not in out.targets[:-1] and PAD not in out.targets
        assert reconstruct_spans(out.inputs, out.targets, SENTINELS) == tokens
        # consecutive sentinels in the targets would be an empty span; in the inputs, two touching spans
        assert all(not (a in IS_SENTINEL and b in IS_SENTINEL) for a, b in zip(out.inputs, out.inputs[1:]))
        assert all(not (a in IS_SENTINEL and b in IS_SENTINEL) for a, b in zip(out.targets[:-2], out.targets[1:-1]))


def test_span_corruption_of_words_without_eos():
    words = ("Thank you for inviting me to your party last week . " * 4).split()
    out = span_corruption(words, sentinels=t5_sentinel_tokens(), rng=5)
    assert "<extra_id_0>" in out.inputs and out.targets[0] == "<extra_id_0>"
    assert reconstruct_spans(out.inputs, out.targets, t5_sentinel_tokens()) == words
    none = span_corruption(words, sentinels=t5_sentinel_tokens(), rng=5, noise_density=0.0)
    assert none.inputs == words and none.targets == ["<extra_id_0>"]


def test_same_seed_same_corruption_and_the_global_random_untouched():
    tokens = list(range(5, 205)) + [EOS]
    state = random.getstate()
    first = span_corruption(tokens, sentinels=SENTINELS, rng=7, eos=EOS)
    assert span_corruption(tokens, sentinels=SENTINELS, rng=7, eos=EOS) == first
    assert span_corruption(tokens, sentinels=SENTINELS, rng=random.Random(7), eos=EOS) == first
    assert span_corruption(tokens, sentinels=SENTINELS, rng=8, eos=EOS) != first
    shared = random.Random(7)
    assert span_corruption(tokens, sentinels=SENTINELS, rng=shared, eos=EOS) == first
    assert span_corruption(tokens, sentinels=SENTINELS, rng=shared, eos=EOS) != first  # draws go on
    assert text_infilling(tokens, mask=MASK, rng=7, eos=EOS) == text_infilling(tokens, mask=MASK, rng=7, eos=EOS)
    assert random.getstate() == state
    with pytest.raises(TypeError, match="random.Random or an int seed"):
        span_corruption(tokens, sentinels=SENTINELS, rng=None)


def test_span_corruption_errors_say_what_to_change():
    tokens = list(range(5, 105)) + [EOS]
    for rate in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"noise_density must lie in \[0, 1\)"):
            span_corruption(tokens, sentinels=SENTINELS, rng=0, noise_density=rate)
    with pytest.raises(ValueError, match="too short to corrupt"):
        span_corruption([5, EOS, PAD], sentinels=SENTINELS, rng=0, eos=EOS, pad=PAD)
    with pytest.raises(ValueError, match="5 spans need 6 sentinels.*pass more sentinels"):
        span_corruption(tokens, sentinels=SENTINELS[:5], rng=0)
    span_corruption(tokens, sentinels=SENTINELS[:6], rng=0)  # 100 tokens: 15 noise tokens in 5 spans
    with pytest.raises(ValueError, match="is a sentinel"):
        span_corruption([5, 6, SENTINELS[3], 7], sentinels=SENTINELS, rng=0)
    with pytest.raises(ValueError, match="do not end with eos"):
        span_corruption(list(range(5, 50)), sentinels=SENTINELS, rng=0, eos=EOS)
    with pytest.raises(ValueError, match="padding must come last"):
        span_corruption([5, 6, PAD, 7, EOS, PAD], sentinels=SENTINELS, rng=0, eos=EOS, pad=PAD)
    with pytest.raises(ValueError, match="lower noise_density"):
        span_corruption(list(range(5, 8)), sentinels=SENTINELS, rng=0, noise_density=0.5, mean_span_length=1)
    with pytest.raises(ValueError, match="mean_span_length must be at least 1"):
        span_corruption(tokens, sentinels=SENTINELS, rng=0, mean_span_length=0.5)
    with pytest.raises(ValueError, match="sentinels must be distinct"):
        span_corruption(tokens, sentinels=[SENTINELS[0]] * 10, rng=0)
    with pytest.raises(ValueError, match="must come in order"):
        reconstruct_spans([5, SENTINELS[0], 6], [SENTINELS[1], 7, SENTINELS[0]], SENTINELS)
    with pytest.raises(ValueError, match="targets end before"):
        reconstruct_spans([5, SENTINELS[0], 6], [SENTINELS[0], 7], SENTINELS)


def test_token_masking_masks_each_token_independently():
    rng = random.Random(10)
    masked = total = 0
    for _ in range(300):
        tokens = document(rng, 100)
        out = token_masking(tokens, mask=MASK, rng=rng, p=0.2, eos=EOS, pad=PAD)
        assert len(out) == len(tokens) and all(o in (t, MASK) for o, t in zip(out, tokens))
        assert out[100:] == tokens[100:]  # eos and padding
        masked += out.count(MASK)
        total += 100
    assert abs(masked / total - 0.2) < 0.01
    assert token_masking(list(range(5, 50)), mask=MASK, rng=0, p=0.0) == list(range(5, 50))


def test_token_deletion_keeps_the_order_of_what_is_left():
    rng = random.Random(11)
    deleted = 0
    for _ in range(300):
        tokens = document(rng, 100)
        out = token_deletion(tokens, rng=rng, p=0.15, eos=EOS, pad=PAD)
        body = out[:out.index(EOS)]
        assert body == sorted(body) and set(body) <= set(tokens[:100])  # a subsequence, in order
        assert out[len(body):] == tokens[100:]
        deleted += 100 - len(body)
    assert abs(deleted / 30000 - 0.15) < 0.01


def infilled_spans(tokens, out):
    """The span length behind each mask of text_infilling(ids 5, 6, 7, ...): read off the kept neighbours."""
    body = out[:out.index(EOS)]
    lengths, previous = [], 4
    for i, token in enumerate(body):
        if token == MASK:
            following = body[i + 1] if i + 1 < len(body) else tokens[tokens.index(EOS) - 1] + 1
            lengths.append(following - previous - 1)
        else:
            assert token > previous, "kept tokens keep their order"
            previous = token
    return lengths


def test_text_infilling_spans_are_poisson_3_with_zero_length_ones_and_one_mask_each():
    rng = random.Random(12)
    lengths = []
    for _ in range(200):
        tokens = document(rng, 1000)
        out = text_infilling(tokens, mask=MASK, rng=rng, p=0.3, eos=EOS, pad=PAD)
        assert out[out.index(EOS):] == tokens[1000:]  # eos and padding untouched
        assert all(not (a == MASK and b == MASK) for a, b in zip(out, out[1:])), "one mask per span, spans apart"
        spans = infilled_spans(tokens, out)
        assert sum(spans) == 300  # exactly round(0.3 * 1000) tokens masked
        lengths += spans
    mean = sum(lengths) / len(lengths)
    zeros = lengths.count(0) / len(lengths)
    assert abs(mean - 3.0) < 0.1, mean  # the cut last span pulls it down a little
    assert abs(zeros - math.exp(-3)) < 0.01, zeros  # P(0) = e^-3: masks that hide nothing
    assert abs(lengths.count(3) / len(lengths) - 27 * math.exp(-3) / 6) < 0.015


def test_text_infilling_of_short_and_empty_sequences():
    assert text_infilling([EOS], mask=MASK, rng=0, eos=EOS) == [EOS]
    assert text_infilling([5, 6, 7], mask=MASK, rng=0, p=0.0) == [5, 6, 7]
    words = "the cat sat on a mat".split()
    out = text_infilling(words, mask="<mask>", rng=1, p=0.3)
    assert "<mask>" in out and [w for w in out if w != "<mask>"] == [w for w in words if w in out]
    with pytest.raises(ValueError, match="do not fit into the"):
        text_infilling([5, 6, 7, 8], mask=MASK, rng=3, p=0.75, poisson_lambda=0.05)


def test_sentence_permutation_keeps_the_sentences():
    words = "a b . c d e . f . g h".split() + ["</s>"]
    sentences = [["a", "b", "."], ["c", "d", "e", "."], ["f", "."], ["g", "h"]]
    assert split_sentences(words[:-1], ".") == sentences
    rng = random.Random(13)
    orders = Counter()
    for _ in range(2400):
        out = sentence_permutation(words, rng=rng, full_stop=".", eos="</s>")
        assert out[-1] == "</s>"
        # the same sentences, whole (the last one lacks a full stop, so split_sentences would glue it on)
        assert sorted(map(tuple, cut_into(out[:-1], sentences))) == sorted(map(tuple, sentences))
        orders[" ".join(out[:-1])] += 1
    assert len(orders) == 24 and min(orders.values()) > 60  # all 4! orders, about 100 each
    chunks = [[5, 6, 7], [8, 9, 10, 11], [12, 13, 14]]
    allowed = {tuple(x for chunk in order for x in chunk) for order in permutations(chunks)}
    seen = {tuple(sentence_permutation(list(range(5, 15)), rng=seed, sentence_starts=[3, 7])) for seed in range(60)}
    assert seen == allowed
    with pytest.raises(ValueError, match="exactly one of full_stop"):
        sentence_permutation(words, rng=0)


def test_document_rotation_is_a_rotation_from_a_uniform_start():
    rng = random.Random(14)
    starts = Counter()
    for _ in range(2000):
        tokens = document(rng, 10)
        out = document_rotation(tokens, rng=rng, eos=EOS, pad=PAD)
        start = out[0] - 5
        assert out[:10] == tokens[start:10] + tokens[:start] and out[10:] == tokens[10:]
        starts[start] += 1
    assert len(starts) == 10 and all(abs(n / 2000 - 0.1) < 0.025 for n in starts.values())
    assert document_rotation([EOS], rng=0, eos=EOS) == [EOS]


@pytest.mark.parametrize("rate", [-0.01, 1.0, 2.0])
def test_bart_noise_rates_outside_0_to_1_are_refused(rate):
    for noise in (lambda: token_masking([5, 6], mask=MASK, rng=0, p=rate),
                  lambda: token_deletion([5, 6], rng=0, p=rate),
                  lambda: text_infilling([5, 6], mask=MASK, rng=0, p=rate)):
        with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
            noise()


def test_split_text_sets_aside_the_eos_and_the_trailing_padding():
    from course_lib.noising import split_text

    assert split_text([5, 6, 1, 0, 0], eos=1, pad=0) == ([5, 6], [1, 0, 0])
    assert split_text([5, 6, 1], eos=1, pad=0) == ([5, 6], [1])
    assert split_text([5, 0, 6], eos=None, pad=0) == ([5, 0, 6], [])
    assert split_text(["a", "b"], eos="</s>", pad="<pad>") == (["a", "b"], [])
    assert split_text([1, 0], eos=1, pad=0) == ([], [1, 0])
    tokens = [5, 1, 0]
    split_text(tokens, 1, 0)
    assert tokens == [5, 1, 0]
