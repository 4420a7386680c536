"""The taxonomy models of chapter 1: shapes, padding, generation, bad input."""
from __future__ import annotations

import pytest
import torch

from course_lib.rnn import ManyToMany, ManyToOne, OneToMany, OneToOne, last_hidden, make_rnn


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_shapes(cell):
    torch.manual_seed(0)
    x, lengths = torch.randint(1, 23, (5, 7)), torch.tensor([7, 3, 1, 7, 2])
    assert OneToOne(23, 6, 37, 4, cell=cell)(x[:, 0]).shape == (5, 4)
    assert ManyToOne(23, 6, 37, 4, cell=cell)(x, lengths).shape == (5, 4)
    assert ManyToMany(23, 6, 37, 9, cell=cell)(x).shape == (5, 7, 9)


def test_last_hidden_picks_each_sequences_last_real_state():
    outputs = torch.arange(2 * 4 * 3, dtype=torch.float).view(2, 4, 3)
    assert torch.equal(last_hidden(outputs, torch.tensor([2, 4])), torch.stack([outputs[0, 1], outputs[1, 3]]))
    assert last_hidden(outputs[:1], torch.tensor([1])).shape == (1, 3)


def test_many_to_one_ignores_padding():
    torch.manual_seed(0)
    model = ManyToOne(11, 8, 16, 3)
    alone = model(torch.tensor([[4, 5, 6]]), torch.tensor([3]))
    padded = model(torch.tensor([[4, 5, 6, 0, 0], [1, 2, 3, 4, 5]]), torch.tensor([3, 5]))
    # The real positions only (padding is never read); a batch of two runs other kernels than a batch of one,
    # so float32 sums differ in their last bits (eps 1.2e-7): 1e-5 allows that, reading padding moves 1e-2.
    torch.testing.assert_close(alone[0], padded[0], rtol=1e-5, atol=1e-5)


def test_one_to_many_learns_a_countdown_and_stops_at_eos():
    torch.manual_seed(0)
    model = OneToMany(num_conditions=4, vocab_size=7, emb_dim=8, hidden_size=32)
    targets = {d: [k + 3 for k in range(d, -1, -1)] + [2] for d in range(4)}
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    for _ in range(150):
        for d, y in targets.items():
            inputs = torch.tensor([[1] + y[:-1]])
            loss = torch.nn.functional.cross_entropy(model(torch.tensor([d]), inputs)[0], torch.tensor(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    generated = model.generate(torch.tensor([0, 1, 2, 3]), max_len=10)
    assert generated == [targets[d][:-1] for d in range(4)]


def test_bad_input_is_a_clear_error():
    model = ManyToOne(11, 8, 16, 3)
    with pytest.raises(ValueError, match=r"x holds ids outside the model's vocabulary 0\.\.10"):
        model(torch.tensor([[3, 11]]), torch.tensor([2]))
    with pytest.raises(ValueError, match="integer token ids"):
        model(torch.rand(1, 2), torch.tensor([2]))
    with pytest.raises(ValueError, match=r"x must be a \(batch, length\) tensor"):
        model(torch.tensor([3, 4]), torch.tensor([2]))
    with pytest.raises(ValueError, match=r"lengths must lie in 1\.\.2"):
        model(torch.tensor([[3, 4]]), torch.tensor([3]))
    with pytest.raises(ValueError, match="one length per row of the batch"):
        last_hidden(torch.rand(2, 3, 4), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"x must be a \(batch,\) tensor"):
        OneToOne(11, 8, 16, 3)(torch.tensor([[3, 4]]))
    with pytest.raises(ValueError, match=r"condition holds ids outside the model's vocabulary 0\.\.1"):
        OneToMany(2, 5, 4, 4)(torch.tensor([2]), torch.tensor([[1, 3]]))
    with pytest.raises(ValueError, match="tokens_in holds ids outside"):
        OneToMany(2, 5, 4, 4)(torch.tensor([1]), torch.tensor([[1, 5]]))
    with pytest.raises(ValueError, match="unknown cell"):
        make_rnn("transformer", 4, 4)
    with pytest.raises(ValueError, match="max_len"):
        OneToMany(2, 5, 4, 4).generate(torch.tensor([0]), max_len=0)


def test_make_rnn_drops_out_only_between_stacked_layers():
    assert make_rnn("lstm", 3, 5, num_layers=2, dropout=0.3).dropout == 0.3
    assert make_rnn("gru", 3, 5, dropout=0.3).dropout == 0.0  # one layer: nothing in between, and no torch warning
