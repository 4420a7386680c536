import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from course_lib.seq2seq import Decoder, Encoder, RNNState, Seq2Seq, Seq2SeqConfig, lengths_to_mask, masked_cross_entropy
from course_lib.train import count_parameters

SRC_V, TGT_V, H = 23, 19, 37
CELLS = ["gru", "lstm", "rnn"]
# Two computations of the same float32 values (a batch of one vs a batch, a fused RNN call vs a step loop) run
# other kernels that add in another order. float32 keeps 24 bits (eps 1.2e-7); through two RNN layers and a few
# steps on values of order 1 that leaves differences near 1e-6 on some CPUs (AVX-512, ARM NEON). 1e-5 allows for
# them; the bugs these tests catch (padding read, a step missed, a row mixed up) move values by 1e-2 or more.
SAME_MATH = {"rtol": 1e-5, "atol": 1e-5}


def make_config(cell="gru", num_layers=1, **kw):
    return Seq2SeqConfig(SRC_V, TGT_V, emb_dim=11, hidden_size=H, cell=cell, num_layers=num_layers, **kw)


def make_batch(lengths=(5, 2, 7, 1), tgt_len=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    src = torch.randint(4, SRC_V, (len(lengths), int(lengths.max())), generator=g)
    src[~lengths_to_mask(lengths, src.size(1))] = 0
    tgt_in = torch.randint(3, TGT_V, (len(lengths), tgt_len), generator=g)
    tgt_in[:, 0] = 1
    return src, lengths, tgt_in


def test_config_rejects_unknown_cell():
    with pytest.raises(ValueError, match="gru.*lstm.*rnn"):
        make_config(cell="transformer")


def test_tiny_preset():
    config = Seq2SeqConfig.tiny(SRC_V, TGT_V, cell="lstm")
    assert (config.src_vocab_size, config.tgt_vocab_size, config.cell) == (SRC_V, TGT_V, "lstm")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes(cell, num_layers):
    torch.manual_seed(0)
    config = make_config(cell, num_layers)
    model = Seq2Seq(config)
    src, lengths, tgt_in = make_batch()
    B, S = src.shape
    outputs, context = model.encoder(src, lengths)
    assert outputs.shape == (B, S, H)
    hs = context if cell == "lstm" else (context,)
    assert len(hs) == (2 if cell == "lstm" else 1)
    for h in hs:
        assert h.shape == (num_layers, B, H)
    logits, hidden = model.decoder(tgt_in, context)
    assert logits.shape == (B, tgt_in.size(1), TGT_V)
    step_logits, _ = model.decoder.step(tgt_in[:, 0], context)
    assert step_logits.shape == (B, TGT_V)
    assert model(src, lengths, tgt_in).shape == (B, tgt_in.size(1), TGT_V)
    assert model(src, lengths, tgt_in, teacher_forcing_ratio=0.5).shape == (B, tgt_in.size(1), TGT_V)


@pytest.mark.parametrize("cell", CELLS)
def test_encoder_outputs_zero_at_padding(cell):
    torch.manual_seed(0)
    encoder = Encoder(make_config(cell))
    src, lengths, _ = make_batch()
    outputs, _ = encoder(src, lengths)
    assert torch.all(outputs[~lengths_to_mask(lengths, src.size(1))] == 0)


def test_context_is_output_at_last_real_position():
    torch.manual_seed(0)
    encoder = Encoder(make_config("gru"))
    src, lengths, _ = make_batch()
    outputs, context = encoder(src, lengths)  # (B, S, H), (1, B, H)
    last = outputs[torch.arange(len(lengths)), lengths - 1]  # (B, H)
    torch.testing.assert_close(context[0], last, **SAME_MATH)


@pytest.mark.parametrize("cell", CELLS)
def test_padding_does_not_change_a_sequence(cell):
    torch.manual_seed(0)
    model = Seq2Seq(make_config(cell, num_layers=2)).eval()
    src, lengths, tgt_in = make_batch()
    batched = model(src, lengths, tgt_in)  # (B, T, V)
    out_b, ctx_b = model.encoder(src, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone_src, alone_len = src[i:i + 1, :n], lengths[i:i + 1]
        torch.testing.assert_close(model(alone_src, alone_len, tgt_in[i:i + 1])[0], batched[i], **SAME_MATH)
        out_a, _ = model.encoder(alone_src, alone_len)
        torch.testing.assert_close(out_a[0], out_b[i, :n], **SAME_MATH)


@pytest.mark.parametrize("cell", CELLS)
def test_fused_forward_equals_step_loop(cell):
    torch.manual_seed(0)
    model = Seq2Seq(make_config(cell, num_layers=2)).eval()
    src, lengths, tgt_in = make_batch()
    fused = model(src, lengths, tgt_in)
    looped = model._decode_loop(tgt_in, model.encode(src, lengths), teacher_forcing_ratio=1.0)
    torch.testing.assert_close(looped, fused, **SAME_MATH)


def test_teacher_forcing_ratio_zero_feeds_own_argmax():
    torch.manual_seed(0)
    model = Seq2Seq(make_config()).eval()
    src, lengths, tgt_in = make_batch()
    logits = model(src, lengths, tgt_in, teacher_forcing_ratio=0.0)
    # Feeding the model's own choices back, teacher-forced, reproduces the same logits.
    own = torch.cat([tgt_in[:, :1], logits.argmax(-1)[:, :-1]], dim=1)
    torch.testing.assert_close(model(src, lengths, own), logits, **SAME_MATH)


def test_teacher_forcing_coin_flips_follow_the_generator():
    torch.manual_seed(0)
    model = Seq2Seq(make_config()).eval()
    src, lengths, tgt_in = make_batch()
    a = model(src, lengths, tgt_in, 0.5, torch.Generator().manual_seed(3))
    b = model(src, lengths, tgt_in, 0.5, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="teacher_forcing_ratio"):
        model(src, lengths, tgt_in, teacher_forcing_ratio=1.5)


@pytest.mark.parametrize("cell", CELLS)
def test_reorder_state_selects_batch_rows(cell):
    torch.manual_seed(0)
    model = Seq2Seq(make_config(cell, num_layers=2)).eval()
    src, lengths, tgt_in = make_batch()
    state = model.encode(src, lengths)
    assert isinstance(state, RNNState)
    index = torch.tensor([2, 2, 0])
    picked = model.reorder_state(state, index)
    logits_all, _ = model.decode_step(tgt_in[:, 0], state)
    logits_picked, _ = model.decode_step(tgt_in[index, 0], picked)
    torch.testing.assert_close(logits_picked, logits_all[index], **SAME_MATH)
    assert picked.memory.shape == (3, src.size(1), H)
    assert torch.equal(picked.memory_mask, state.memory_mask[index])


def test_masked_cross_entropy_by_hand():
    logits = torch.tensor([[[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]],
                           [[1.0, 1.0, 1.0], [9e3, -9e3, 5e3]]])  # (B=2, T=2, V=3); last position is padding
    targets = torch.tensor([[1, 2], [2, 0]])
    by_hand = -(torch.log_softmax(logits[0, 0], -1)[1] + torch.log_softmax(logits[0, 1], -1)[2]
                + torch.log_softmax(logits[1, 0], -1)[2]) / 3
    torch.testing.assert_close(masked_cross_entropy(logits, targets, pad_id=0), by_hand)
    garbage = logits.clone()
    garbage[1, 1] = torch.tensor([float("inf"), float("nan"), -3.0])
    torch.testing.assert_close(masked_cross_entropy(garbage, targets, pad_id=0), by_hand)


def test_masked_cross_entropy_matches_torch():
    torch.manual_seed(0)
    logits = torch.randn(4, 6, TGT_V)
    targets = torch.randint(0, TGT_V, (4, 6))
    expected = F.cross_entropy(logits.reshape(-1, TGT_V), targets.reshape(-1), ignore_index=0)
    torch.testing.assert_close(masked_cross_entropy(logits, targets), expected)


def test_padding_embeddings_start_at_zero_and_count_parameters():
    model = Seq2Seq(make_config())
    assert torch.all(model.encoder.embedding.weight[0] == 0)
    assert torch.all(model.decoder.embedding.weight[0] == 0)
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())
    assert count_parameters(model.decoder.out) == H * TGT_V + TGT_V


def test_custom_decoder_receives_memory():
    seen = {}

    class Spy(Decoder):
        def forward(self, tgt_in, hidden, memory=None, memory_mask=None):
            seen["memory"], seen["mask"] = memory, memory_mask
            return super().forward(tgt_in, hidden, memory, memory_mask)

    config = make_config()
    model = Seq2Seq(config, decoder=Spy(config))
    src, lengths, tgt_in = make_batch()
    model(src, lengths, tgt_in)
    assert seen["memory"].shape == (src.size(0), src.size(1), H)
    assert torch.equal(seen["mask"], lengths_to_mask(lengths, src.size(1)))


def test_imports_are_warning_free():
    root = Path(__file__).resolve().parents[1]
    modules = ", ".join(f"course_lib.{m}" for m in ["seq2seq", "decoding", "train", "metrics", "plots"])
    result = subprocess.run([sys.executable, "-W", "error", "-c", f"import {modules}"], capture_output=True,
                            text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0 and result.stderr == "", result.stderr
