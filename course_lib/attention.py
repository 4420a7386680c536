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

from course_lib.decoding import eval_mode
from course_lib.rnn import make_rnn
from course_lib.seq2seq import Seq2Seq, Seq2SeqConfig


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
    """Base class: ``forward(query, keys, values, mask) -> (context, weights)``.

    Subclasses define ``prepare`` (the part of the score that depends on the keys only, computed
    once per source sentence, not once per decoder step) and ``score_prepared``, which takes
    one query (B, Hq) or all the queries of a target at once (B, T, Hq).
    """

    query_size: int | None
    key_size: int

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        """Key-side work shared by every query: keys (B, S, Hk) -> (B, S, ·)."""
        return keys

    def score_prepared(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        """query (B, Hq) or (B, T, Hq), prepared keys -> scores (B, S) or (B, T, S)."""
        raise NotImplementedError

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """query (B, Hq), keys (B, S, Hk) -> scores e (B, S)."""
        return self.score_prepared(query, self.prepare(keys))

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Context vectors (B, Hv) and attention weights (B, S); values default to the keys."""
        _check(query, keys, mask, self.query_size, self.key_size)
        values = keys if values is None else values
        if values.shape[:2] != keys.shape[:2]:
            raise ValueError(f"values {tuple(values.shape)} must have the keys' batch and length"
                             f" {tuple(keys.shape[:2])}")
        weights = masked_softmax(self.score(query, keys), mask)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # (B, 1, S) @ (B, S, Hv) -> (B, Hv)
        return context, weights

    def attend_prepared(self, queries: torch.Tensor, prepared: torch.Tensor, values: torch.Tensor,
                        mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's fast path, shapes already checked.

        queries (B, T, Hq) -> context (B, T, Hv), weights (B, T, S).
        """
        weights = masked_softmax(self.score_prepared(queries, prepared), mask.unsqueeze(1))  # (B, T, S)
        return torch.bmm(weights, values), weights  # (B, T, S) @ (B, S, Hv)


def _many(query: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """View one query (B, H) as a target of length one (B, 1, H); say whether to squeeze back."""
    return (query.unsqueeze(1), True) if query.dim() == 2 else (query, False)


class BahdanauAttention(Attention):
    """Additive: e_ij = v^T tanh(W_q s_{i-1} + W_k h_j), a small learned network (Bahdanau et al., 2015)."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        return self.W_k(keys)  # (B, S, A): W_k h_j does not depend on the step

    def score_prepared(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        query, single = _many(query)
        hidden = torch.tanh(self.W_q(query).unsqueeze(2) + prepared.unsqueeze(1))  # (B, T, 1, A) + (B, 1, S, A)
        scores = self.v(hidden).squeeze(-1)  # (B, T, S)
        return scores.squeeze(1) if single else scores


class AdditiveAttention(BahdanauAttention):
    """Bahdanau's attention called as assignment 05 calls it: ``forward(query, keys, mask)``.

    Same parameters (``W_q``, ``W_k``, ``v``) and values as :class:`BahdanauAttention`; the mask is
    the third positional argument. query (B, Hq), keys (B, S, Hk), mask (B, S) -> context (B, Hk),
    weights (B, S).
    """

    def forward(self, query: torch.Tensor, keys: torch.Tensor,  # type: ignore[override]
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return super().forward(query, keys, mask=mask)


class LuongDotAttention(Attention):
    """Dot: e_ij = h_i^T h_j. No parameters, so query and keys must have the same size (Luong et al., 2015)."""

    def __init__(self, size: int):
        super().__init__()
        self.query_size, self.key_size = size, size

    def score_prepared(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        query, single = _many(query)
        scores = torch.bmm(query, prepared.transpose(1, 2))  # (B, T, H) @ (B, H, S) -> (B, T, S)
        return scores.squeeze(1) if single else scores


class LuongGeneralAttention(Attention):
    """General: e_ij = h_i^T W h_j, one learned matrix between the two spaces."""

    def __init__(self, query_size: int, key_size: int):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W = nn.Linear(key_size, query_size, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        return self.W(keys)  # (B, S, Hq): W h_j, once per sentence

    def score_prepared(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        query, single = _many(query)
        scores = torch.bmm(query, prepared.transpose(1, 2))  # (B, T, Hq) @ (B, Hq, S) -> (B, T, S)
        return scores.squeeze(1) if single else scores


class LuongConcatAttention(Attention):
    """Concat: e_ij = v^T tanh(W [h_i; h_j]), Bahdanau's network applied to the current state."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W = nn.Linear(query_size + key_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def score_prepared(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        query, single = _many(query)
        B, T, S = query.size(0), query.size(1), prepared.size(1)
        pairs = torch.cat([query.unsqueeze(2).expand(B, T, S, -1), prepared.unsqueeze(1).expand(B, T, S, -1)], dim=-1)
        scores = self.v(torch.tanh(self.W(pairs))).squeeze(-1)  # [h_i; h_j] (B, T, S, Hq+Hk) -> (B, T, S)
        return scores.squeeze(1) if single else scores


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

    def __init__(self, config: Seq2SeqConfig, attention: str = "bahdanau", attention_size: int | None = None):
        super().__init__()
        self.kind = attention
        H = config.hidden_size
        self.attention = make_attention(attention, H, H, attention_size)
        self.embedding = nn.Embedding(config.tgt_vocab_size, config.emb_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        if attention == "bahdanau":
            self.rnn = make_rnn(config.cell, config.emb_dim + H, H, config.num_layers, config.dropout)
            self.out = nn.Linear(2 * H, config.tgt_vocab_size)
        else:
            self.rnn = make_rnn(config.cell, config.emb_dim, H, config.num_layers, config.dropout)
            self.combine = nn.Linear(2 * H, H)
            self.out = nn.Linear(H, config.tgt_vocab_size)

    def _luong_output(self, outputs: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor):
        prepared = self.attention.prepare(memory)
        context, weights = self.attention.attend_prepared(outputs, prepared, memory, memory_mask)  # (B,T,H), (B,T,S)
        attentional = torch.tanh(self.combine(torch.cat([context, outputs], dim=-1)))  # (B, T, H)
        return self.out(self.dropout(attentional)), weights

    def forward(self, tgt_in: torch.Tensor, hidden, memory: torch.Tensor, memory_mask: torch.Tensor,
                return_weights: bool = False):
        """tgt_in (B, T) -> logits (B, T, V), last hidden state [, weights (B, T, S)]."""
        if memory is None or memory_mask is None:
            raise ValueError("an attention decoder needs the encoder states (memory) and their mask")
        x = self.dropout(self.embedding(tgt_in))  # (B, T, E)
        if self.kind == "bahdanau":
            prepared = self.attention.prepare(memory)  # W_k h_j once, not once per step
            outputs, contexts, weights = [], [], []
            for t in range(tgt_in.size(1)):
                context, a = self.attention.attend_prepared(_top(hidden)[:, None], prepared, memory, memory_mask)
                output, hidden = self.rnn(torch.cat([x[:, t : t + 1], context], dim=-1), hidden)  # (B, 1, H)
                outputs.append(output)
                contexts.append(context)
                weights.append(a)
            outputs, contexts = torch.cat(outputs, dim=1), torch.cat(contexts, dim=1)  # (B, T, H) each
            logits = self.out(self.dropout(torch.cat([outputs, contexts], dim=-1)))  # one projection for all steps
            weights = torch.cat(weights, dim=1)  # (B, T, S)
        else:
            outputs, hidden = self.rnn(x, hidden)  # (B, T, H)
            logits, weights = self._luong_output(outputs, memory, memory_mask)
        return (logits, hidden, weights) if return_weights else (logits, hidden)

    def step(self, prev_tokens: torch.Tensor, hidden, memory: torch.Tensor, memory_mask: torch.Tensor):
        """One step: prev_tokens (B,) -> logits (B, V) and the new hidden state."""
        logits, hidden = self.forward(prev_tokens[:, None], hidden, memory, memory_mask)
        return logits[:, 0], hidden


ATTENTION_CHOICES = ("none",) + SCORERS


def attention_seq2seq(config: Seq2SeqConfig, attention: str = "bahdanau",
                      attention_size: int | None = None) -> Seq2Seq:
    """A course Seq2Seq whose decoder attends with ``attention`` ('none' keeps the plain decoder)."""
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
    with eval_mode(model):  # no dropout noise in the weights we show
        state = model.encode(src, src_lengths)
        _, _, weights = model.decoder(tgt_in, state.hidden, state.memory, state.memory_mask, return_weights=True)
    return weights
