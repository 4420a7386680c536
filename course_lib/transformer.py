"""The Transformer (Vaswani et al., 2017): attention alone, no recurrence.

Chapter 6, and the pieces chapters 7 (BERT) and 8 (T5, BART) build on.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                      scaled dot product
    head_i = Attention(X_q W_i^Q, X_k W_i^K, X_v W_i^V);  MultiHead = [head_1; ...; head_h] W^O

An encoder layer is self-attention then a position-wise feed-forward network, each wrapped
in a residual connection and a layer norm; a decoder layer adds, between the two, attention
over the encoder's output. All tokens enter at once, so order comes from a positional
encoding added to the embeddings.

The layers take their pieces as arguments (attention, feed-forward, norm), so BERT, T5 and
BART are these layers with some pieces swapped; ``EncoderDecoderLM`` is what every
encoder-decoder model here shares around its stacks (checked inputs, ``encode``,
``decode_step``, ``reorder_state`` for ``course_lib.decoding``).

Conventions, shared with chapter 5: tensors are batch-first; a mask is a bool tensor, True
where attention is allowed (a real token, a position not in the future). Masks broadcast
to the scores' shape (B, heads, L_query, L_key).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.inputs import (check_heads, check_lengths, check_rates, check_sizes, check_token_ids,
                               lengths_to_mask)

# ---------------------------------------------------------------------------------------------
# Masks


def causal_mask(length: int, device: torch.device | str | None = None) -> torch.Tensor:
    """(L, L) bool, True on and below the diagonal: position i may attend to positions 0..i."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, L) bool, True at real tokens: the first ``lengths[b]`` positions of row b."""
    return lengths_to_mask(lengths, max_len)


def source_mask(input_ids: torch.Tensor, src_lengths: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, S) bool, True at real source tokens, from lengths (right padding) or an attention mask (any padding).

    Neither: every position is real. Every row needs at least one real token.
    """
    B, S = input_ids.shape
    if src_lengths is not None and attention_mask is not None:
        raise ValueError("pass src_lengths or attention_mask, not both")
    if src_lengths is not None:
        src_lengths = torch.as_tensor(src_lengths, device=input_ids.device)
        check_lengths("src_lengths", src_lengths, B, S)
        return padding_mask(src_lengths, S)
    if attention_mask is None:
        return torch.ones(B, S, dtype=torch.bool, device=input_ids.device)
    if attention_mask.shape != (B, S):
        raise ValueError(f"attention_mask {tuple(attention_mask.shape)} must have input_ids' shape {(B, S)}")
    mask = attention_mask.bool()
    if not mask.any(dim=1).all():
        empty = (~mask.any(dim=1)).nonzero().flatten().tolist()
        raise ValueError(f"attention_mask rows {empty} have no real token (all 0): every input needs at least one")
    return mask


def _check_mask(mask: torch.Tensor | None, shape: tuple[int, ...]) -> None:
    if mask is None:
        return
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise ValueError(f"an attention mask must be a bool tensor (True where attention is allowed) or a float"
                         f" tensor added to the scores, got dtype {mask.dtype}")
    try:
        torch.broadcast_shapes(mask.shape, shape)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to the attention scores"
                         f" (batch, heads, query length, key length) = {shape}; a padding mask over keys"
                         " is (B, 1, 1, L_key), a causal mask (L_query, L_key)") from None


# ---------------------------------------------------------------------------------------------
# Scaled dot-product attention


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
                                 dropout: float = 0.0, *, scale: float | None = None, use_sdpa: bool = True,
                                 need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """softmax(q k^T / sqrt(d_k)) v for q (..., Lq, dk), k (..., Lk, dk), v (..., Lk, dv).

    Two paths, equal within float rounding: written out (``use_sdpa=False``, the one the book
    teaches; it can return the weights) and ``torch.nn.functional.scaled_dot_product_attention``
    (fused kernels, the one training uses). Asking for the weights takes the written-out path.
    ``mask``: bool (True = may attend; a masked position gets weight exactly 0) or float (added
    to the scores). ``scale`` replaces 1/sqrt(d_k) (T5 uses 1).
    """
    _check_mask(mask, tuple(q.shape[:-2]) + (q.size(-2), k.size(-2)))
    if use_sdpa and not need_weights:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, scale=scale), None
    scale = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale  # (..., Lq, Lk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    weights = torch.softmax(scores, dim=-1)
    attended = F.dropout(weights, dropout) if dropout > 0 else weights
    return attended @ v, (weights if need_weights else None)


# ---------------------------------------------------------------------------------------------
# Multi-head attention


@dataclass
class KVCache:
    """Keys and values, (B, heads, L, d_k) each: the encoder output's, or those of the positions decoded so far."""

    k: torch.Tensor
    v: torch.Tensor

    def index_select(self, index: torch.Tensor) -> KVCache:
        return KVCache(self.k.index_select(0, index), self.v.index_select(0, index))


