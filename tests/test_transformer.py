"""The course Transformer: equal to torch's own on copied weights, cached decoding, masks, bad input."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from course_lib.checkpoints import load_torch_attention, load_torch_transformer
from course_lib.decoding import beam_search, greedy_decode
from course_lib.train import seq2seq_loss
from course_lib.transformer import (DecoderLayer, EncoderLayer, LayerConfig, MultiHeadAttention,
                                    PaperMultiHeadAttention, SinusoidalPositionalEncoding, Transformer,
                                    TransformerConfig, causal_mask, merge_heads, padding_mask,
                                    scaled_dot_product_attention, split_heads)

D, HEADS = 32, 4
# Tolerances, for float32 (24-bit mantissa: relative rounding 6e-8). Two computations of the same
# formula that add in another order (fused kernels and the written-out path, cached and uncached
# decoding, ours and torch's) differ by a few roundings per dot product of a few dozen terms; through
# two layers of softmax and layer norm that stays well below 1e-5 relative on values of size ~1, on
# any CPU's vector width or a GPU. Where only masked positions change, the arithmetic is the same
# and torch's default float32 tolerances apply. Padded positions are never compared: what a model
# writes there is undefined.
TOL = {"rtol": 1e-5, "atol": 1e-5}


def randomise(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial values everywhere, LayerNorm and biases included, so a swapped copy would show."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3 + (1.0 if p.dim() == 1 and p.shape[0] == D else 0.0))


@pytest.mark.parametrize("use_sdpa", [True, False])
def test_the_two_attention_paths_agree(use_sdpa):
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5 if i == 0 else 7, 8, generator=gen) for i in range(3))
    mask = torch.rand(2, 1, 5, 7, generator=gen) > 0.3
    mask[..., 0] = True
    written, weights = scaled_dot_product_attention(q, k, v, mask, use_sdpa=False, need_weights=True)
    fused, _ = scaled_dot_product_attention(q, k, v, mask, use_sdpa=use_sdpa)
    torch.testing.assert_close(fused, written, **TOL)
    assert torch.all(weights[~mask.expand_as(weights)] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))
    by_hand = torch.softmax((q @ k.transpose(-1, -2) / 8 ** 0.5).masked_fill(~mask, float("-inf")), -1) @ v
    torch.testing.assert_close(written, by_hand, **TOL)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("need_weights", [False, True])
def test_multi_head_attention_equals_torch(masked, need_weights):
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(D, HEADS, batch_first=True).eval()
    ours = MultiHeadAttention(D, HEADS).eval()
    randomise(theirs)
    load_torch_attention(ours, theirs)
    query, memory = torch.randn(3, 5, D), torch.randn(3, 7, D)
    lengths = torch.tensor([7, 4, 1])
    key_mask = padding_mask(lengths, 7) if masked else None
    # cross-attention (keys and values from the memory), then self-attention under a causal mask
    expected, expected_weights = theirs(query, memory, memory, need_weights=True, average_attn_weights=False,
                                        key_padding_mask=None if key_mask is None else ~key_mask)
    got, weights = ours(query, memory, memory, mask=None if key_mask is None else key_mask[:, None, None, :],
                        need_weights=need_weights)
    torch.testing.assert_close(got, expected, **TOL)
    if need_weights:
        torch.testing.assert_close(weights, expected_weights, **TOL)
    else:
        assert weights is None
    causal = causal_mask(5)
    expected, _ = theirs(query, query, query, attn_mask=~causal if masked else None, need_weights=False)
    got, _ = ours(query, mask=causal if masked else None)
    torch.testing.assert_close(got, expected, **TOL)


def test_heads_functions_and_the_paper_attention_equal_multi_head_attention():
    """The assignment's references: split_heads, merge_heads and PaperMultiHeadAttention (W_q, W_k, W_v, W_o)."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, D)
    heads = split_heads(x, HEADS)
    assert heads.shape == (2, HEADS, 5, D // HEADS)
    assert torch.equal(heads[:, 1], x[:, :, D // HEADS:2 * D // HEADS])
    assert torch.equal(merge_heads(heads), x)
    with pytest.raises(ValueError, match="not divisible"):
        split_heads(x, 3)
    paper, ours = PaperMultiHeadAttention(D, HEADS), MultiHeadAttention(D, HEADS)
    with torch.no_grad():
        for mine, theirs in (("W_q", "q_proj"), ("W_k", "k_proj"), ("W_v", "v_proj"), ("W_o", "out_proj")):
            getattr(ours, theirs).load_state_dict(getattr(paper, mine).state_dict())
    memory = torch.randn(2, 7, D)
    mask = padding_mask(torch.tensor([7, 3]), 7)[:, None, None, :]
    got, weights = paper(x, memory, memory, mask)
    expected, expected_weights = ours(x, memory, memory, mask=mask, need_weights=True)
    torch.testing.assert_close(got, expected, **TOL)
    torch.testing.assert_close(weights, expected_weights, **TOL)
    assert weights.shape == (2, HEADS, 5, 7) and torch.all(weights[1, ..., 3:] == 0)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_decoder_stacks_equal_torch_transformer(norm_first):
    torch.manual_seed(0)
    config = TransformerConfig.tiny(11, 13, d_model=D, num_heads=HEADS, d_ff=48, norm_first=norm_first,
                                    final_norm=True)  # torch.nn.Transformer always ends each stack with a norm
    theirs = nn.Transformer(D, HEADS, 2, 2, 48, dropout=0.0, batch_first=True, norm_first=norm_first)
    ours = Transformer(config)
    randomise(theirs)
    load_torch_transformer(ours, theirs)
    theirs.train(), ours.train()  # no dropout; train mode keeps torch off its nested-tensor fast path
    src, tgt = torch.randint(1, 11, (3, 7)), torch.randint(1, 13, (3, 5))
    lengths = torch.tensor([7, 4, 2])
    real = padding_mask(lengths, 7)
    # torch's stacks read what our embeddings give: ours embed inside run_encoder and run_decoder
    src_x, tgt_x = ours.embed(src, ours.src_embedding), ours.embed(tgt, ours.tgt_embedding)
    expected = theirs(src_x, tgt_x, tgt_mask=~causal_mask(5), src_key_padding_mask=~real,
                      memory_key_padding_mask=~real)
    memory = ours.run_encoder(src, real)
    got = ours.run_decoder(tgt, memory, real[:, None, None, :])
    torch.testing.assert_close(got, expected, **TOL)  # target positions are all real
    expected_memory = theirs.encoder(src_x, src_key_padding_mask=~real)
    torch.testing.assert_close(memory[real], expected_memory[real], **TOL)
    unmasked = theirs(src_x, tgt_x, tgt_mask=~causal_mask(5))
    everything = torch.ones(3, 7, dtype=torch.bool)
    got = ours.run_decoder(tgt, ours.run_encoder(src, everything), everything[:, None, None, :])
    torch.testing.assert_close(got, unmasked, **TOL)
    with pytest.raises(ValueError, match="final_norm=True"):
        load_torch_transformer(Transformer(TransformerConfig.tiny(11, 13, d_model=D, num_heads=HEADS, d_ff=48)), theirs)


def test_layers_take_their_pieces():
    torch.manual_seed(0)
    config = LayerConfig(D, HEADS, 48, dropout=0.0, norm_first=True)
    layer = EncoderLayer(config, norm=lambda: nn.RMSNorm(D), feed_forward=lambda: nn.Linear(D, D)).eval()
    assert isinstance(layer.norm1, nn.RMSNorm) and layer.norm1 is not layer.norm2 and isinstance(layer.ff, nn.Linear)
    x = torch.randn(2, 5, D)
    attended, _ = layer.self_attn(layer.norm1(x))
    h = x + attended  # pre-norm: x + sublayer(norm(x)), twice
    torch.testing.assert_close(layer(x)[0], h + layer.ff(layer.norm2(h)))
    decoder = DecoderLayer(config, attention=lambda: MultiHeadAttention(D, HEADS, bias=False))
    assert decoder.self_attn is not decoder.cross_attn and decoder.cross_attn.q_proj.bias is None
    assert isinstance(decoder.norm3, nn.LayerNorm) and decoder.ff.linear1.out_features == 48
    bart_like = DecoderLayer(LayerConfig(D, HEADS, 48, dropout=0.1, attention_dropout=0.0, activation_dropout=0.2))
    assert (bart_like.self_attn.dropout, bart_like.ff.dropout.p, bart_like.dropout1.p) == (0.0, 0.2, 0.1)
    post_norm = EncoderLayer(TransformerConfig.tiny(5, 5, d_model=D, num_heads=HEADS, layer_norm_eps=1e-3)).eval()
    assert not post_norm.norm_first and post_norm.norm1.eps == 1e-3  # a TransformerConfig stands in
    with pytest.raises(ValueError, match=r"attention_dropout must lie in \[0, 1\)"):
        LayerConfig(D, HEADS, 48, attention_dropout=1.5)
    with pytest.raises(ValueError, match="unknown activation 'tanh'"):
        LayerConfig(D, HEADS, 48, activation="tanh")


def model_and_batch(seed: int = 0, **overrides):
    torch.manual_seed(seed)
    model = Transformer(TransformerConfig.tiny(17, 19, **overrides)).eval()
    src = torch.randint(3, 17, (4, 9))
    lengths = torch.tensor([9, 6, 3, 1])
    src = src.masked_fill(~padding_mask(lengths, 9), 0)
    return model, src, lengths


@pytest.mark.parametrize("overrides", [{}, {"norm_first": True}, {"positional": "learned"}])
def test_cached_decoding_equals_uncached_and_teacher_forcing(overrides):
    model, src, lengths = model_and_batch(**overrides)
    tgt = torch.randint(3, 19, (4, 8))
    forced = model(src, lengths, tgt)
    for cache in (True, False):
        model.kv_cache = cache
        state, steps = model.encode(src, lengths), []
        for t in range(tgt.size(1)):
            logits, state = model.decode_step(tgt[:, t], state)
            steps.append(logits)
        torch.testing.assert_close(torch.stack(steps, 1), forced, **TOL, msg=f"kv_cache={cache}")
    results = {}
    for cache in (True, False):
        model.kv_cache = cache
        results[cache] = (greedy_decode(model, src, lengths, max_len=12),
                          beam_search(model, src, lengths, beam_size=3, max_len=12))
    assert torch.equal(results[True][0].tokens, results[False][0].tokens)
    assert torch.equal(results[True][1].tokens, results[False][1].tokens)
    assert torch.equal(results[True][0].tokens, beam_search(model, src, lengths, beam_size=1, max_len=12).tokens)


def test_padding_never_changes_the_output():
    model, src, lengths = model_and_batch()
    tgt = torch.randint(3, 19, (4, 5))
    noisy = src.clone()
    noisy[~padding_mask(lengths, 9)] = 5
    torch.testing.assert_close(model(src, lengths, tgt), model(noisy, lengths, tgt))
    # and a row alone gives what it gives in the batch
    alone = model(src[2:3, :3], lengths[2:3], tgt[2:3])
    torch.testing.assert_close(alone, model(src, lengths, tgt)[2:3], **TOL)


def test_the_future_never_changes_the_past():
    model, src, lengths = model_and_batch()
    tgt = torch.randint(3, 19, (4, 6))
    changed = tgt.clone()
    changed[:, 4:] = 7
    torch.testing.assert_close(model(src, lengths, tgt)[:, :4], model(src, lengths, changed)[:, :4])
    assert not torch.allclose(model(src, lengths, tgt)[:, 4:], model(src, lengths, changed)[:, 4:])


def test_attention_maps_per_layer_and_head():
    model, src, lengths = model_and_batch()
    tgt = torch.randint(3, 19, (4, 5))
    logits, maps = model(src, lengths, tgt, return_attention=True)
    torch.testing.assert_close(logits, model(src, lengths, tgt), **TOL)  # written-out path against fused
    assert [m.shape for m in maps.encoder] == [(4, 4, 9, 9)] * 2
    assert [m.shape for m in maps.decoder_self] == [(4, 4, 5, 5)] * 2
    assert [m.shape for m in maps.cross] == [(4, 4, 5, 9)] * 2
    assert torch.all(maps.cross[0][3, :, :, 1:] == 0)  # the last source has one real token
    assert torch.all(maps.decoder_self[1][..., ~causal_mask(5)] == 0)


def test_sinusoidal_encoding_values():
    pe = SinusoidalPositionalEncoding(6, max_len=10)(10)
    assert torch.allclose(pe[:, 0], torch.sin(torch.arange(10.0)))
    assert torch.allclose(pe[:, 1], torch.cos(torch.arange(10.0)))
    assert torch.allclose(pe[3, 4], torch.sin(torch.tensor(3 / 10000 ** (4 / 6))))


def test_training_learns_to_reverse():
    from course_lib.data import pad_batch

    torch.manual_seed(0)
    model = Transformer(TransformerConfig.tiny(13, 13, dropout=0.0))
    gen = torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        lengths = torch.randint(2, 7, (32,), generator=gen)
        seqs = [torch.randint(3, 13, (int(n),), generator=gen).tolist() for n in lengths]
        src, lengths, _ = pad_batch(seqs)
        tgt, _, _ = pad_batch([[1] + s[::-1] + [2] for s in seqs])
        logits = model(src, lengths, tgt[:, :-1])
        loss = nn.functional.cross_entropy(logits.transpose(1, 2), tgt[:, 1:], ignore_index=0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.2 * sum(losses[:10]) / 10
    src, lengths, _ = pad_batch([[5, 6, 7, 8], [9, 3]])
    out = greedy_decode(model, src, lengths, max_len=8).tokens
    assert out[0, :5].tolist() == [8, 7, 6, 5, 2] and out[1, :3].tolist() == [3, 9, 2]


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        MultiHeadAttention(30, 4)
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        TransformerConfig.tiny(5, 5, d_model=30, num_heads=4)
    attention = MultiHeadAttention(D, HEADS)
    x = torch.randn(2, 5, D)
    with pytest.raises(ValueError, match=r"does not broadcast.*\(2, 4, 5, 5\)"):
        attention(x, mask=torch.ones(2, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="bool tensor"):
        attention(x, mask=torch.ones(5, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="d_model=32"):
        attention(torch.randn(2, 5, D + 1))
    with pytest.raises(ValueError, match="batch size 3"):
        attention(x, torch.randn(3, 5, D))
    with pytest.raises(ValueError, match="not both"):
        attention(x, x, kv=attention.project_kv(x))
    assert attention(x)[1] is None and attention(x, need_weights=True)[1].shape == (2, HEADS, 5, 5)
    model, src, lengths = model_and_batch(max_len=8)
    with pytest.raises(ValueError, match="longer than the positional encoding's maximum max_len=8"):
        model(src, lengths, torch.randint(3, 19, (4, 5)))
    model, src, lengths = model_and_batch()
    batch = SimpleNamespace(src=src, src_lengths=lengths, tgt_in=src, tgt_out=src)
    with pytest.raises(ValueError, match="Transformer reads the whole target at once.*must be 1.0, got 0.5"):
        seq2seq_loss(model, batch, teacher_forcing_ratio=0.5)
    assert seq2seq_loss(model, batch).isfinite()  # at 1 the Transformer trains as usual
    tgt = torch.randint(3, 19, (4, 5))
    with pytest.raises(ValueError, match=r"src holds ids outside the model's vocabulary 0\.\.16 \(min 100, "):
        model(src + 100, lengths, tgt)
    with pytest.raises(ValueError, match=r"tgt_in holds ids outside the model's vocabulary 0\.\.18"):
        model(src, lengths, tgt + 19)
    with pytest.raises(ValueError, match="tgt_in has batch size 2 but the source batch has 4 rows"):
        model(src, lengths, tgt[:2])
    with pytest.raises(ValueError, match=r"src_lengths must lie in 1\.\.9 \(the padded length\), got min 0"):
        model(src, lengths - 1, tgt)
    with pytest.raises(ValueError, match=r"src_lengths must be a \(4,\) integer tensor"):
        model.encode(src, lengths[:3])
    with pytest.raises(ValueError, match=r"prev_tokens must hold one token per row of the batch, \(4,\)"):
        model.decode_step(tgt[:, :2], model.encode(src, lengths))
