"""The Transformer (Vaswani et al., 2017): attention alone, no recurrence.

Chapter 6, and the pieces chapters 7 (BERT) and 8 (T5, BART) build on.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                      scaled dot product
    head_i = Attention(X_q W_i^Q, X_k W_i^K, X_v W_i^V);  MultiHead = [head_1; ...; head_h] W^O

An encoder layer is self-attention then a position-wise feed-forward network, each wrapped
in a residual connection and a layer norm; a decoder layer adds, between the two, attention
over the encoder's output. All tokens enter at once, so order comes from a positional
encoding added to the embeddings.

Conventions, shared with chapter 5: tensors are batch-first; a mask is a bool tensor, True
where attention is allowed (a real token, a position not in the future). Masks broadcast
to the scores' shape (B, heads, L_query, L_key).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.seq2seq import lengths_to_mask

# ---------------------------------------------------------------------------------------------
# Masks


def causal_mask(length: int, device: torch.device | str | None = None) -> torch.Tensor:
    """(L, L) bool, True on and below the diagonal: position i may attend to positions 0..i."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, L) bool, True at real tokens: the first ``lengths[b]`` positions of row b."""
    return lengths_to_mask(lengths, max_len)


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
    """Keys and values of the positions decoded so far, (B, heads, L, d_k) each, for one layer."""

    k: torch.Tensor
    v: torch.Tensor

    def index_select(self, index: torch.Tensor) -> KVCache:
        return KVCache(self.k.index_select(0, index), self.v.index_select(0, index))