class MultiHeadAttention(nn.Module):
    """h heads of scaled dot-product attention in parallel, each on its own d_k = d_model / h slice.

    ``q_proj``, ``k_proj``, ``v_proj`` hold W^Q, W^K, W^V for all heads at once (head i is rows
    i*d_k..(i+1)*d_k), ``out_proj`` is W^O. ``scale`` replaces 1/sqrt(d_k) (T5 uses 1: it folds
    the scaling into its initialisation).
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True, *,
                 use_sdpa: bool = True, scale: float | None = None):
        super().__init__()
        check_heads(d_model, num_heads)
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.dropout, self.use_sdpa, self.scale = dropout, use_sdpa, scale
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, d_model) -> (B, h, L, d_k)."""
        return split_heads(x, self.num_heads)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, h, L, d_k) -> (B, L, d_model): the heads side by side, [head_1; ...; head_h]."""
        return merge_heads(x)

    def project_kv(self, x: torch.Tensor) -> KVCache:
        """Keys and values of x (B, L, d_model), split into heads: computed once, read at every decoding step."""
        return KVCache(self.split_heads(self.k_proj(x)), self.split_heads(self.v_proj(x)))

    def extend_kv(self, past: KVCache | None, x: torch.Tensor) -> KVCache:
        """The keys and values of ``past`` (None: nothing decoded yet) followed by x's: (B, h, L_past + L, d_k)."""
        new = self.project_kv(x)
        if past is None:
            return new
        return KVCache(torch.cat([past.k, new.k], dim=2), torch.cat([past.v, new.v], dim=2))

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None, value: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, *, need_weights: bool = False,
                kv: KVCache | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """query (B, Lq, d), key and value (B, Lk, d) -> output (B, Lq, d), weights (B, h, Lq, Lk) or None.

        ``key`` defaults to the query (self-attention), ``value`` to the key. ``mask`` broadcasts
        to (B, h, Lq, Lk). While decoding, ``kv`` gives keys and values already projected (see
        ``project_kv``, ``extend_kv``) in place of ``key`` and ``value``. The weights are
        returned only with ``need_weights``.
        """
        if kv is not None and (key is not None or value is not None):
            raise ValueError("pass key and value, or kv (keys and values already projected), not both")
        key = query if key is None else key
        value = key if value is None else value
        self._check(query, key, value)
        # 1) project: Q = X_q W^Q, K = X_k W^K, V = X_v W^V, each split into h heads: (B, h, L, d_k)
        q = self.split_heads(self.q_proj(query))
        if kv is None:
            kv = KVCache(self.split_heads(self.k_proj(key)), self.split_heads(self.v_proj(value)))
        # 2) attend: softmax(Q K^T / sqrt(d_k)) V in every head at once: (B, h, Lq, d_k)
        out, weights = scaled_dot_product_attention(q, kv.k, kv.v, mask, self.dropout if self.training else 0.0,
                                                    scale=self.scale, use_sdpa=self.use_sdpa,
                                                    need_weights=need_weights)
        # 3) merge heads and project: [head_1; ...; head_h] W^O: (B, Lq, d_model)
        return self.out_proj(self.merge_heads(out)), weights

    def _check(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> None:
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x.dim() != 3 or x.size(-1) != self.d_model:
                raise ValueError(f"{name} must be (batch, length, d_model={self.d_model}), got {tuple(x.shape)}")
            if x.size(0) != query.size(0):
                raise ValueError(f"{name} has batch size {x.size(0)} but the query has {query.size(0)}")
        if key.size(1) != value.size(1):
            raise ValueError(f"key {tuple(key.shape)} and value {tuple(value.shape)} must have the same length")


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, L, d_model) -> (B, h, L, d_k), head i holding features i*d_k .. (i+1)*d_k (as ``MultiHeadAttention``)."""
    B, L, d_model = x.shape
    check_heads(d_model, num_heads)
    return x.view(B, L, num_heads, d_model // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, h, L, d_k) -> (B, L, h * d_k): the heads side by side, [head_1; ...; head_h]; undoes ``split_heads``."""
    B, h, L, d_k = x.shape
    return x.transpose(1, 2).reshape(B, L, h * d_k)


