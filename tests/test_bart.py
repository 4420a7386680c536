"""Course BART: Hugging Face's BartForConditionalGeneration (tiny, random) gives the same logits and greedy tokens;
cached decoding, padding, shift_tokens_right, presets, bad input and bad state dicts."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
import torch
import transformers
from torch import nn

from course_lib.bart import BartConfig, BartForConditionalGeneration, load_hugging_face_weights, shift_tokens_right
from course_lib.decoding import beam_search, greedy_decode
from tests.conftest import an_end_token

# Tolerances, for float32 (relative rounding 6e-8). Ours and Hugging Face's, the fused and the written-out
# attention, cached and uncached decoding: the same formula adding in another order, a few roundings per
# dot product of a few dozen terms, through 2 + 2 layers: well below 1e-5 relative on logits of size ~1,
# on any CPU or GPU. Where only padded positions change, the arithmetic is the same and torch's default
# float32 tolerances apply. Only decoder positions are compared: they are all real.
TOL = {"rtol": 1e-5, "atol": 1e-5}
VOCAB, MAX_LEN = 100, 12
PAD, START = 1, 2  # BART: <s>=0, <pad>=1, </s>=2, and the decoder starts from </s>


def randomise(model: nn.Module, seed: int) -> None:
    """Values far from the initialisation, layer norms, biases and final_logits_bias included."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if p.dim() == 1:
                p.copy_((1.0 if "norm" in name and name.endswith("weight") else 0.0) + 0.2 * noise)
            elif "embed_positions" in name:
                p.copy_(3 * noise)  # strong positions: the greedy outputs vary from step to step
            elif "shared" in name:
                p.copy_(noise)
            else:
                p.copy_(noise / p.shape[1] ** 0.5)
        model.final_logits_bias.copy_(0.1 * torch.randn(model.final_logits_bias.shape, generator=gen))


def hugging_face_bart(scale_embedding: bool, seed: int = 0) -> transformers.BartForConditionalGeneration:
    # the decoder differs from the encoder (heads, feed-forward) so that a swapped stack would show;
    # no forced </s> at the length limit, which greedy_decode does not do
    config = transformers.BartConfig(vocab_size=VOCAB, d_model=32, encoder_layers=2, decoder_layers=2,
                                     encoder_attention_heads=4, decoder_attention_heads=2, encoder_ffn_dim=64,
                                     decoder_ffn_dim=48, max_position_embeddings=64, dropout=0.0,
                                     scale_embedding=scale_embedding, forced_eos_token_id=None)
    model = transformers.BartForConditionalGeneration(config)
    randomise(model, seed)
    return model.eval()


@pytest.fixture(scope="module")
def pairs() -> dict:
    """(ours, theirs) with the same weights, with and without scaled embeddings."""
    result = {}
    for scale in (False, True):
        theirs = hugging_face_bart(scale)
        ours = BartForConditionalGeneration(BartConfig.from_hugging_face(theirs.config.to_dict())).eval()
        load_hugging_face_weights(ours, theirs.state_dict())
        result[scale] = ours, theirs
    return result


def batch():
    """Source ids with right padding and a one-token row; pad positions hold <pad> (1)."""
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(3, VOCAB, (4, 9), generator=gen)
    lengths = torch.tensor([9, 6, 3, 1])
    mask = (torch.arange(9)[None, :] < lengths[:, None]).long()
    return ids.masked_fill(mask == 0, PAD), mask


