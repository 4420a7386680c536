"""Attention for the RNN encoder-decoder: Bahdanau (additive) and Luong (dot, general, concat).

Chapter 5. At every decoder step i, instead of one fixed context vector:

    e_ij = score(query_i, h_j)                  one score per source position j
    a_ij = exp(e_ij) / Σ_k exp(e_ik)            softmax over the real (unmasked) positions
    c_i  = Σ_j a_ij h_j                         the context vector of step i

The query is the decoder state: the *previous* one s_{i-1} for Bahdanau, the *current*
one h_i for Luong. Keys and values are the encoder states h_j. The score functions:

    Bahdanau (additive)   v^T tanh(W_q s_{i-1} + W_k h_j)     learned
    Luong dot             h_i^T h_j                          no parameters
    Luong general         h_i^T W h_j                        learned
    Luong concat          v^T tanh(W [h_i; h_j])             learned

Every scorer is batched over the whole batch and all source positions at once, takes a
padding mask (True at real tokens), and returns both the context vectors and the weights.
"""
from __future__ import annotations

import torch
from torch import nn


def _check(query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None, query_size: int | None,
           key_size: int) -> None:
    if query.dim() != 2 or keys.dim() != 3:
        raise ValueError(f"query must be (B, Hq) and keys (B, S, Hk); got query {tuple(query.shape)}, "
                         f"keys {tuple(keys.shape)}")
    if query.size(0) != keys.size(0):
        raise ValueError(f"query and keys have different batch sizes: query {tuple(query.shape)}, "
                         f"keys {tuple(keys.shape)}")
    if query_size is not None and query.size(1) != query_size:
        raise ValueError(f"query hidden size {query.size(1)} does not match the scorer's {query_size} "
                         f"(query {tuple(query.shape)})")
    if keys.size(2) != key_size:
        raise ValueError(f"keys hidden size {keys.size(2)} does not match the scorer's {key_size} "
                         f"(keys {tuple(keys.shape)})")
    if mask is not None:
        if mask.shape != keys.shape[:2]:
            raise ValueError(f"mask must be (B, S) = {tuple(keys.shape[:2])} like the keys, got {tuple(mask.shape)}")
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be a bool tensor (True at real tokens), got dtype {mask.dtype}")
        empty = ~mask.any(dim=1)
        if empty.any():
            raise ValueError(f"rows {empty.nonzero().flatten().tolist()} of the mask {tuple(mask.shape)} "
                             "mask every source position: each sequence needs at least one real token")


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last dimension with masked positions at weight exactly 0: (B, S) -> (B, S)."""
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


class Attention(nn.Module):
    """Base class: ``forward(query, keys, values, mask) -> (context, weights)``; subclasses define ``score``."""

    query_size: int | None
    key_size: int

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """query (B, Hq), keys (B, S, Hk) -> scores e (B, S)."""
        raise NotImplementedError

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Context vectors (B, Hv) and attention weights (B, S); values default to the keys."""
        _check(query, keys, mask, self.query_size, self.key_size)
        values = keys if values is None else values
        if values.shape[:2] != keys.shape[:2]:
            raise ValueError(f"values {tuple(values.shape)} must have the keys' batch and length {tuple(keys.shape[:2])}")
        weights = masked_softmax(self.score(query, keys), mask)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # (B, 1, S) @ (B, S, Hv) -> (B, Hv)
        return context, weights


class BahdanauAttention(Attention):
    """Additive: e_ij = v^T tanh(W_q s_{i-1} + W_k h_j), a small learned network (Bahdanau et al., 2015)."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.W_q(query).unsqueeze(1) + self.W_k(keys))  # (B, 1, A) + (B, S, A) -> (B, S, A)
        return self.v(hidden).squeeze(-1)  # (B, S)


class LuongDotAttention(Attention):
    """Dot: e_ij = h_i^T h_j. No parameters, so query and keys must have the same size (Luong et al., 2015)."""

    def __init__(self, size: int):
        super().__init__()
        self.query_size, self.key_size = size, size

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return torch.bmm(keys, query.unsqueeze(2)).squeeze(2)  # (B, S, H) @ (B, H, 1) -> (B, S)


class LuongGeneralAttention(Attention):
    """General: e_ij = h_i^T W h_j, one learned matrix between the two spaces."""

    def __init__(self, query_size: int, key_size: int):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W = nn.Linear(key_size, query_size, bias=False)

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return torch.bmm(self.W(keys), query.unsqueeze(2)).squeeze(2)  # (B, S, Hq) @ (B, Hq, 1) -> (B, S)


class LuongConcatAttention(Attention):
    """Concat: e_ij = v^T tanh(W [h_i; h_j]), Bahdanau's network applied to the current state."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W = nn.Linear(query_size + key_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        expanded = query.unsqueeze(1).expand(-1, keys.size(1), -1)  # (B, S, Hq)
        hidden = torch.tanh(self.W(torch.cat([expanded, keys], dim=-1)))  # (B, S, A)
        return self.v(hidden).squeeze(-1)  # (B, S)


SCORERS = ("bahdanau", "luong-dot", "luong-general", "luong-concat")


def make_attention(kind: str, query_size: int, key_size: int, attention_size: int | None = None) -> Attention:
    """Build a scorer by name: one of ``SCORERS``."""
    attention_size = attention_size or query_size
    if kind == "bahdanau":
        return BahdanauAttention(query_size, key_size, attention_size)
    if kind == "luong-dot":
        if query_size != key_size:
            raise ValueError(f"luong-dot needs equal query and key sizes, got {query_size} and {key_size}")
        return LuongDotAttention(query_size)
    if kind == "luong-general":
        return LuongGeneralAttention(query_size, key_size)
    if kind == "luong-concat":
        return LuongConcatAttention(query_size, key_size, attention_size)
    raise ValueError(f"unknown attention {kind!r}: choose one of {SCORERS}")