class MultiHeadAttention(nn.Module):
    """h heads of scaled dot-product attention in parallel, each on its own d_k = d_model / h slice.

    ``q_proj``, ``k_proj``, ``v_proj`` hold W^Q, W^K, W^V for all heads at once (head i is rows
    i*d_k..(i+1)*d_k), ``out_proj`` is W^O. Self-attention projects with the three stacked into
    one matrix multiply; cross-attention stacks W^K and W^V. ``scale`` replaces 1/sqrt(d_k)
    (T5 uses 1: it folds the scaling into its initialisation).
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True, *,
                 use_sdpa: bool = True, scale: float | None = None):
        super().__init__()
        if num_heads < 1 or d_model % num_heads != 0:
            raise ValueError(f"d_model {d_model} is not divisible by num_heads {num_heads}:"
                             " every head gets d_model / num_heads dimensions")
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.dropout, self.use_sdpa, self.scale = dropout, use_sdpa, scale
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, d_model) -> (B, h, L, d_k)."""
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.d_k).transpose(1, 2)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, h, L, d_k) -> (B, L, d_model): the heads side by side, [head_1; ...; head_h]."""
        B, _, L, _ = x.shape
        return x.transpose(1, 2).reshape(B, L, self.d_model)

    def _project(self, x: torch.Tensor, *projections: nn.Linear) -> list[torch.Tensor]:
        """Several projections of the same input in one matrix multiply, split into heads."""
        if len(projections) == 1:
            return [self.split_heads(projections[0](x))]
        weight = torch.cat([p.weight for p in projections])
        bias = None if projections[0].bias is None else torch.cat([p.bias for p in projections])
        return [self.split_heads(part) for part in F.linear(x, weight, bias).chunk(len(projections), dim=-1)]

    def project_kv(self, memory: torch.Tensor) -> KVCache:
        """Keys and values of a fixed input (the encoder output), computed once for every step."""
        k, v = self._project(memory, self.k_proj, self.v_proj)
        return KVCache(k, v)

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None, value: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, *, need_weights: bool = False, update_cache: bool = False,
                cache: KVCache | None = None, static_kv: KVCache | None = None):
        """query (B, Lq, d), key and value (B, Lk, d) (default: the query: self-attention).

        ``mask`` broadcasts to (B, h, Lq, Lk). Returns (output (B, Lq, d), weights (B, h, Lq, Lk)
        or None). With ``update_cache`` (self-attention while decoding) the new keys and values
        are appended to ``cache`` (None: nothing decoded yet) and the grown cache is returned as
        a third value; ``static_kv`` gives precomputed keys and values (cross-attention while
        decoding).
        """
        self._check(query, key, value)
        if static_kv is not None:
            (q,) = self._project(query, self.q_proj)
            k, v = static_kv.k, static_kv.v
        elif key is None:  # self-attention: W^Q, W^K, W^V in one multiply
            q, k, v = self._project(query, self.q_proj, self.k_proj, self.v_proj)
        elif value is None or value is key:
            (q,) = self._project(query, self.q_proj)
            k, v = self._project(key, self.k_proj, self.v_proj)
        else:
            (q,), (k,), (v,) = (self._project(query, self.q_proj), self._project(key, self.k_proj),
                                self._project(value, self.v_proj))
        if cache is not None:
            k, v = torch.cat([cache.k, k], dim=2), torch.cat([cache.v, v], dim=2)  # (B, h, L_past + Lq, d_k)
        out, weights = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0,
                                                    scale=self.scale, use_sdpa=self.use_sdpa,
                                                    need_weights=need_weights)  # (B, h, Lq, d_k)
        out = self.out_proj(self.merge_heads(out))  # (B, Lq, d_model)
        if update_cache:
            return out, weights, KVCache(k, v)
        return out, weights

    def _check(self, query, key, value) -> None:
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x is None:
                continue
            if x.dim() != 3 or x.size(-1) != self.d_model:
                raise ValueError(f"{name} must be (batch, length, d_model={self.d_model}), got {tuple(x.shape)}")
            if x.size(0) != query.size(0):
                raise ValueError(f"{name} has batch size {x.size(0)} but the query has {query.size(0)}")
        if key is not None and value is not None and key.size(1) != value.size(1):
            raise ValueError(f"key {tuple(key.shape)} and value {tuple(value.shape)} must have the same length")


# ---------------------------------------------------------------------------------------------
# Positions


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


def _check_length(length: int, max_len: int) -> None:
    if length > max_len:
        raise ValueError(f"a sequence of {length} positions is longer than the positional encoding's maximum"
                         f" max_len={max_len}: shorten the input or build the model with a larger max_len")


# ---------------------------------------------------------------------------------------------
# Layers


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


ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class EncoderLayer(nn.Module):
    """Self-attention, then the feed-forward network; each in a residual connection with a layer norm.

    Post-norm (the paper): x = norm(x + sublayer(x)). Pre-norm (``norm_first``, easier to
    train deep): x = x + sublayer(norm(x)).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        d = config.d_model
        self.norm_first = config.norm_first
        self.self_attn = MultiHeadAttention(d, config.num_heads, config.dropout, use_sdpa=config.use_sdpa)
        self.ff = FeedForward(d, config.d_ff, config.dropout, config.activation)
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=config.layer_norm_eps), nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.dropout1, self.dropout2 = nn.Dropout(config.dropout), nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, need_weights: bool = False):
        """x (B, S, d), mask broadcastable to (B, h, S, S) -> (x, self-attention weights or None)."""
        if self.norm_first:
            attended, weights = self.self_attn(self.norm1(x), mask=mask, need_weights=need_weights)
            x = x + self.dropout1(attended)
            x = x + self.dropout2(self.ff(self.norm2(x)))
        else:
            attended, weights = self.self_attn(x, mask=mask, need_weights=need_weights)
            x = self.norm1(x + self.dropout1(attended))
            x = self.norm2(x + self.dropout2(self.ff(x)))
        return x, weights


@dataclass
class LayerCache:
    """What one decoder layer keeps between decoding steps."""

    self_kv: KVCache | None  # keys and values of the tokens decoded so far
    cross_kv: KVCache  # keys and values of the encoder output, computed once

    def index_select(self, index: torch.Tensor) -> LayerCache:
        return LayerCache(None if self.self_kv is None else self.self_kv.index_select(index),
                          self.cross_kv.index_select(index))


