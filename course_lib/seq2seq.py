"""The RNN encoder-decoder (sequence to sequence), on torch's own recurrent layers.

Chapters 2-4. The encoder reads x_1..x_S and keeps every hidden state; its last
one, h_S, is the context vector (문맥 벡터) that starts the decoder:

    h_t = RNN(h_{t-1}, x_t)                  encoder, t = 1..S; context = h_S
    ĥ_0 = h_S
    ĥ_t = RNN(ĥ_{t-1}, y_{t-1})              decoder, y_0 = <bos>
    s_t = g(ĥ_t) = W ĥ_t + b                 logits over the target vocabulary
    p_t = softmax(s_t)

Training feeds the gold y_{t-1} (teacher forcing / 교사 강요) and minimises
J = mean_t -log p_t[y_t] over real (non-padding) target tokens.

Decoding goes through three methods that every course model shares, so that
``decoding.py`` works unchanged for this model, the attention model and the
Transformer: ``encode(src, src_lengths) -> state``,
``decode_step(prev_tokens, state) -> (logits, state)`` and
``reorder_state(state, index) -> state``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Union

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from course_lib.inputs import check_rates, check_sizes, lengths_to_mask
from course_lib.rnn import check_cell, make_rnn

Hidden = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]
"""An RNN's hidden state: (num_layers, B, H) for GRU/RNN, the pair (h, c) for LSTM."""


@dataclass
class Seq2SeqConfig:
    """Sizes and choices for :class:`Seq2Seq`; the same cell type serves encoder and decoder."""

    src_vocab_size: int
    tgt_vocab_size: int
    emb_dim: int = 32
    hidden_size: int = 64
    cell: str = "gru"  # 'gru', 'lstm' or 'rnn'
    num_layers: int = 1
    dropout: float = 0.0  # on embeddings, between stacked layers, and before the output layer
    pad_id: int = 0

    def __post_init__(self) -> None:
        check_cell(self.cell)
        check_sizes(self, "src_vocab_size", "tgt_vocab_size", "emb_dim", "hidden_size", "num_layers")
        check_rates(self, "dropout")

    @classmethod
    def tiny(cls, src_vocab_size: int, tgt_vocab_size: int, **overrides) -> Seq2SeqConfig:
        """Seconds to train on a CPU: for tests and toy tasks (copying, reversing)."""
        return cls(src_vocab_size, tgt_vocab_size, **{"emb_dim": 16, "hidden_size": 32, **overrides})

    @classmethod
    def small(cls, src_vocab_size: int, tgt_vocab_size: int, **overrides) -> Seq2SeqConfig:
        """The chapters' default: dates and the small English->Korean grammar."""
        return cls(src_vocab_size, tgt_vocab_size, **{"emb_dim": 64, "hidden_size": 128, **overrides})


class Encoder(nn.Module):
    """Embed the source and run the RNN over it; return every hidden state and the context."""

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.src_vocab_size, config.emb_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = make_rnn(config.cell, config.emb_dim, config.hidden_size, config.num_layers, config.dropout)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, Hidden]:
        """src: (B, S) padded ids, lengths: (B,) true lengths in 1..S.

        Returns outputs (B, S, H), zero at padding, and the context: each
        sequence's hidden state at its own last real token, (num_layers, B, H)
        (for an LSTM the pair (h, c)). Packing makes the RNN stop at each
        sequence's true length, so padding never reaches the context.
        """
        x = self.dropout(self.embedding(src))  # (B, S, E)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_outputs, context = self.rnn(packed)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=src.size(1))  # (B, S, H)
        return outputs, context


class Decoder(nn.Module):
    """Embed the previous target tokens, run the RNN, project each ĥ_t to logits: s_t = W ĥ_t + b.

    ``memory`` (the encoder outputs, (B, S, H)) and ``memory_mask`` ((B, S),
    True at real tokens) are accepted and ignored: this decoder sees the source
    only through its initial hidden state, the context vector. An attention
    decoder (chapter 5) has the same signature and reads them.
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.tgt_vocab_size, config.emb_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = make_rnn(config.cell, config.emb_dim, config.hidden_size, config.num_layers, config.dropout)
        self.out = nn.Linear(config.hidden_size, config.tgt_vocab_size)

    def forward(self, tgt_in: torch.Tensor, hidden: Hidden, memory: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, Hidden]:
        """tgt_in: (B, T) = <bos> y_1 .. y_{T-1}; the whole sequence in one fused RNN call.

        Returns logits (B, T, V) and the hidden state after the last step.
        """
        x = self.dropout(self.embedding(tgt_in))  # (B, T, E)
        outputs, hidden = self.rnn(x, hidden)  # (B, T, H)
        logits = self.out(self.dropout(outputs))  # (B, T, V)
        return logits, hidden

    def step(self, prev_tokens: torch.Tensor, hidden: Hidden, memory: torch.Tensor | None = None,
             memory_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, Hidden]:
        """One step: prev_tokens (B,) -> logits (B, V) and the new hidden state."""
        logits, hidden = self.forward(prev_tokens[:, None], hidden, memory, memory_mask)  # (B, 1, V)
        return logits[:, 0], hidden


@dataclass
class RNNState:
    """What the decoder carries from one step to the next (the ``state`` of ``decode_step``)."""

    hidden: Hidden  # (num_layers, B, H), or the pair (h, c) for an LSTM
    memory: torch.Tensor  # (B, S, H) all encoder hidden states, for attention
    memory_mask: torch.Tensor  # (B, S) True at real source tokens

    def index_select(self, index: torch.Tensor) -> RNNState:
        """Keep (and repeat) batch rows ``index``: beam search's reordering."""
        if isinstance(self.hidden, tuple):
            hidden = tuple(h.index_select(1, index) for h in self.hidden)
        else:
            hidden = self.hidden.index_select(1, index)
        return RNNState(hidden, self.memory.index_select(0, index), self.memory_mask.index_select(0, index))


