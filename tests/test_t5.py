"""Course T5: Hugging Face's T5ForConditionalGeneration (tiny, random) gives the same logits and greedy tokens;
cached decoding, padding, relative position buckets, presets, bad input and bad state dicts."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
import torch
import transformers
from torch import nn

from course_lib.decoding import beam_search, greedy_decode
from course_lib.t5 import (RMSNorm, T5Config, T5ForConditionalGeneration, load_hugging_face_weights,
                           relative_position_bucket)
from tests.conftest import an_end_token

# Tolerances, for float32 (relative rounding 6e-8). Ours and Hugging Face's, the fused and the written-out
# attention, cached and uncached decoding: the same formula adding in another order, a few roundings per
# dot product of a few dozen terms, through 2 + 2 layers: well below 1e-5 relative on logits of size ~1,
# on any CPU or GPU. Where only padded positions change, the arithmetic is the same and torch's default
# float32 tolerances apply. Only decoder positions are compared: they are all real.
TOL = {"rtol": 1e-5, "atol": 1e-5}
VOCAB, D, MAX_LEN = 100, 32, 12
VARIANTS = [("relu", True), ("relu", False), ("gated-gelu", True), ("gated-gelu", False)]


def randomise(model: nn.Module, seed: int) -> None:
    """Values far from the initialisation, norms and position biases included, so a swapped copy would show."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if p.dim() == 1:  # RMS norm gains
                p.copy_(1 + 0.2 * noise)
            elif "relative_attention_bias" in name or name == "shared.weight":
                p.copy_(noise)
            else:
                p.copy_(noise / p.shape[1] ** 0.5)


def hugging_face_t5(feed_forward: str, tie: bool, seed: int = 0) -> transformers.T5ForConditionalGeneration:
    config = transformers.T5Config(vocab_size=VOCAB, d_model=D, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                                   num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=20,
                                   dropout_rate=0.0, feed_forward_proj=feed_forward, tie_word_embeddings=tie)
    model = transformers.T5ForConditionalGeneration(config)
    if not tie:
        # transformers 5 shares the matrices even then (it only stops scaling); a T5 v1.1 head is its own matrix
        model.lm_head.weight = nn.Parameter(torch.empty(VOCAB, D))
    randomise(model, seed)
    return model.eval()


@pytest.fixture(scope="module")
def pairs() -> dict:
    """(ours, theirs) with the same weights, for each feed-forward and tying."""
    result = {}
    for feed_forward, tie in VARIANTS:
        theirs = hugging_face_t5(feed_forward, tie)
        ours = T5ForConditionalGeneration(T5Config.from_hugging_face(theirs.config.to_dict())).eval()
        load_hugging_face_weights(ours, theirs.state_dict())
        result[feed_forward, tie] = ours, theirs
    return result


def batch():
    """Source ids with right padding, left padding and a one-token row; pad positions hold pad (0)."""
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(2, VOCAB, (4, 9), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, :4] = 0  # left padding: T5's relative positions allow it
    mask[3, 1:] = 0
    return ids.masked_fill(mask == 0, 0), mask


