import pytest
import torch
from torch import nn

from course_lib.decoding import DecodeResult, beam_search, greedy_decode, top_candidates
from course_lib.seq2seq import Seq2Seq, Seq2SeqConfig, lengths_to_mask

SRC_V, TGT_V, H = 23, 19, 37
PAD, BOS, EOS = 0, 1, 2
# Scores are float32 sums of up to 10 log-probabilities (magnitudes up to ~30), computed by a batch or by one
# row, a beam or greedy decoding: other kernels, other summation orders, so their last bits differ (eps 1.2e-7
# relative). rtol 1e-5 plus atol 1e-5 allows for that on any CPU; a wrong token or a missed step moves a score by
# 1e-2 or more.
SAME_MATH = {"rtol": 1e-5, "atol": 1e-5}


def random_model(cell="gru", seed=0):
    """A random model with peaked output distributions, so that <eos> comes at varied steps."""
    torch.manual_seed(seed)
    model = Seq2Seq(Seq2SeqConfig(SRC_V, TGT_V, emb_dim=11, hidden_size=H, cell=cell, num_layers=2))
    with torch.no_grad():
        for p in model.parameters():
            nn.init.normal_(p, std=0.4)
        model.decoder.out.bias[EOS] += 1.0
    return model.eval()


def random_src(batch=64, max_src=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, max_src + 1, (batch,), generator=g)
    src = torch.randint(3, SRC_V, (batch, max_src), generator=g)
    src[~lengths_to_mask(lengths, max_src)] = PAD
    return src, lengths


class Scripted(nn.Module):
    """Emits scripts[b][t] at step t, then token 5 forever. Its state is a plain dict."""

    def __init__(self, scripts, vocab_size=7):
        super().__init__()
        self.scripts, self.vocab_size = scripts, vocab_size

    def encode(self, src, src_lengths):
        return {"row": torch.arange(src.size(0)), "t": 0}

    def decode_step(self, prev_tokens, state):
        logits = torch.full((len(prev_tokens), self.vocab_size), -5.0)
        for i, row in enumerate(state["row"].tolist()):
            script = self.scripts[row]
            logits[i, script[state["t"]] if state["t"] < len(script) else 5] = 5.0
        return logits, {"row": state["row"], "t": state["t"] + 1}

    def reorder_state(self, state, index):
        return {"row": state["row"][index], "t": state["t"]}


def test_greedy_stops_each_sequence_at_its_own_eos():
    model = Scripted([[EOS], [3, 4]])  # row 0 ends at once, row 1 never ends
    src, lengths = torch.ones(2, 3, dtype=torch.long), torch.tensor([3, 2])
    result = greedy_decode(model, src, lengths, max_len=6)
    assert isinstance(result, DecodeResult)
    assert result.tokens.tolist() == [[EOS, PAD, PAD, PAD, PAD, PAD], [3, 4, 5, 5, 5, 5]]
    assert result.lengths.tolist() == [1, 6]


def test_greedy_stops_early_when_every_sequence_is_done():
    model = Scripted([[EOS], [3, EOS]])
    result = greedy_decode(model, torch.ones(2, 1, dtype=torch.long), torch.tensor([1, 1]), max_len=10)
    assert result.tokens.tolist() == [[EOS, PAD], [3, EOS]]
    assert result.lengths.tolist() == [1, 2]


def test_beam_search_on_a_scripted_model():
    model = Scripted([[EOS], [3, 4, EOS]])
    result = beam_search(model, torch.ones(2, 1, dtype=torch.long), torch.tensor([1, 1]), beam_size=3, max_len=10)
    assert result.tokens.tolist() == [[EOS, PAD, PAD], [3, 4, EOS]]
    assert result.lengths.tolist() == [1, 3]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_batched_greedy_equals_one_at_a_time(cell):
    model = random_model(cell)
    src, lengths = random_src(batch=16)
    batched = greedy_decode(model, src, lengths, max_len=8)
    for i in range(len(src)):
        alone = greedy_decode(model, src[i:i + 1, :lengths[i]], lengths[i:i + 1], max_len=8)
        n = alone.lengths.item()
        assert batched.lengths[i].item() == n
        assert torch.equal(batched.tokens[i, :n], alone.tokens[0, :n])
        assert torch.all(batched.tokens[i, n:] == PAD)
        torch.testing.assert_close(batched.scores[i], alone.scores[0], **SAME_MATH)