class Seq2Seq(nn.Module):
    """Encoder + decoder.

    ``decoder=`` swaps in another decoder with :class:`Decoder`'s ``forward``
    and ``step`` signatures (chapter 5's attention decoder); ``init_weights``
    initialises it too.
    """

    def __init__(self, config: Seq2SeqConfig, decoder: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = decoder if decoder is not None else Decoder(config)
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """Embeddings N(0, 1), padding row zero; input and output weights Xavier-uniform; biases zero;
        each gate's recurrent matrix orthogonal, so that repeated steps neither blow up nor shrink
        h_t at the start of training (Saxe et al., 2014). Trains the toy tasks faster than torch's default.
        """
        for module in self.modules():
            if isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight)
                if module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
            elif isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.RNNBase):
                for name, p in module.named_parameters():
                    if name.startswith("weight_hh"):
                        for gate in p.split(module.hidden_size):  # (H, H) each: 3 for GRU, 4 for LSTM
                            nn.init.orthogonal_(gate)
                    elif name.startswith("weight_ih"):
                        nn.init.xavier_uniform_(p)
                    else:
                        nn.init.zeros_(p)

    # -- the decoding interface shared by every course model --------------------------------

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> RNNState:
        """Run the encoder; the decoder starts from the context vector: ĥ_0 = h_S."""
        memory, context = self.encoder(src, src_lengths)  # (B, S, H), (num_layers, B, H)
        return RNNState(context, memory, lengths_to_mask(src_lengths.to(src.device), src.size(1)))

    def decode_step(self, prev_tokens: torch.Tensor, state: RNNState) -> tuple[torch.Tensor, RNNState]:
        """prev_tokens (B,) -> logits (B, V) for the next token, and the updated state."""
        logits, hidden = self.decoder.step(prev_tokens, state.hidden, state.memory, state.memory_mask)
        return logits, replace(state, hidden=hidden)

    def reorder_state(self, state: RNNState, index: torch.Tensor) -> RNNState:
        return state.index_select(index)

    # -- training -----------------------------------------------------------------------------

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
                teacher_forcing_ratio: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits (B, T, V) for tgt_in (B, T) = <bos> y_1 .. y_{T-1}.

        With ``teacher_forcing_ratio`` 1 the decoder sees the gold previous
        token everywhere, so it runs as one fused RNN call. Below 1 it runs step
        by step, feeding each example the gold token with that probability and
        its own argmax otherwise (coin flips drawn from ``generator``).
        """
        if not 0.0 <= teacher_forcing_ratio <= 1.0:
            raise ValueError(f"teacher_forcing_ratio must lie in [0, 1], got {teacher_forcing_ratio}")
        state = self.encode(src, src_lengths)
        if teacher_forcing_ratio == 1.0:
            logits, _ = self.decoder(tgt_in, state.hidden, state.memory, state.memory_mask)
            return logits
        return self._decode_loop(tgt_in, state, teacher_forcing_ratio, generator)

    def _decode_loop(self, tgt_in: torch.Tensor, state: RNNState, teacher_forcing_ratio: float,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        B, T = tgt_in.shape
        prev = tgt_in[:, 0]  # (B,) <bos>
        all_logits = []
        for t in range(T):
            logits, state = self.decode_step(prev, state)  # (B, V)
            all_logits.append(logits)
            if t + 1 < T:
                use_gold = torch.rand(B, generator=generator) < teacher_forcing_ratio  # (B,) on the CPU
                prev = torch.where(use_gold.to(tgt_in.device), tgt_in[:, t + 1], logits.argmax(-1))
        return torch.stack(all_logits, dim=1)  # (B, T, V)


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
    """J = mean over real target tokens of J_t = -log p_t[y_t].

    logits: (B, T, V), targets: (B, T). The one-hot sum J_t = -Σ_j y_tj log ŷ_tj
    keeps only the gold token's term. Padding positions count for nothing,
    whatever their logits; the mean is over real tokens, not over B*T.
    """
    log_probs = logits.log_softmax(dim=-1)  # (B, T, V)
    nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (B, T)
    mask = targets != pad_id  # (B, T)
    return torch.where(mask, nll, 0.0).sum() / mask.sum().clamp(min=1)