@pytest.mark.parametrize("feed_forward, tie", VARIANTS)
def test_logits_equal_hugging_face(pairs, feed_forward, tie):
    ours, theirs = pairs[feed_forward, tie]
    assert ours.config.feed_forward == feed_forward and ours.config.tie_output == tie
    ids, mask = batch()
    decoder_input_ids = torch.cat([torch.zeros(4, 1, dtype=torch.long), torch.randint(2, VOCAB, (4, 7))], dim=1)
    with torch.no_grad():
        expected = theirs(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids).logits
        got = ours(ids, mask, decoder_input_ids)
    assert expected.std() > 0.5  # logits that differ, not a collapsed model
    torch.testing.assert_close(got, expected, **TOL)
    # the attention the book writes out
    written_out = T5ForConditionalGeneration(replace(ours.config, use_sdpa=False)).eval()
    written_out.load_state_dict(ours.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(written_out(ids, mask, decoder_input_ids), expected, **TOL)


@pytest.mark.parametrize("feed_forward, tie", VARIANTS)
def test_greedy_tokens_equal_hugging_face_generate(pairs, feed_forward, tie):
    ours, theirs = pairs[feed_forward, tie]
    ids, mask = batch()
    lengths = mask.sum(1)
    right, left = [0, 1, 3], 2  # greedy_decode passes lengths: right padding; row 2 is padded on the left
    unstopped = greedy_decode(ours, ids[right], lengths[right], max_len=MAX_LEN, bos_id=0, eos_id=-1, pad_id=0)
    eos = an_end_token(unstopped.tokens, pad_id=0)
    with torch.no_grad():
        expected = theirs.generate(input_ids=ids, attention_mask=mask, do_sample=False, num_beams=1,
                                   max_new_tokens=MAX_LEN, decoder_start_token_id=0, eos_token_id=eos, pad_token_id=0)
    assert torch.all(expected[:, 0] == 0)  # Hugging Face's output starts with the start token, pad
    got = greedy_decode(ours, ids[right], lengths[right], max_len=MAX_LEN, bos_id=0, eos_id=eos, pad_id=0)
    assert (got.lengths < MAX_LEN).any() and (got.lengths == MAX_LEN).any(), got.lengths  # some stop, some run on
    steps = got.tokens.size(1)
    assert torch.equal(got.tokens, expected[right, 1:steps + 1])
    assert torch.all(expected[right, steps + 1:] == 0)  # row 2 may run on; Hugging Face pads the others
    # the left-padded row, through its attention mask, step by step
    state = ours.encode(ids[[left]], attention_mask=mask[[left]])
    prev, tokens = torch.zeros(1, dtype=torch.long), []
    while len(tokens) < MAX_LEN and eos not in tokens:
        logits, state = ours.decode_step(prev, state)
        prev = logits.argmax(-1)
        tokens.append(int(prev))
    assert tokens == expected[left, 1:len(tokens) + 1].tolist()


@pytest.mark.parametrize("feed_forward", ["relu", "gated-gelu"])
def test_cached_decoding_equals_uncached_and_teacher_forcing(pairs, feed_forward):
    ours, _ = pairs[feed_forward, False]
    ids, mask = batch()
    right = [0, 1, 3]
    ids, mask, lengths = ids[right], mask[right], mask[right].sum(1)
    decoder_input_ids = torch.cat([torch.zeros(3, 1, dtype=torch.long), torch.randint(2, VOCAB, (3, 9))], dim=1)
    with torch.no_grad():
        forced = ours(ids, mask, decoder_input_ids)
        results = {}
        for cache in (True, False):
            ours.kv_cache = cache
            state, steps = ours.encode(ids, lengths), []
            for t in range(decoder_input_ids.size(1)):
                logits, state = ours.decode_step(decoder_input_ids[:, t], state)
                steps.append(logits)
            torch.testing.assert_close(torch.stack(steps, 1), forced, **TOL, msg=f"kv_cache={cache}")
            results[cache] = (greedy_decode(ours, ids, lengths, max_len=MAX_LEN, bos_id=0, eos_id=1, pad_id=0),
                              beam_search(ours, ids, lengths, beam_size=3, max_len=MAX_LEN, bos_id=0, eos_id=1,
                                          pad_id=0))
        ours.kv_cache = True
    assert torch.equal(results[True][0].tokens, results[False][0].tokens)
    assert torch.equal(results[True][1].tokens, results[False][1].tokens)
    one_beam = beam_search(ours, ids, lengths, beam_size=1, max_len=MAX_LEN, bos_id=0, eos_id=1, pad_id=0)
    assert torch.equal(results[True][0].tokens, one_beam.tokens)


def test_padding_never_changes_the_output(pairs):
    ours, _ = pairs["gated-gelu", True]
    ids, mask = batch()
    decoder_input_ids = torch.randint(0, VOCAB, (4, 6))
    with torch.no_grad():
        clean = ours(ids, mask, decoder_input_ids)
        noisy = ids.masked_fill(mask == 0, 7)
        torch.testing.assert_close(ours(noisy, mask, decoder_input_ids), clean)
        # a row alone, without its padding, gives what it gives in the batch: right padding (row 1) and,
        # since T5 only sees distances between tokens, left padding too (row 2)
        for row in (1, 2):
            alone = ours(ids[row:row + 1, mask[row] == 1], None, decoder_input_ids[row:row + 1])
            torch.testing.assert_close(alone, clean[row:row + 1], **TOL, msg=f"row {row}")
        # and the padding is really masked: attending to it would change the output
        assert not torch.allclose(ours(ids, None, decoder_input_ids)[1], clean[1], atol=1e-3)


@pytest.mark.parametrize("num_buckets, max_distance", [(8, 20), (32, 128)])
def test_relative_position_buckets_equal_hugging_face(num_buckets, max_distance):
    relative = torch.arange(-300, 301)[None, :]
    for bidirectional in (True, False):
        expected = transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket(
            relative, bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance)
        got = relative_position_bucket(relative, bidirectional, num_buckets, max_distance)
        assert torch.equal(got, expected), bidirectional
    decoder = relative_position_bucket(relative, False, num_buckets, max_distance)[0]
    assert torch.all(decoder[relative[0] >= 0] == 0)  # the decoder sees no future: every key ahead is bucket 0
    assert decoder[300 - 3] == 3 and decoder[0] == num_buckets - 1  # exact when near, shared when far
    encoder = relative_position_bucket(relative, True, num_buckets, max_distance)[0]
    assert torch.all(encoder[relative[0] > 0] >= num_buckets // 2)  # keys after the query: the upper half


def test_rms_norm_scales_without_centring():
    norm = RMSNorm(4, eps=1e-6)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 0.5, 1.0]))
    x = torch.tensor([[3.0, 3.0, 3.0, 3.0], [1.0, -2.0, 2.0, 4.0]])
    expected = x / (x.pow(2).mean(-1, keepdim=True) + 1e-6).sqrt() * norm.weight
    assert torch.allclose(norm(x), expected)
    assert torch.allclose(norm(x)[0], torch.tensor([1.0, 2.0, 0.5, 1.0]), atol=1e-5)  # a LayerNorm would give 0