class PaperMultiHeadAttention(nn.Module):
    """Multi-head attention with the paper's names and a plain interface: the chapter's assignment's reference.

    ``W_q``, ``W_k``, ``W_v``, ``W_o`` hold W^Q, W^K, W^V, W^O (head i is rows i*d_k..(i+1)*d_k
    of the first three); ``forward(query, key, value, mask)`` always returns the output
    (B, Lq, d_model) and every head's weights (B, h, Lq, Lk). The same numbers as
    ``MultiHeadAttention`` with the same weights, without its decoding cache, dropout or options.
    """

    def __init__(self, d_model: int, num_heads: int):
        super().__init__()
        check_heads(d_model, num_heads)
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, Lq, d_model), key and value (B, Lk, d_model), bool mask broadcastable to (B, h, Lq, Lk)
        -> output (B, Lq, d_model), weights (B, h, Lq, Lk)."""
        q = split_heads(self.W_q(query), self.num_heads)
        k = split_heads(self.W_k(key), self.num_heads)
        v = split_heads(self.W_v(value), self.num_heads)
        output, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=True)
        return self.W_o(merge_heads(output)), weights


# ---------------------------------------------------------------------------------------------
# Positions


def _check_length(length: int, max_len: int) -> None:
    if length > max_len:
        raise ValueError(f"a sequence of {length} positions is longer than the positional encoding's maximum"
                         f" max_len={max_len}: shorten the input or build the model with a larger max_len")


class SinusoidalPositionalEncoding(nn.Module):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)): fixed, not learned."""

    def __init__(self, d_model: int, max_len: int = 512):
        super().__init__()
        self.max_len = max_len
        position = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
        frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * frequency)
        pe[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, length: int, offset: int = 0) -> torch.Tensor:
        """Encodings of positions offset..offset+length-1: (length, d_model)."""
        _check_length(length + offset, self.max_len)
        return self.pe[offset : offset + length]


class LearnedPositionalEncoding(nn.Module):
    """One learned vector per position (BERT, BART): an embedding table indexed by position."""

    def __init__(self, d_model: int, max_len: int = 512):
        super().__init__()
        self.max_len = max_len
        self.embedding = nn.Embedding(max_len, d_model)

    def forward(self, length: int, offset: int = 0) -> torch.Tensor:
        _check_length(length + offset, self.max_len)
        return self.embedding.weight[offset : offset + length]


POSITIONAL = {"sinusoidal": SinusoidalPositionalEncoding, "learned": LearnedPositionalEncoding}