def test_greedy_result_is_consistent():
    model = random_model()
    src, lengths = random_src()
    result = greedy_decode(model, src, lengths, max_len=8, return_probs=True)
    B, L = result.tokens.shape
    assert result.tokens.dtype == torch.long and L <= 8
    assert result.step_probs.shape == (B, L, TGT_V)
    torch.testing.assert_close(result.step_probs.sum(-1), torch.ones(B, L))
    ended = (result.tokens == EOS).any(1)
    assert 0 < ended.sum() < B, "the test model should end some sequences and not others"
    for row, n in zip(result.tokens.tolist(), result.lengths.tolist()):
        assert EOS not in row[:n - 1]
        assert row[n:] == [PAD] * (L - n)
    # The score is the sum of log p of the chosen tokens.
    picked = result.step_probs.gather(2, result.tokens[..., None]).squeeze(-1).log()  # (B, L)
    mask = lengths_to_mask(result.lengths, L)
    torch.testing.assert_close(result.scores, torch.where(mask, picked, 0.0).sum(1), **SAME_MATH)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_greedy_equals_beam_of_one(cell):
    model = random_model(cell, seed=1)
    src, lengths = random_src(batch=100, seed=1)
    greedy = greedy_decode(model, src, lengths, max_len=10)
    for penalty in (0.0, 1.0):
        beam = beam_search(model, src, lengths, beam_size=1, max_len=10, length_penalty=penalty)
        assert torch.equal(beam.tokens, greedy.tokens)
        assert torch.equal(beam.lengths, greedy.lengths)
        torch.testing.assert_close(beam.scores, greedy.scores / greedy.lengths ** penalty, **SAME_MATH)


@pytest.mark.parametrize("penalty", [0.0, 1.0])
def test_wide_beam_finds_the_best_sequence_exhaustively(penalty):
    """With max_len 2 and a beam as wide as the vocabulary, beam search is exact: compare with brute force."""
    model = random_model(seed=2)
    src, lengths = random_src(batch=5, seed=2)
    beam = beam_search(model, src, lengths, beam_size=TGT_V, max_len=2, length_penalty=penalty)
    for i in range(len(src)):
        state = model.encode(src[i:i + 1], lengths[i:i + 1])
        logits, after_bos = model.decode_step(torch.tensor([BOS]), state)
        first = logits.log_softmax(-1)[0]  # (V,)
        candidates = {(EOS,): first[EOS].item()}
        for a in range(TGT_V):
            if a != EOS:
                second = model.decode_step(torch.tensor([a]), after_bos)[0].log_softmax(-1)[0]
                for b in range(TGT_V):
                    candidates[(a, b)] = (first[a] + second[b]).item() / 2 ** penalty
        best = max(candidates, key=candidates.get)
        assert beam.tokens[i, :beam.lengths[i]].tolist() == list(best)
        assert beam.scores[i].item() == pytest.approx(candidates[best], rel=1e-5, abs=1e-5)


def test_wider_beam_scores_at_least_as_well_as_greedy_on_average():
    model = random_model(seed=3)
    src, lengths = random_src(batch=100, seed=3)
    greedy = greedy_decode(model, src, lengths, max_len=10)
    beam = beam_search(model, src, lengths, beam_size=5, max_len=10, length_penalty=1.0)
    greedy_scores = greedy.scores / greedy.lengths
    assert beam.scores.mean() > greedy_scores.mean()
    assert (beam.scores >= greedy_scores - 1e-5).float().mean() >= 0.9


def test_decoding_restores_training_mode():
    model = random_model().train()
    src, lengths = random_src(batch=4)
    greedy_decode(model, src, lengths, max_len=3)
    assert model.training
    beam_search(model, src, lengths, beam_size=2, max_len=3)
    assert model.training
    model.eval()
    greedy_decode(model, src, lengths, max_len=3)
    assert not model.training


def test_top_candidates():
    probs = torch.tensor([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    assert top_candidates(probs, ["a", "b", "c"], k=2) == [
        [("b", pytest.approx(0.6)), ("c", pytest.approx(0.3))],
        [("a", pytest.approx(0.5)), ("c", pytest.approx(0.3))],
    ]

    class Vocab:
        itos = ["<pad>", "x", "y"]

    assert [tok for tok, _ in top_candidates(probs, Vocab(), k=1)[0]] == ["x"]


@pytest.mark.parametrize("decode", [
    lambda m, s, n, **kw: greedy_decode(m, s, n, **kw),
    lambda m, s, n, **kw: beam_search(m, s, n, beam_size=kw.pop("beam_size", 2), **kw),
], ids=["greedy", "beam"])
def test_bad_inputs_raise_value_errors(decode):
    model = random_model()
    src, lengths = random_src(batch=3, max_src=4)
    with pytest.raises(ValueError, match="empty batch"):
        decode(model, src[:0], lengths[:0], max_len=5)
    with pytest.raises(ValueError, match=r"src must be a \(batch, length\) tensor of integer token ids"):
        decode(model, src.float(), lengths, max_len=5)
    with pytest.raises(ValueError, match=r"src must be a \(batch, length\) tensor"):
        decode(model, src[0], lengths[:1], max_len=5)
    with pytest.raises(ValueError, match="max_len"):
        decode(model, src, lengths, max_len=0)
    with pytest.raises(ValueError, match="src_lengths"):
        decode(model, src, lengths[:2], max_len=5)
    with pytest.raises(ValueError, match="src_lengths"):
        decode(model, src, torch.tensor([0, 1, 2]), max_len=5)
    for bad_id in (SRC_V, -1):
        bad = src.clone()
        bad[0, 0] = bad_id
        with pytest.raises(ValueError, match="vocabulary"):
            decode(model, bad, lengths, max_len=5)


def test_bad_beam_size():
    model = random_model()
    src, lengths = random_src(batch=3)
    for size in (0, -2, 1.5):
        with pytest.raises(ValueError, match="beam_size"):
            beam_search(model, src, lengths, beam_size=size, max_len=5)