def test_presets_and_tying():
    with torch.device("meta"):
        small = T5ForConditionalGeneration(T5Config.small())
    assert sum(p.numel() for p in small.parameters()) == 60_506_624  # Hugging Face's t5-small: "60M"
    tied = T5ForConditionalGeneration(T5Config.tiny(VOCAB))
    untied = T5ForConditionalGeneration(T5Config.tiny(VOCAB, tie_output=False))
    assert tied.lm_head.weight is tied.shared.weight and untied.lm_head.weight is not untied.shared.weight
    assert T5Config.tiny(VOCAB).decoder_start_id == 0


def test_config_validation_names_what_is_wrong():
    with pytest.raises(ValueError, match="d_model 30 is not divisible by num_heads 4"):
        T5Config.tiny(VOCAB, d_model=30)
    with pytest.raises(ValueError, match="unknown feed_forward 'swiglu'"):
        T5Config.tiny(VOCAB, feed_forward="swiglu")
    with pytest.raises(ValueError, match="relative_attention_num_buckets must be at least 4"):
        T5Config.tiny(VOCAB, relative_attention_num_buckets=2)
    with pytest.raises(ValueError, match="relative_attention_max_distance 4 must exceed half the buckets"):
        T5Config.tiny(VOCAB, relative_attention_max_distance=4)
    with pytest.raises(ValueError, match="num_decoder_layers must be a positive int, got 0"):
        T5Config.tiny(VOCAB, num_decoder_layers=0)
    with pytest.raises(ValueError, match=r"eos_id must be a token id in 0\.\.99, got 100"):
        T5Config.tiny(VOCAB, eos_id=100)
    good = hugging_face_t5("relu", True).config.to_dict()
    with pytest.raises(ValueError, match="'bart' model, not 't5'"):
        T5Config.from_hugging_face({**good, "model_type": "bart"})
    with pytest.raises(ValueError, match="d_kv 64 x num_heads 4 != d_model 32"):
        T5Config.from_hugging_face({**good, "d_kv": 64})
    with pytest.raises(ValueError, match="decoder_start_token_id 2 is not the pad id 0"):
        T5Config.from_hugging_face({**good, "decoder_start_token_id": 2})
    with pytest.raises(ValueError, match="lacks d_ff"):
        T5Config.from_hugging_face({k: v for k, v in good.items() if k != "d_ff"})
    # an older config.json: tie_word_embeddings false (T5 v1.1), no scale_decoder_outputs
    old = {k: v for k, v in good.items() if k != "scale_decoder_outputs"}
    assert not T5Config.from_hugging_face({**old, "tie_word_embeddings": False}).tie_output
    assert T5Config.from_hugging_face({k: v for k, v in old.items() if k != "tie_word_embeddings"}).tie_output