# ---------------------------------------------------------------------------------------------
# Layers

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class FeedForward(nn.Module):
    """The position-wise network: linear, activation, dropout, linear (d_model -> d_ff -> d_model).

    ``bias=False`` drops the two bias vectors (T5 has none).
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "relu", *, bias: bool = True):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: choose one of {sorted(ACTIVATIONS)}")
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff, bias=bias), nn.Linear(d_ff, d_model, bias=bias)
        self.activation, self.dropout = ACTIVATIONS[activation], nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


@dataclass
class LayerConfig:
    """What one encoder or decoder layer needs to know, and nothing about vocabularies or stacks.

    ``attention_dropout`` (on the attention weights) and ``activation_dropout`` (inside the
    feed-forward network) default to ``dropout``, the rate on each residual branch; BART sets
    its own. A :class:`TransformerConfig` can stand in for one: it has all the fields but these two.
    """

    d_model: int
    num_heads: int
    d_ff: int
    dropout: float = 0.1
    activation: str = "relu"
    norm_first: bool = False  # post-norm, as in the paper; True: pre-norm
    layer_norm_eps: float = 1e-5
    use_sdpa: bool = True  # fused attention kernels; False: the written-out path
    attention_dropout: float | None = None
    activation_dropout: float | None = None

    def __post_init__(self) -> None:
        check_sizes(self, "d_model", "num_heads", "d_ff")
        check_heads(self.d_model, self.num_heads)
        check_rates(self, "dropout", "attention_dropout", "activation_dropout")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}: choose one of {sorted(ACTIVATIONS)}")


def _layer_config(config: LayerConfig | TransformerConfig) -> LayerConfig:
    if isinstance(config, LayerConfig):
        return config
    return LayerConfig(config.d_model, config.num_heads, config.d_ff, config.dropout, config.activation,
                       config.norm_first, config.layer_norm_eps, config.use_sdpa)


Factory = Callable[[], nn.Module]


def _default_pieces(config: LayerConfig, attention: Factory | None, feed_forward: Factory | None,
                    norm: Factory | None) -> tuple[Factory, Factory, Factory]:
    """The 2017 model's pieces for whichever of attention, feed-forward and norm is not given."""
    attention_dropout = config.dropout if config.attention_dropout is None else config.attention_dropout
    activation_dropout = config.dropout if config.activation_dropout is None else config.activation_dropout
    attention = attention or partial(MultiHeadAttention, config.d_model, config.num_heads, attention_dropout,
                                     use_sdpa=config.use_sdpa)
    feed_forward = feed_forward or partial(FeedForward, config.d_model, config.d_ff, activation_dropout,
                                           config.activation)
    norm = norm or partial(nn.LayerNorm, config.d_model, eps=config.layer_norm_eps)
    return attention, feed_forward, norm


class _ResidualLayer(nn.Module):
    """Where the layer norm sits around each sub-layer, the one thing both layers' forward passes share.

    Post-norm (the paper): x = norm(x + sublayer(x)). Pre-norm (``norm_first``, easier to train
    deep): x = x + sublayer(norm(x)).
    """

    norm_first: bool

    def sublayer_input(self, x: torch.Tensor, norm: nn.Module) -> torch.Tensor:
        return norm(x) if self.norm_first else x

    def add(self, x: torch.Tensor, sublayer_output: torch.Tensor, norm: nn.Module) -> torch.Tensor:
        return x + sublayer_output if self.norm_first else norm(x + sublayer_output)


