"""Attention scorers and the attention decoder: masking, normalisation, shapes, bad input."""
from __future__ import annotations

import pytest
import torch

from course_lib.attention import (ATTENTION_CHOICES, SCORERS, AttentionDecoder, attention_seq2seq,
                                  attention_weights, make_attention)
from course_lib.decoding import beam_search, greedy_decode
from course_lib.seq2seq import Seq2SeqConfig

B, S, H = 4, 7, 37
# Weights and contexts computed two ways (one query or all at once, fused or step by step, by hand) differ in the
# last bits of float32 (eps 1.2e-7): other kernels add in another order, and a context sums S = 7 terms of keys of
# order 1. 1e-5 allows that on any CPU; a mask ignored or a wrong query moves weights by 1e-2 or more.
SAME_MATH = {"rtol": 1e-5, "atol": 1e-5}


def inputs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    query, keys = torch.randn(B, H, generator=gen), torch.randn(B, S, H, generator=gen)
    mask = torch.arange(S)[None, :] < torch.tensor([7, 3, 1, 5])[:, None]  # (B, S)
    return query, keys, mask


@pytest.mark.parametrize("kind", SCORERS)
def test_masked_positions_get_exactly_zero_and_rows_sum_to_one(kind):
    torch.manual_seed(0)
    query, keys, mask = inputs()
    context, weights = make_attention(kind, H, H, 11)(query, keys, mask=mask)
    assert context.shape == (B, H) and weights.shape == (B, S)
    assert torch.all(weights[~mask] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B), **SAME_MATH)
    torch.testing.assert_close(context, (weights.unsqueeze(-1) * keys).sum(1), **SAME_MATH)


@pytest.mark.parametrize("kind", SCORERS)
def test_padding_content_never_matters(kind):
    torch.manual_seed(0)
    attention = make_attention(kind, H, H, 11)
    query, keys, mask = inputs()
    noisy = keys.clone()
    noisy[~mask] = 1e3
    torch.testing.assert_close(attention(query, keys, mask=mask)[0], attention(query, noisy, mask=mask)[0], **SAME_MATH)


@pytest.mark.parametrize("kind", SCORERS)
def test_batch_of_one_and_source_of_length_one(kind):
    torch.manual_seed(0)
    attention = make_attention(kind, H, H, 11)
    context, weights = attention(torch.randn(1, H), torch.randn(1, 1, H), mask=torch.ones(1, 1, dtype=torch.bool))
    assert weights.shape == (1, 1) and weights.item() == pytest.approx(1.0)
    assert context.shape == (1, H)


@pytest.mark.parametrize("kind", ["bahdanau", "luong-general", "luong-concat"])
def test_gradients_reach_the_score_network(kind):
    torch.manual_seed(0)
    attention = make_attention(kind, H, H, 11)
    query, keys, mask = inputs()
    values = torch.randn(B, S, 5)
    attention(query, keys, values, mask)[0].square().sum().backward()
    for name, p in attention.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kind", SCORERS)
def test_all_queries_at_once_equal_one_query_at_a_time(kind):
    """The decoder's fast path (keys prepared once, T queries in one call) scores like forward()."""
    torch.manual_seed(0)
    attention = make_attention(kind, H, H, 11)
    _, keys, mask = inputs()
    queries = torch.randn(B, 5, H)
    context, weights = attention.attend_prepared(queries, attention.prepare(keys), keys, mask)
    for t in range(5):
        one_context, one_weights = attention(queries[:, t], keys, mask=mask)
        torch.testing.assert_close(weights[:, t], one_weights, **SAME_MATH)
        torch.testing.assert_close(context[:, t], one_context, **SAME_MATH)


def test_dot_attention_has_no_parameters_and_matches_a_hand_computation():
    query, keys, mask = inputs()
    attention = make_attention("luong-dot", H, H)
    assert sum(p.numel() for p in attention.parameters()) == 0
    scores = torch.einsum("bh,bsh->bs", query, keys).masked_fill(~mask, float("-inf"))
    torch.testing.assert_close(attention(query, keys, mask=mask)[1], scores.softmax(-1), **SAME_MATH)


def test_bad_input_names_the_shapes():
    attention = make_attention("bahdanau", H, H, 11)
    query, keys, mask = inputs()
    with pytest.raises(ValueError, match="different batch sizes"):
        attention(query[:2], keys)
    with pytest.raises(ValueError, match="hidden size"):
        attention(torch.randn(B, H + 1), keys)
    with pytest.raises(ValueError, match=r"mask must be \(B, S\)"):
        attention(query, keys, mask=mask[:, :3])
    with pytest.raises(ValueError, match="mask every source position"):
        attention(query, keys, mask=torch.zeros(B, S, dtype=torch.bool))
    with pytest.raises(ValueError, match="bool"):
        attention(query, keys, mask=mask.long())
    with pytest.raises(ValueError, match="unknown attention"):
        make_attention("luong-cosine", H, H)
    with pytest.raises(ValueError, match="equal query and key sizes"):
        make_attention("luong-dot", H, H + 1)


@pytest.mark.parametrize("kind", ATTENTION_CHOICES)
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_decoders_fused_equals_step_loop_and_greedy_equals_beam_one(kind, cell):
    torch.manual_seed(0)
    model = attention_seq2seq(Seq2SeqConfig.tiny(23, 19, cell=cell), kind).eval()
    src, lengths, tgt = torch.randint(1, 23, (3, 5)), torch.tensor([5, 2, 4]), torch.randint(3, 19, (3, 4))
    fused = model(src, lengths, tgt)
    loop = model._decode_loop(tgt, model.encode(src, lengths), 1.0)
    assert fused.shape == (3, 4, 19)
    torch.testing.assert_close(fused, loop, **SAME_MATH)
    greedy = greedy_decode(model, src, lengths, max_len=6)
    assert torch.equal(greedy.tokens, beam_search(model, src, lengths, beam_size=1, max_len=6).tokens)


def test_attention_weights_follow_the_mask():
    torch.manual_seed(0)
    model = attention_seq2seq(Seq2SeqConfig.tiny(23, 19), "bahdanau")
    src, lengths = torch.randint(1, 23, (2, 6)), torch.tensor([6, 3])
    weights = attention_weights(model, src, lengths, torch.randint(3, 19, (2, 4)))
    assert weights.shape == (2, 4, 6)
    assert torch.all(weights[1, :, 3:] == 0)
    assert isinstance(model.decoder, AttentionDecoder)
    with pytest.raises(ValueError, match="no attention decoder"):
        attention_weights(attention_seq2seq(Seq2SeqConfig.tiny(23, 19), "none"), src, lengths, src[:, :2])


def test_additive_attention_takes_the_mask_third_and_equals_bahdanau():
    torch.manual_seed(0)
    from course_lib.attention import AdditiveAttention, BahdanauAttention
    additive, bahdanau = AdditiveAttention(6, 4, 8), BahdanauAttention(6, 4, 8)
    bahdanau.load_state_dict(additive.state_dict())
    query, keys = torch.randn(3, 6), torch.randn(3, 5, 4)
    mask = torch.arange(5)[None, :] < torch.tensor([5, 3, 1])[:, None]
    context, weights = additive(query, keys, mask)
    ref_context, ref_weights = bahdanau(query, keys, mask=mask)
    torch.testing.assert_close(context, ref_context)
    torch.testing.assert_close(weights, ref_weights)
    assert torch.all(weights[~mask] == 0)