def test_bad_input_says_what_is_wrong(pairs):
    ours, _ = pairs["relu", True]
    ids, mask = batch()
    dec = torch.zeros(4, 3, dtype=torch.long)
    with pytest.raises(ValueError, match=r"input_ids holds ids outside .* 0\.\.99 \(min 0, max 100\)"):
        ours(ids.masked_fill(ids == ids.max(), 100), mask, dec)
    with pytest.raises(ValueError, match=r"input_ids must be a \(batch, length\) tensor of integer token ids"):
        ours(ids[0], None, dec)
    with pytest.raises(ValueError, match=r"input_ids must be a \(batch, length\) tensor.*float32"):
        ours(ids.float(), None, dec)
    with pytest.raises(ValueError, match=r"attention_mask \(4, 8\) must have input_ids' shape \(4, 9\)"):
        ours(ids, mask[:, :8], dec)
    with pytest.raises(ValueError, match=r"attention_mask rows \[3\] have no real token"):
        ours(ids, mask.index_fill(0, torch.tensor([3]), 0), dec)
    with pytest.raises(ValueError, match="decoder_input_ids has batch size 2 but the source batch has 4 rows"):
        ours(ids, mask, dec[:2])
    with pytest.raises(ValueError, match=r"decoder_input_ids holds ids outside the model's vocabulary 0\.\.99"):
        ours(ids, mask, dec - 1)
    with pytest.raises(ValueError, match="src_lengths or attention_mask, not both"):
        ours.encode(ids, mask.sum(1), attention_mask=mask)
    with pytest.raises(ValueError, match=r"src_lengths must lie in 1\.\.9 \(the padded length\)"):
        ours.encode(ids, torch.tensor([9, 6, 0, 1]))
    state = ours.encode(ids, attention_mask=mask)
    with pytest.raises(ValueError, match=r"prev_tokens must hold one token per row of the batch, \(4,\)"):
        ours.decode_step(torch.zeros(4, 1, dtype=torch.long), state)


def test_bad_state_dicts_name_the_key(pairs):
    _, theirs = pairs["gated-gelu", False]
    state = theirs.state_dict()
    config = T5Config.from_hugging_face(theirs.config.to_dict())
    ours = T5ForConditionalGeneration(config)
    dropped = "decoder.block.1.layer.2.DenseReluDense.wi_1.weight"
    with pytest.raises(ValueError, match=f"lacks {re.escape(dropped)}"):
        load_hugging_face_weights(ours, {k: v for k, v in state.items() if k != dropped})
    with pytest.raises(ValueError, match=r"lacks lm_head\.weight"):
        load_hugging_face_weights(ours, {k: v for k, v in state.items() if k != "lm_head.weight"})
    relu = T5ForConditionalGeneration(T5Config.from_hugging_face({**theirs.config.to_dict(),
                                                                  "feed_forward_proj": "relu"}))
    with pytest.raises(ValueError, match="it has a gated feed-forward: build the model with feed_forward='gated-gelu'"):
        load_hugging_face_weights(relu, state)
    wider = T5ForConditionalGeneration(T5Config.from_hugging_face({**theirs.config.to_dict(), "d_ff": 128}))
    with pytest.raises(ValueError, match=r"encoder\.block\.0\.layer\.1\.DenseReluDense\.wi_0\.weight has shape"
                                         r" \(64, 32\), the config implies \(128, 32\)"):
        load_hugging_face_weights(wider, state)