class EncoderLayer(_ResidualLayer):
    """Self-attention, then the feed-forward network; each in a residual connection with a layer norm.

    The pieces default to the 2017 model's (``MultiHeadAttention``, ``FeedForward``,
    ``nn.LayerNorm``); ``attention``, ``feed_forward`` and ``norm`` are functions that build
    others (T5 passes its unbiased attention, its feed-forward and RMSNorm).
    """

    def __init__(self, config: LayerConfig | TransformerConfig, *, attention: Factory | None = None,
                 feed_forward: Factory | None = None, norm: Factory | None = None):
        super().__init__()
        config = _layer_config(config)
        attention, feed_forward, norm = _default_pieces(config, attention, feed_forward, norm)
        self.norm_first = config.norm_first
        self.self_attn = attention()
        self.ff = feed_forward()
        self.norm1, self.norm2 = norm(), norm()
        self.dropout1, self.dropout2 = nn.Dropout(config.dropout), nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, S, d), mask broadcastable to (B, h, S, S) -> (x, self-attention weights or None)."""
        # 1) self-attention
        attended, weights = self.self_attn(self.sublayer_input(x, self.norm1), mask=mask, need_weights=need_weights)
        x = self.add(x, self.dropout1(attended), self.norm1)
        # 2) feed-forward
        x = self.add(x, self.dropout2(self.ff(self.sublayer_input(x, self.norm2))), self.norm2)
        return x, weights


@dataclass
class LayerCache:
    """What one decoder layer keeps between decoding steps."""

    self_kv: KVCache | None  # keys and values of the tokens decoded so far
    cross_kv: KVCache  # keys and values of the encoder output, computed once

    def index_select(self, index: torch.Tensor) -> LayerCache:
        return LayerCache(None if self.self_kv is None else self.self_kv.index_select(index),
                          self.cross_kv.index_select(index))


class DecoderLayer(_ResidualLayer):
    """Masked self-attention, attention over the encoder output, feed-forward; residual + norm each.

    Pieces as in :class:`EncoderLayer`; ``attention`` builds both attentions.
    """

    def __init__(self, config: LayerConfig | TransformerConfig, *, attention: Factory | None = None,
                 feed_forward: Factory | None = None, norm: Factory | None = None):
        super().__init__()
        config = _layer_config(config)
        attention, feed_forward, norm = _default_pieces(config, attention, feed_forward, norm)
        self.norm_first = config.norm_first
        self.self_attn = attention()
        self.cross_attn = attention()
        self.ff = feed_forward()
        self.norm1, self.norm2, self.norm3 = norm(), norm(), norm()
        p = config.dropout
        self.dropout1, self.dropout2, self.dropout3 = nn.Dropout(p), nn.Dropout(p), nn.Dropout(p)

    def forward(self, y: torch.Tensor, memory: torch.Tensor | None, self_mask: torch.Tensor | None,
                memory_mask: torch.Tensor | None, need_weights: bool = False, cache: LayerCache | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, LayerCache | None]:
        """y (B, T, d), memory (B, S, d) -> (y, self weights, cross weights, new cache or None).

        With a ``cache`` (decoding), y holds only the new positions, the past ones' keys and values
        come from the cache, and ``memory`` is None: its keys and values are in the cache too.
        """
        # 1) masked self-attention; while decoding, over the cached positions and the new ones
        x = self.sublayer_input(y, self.norm1)
        self_kv = None if cache is None else self.self_attn.extend_kv(cache.self_kv, x)
        attended, self_weights = self.self_attn(x, mask=self_mask, need_weights=need_weights, kv=self_kv)
        y = self.add(y, self.dropout1(attended), self.norm1)
        # 2) attention over the encoder output; while decoding, its keys and values from the cache
        x = self.sublayer_input(y, self.norm2)
        cross_kv = None if cache is None else cache.cross_kv
        attended, cross_weights = self.cross_attn(x, memory, mask=memory_mask, need_weights=need_weights, kv=cross_kv)
        y = self.add(y, self.dropout2(attended), self.norm2)
        # 3) feed-forward
        y = self.add(y, self.dropout3(self.ff(self.sublayer_input(y, self.norm3))), self.norm3)
        new_cache = None if cache is None else LayerCache(self_kv, cross_kv)
        return y, self_weights, cross_weights, new_cache


def normal_init(module: nn.Module, std: float = 0.02) -> None:
    """BERT's and BART's initialisation: N(0, std) weights, zero biases and padding row, LayerNorm at (1, 0).

    Apply with ``model.apply(normal_init)``.
    """
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=std)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.Embedding) and module.padding_idx is not None:
        module.weight.data[module.padding_idx] = 0.0
    if isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


# ---------------------------------------------------------------------------------------------
# What every encoder-decoder model shares: decoding state and the decoding interface


@dataclass
class TransformerState:
    """What decoding carries between steps (see ``course_lib.decoding``)."""

    memory: torch.Tensor  # (B, S, d) encoder output
    memory_mask: torch.Tensor  # (B, 1, 1, S) True at real source tokens
    caches: list[LayerCache] | None  # per decoder layer, when decoding with the key/value cache
    prefix: torch.Tensor  # (B, t) tokens fed so far (the start token first): what uncached decoding re-reads

    def index_select(self, index: torch.Tensor) -> TransformerState:
        return TransformerState(self.memory.index_select(0, index), self.memory_mask.index_select(0, index),
                                None if self.caches is None else [c.index_select(index) for c in self.caches],
                                self.prefix.index_select(0, index))


def check_prev_tokens(prev_tokens: torch.Tensor, state: TransformerState) -> None:
    """One token per row of the decoding batch, else a ValueError."""
    if prev_tokens.shape != (state.memory.size(0),):
        raise ValueError(f"prev_tokens must hold one token per row of the batch, ({state.memory.size(0)},),"
                         f" got {tuple(prev_tokens.shape)}")


class EncoderDecoderLM(nn.Module):
    """What the Transformer, T5 and BART share around their stacks: checked inputs, the training
    forward pass, and the ``encode`` / ``decode_step`` / ``reorder_state`` that ``course_lib.decoding`` calls.

    A subclass has ``config``, ``decoder_layers`` (each with a ``cross_attn``) and ``kv_cache``,
    and supplies ``run_encoder(ids, mask)``, ``run_decoder(ids, memory, memory_mask)``,
    ``logits(y)`` and ``cached_step`` (one new position through the decoder with a key/value
    cache). Decoding keeps that cache, so each new token costs one position; ``kv_cache = False``
    re-reads the whole prefix at every step instead (same tokens, slower).
    """

    kv_cache: bool = True

    def vocab_sizes(self) -> tuple[int, int]:
        """(source, target) vocabulary sizes: one shared vocabulary unless a subclass says otherwise."""
        return self.config.vocab_size, self.config.vocab_size

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
                decoder_input_ids: torch.Tensor) -> torch.Tensor:
        """input_ids (B, S), attention_mask (B, S) 1 at real tokens (None: no padding),
        decoder_input_ids (B, T) (the targets behind the decoder's start token) -> logits (B, T, V)."""
        src_vocab_size, tgt_vocab_size = self.vocab_sizes()
        check_token_ids("input_ids", input_ids, src_vocab_size)
        check_token_ids("decoder_input_ids", decoder_input_ids, tgt_vocab_size, batch_size=input_ids.size(0))
        mask = source_mask(input_ids, attention_mask=attention_mask)
        memory = self.run_encoder(input_ids, mask)
        return self.logits(self.run_decoder(decoder_input_ids, memory, mask[:, None, None, :]))

    def encode(self, input_ids: torch.Tensor, src_lengths: torch.Tensor | None = None, *,
               attention_mask: torch.Tensor | None = None) -> TransformerState:
        """Run the encoder once. Padding from ``src_lengths`` (as ``course_lib.decoding`` passes) or
        ``attention_mask``; the state holds the output, the mask and the cross-attention keys and values."""
        check_token_ids("input_ids", input_ids, self.vocab_sizes()[0])
        mask = source_mask(input_ids, src_lengths, attention_mask)
        memory = self.run_encoder(input_ids, mask)
        caches = None
        if self.kv_cache:
            caches = [LayerCache(None, layer.cross_attn.project_kv(memory)) for layer in self.decoder_layers]
        return TransformerState(memory, mask[:, None, None, :], caches, input_ids.new_empty(input_ids.size(0), 0))

    def decode_step(self, prev_tokens: torch.Tensor, state: TransformerState) -> tuple[torch.Tensor, TransformerState]:
        """Feed one token per row (B,); logits (B, V) for the next one."""
        check_prev_tokens(prev_tokens, state)
        prefix = torch.cat([state.prefix, prev_tokens[:, None]], dim=1)  # (B, t)
        if state.caches is None:  # re-read the whole prefix: t positions of work for one new token
            y = self.run_decoder(prefix, state.memory, state.memory_mask)
            return self.logits(y[:, -1]), TransformerState(state.memory, state.memory_mask, None, prefix)
        y, caches = self.cached_step(prev_tokens, prefix.size(1), state)
        return self.logits(y[:, -1]), TransformerState(state.memory, state.memory_mask, caches, prefix)

    def reorder_state(self, state: TransformerState, index: torch.Tensor) -> TransformerState:
        return state.index_select(index)


# ---------------------------------------------------------------------------------------------
# The encoder-decoder model


@dataclass
class TransformerConfig:
    """Sizes and choices for :class:`Transformer`. ``base()`` is the paper's base model."""

    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 512
    num_heads: int = 8
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    d_ff: int = 2048
    dropout: float = 0.1
    activation: str = "relu"
    norm_first: bool = False  # post-norm, as in the paper; True: pre-norm
    final_norm: bool | None = None  # a layer norm after each stack; None: only with pre-norm
    positional: str = "sinusoidal"  # or 'learned'
    max_len: int = 512
    scale_embedding: bool = True  # multiply embeddings by sqrt(d_model), as in the paper
    tie_output: bool = False  # the output projection shares the target embedding's weights
    layer_norm_eps: float = 1e-5
    use_sdpa: bool = True  # fused attention kernels; False: the written-out path
    pad_id: int = 0

    def __post_init__(self) -> None:
        check_sizes(self, "src_vocab_size", "tgt_vocab_size", "d_model", "num_heads", "num_encoder_layers",
                    "num_decoder_layers", "d_ff", "max_len")
        check_heads(self.d_model, self.num_heads)
        if self.d_model % 2 and self.positional == "sinusoidal":
            raise ValueError(f"sinusoidal positions pair sines and cosines: d_model must be even, got {self.d_model}")
        check_rates(self, "dropout")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}: choose one of {sorted(ACTIVATIONS)}")
        if self.positional not in POSITIONAL:
            raise ValueError(f"unknown positional encoding {self.positional!r}: choose one of {sorted(POSITIONAL)}")

    @property
    def use_final_norm(self) -> bool:
        return self.norm_first if self.final_norm is None else self.final_norm

    @classmethod
    def tiny(cls, src_vocab_size: int, tgt_vocab_size: int, **overrides) -> TransformerConfig:
        """Two layers each side, d_model 32, 4 heads: for tests, seconds on a CPU."""
        return cls(src_vocab_size, tgt_vocab_size, **{"d_model": 32, "num_heads": 4, "num_encoder_layers": 2,
                                                       "num_decoder_layers": 2, "d_ff": 64, "dropout": 0.0,
                                                       "max_len": 128, **overrides})

    @classmethod
    def small(cls, src_vocab_size: int, tgt_vocab_size: int, **overrides) -> TransformerConfig:
        """The chapters' size for dates and the EN->KO grammar: d_model 64, 4 heads, 2 + 2 layers."""
        return cls(src_vocab_size, tgt_vocab_size, **{"d_model": 64, "num_heads": 4, "num_encoder_layers": 2,
                                                       "num_decoder_layers": 2, "d_ff": 256, "dropout": 0.0,
                                                       "max_len": 128, **overrides})

    @classmethod
    def base(cls, src_vocab_size: int, tgt_vocab_size: int, **overrides) -> TransformerConfig:
        """The paper's base model: d_model 512, 8 heads, 6 + 6 layers, d_ff 2048, dropout 0.1."""
        return cls(src_vocab_size, tgt_vocab_size, **overrides)