class DecoderLayer(nn.Module):
    """Masked self-attention, attention over the encoder output, feed-forward; residual + norm each."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        d, h, p = config.d_model, config.num_heads, config.dropout
        self.norm_first = config.norm_first
        self.self_attn = MultiHeadAttention(d, h, p, use_sdpa=config.use_sdpa)
        self.cross_attn = MultiHeadAttention(d, h, p, use_sdpa=config.use_sdpa)
        self.ff = FeedForward(d, config.d_ff, p, config.activation)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d, eps=config.layer_norm_eps) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = nn.Dropout(p), nn.Dropout(p), nn.Dropout(p)

    def forward(self, y: torch.Tensor, memory: torch.Tensor | None, self_mask: torch.Tensor | None,
                memory_mask: torch.Tensor | None, need_weights: bool = False, cache: LayerCache | None = None):
        """y (B, T, d), memory (B, S, d) -> (y, self weights, cross weights, new cache or None).

        With a ``cache``, y holds only the new positions; the past ones come from the cache.
        """
        def self_block(x):
            if cache is None:
                return (*self.self_attn(x, mask=self_mask, need_weights=need_weights), None)
            return self.self_attn(x, mask=self_mask, need_weights=need_weights, update_cache=True, cache=cache.self_kv)

        def cross_block(x):
            if cache is None:
                return self.cross_attn(x, memory, mask=memory_mask, need_weights=need_weights)
            return self.cross_attn(x, mask=memory_mask, need_weights=need_weights, static_kv=cache.cross_kv)

        if self.norm_first:
            attended, self_weights, self_kv = self_block(self.norm1(y))
            y = y + self.dropout1(attended)
            attended, cross_weights = cross_block(self.norm2(y))
            y = y + self.dropout2(attended)
            y = y + self.dropout3(self.ff(self.norm3(y)))
        else:
            attended, self_weights, self_kv = self_block(y)
            y = self.norm1(y + self.dropout1(attended))
            attended, cross_weights = cross_block(y)
            y = self.norm2(y + self.dropout2(attended))
            y = self.norm3(y + self.dropout3(self.ff(y)))
        new_cache = None if cache is None else LayerCache(self_kv, cache.cross_kv)
        return y, self_weights, cross_weights, new_cache


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
        for name in ("src_vocab_size", "tgt_vocab_size", "d_model", "num_heads", "num_encoder_layers",
                     "num_decoder_layers", "d_ff", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by num_heads {self.num_heads}:"
                             " every head gets d_model / num_heads dimensions")
        if self.d_model % 2 and self.positional == "sinusoidal":
            raise ValueError(f"sinusoidal positions pair sines and cosines: d_model must be even, got {self.d_model}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
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


POSITIONAL = {"sinusoidal": SinusoidalPositionalEncoding, "learned": LearnedPositionalEncoding}


@dataclass
class TransformerState:
    """What decoding carries between steps (see ``course_lib.decoding``)."""

    memory: torch.Tensor  # (B, S, d) encoder output
    memory_mask: torch.Tensor  # (B, 1, 1, S) True at real source tokens
    caches: list[LayerCache] | None  # per decoder layer, when decoding with the key/value cache
    prefix: torch.Tensor  # (B, t) tokens fed so far (<bos> first): what uncached decoding re-reads

    def index_select(self, index: torch.Tensor) -> TransformerState:
        return TransformerState(self.memory.index_select(0, index), self.memory_mask.index_select(0, index),
                                None if self.caches is None else [c.index_select(index) for c in self.caches],
                                self.prefix.index_select(0, index))


@dataclass
class AttentionMaps:
    """Attention weights per layer, each (B, heads, L_query, L_key)."""

    encoder: list[torch.Tensor] = field(default_factory=list)
    decoder_self: list[torch.Tensor] = field(default_factory=list)
    cross: list[torch.Tensor] = field(default_factory=list)


class Transformer(nn.Module):
    """Encoder-decoder Transformer with embeddings, positions and an output layer over the target vocabulary.

    Works with ``course_lib.decoding`` (``encode``, ``decode_step``, ``reorder_state``) and
    ``course_lib.train.fit`` (``forward(src, src_lengths, tgt_in) -> logits``). Decoding keeps a
    key/value cache so each new token costs one position; ``kv_cache = False`` re-reads the
    whole prefix at every step instead (same tokens, slower).
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

    # -- pieces -------------------------------------------------------------------------------

    def embed(self, tokens: torch.Tensor, embedding: nn.Embedding, offset: int = 0) -> torch.Tensor:
        """Token embeddings (scaled by sqrt(d_model)) plus positions offset..: (B, L) -> (B, L, d)."""
        x = embedding(tokens)
        if self.config.scale_embedding:
            x = x * math.sqrt(self.config.d_model)
        return self.dropout(x + self.positions(tokens.size(1), offset))

    def run_encoder(self, x: torch.Tensor, mask: torch.Tensor | None, need_weights: bool = False,
                    maps: AttentionMaps | None = None) -> torch.Tensor:
        """The encoder stack on embedded input x (B, S, d); ``mask`` broadcastable to (B, h, S, S)."""
        for layer in self.encoder_layers:
            x, weights = layer(x, mask, need_weights)
            if maps is not None:
                maps.encoder.append(weights)
        return self.encoder_norm(x)

    def run_decoder(self, y: torch.Tensor, memory: torch.Tensor, self_mask: torch.Tensor | None,
                    memory_mask: torch.Tensor | None, need_weights: bool = False,
                    maps: AttentionMaps | None = None) -> torch.Tensor:
        """The decoder stack on embedded targets y (B, T, d) over the encoder output (B, S, d)."""
        for layer in self.decoder_layers:
            y, self_weights, cross_weights, _ = layer(y, memory, self_mask, memory_mask, need_weights)
            if maps is not None:
                maps.decoder_self.append(self_weights)
                maps.cross.append(cross_weights)
        return self.decoder_norm(y)

    # -- training -----------------------------------------------------------------------------

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, *,
                teacher_forcing_ratio: float = 1.0, generator: torch.Generator | None = None,
                return_attention: bool = False):
        """src (B, S), src_lengths (B,), tgt_in (B, T) -> logits (B, T, V) [, AttentionMaps].

        The whole target is read at once under a causal mask: teacher forcing is the only way a
        Transformer trains (``teacher_forcing_ratio`` must be 1; it is accepted for ``fit``).
        """
        if teacher_forcing_ratio != 1.0:
            raise ValueError("a Transformer reads the whole target at once under a causal mask:"
                             f" teacher_forcing_ratio must be 1.0, got {teacher_forcing_ratio}")
        self._check_tokens(src, src_lengths, tgt_in)
        maps = AttentionMaps() if return_attention else None
        memory_mask = padding_mask(src_lengths, src.size(1))[:, None, None, :]  # (B, 1, 1, S)
        memory = self.run_encoder(self.embed(src, self.src_embedding), memory_mask, return_attention, maps)
        self_mask = causal_mask(tgt_in.size(1), tgt_in.device)  # (T, T)
        y = self.run_decoder(self.embed(tgt_in, self.tgt_embedding), memory, self_mask, memory_mask,
                             return_attention, maps)
        logits = self.out(y)
        return (logits, maps) if return_attention else logits

    # -- decoding -----------------------------------------------------------------------------

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> TransformerState:
        """Run the encoder once; the state holds its output, the source mask and an empty cache."""
        self._check_tokens(src, src_lengths)
        memory_mask = padding_mask(src_lengths, src.size(1))[:, None, None, :]
        memory = self.run_encoder(self.embed(src, self.src_embedding), memory_mask)
        caches = None
        if self.kv_cache:
            caches = [LayerCache(None, layer.cross_attn.project_kv(memory)) for layer in self.decoder_layers]
        prefix = src.new_empty(src.size(0), 0)
        return TransformerState(memory, memory_mask, caches, prefix)

    def decode_step(self, prev_tokens: torch.Tensor, state: TransformerState) -> tuple[torch.Tensor, TransformerState]:
        """Feed one token per row (B,); logits (B, V) for the next one."""
        prefix = torch.cat([state.prefix, prev_tokens[:, None]], dim=1)  # (B, t)
        t = prefix.size(1)
        if state.caches is None:  # re-read the whole prefix: T positions of work for one new token
            y = self.run_decoder(self.embed(prefix, self.tgt_embedding), state.memory,
                                 causal_mask(t, prefix.device), state.memory_mask)
            return self.out(y[:, -1]), TransformerState(state.memory, state.memory_mask, None, prefix)
        y = self.embed(prev_tokens[:, None], self.tgt_embedding, offset=t - 1)  # (B, 1, d): position t-1 only
        caches = []
        for layer, cache in zip(self.decoder_layers, state.caches):
            y, _, _, cache = layer(y, None, None, state.memory_mask, cache=cache)  # attends to all past positions
            caches.append(cache)
        y = self.decoder_norm(y)
        return self.out(y[:, -1]), TransformerState(state.memory, state.memory_mask, caches, prefix)

    def reorder_state(self, state: TransformerState, index: torch.Tensor) -> TransformerState:
        return state.index_select(index)

    def _check_tokens(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor | None = None) -> None:
        if src.dim() != 2 or src.dtype not in (torch.long, torch.int):
            raise ValueError(f"src must be a (batch, length) tensor of token ids, got {tuple(src.shape)} {src.dtype}")
        if src_lengths.shape != (src.size(0),):
            raise ValueError(f"src_lengths {tuple(src_lengths.shape)} must hold one length per row of src"
                             f" {tuple(src.shape)}")
        if src_lengths.min() < 1 or src_lengths.max() > src.size(1):
            raise ValueError(f"src_lengths must lie in 1..{src.size(1)}, got {src_lengths.tolist()}")
        if tgt_in is not None and (tgt_in.dim() != 2 or tgt_in.size(0) != src.size(0)):
            raise ValueError(f"tgt_in {tuple(tgt_in.shape)} must be (batch, length) with src's batch {src.size(0)}")