@pytest.mark.parametrize("scale_embedding", [False, True])
def test_logits_equal_hugging_face(pairs, scale_embedding):
    ours, theirs = pairs[scale_embedding]
    assert ours.config.scale_embedding == scale_embedding and ours.config.decoder_heads == 2
    ids, mask = batch()
    decoder_input_ids = shift_tokens_right(torch.randint(3, VOCAB, (4, 8)), PAD, START)
    with torch.no_grad():
        expected = theirs(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids).logits
        got = ours(ids, mask, decoder_input_ids)
    assert expected.std() > 0.5  # logits that differ, not a collapsed model
    torch.testing.assert_close(got, expected, **TOL)
    # the attention the book writes out
    written_out = BartForConditionalGeneration(replace(ours.config, use_sdpa=False)).eval()
    written_out.load_state_dict(ours.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(written_out(ids, mask, decoder_input_ids), expected, **TOL)


@pytest.mark.parametrize("scale_embedding", [False, True])
def test_greedy_tokens_equal_hugging_face_generate(pairs, scale_embedding):
    ours, theirs = pairs[scale_embedding]
    ids, mask = batch()
    lengths = mask.sum(1)
    unstopped = greedy_decode(ours, ids, lengths, max_len=MAX_LEN, bos_id=START, eos_id=-1, pad_id=PAD)
    eos = an_end_token(unstopped.tokens, pad_id=PAD)
    with torch.no_grad():
        expected = theirs.generate(input_ids=ids, attention_mask=mask, do_sample=False, num_beams=1,
                                   max_new_tokens=MAX_LEN, eos_token_id=eos, pad_token_id=PAD)
    assert torch.all(expected[:, 0] == START)  # Hugging Face's output starts with the start token
    got = greedy_decode(ours, ids, lengths, max_len=MAX_LEN, bos_id=START, eos_id=eos, pad_id=PAD)
    assert (got.lengths < MAX_LEN).any() and (got.lengths == MAX_LEN).any(), got.lengths  # some stop, some run on
    assert torch.equal(got.tokens, expected[:, 1:])


def test_cached_decoding_equals_uncached_and_teacher_forcing(pairs):
    ours, _ = pairs[True]
    ids, mask = batch()
    lengths = mask.sum(1)
    decoder_input_ids = shift_tokens_right(torch.randint(3, VOCAB, (4, 10)), PAD, START)
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
            results[cache] = (greedy_decode(ours, ids, lengths, max_len=MAX_LEN, bos_id=START, eos_id=2, pad_id=PAD),
                              beam_search(ours, ids, lengths, beam_size=3, max_len=MAX_LEN, bos_id=START, eos_id=2,
                                          pad_id=PAD))
        ours.kv_cache = True
    assert torch.equal(results[True][0].tokens, results[False][0].tokens)
    assert torch.equal(results[True][1].tokens, results[False][1].tokens)
    one_beam = beam_search(ours, ids, lengths, beam_size=1, max_len=MAX_LEN, bos_id=START, eos_id=2, pad_id=PAD)
    assert torch.equal(results[True][0].tokens, one_beam.tokens)


def test_padding_never_changes_the_output(pairs):
    ours, _ = pairs[False]
    ids, mask = batch()
    decoder_input_ids = shift_tokens_right(torch.randint(3, VOCAB, (4, 6)), PAD, START)
    with torch.no_grad():
        clean = ours(ids, mask, decoder_input_ids)
        torch.testing.assert_close(ours(ids.masked_fill(mask == 0, 7), mask, decoder_input_ids), clean)
        alone = ours(ids[1:2, :6], None, decoder_input_ids[1:2])
        torch.testing.assert_close(alone, clean[1:2], **TOL)  # a row alone gives what it gives in the batch
        assert not torch.allclose(ours(ids, None, decoder_input_ids)[1], clean[1], atol=1e-3)  # the mask matters
        # learned absolute positions: unlike T5, padding on the left moves the tokens and changes the output
        left = torch.cat([torch.full((1, 3), PAD), ids[1:2, :6]], dim=1)
        moved = ours(left, torch.tensor([[0, 0, 0] + [1] * 6]), decoder_input_ids[1:2])
        assert not torch.allclose(moved, clean[1:2], atol=1e-3)


def test_shift_tokens_right_equals_hugging_face():
    labels = torch.tensor([[5, 6, 7, 2], [8, 2, -100, -100]])
    expected = transformers.models.bart.modeling_bart.shift_tokens_right(labels, PAD, START)
    assert torch.equal(shift_tokens_right(labels, PAD, START), expected)
    assert shift_tokens_right(labels, PAD, START).tolist() == [[2, 5, 6, 7], [2, 8, 2, 1]]
    with pytest.raises(ValueError, match=r"labels must be \(batch, length\)"):
        shift_tokens_right(labels[0], PAD, START)


def test_presets_and_tying():
    with torch.device("meta"):
        base, large = BartForConditionalGeneration(BartConfig.base()), BartForConditionalGeneration(BartConfig.large())
    # Hugging Face's counts for bart-base and bart-large ("140M", "400M")
    assert sum(p.numel() for p in base.parameters()) == 139_420_416
    assert sum(p.numel() for p in large.parameters()) == 406_291_456
    tiny = BartForConditionalGeneration(BartConfig.tiny(VOCAB))
    assert tiny.lm_head.weight is tiny.shared.weight
    assert tiny.encoder_positions.embedding.weight.shape == (64 + 2, 32)  # Hugging Face's offset of 2


def test_config_validation_names_what_is_wrong():
    with pytest.raises(ValueError, match="d_model 30 is not divisible by decoder_heads 4"):
        BartConfig.tiny(VOCAB, d_model=30, encoder_heads=5)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        BartConfig.tiny(VOCAB, activation="swish")
    with pytest.raises(ValueError, match="max_position must be a positive int, got 0"):
        BartConfig.tiny(VOCAB, max_position=0)
    with pytest.raises(ValueError, match=r"attention_dropout must lie in \[0, 1\), got 1.0"):
        BartConfig.tiny(VOCAB, attention_dropout=1.0)
    with pytest.raises(ValueError, match=r"decoder_start_id must be a token id in 0\.\.99, got 100"):
        BartConfig.tiny(VOCAB, decoder_start_id=100)
    good = hugging_face_bart(False).config.to_dict()
    assert BartConfig.from_hugging_face(good) == BartConfig.tiny(VOCAB, decoder_heads=2, decoder_ffn_dim=48)
    with pytest.raises(ValueError, match="'t5' model, not 'bart'"):
        BartConfig.from_hugging_face({**good, "model_type": "t5"})
    with pytest.raises(ValueError, match="lacks decoder_ffn_dim"):
        BartConfig.from_hugging_face({k: v for k, v in good.items() if k != "decoder_ffn_dim"})
    with pytest.raises(ValueError, match="normalize_before=True is not BART's layout"):
        BartConfig.from_hugging_face({**good, "normalize_before": True})
    with pytest.raises(ValueError, match="tie_word_embeddings=false"):
        BartConfig.from_hugging_face({**good, "tie_word_embeddings": False})


def test_bad_input_says_what_is_wrong(pairs):
    ours, _ = pairs[False]
    ids, mask = batch()
    dec = torch.full((4, 3), START)
    with pytest.raises(ValueError, match=r"input_ids holds ids outside .* 0\.\.99 \(min 1, max 100\)"):
        ours(ids.masked_fill(ids == ids.max(), 100), mask, dec)
    with pytest.raises(ValueError, match=r"decoder_input_ids must be a \(batch, length\) tensor"):
        ours(ids, mask, dec[:, 0])
    with pytest.raises(ValueError, match=r"attention_mask \(4, 8\) must have input_ids' shape \(4, 9\)"):
        ours(ids, mask[:, :8], dec)
    with pytest.raises(ValueError, match="a sequence of 65 positions is longer than the model's max_position 64"):
        ours(torch.full((1, 65), 5), None, dec[:1])
    state = ours.encode(ids, mask.sum(1))
    with pytest.raises(ValueError, match=r"prev_tokens must hold one token per row of the batch, \(4,\)"):
        ours.decode_step(dec[:2, 0], state)
    with pytest.raises(ValueError, match="longer than the model's max_position 64"):
        for _ in range(65):
            _, state = ours.decode_step(dec[:, 0], state)


def test_bad_state_dicts_name_the_key(pairs):
    _, theirs = pairs[False]
    state = theirs.state_dict()
    ours = BartForConditionalGeneration(BartConfig.from_hugging_face(theirs.config.to_dict()))
    dropped = "model.decoder.layers.1.encoder_attn.k_proj.bias"
    with pytest.raises(ValueError, match=f"lacks {re.escape(dropped)}"):
        load_hugging_face_weights(ours, {k: v for k, v in state.items() if k != dropped})
    wider = BartForConditionalGeneration(BartConfig.from_hugging_face({**theirs.config.to_dict(),
                                                                      "encoder_ffn_dim": 80}))
    with pytest.raises(ValueError, match=r"model\.encoder\.layers\.0\.fc1\.weight has shape \(64, 32\), the config"
                                         r" implies \(80, 32\)"):
        load_hugging_face_weights(wider, state)
    # a BartModel state dict (no 'model.' prefix, no final_logits_bias) loads too, with a zero bias
    load_hugging_face_weights(ours, {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")})
    assert torch.equal(ours.shared.weight, theirs.model.shared.weight) and not ours.final_logits_bias.any()