@dataclass
class AttentionMaps:
    """Attention weights per layer, each (B, heads, L_query, L_key)."""

    encoder: list[torch.Tensor] = field(default_factory=list)
    decoder_self: list[torch.Tensor] = field(default_factory=list)
    cross: list[torch.Tensor] = field(default_factory=list)


class Transformer(EncoderDecoderLM):
    """Encoder-decoder Transformer with embeddings, positions and an output layer over the target vocabulary.

    Works with ``course_lib.decoding`` (``encode``, ``decode_step``, ``reorder_state``, from
    :class:`EncoderDecoderLM`) and ``course_lib.train.fit`` (``forward(src, src_lengths, tgt_in)
    -> logits``). Decoding keeps a key/value cache so each new token costs one position;
    ``kv_cache = False`` re-reads the whole prefix at every step instead (same tokens, slower).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        d = config.d_model
        self.src_embedding = nn.Embedding(config.src_vocab_size, d, padding_idx=config.pad_id)
        self.tgt_embedding = nn.Embedding(config.tgt_vocab_size, d, padding_idx=config.pad_id)
        self.positions = POSITIONAL[config.positional](d, config.max_len)
        self.dropout = nn.Dropout(config.dropout)
        self.encoder_layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_encoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_decoder_layers))
        final = config.use_final_norm
        self.encoder_norm = nn.LayerNorm(d, eps=config.layer_norm_eps) if final else nn.Identity()
        self.decoder_norm = nn.LayerNorm(d, eps=config.layer_norm_eps) if final else nn.Identity()
        self.out = nn.Linear(d, config.tgt_vocab_size)
        self.kv_cache = True
        self.init_weights()

    def init_weights(self) -> None:
        """Xavier-uniform for every matrix (as torch.nn.Transformer does), zero biases, N(0, d^-1/2) embeddings."""
        for name, p in self.named_parameters():
            if p.dim() > 1 and "embedding" not in name:
                nn.init.xavier_uniform_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
        for embedding in (self.src_embedding, self.tgt_embedding):
            nn.init.normal_(embedding.weight, std=self.config.d_model ** -0.5)
            embedding.weight.data[self.config.pad_id] = 0.0
        if self.config.tie_output:
            self.out.weight = self.tgt_embedding.weight

    def vocab_sizes(self) -> tuple[int, int]:
        return self.config.src_vocab_size, self.config.tgt_vocab_size

    # -- pieces -------------------------------------------------------------------------------

    def embed(self, tokens: torch.Tensor, embedding: nn.Embedding, offset: int = 0) -> torch.Tensor:
        """Token embeddings (scaled by sqrt(d_model)) plus positions offset..: (B, L) -> (B, L, d)."""
        x = embedding(tokens)
        if self.config.scale_embedding:
            x = x * math.sqrt(self.config.d_model)
        return self.dropout(x + self.positions(tokens.size(1), offset))

    def run_encoder(self, src: torch.Tensor, mask: torch.Tensor, maps: AttentionMaps | None = None) -> torch.Tensor:
        """Source ids (B, S) with ``mask`` (B, S) True at real tokens -> encoder output (B, S, d).

        With ``maps``, each layer's attention weights are appended to ``maps.encoder``.
        """
        x = self.embed(src, self.src_embedding)
        for layer in self.encoder_layers:
            x, weights = layer(x, mask[:, None, None, :], need_weights=maps is not None)
            if maps is not None:
                maps.encoder.append(weights)
        return self.encoder_norm(x)

    def run_decoder(self, tgt: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor,
                    maps: AttentionMaps | None = None) -> torch.Tensor:
        """The decoder stack on target ids (B, T), under a causal mask, over the encoder output (B, S, d)."""
        y = self.embed(tgt, self.tgt_embedding)
        self_mask = causal_mask(tgt.size(1), tgt.device)  # (T, T)
        for layer in self.decoder_layers:
            y, self_weights, cross_weights, _ = layer(y, memory, self_mask, memory_mask, need_weights=maps is not None)
            if maps is not None:
                maps.decoder_self.append(self_weights)
                maps.cross.append(cross_weights)
        return self.decoder_norm(y)

    def logits(self, y: torch.Tensor) -> torch.Tensor:
        """Decoder output (..., d) -> logits over the target vocabulary (..., V)."""
        return self.out(y)

    # -- training -----------------------------------------------------------------------------

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, *,
                return_attention: bool = False):
        """src (B, S), src_lengths (B,), tgt_in (B, T) -> logits (B, T, V) [, AttentionMaps].

        The whole target is read at once under a causal mask: teacher forcing is the only way a
        Transformer trains.
        """
        check_token_ids("src", src, self.config.src_vocab_size)
        check_token_ids("tgt_in", tgt_in, self.config.tgt_vocab_size, batch_size=src.size(0))
        mask = source_mask(src, src_lengths)  # (B, S)
        maps = AttentionMaps() if return_attention else None
        memory = self.run_encoder(src, mask, maps)
        logits = self.logits(self.run_decoder(tgt_in, memory, mask[:, None, None, :], maps))
        return (logits, maps) if return_attention else logits

    # -- decoding -----------------------------------------------------------------------------

    def cached_step(self, prev_tokens: torch.Tensor, t: int, state: TransformerState) -> tuple[torch.Tensor, list]:
        """Position t-1 through the decoder, reading the cached keys and values of 0..t-2."""
        y = self.embed(prev_tokens[:, None], self.tgt_embedding, offset=t - 1)  # (B, 1, d): position t-1 only
        caches = []
        for layer, cache in zip(self.decoder_layers, state.caches):
            y, _, _, cache = layer(y, None, None, state.memory_mask, cache=cache)  # attends to all past positions
            caches.append(cache)
        return self.decoder_norm(y), caches
