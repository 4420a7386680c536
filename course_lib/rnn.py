"""The RNN taxonomy: one recurrent cell, four ways to wire inputs to outputs.

Chapter 1 trains one tiny example of each shape. Every model here runs the same
recurrent layer underneath (``nn.GRU`` by default, ``nn.LSTM`` or ``nn.RNN`` on
request); only what goes in and what is read out changes:

- one-to-one:        x -> y                (a sequence of length 1: a plain feed-forward net)
- many-to-one:       x_1..x_T -> y         (read the last hidden state: classification)
- many-to-many:      x_1..x_T -> y_1..y_T  (read every hidden state: tagging, aligned)
- one-to-many:       x -> y_1..y_T         (condition h_0, then generate: captioning)

The unaligned many-to-many case (sequence to sequence) has its own modules,
``seq2seq.py`` and ``decoding.py``.
"""
from __future__ import annotations

import torch
from torch import nn

from course_lib.inputs import check_lengths, check_token_ids

CELLS: dict[str, type[nn.RNNBase]] = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}


def check_cell(cell: str) -> None:
    """A ValueError unless ``cell`` names one of :data:`CELLS`."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: choose one of {sorted(CELLS)}")


def make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
             dropout: float = 0.0) -> nn.RNNBase:
    """Build torch's own recurrent layer by name (batch-first): the one RNN factory of the course.

    ``dropout`` applies between stacked layers, so only when ``num_layers`` > 1 (torch warns otherwise).
    """
    check_cell(cell)
    between_layers = dropout if num_layers > 1 else 0.0
    return CELLS[cell](input_size, hidden_size, num_layers=num_layers, dropout=between_layers, batch_first=True)


def last_hidden(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Pick each sequence's hidden state at its last real (non-padding) position.

    outputs: (B, T, H) from a batch-first RNN; lengths: (B,) true lengths, 1..T.
    Returns (B, H). Reading ``outputs[:, -1]`` instead would read padding for
    every sequence shorter than the batch's longest.
    """
    if outputs.dim() != 3:
        raise ValueError(f"outputs must be (batch, time, hidden), got shape {tuple(outputs.shape)}")
    lengths = torch.as_tensor(lengths, device=outputs.device)
    check_lengths("lengths", lengths, outputs.size(0), outputs.size(1))
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))  # (B, 1, H)
    return outputs.gather(1, index).squeeze(1)  # (B, H)


class OneToOne(nn.Module):
    """One input token, one label: the RNN runs a single step from h_0 = 0."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, num_classes: int, cell: str = "gru"):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.rnn = make_rnn(cell, emb_dim, hidden_size)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B,) token ids -> logits (B, num_classes)."""
        check_token_ids("x", x, self.vocab_size, dims=1)
        out, _ = self.rnn(self.embedding(x).unsqueeze(1))  # (B, 1, H)
        return self.head(out[:, 0])


class ManyToOne(nn.Module):
    """A sequence in, one label out: classify from the last real hidden state."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, num_classes: int,
                 cell: str = "gru", pad_id: int = 0):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = make_rnn(cell, emb_dim, hidden_size)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: (B, T) padded ids, lengths: (B,) -> logits (B, num_classes)."""
        check_token_ids("x", x, self.vocab_size)
        outputs, _ = self.rnn(self.embedding(x))  # (B, T, H)
        return self.head(last_hidden(outputs, lengths))


class ManyToMany(nn.Module):
    """Aligned sequence labelling (tagging): one label per input position."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, num_tags: int,
                 cell: str = "gru", pad_id: int = 0):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = make_rnn(cell, emb_dim, hidden_size)
        self.head = nn.Linear(hidden_size, num_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T) ids -> tag logits (B, T, num_tags). A left-to-right RNN: padding at the end
        never changes the real positions' outputs."""
        check_token_ids("x", x, self.vocab_size)
        outputs, _ = self.rnn(self.embedding(x))  # (B, T, H)
        return self.head(outputs)


class OneToMany(nn.Module):
    """One input (a condition) in, a sequence out: h_0 comes from the condition.

    Trained by feeding the gold previous token (teacher forcing, chapter 4);
    :meth:`generate` feeds back its own greedy choices until ``eos_id``.
    """

    def __init__(self, num_conditions: int, vocab_size: int, emb_dim: int, hidden_size: int,
                 cell: str = "gru", bos_id: int = 1, eos_id: int = 2):
        super().__init__()
        if cell == "lstm":
            raise ValueError("OneToMany conditions h_0 only; use cell='gru' or 'rnn'")
        self.num_conditions, self.vocab_size = num_conditions, vocab_size
        self.bos_id, self.eos_id = bos_id, eos_id
        self.condition = nn.Embedding(num_conditions, hidden_size)
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.rnn = make_rnn(cell, emb_dim, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, condition: torch.Tensor, tokens_in: torch.Tensor) -> torch.Tensor:
        """condition: (B,), tokens_in: (B, T) = <bos> y_1 .. y_{T-1} -> logits (B, T, V)."""
        check_token_ids("condition", condition, self.num_conditions, dims=1)
        check_token_ids("tokens_in", tokens_in, self.vocab_size)
        h0 = self.condition(condition).unsqueeze(0)  # (1, B, H)
        outputs, _ = self.rnn(self.embedding(tokens_in), h0)  # (B, T, H)
        return self.head(outputs)

    @torch.no_grad()
    def generate(self, condition: torch.Tensor, max_len: int) -> list[list[int]]:
        """Greedy generation, one list of ids per condition, without <bos>/<eos>."""
        if max_len < 1:
            raise ValueError(f"max_len must be at least 1, got {max_len}")
        check_token_ids("condition", condition, self.num_conditions, dims=1)
        h = self.condition(condition).unsqueeze(0)  # (1, B, H)
        token = torch.full_like(condition, self.bos_id)
        done = torch.zeros_like(condition, dtype=torch.bool)
        result: list[list[int]] = [[] for _ in range(condition.size(0))]
        for _ in range(max_len):
            out, h = self.rnn(self.embedding(token).unsqueeze(1), h)
            token = self.head(out[:, 0]).argmax(-1)  # (B,)
            for i in torch.nonzero(~done & (token != self.eos_id)).flatten().tolist():
                result[i].append(int(token[i]))
            done |= token == self.eos_id
            if done.all():
                break
        return result