def _top(hidden) -> torch.Tensor:
    """The last layer's hidden state (B, H) of an RNN state (num_layers, B, H) or LSTM pair."""
    return (hidden[0] if isinstance(hidden, tuple) else hidden)[-1]


class AttentionDecoder(nn.Module):
    """An RNN decoder that reads every encoder state through attention (a drop-in for seq2seq.Decoder).

    - Bahdanau: c_i = attend(s_{i-1}, h); s_i = RNN(s_{i-1}, [y_{i-1}; c_i]); logits = W [s_i; c_i] + b.
      The context enters the RNN, so the decoder runs step by step even under teacher forcing.
    - Luong: h_i = RNN(h_{i-1}, y_{i-1}); c_i = attend(h_i, h); h̃_i = tanh(W_c [c_i; h_i]); logits = W_s h̃_i.
      The RNN does not see c_i, so under teacher forcing it runs fused over the whole target.
    """

    def __init__(self, config, attention: str = "bahdanau", attention_size: int | None = None):
        from course_lib.seq2seq import _make_rnn

        super().__init__()
        self.kind = attention
        H = config.hidden_size
        self.attention = make_attention(attention, H, H, attention_size)
        self.embedding = nn.Embedding(config.tgt_vocab_size, config.emb_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        if attention == "bahdanau":
            self.rnn = _make_rnn(config, config.emb_dim + H)
            self.out = nn.Linear(2 * H, config.tgt_vocab_size)
        else:
            self.rnn = _make_rnn(config, config.emb_dim)
            self.combine = nn.Linear(2 * H, H)
            self.out = nn.Linear(H, config.tgt_vocab_size)

    def _luong_output(self, outputs: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor):
        B, T, H = outputs.shape
        S = memory.size(1)
        keys = memory.unsqueeze(1).expand(B, T, S, memory.size(2)).reshape(B * T, S, -1)  # (B*T, S, H)
        mask = memory_mask.unsqueeze(1).expand(B, T, S).reshape(B * T, S)
        context, weights = self.attention(outputs.reshape(B * T, H), keys, mask=mask)  # (B*T, H), (B*T, S)
        context, weights = context.view(B, T, -1), weights.view(B, T, S)
        attentional = torch.tanh(self.combine(torch.cat([context, outputs], dim=-1)))  # (B, T, H)
        return self.out(self.dropout(attentional)), weights

    def forward(self, tgt_in: torch.Tensor, hidden, memory: torch.Tensor, memory_mask: torch.Tensor,
                return_weights: bool = False):
        """tgt_in (B, T) -> logits (B, T, V), last hidden state [, weights (B, T, S)]."""
        if memory is None or memory_mask is None:
            raise ValueError("an attention decoder needs the encoder states (memory) and their mask")
        x = self.dropout(self.embedding(tgt_in))  # (B, T, E)
        if self.kind == "bahdanau":
            logits, weights = [], []
            for t in range(tgt_in.size(1)):
                context, a = self.attention(_top(hidden), memory, mask=memory_mask)  # (B, H), (B, S)
                output, hidden = self.rnn(torch.cat([x[:, t], context], dim=-1).unsqueeze(1), hidden)  # (B, 1, H)
                logits.append(self.out(self.dropout(torch.cat([output[:, 0], context], dim=-1))))
                weights.append(a)
            logits, weights = torch.stack(logits, dim=1), torch.stack(weights, dim=1)  # (B, T, V), (B, T, S)
        else:
            outputs, hidden = self.rnn(x, hidden)  # (B, T, H)
            logits, weights = self._luong_output(outputs, memory, memory_mask)
        return (logits, hidden, weights) if return_weights else (logits, hidden)

    def step(self, prev_tokens: torch.Tensor, hidden, memory: torch.Tensor, memory_mask: torch.Tensor):
        """One step: prev_tokens (B,) -> logits (B, V) and the new hidden state."""
        logits, hidden = self.forward(prev_tokens[:, None], hidden, memory, memory_mask)
        return logits[:, 0], hidden


ATTENTION_CHOICES = ("none",) + SCORERS


def attention_seq2seq(config, attention: str = "bahdanau", attention_size: int | None = None):
    """A course Seq2Seq whose decoder attends with ``attention`` ('none' keeps the plain decoder)."""
    from course_lib.seq2seq import Seq2Seq

    if attention not in ATTENTION_CHOICES:
        raise ValueError(f"unknown attention {attention!r}: choose one of {ATTENTION_CHOICES}")
    if attention == "none":
        return Seq2Seq(config)
    return Seq2Seq(config, decoder=AttentionDecoder(config, attention, attention_size))


@torch.no_grad()
def attention_weights(model, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
    """Weights (B, T, S) the model's attention decoder gives each source position while reading tgt_in.

    Run it on a greedy decoder's own output (prefixed with <bos>) to see the weights it used.
    """
    if not isinstance(model.decoder, AttentionDecoder):
        raise ValueError("this model has no attention decoder (built with attention='none')")
    from course_lib.decoding import eval_mode

    with eval_mode(model):  # no dropout noise in the weights we show
        state = model.encode(src, src_lengths)
        _, _, weights = model.decoder(tgt_in, state.hidden, state.memory, state.memory_mask, return_weights=True)
    return weights