# ---------------------------------------------------------------------------------------------
# Weights from PyTorch's own modules (for the reference tests and the speed benchmark)


def load_torch_attention(ours: MultiHeadAttention, theirs: nn.MultiheadAttention) -> None:
    """Copy a ``torch.nn.MultiheadAttention`` into ours: torch packs W^Q, W^K, W^V into one in_proj matrix."""
    with torch.no_grad():
        for projection, weight, bias in zip((ours.q_proj, ours.k_proj, ours.v_proj),
                                            theirs.in_proj_weight.chunk(3), theirs.in_proj_bias.chunk(3)):
            projection.weight.copy_(weight)
            projection.bias.copy_(bias)
        ours.out_proj.load_state_dict(theirs.out_proj.state_dict())


def load_torch_transformer(ours: Transformer, theirs: nn.Transformer) -> None:
    """Copy the encoder and decoder stacks of a ``torch.nn.Transformer`` of the same configuration into ours.

    torch.nn.Transformer has no embeddings or output layer; ours keep theirs. It always ends each
    stack with a layer norm, so ``ours`` needs ``final_norm=True``.
    """
    if not ours.config.use_final_norm:
        raise ValueError("torch.nn.Transformer ends each stack with a layer norm: build ours with final_norm=True")
    for our, their in zip(ours.encoder_layers, theirs.encoder.layers):
        load_torch_attention(our.self_attn, their.self_attn)
        for ours_name, theirs_name in (("ff.linear1", "linear1"), ("ff.linear2", "linear2"), ("norm1", "norm1"),
                                       ("norm2", "norm2")):
            our.get_submodule(ours_name).load_state_dict(their.get_submodule(theirs_name).state_dict())
    for our, their in zip(ours.decoder_layers, theirs.decoder.layers):
        load_torch_attention(our.self_attn, their.self_attn)
        load_torch_attention(our.cross_attn, their.multihead_attn)
        for ours_name, theirs_name in (("ff.linear1", "linear1"), ("ff.linear2", "linear2"), ("norm1", "norm1"),
                                       ("norm2", "norm2"), ("norm3", "norm3")):
            our.get_submodule(ours_name).load_state_dict(their.get_submodule(theirs_name).state_dict())
    ours.encoder_norm.load_state_dict(theirs.encoder.norm.state_dict())
    ours.decoder_norm.load_state_dict(theirs.decoder.norm.state_dict())
