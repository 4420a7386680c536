"""T5 (Raffel et al., 2020): every problem as text to text, on an encoder-decoder Transformer.

Chapter 8. Built from the course Transformer's pieces: pre-norm ``EncoderLayer``/``DecoderLayer``
given T5's own attention, feed-forward and norm (:func:`t5_pieces`), and the encoder-decoder
interface ``EncoderDecoderLM``. T5 differs from the 2017 model only in a few places, and each
is a swapped piece here:

- no absolute positions: a learned scalar per head and per *relative-distance bucket* is added
  to the attention scores (bidirectional in the encoder, past-only in the decoder); the first
  layer of each stack computes it and every layer reuses it (here: once per stack);
- RMS layer norm: x / sqrt(mean(x^2) + eps) * g, no mean subtracted, no bias; pre-norm layers
  and a final norm after each stack;
- no biases anywhere, and scores are not divided by sqrt(d_k) (T5 folds that into its
  initialisation): ``MultiHeadAttention(bias=False, scale=1.0)``;
- feed-forward 'relu' (the original T5) or 'gated-gelu' (T5 v1.1: (GELU(x W) * x V) W_2);
- one embedding matrix shared by encoder and decoder; the output layer is tied to it (then the
  decoder output is scaled by d_model^-0.5, as Mesh TensorFlow and Hugging Face do) or not (v1.1);
- the decoder starts from the pad token (id 0).

``load_hugging_face_weights`` copies a Hugging Face ``T5ForConditionalGeneration`` state dict in;
nothing is ever downloaded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from course_lib.checkpoints import copy_weights
from course_lib.inputs import check_heads, check_rates, check_sizes
from course_lib.transformer import (DecoderLayer, EncoderDecoderLM, EncoderLayer, FeedForward, LayerConfig,
                                    MultiHeadAttention, TransformerState, causal_mask)

FEED_FORWARDS = ("relu", "gated-gelu")


@dataclass
class T5Config:
    """T5's sizes and choices. The defaults are T5-small (60M parameters)."""

    vocab_size: int = 32128
    d_model: int = 512
    num_heads: int = 8
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    d_ff: int = 2048
    feed_forward: str = "relu"  # or 'gated-gelu' (T5 v1.1)
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout: float = 0.1
    layer_norm_eps: float = 1e-6
    tie_output: bool = True  # output layer = the shared embedding, decoder output scaled by d_model^-0.5
    pad_id: int = 0  # also the decoder's start token
    eos_id: int = 1
    use_sdpa: bool = True  # fused attention kernels; False: the written-out path

    def __post_init__(self) -> None:
        check_sizes(self, "vocab_size", "d_model", "num_heads", "num_encoder_layers", "num_decoder_layers", "d_ff",
                    "relative_attention_num_buckets", "relative_attention_max_distance")
        check_heads(self.d_model, self.num_heads)
        if self.feed_forward not in FEED_FORWARDS:
            raise ValueError(f"unknown feed_forward {self.feed_forward!r}: choose one of {list(FEED_FORWARDS)}")
        if self.relative_attention_num_buckets < 4:
            raise ValueError(f"relative_attention_num_buckets must be at least 4 (the encoder splits them by direction,"
                             f" then into exact and log-spaced halves), got {self.relative_attention_num_buckets}")
        if self.relative_attention_max_distance <= self.relative_attention_num_buckets // 2:
            raise ValueError(f"relative_attention_max_distance {self.relative_attention_max_distance} must exceed half"
                             f" the buckets ({self.relative_attention_num_buckets // 2}): the log-spaced buckets"
                             " cover the distances between the two")
        check_rates(self, "dropout")
        if not self.layer_norm_eps > 0:
            raise ValueError(f"layer_norm_eps must be positive, got {self.layer_norm_eps}")
        for name in ("pad_id", "eos_id"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value < self.vocab_size:
                raise ValueError(f"{name} must be a token id in 0..{self.vocab_size - 1}, got {value!r}")

    @property
    def decoder_start_id(self) -> int:
        """T5 starts decoding from the pad token."""
        return self.pad_id

    @property
    def d_kv(self) -> int:
        return self.d_model // self.num_heads

    @classmethod
    def tiny(cls, vocab_size: int, **overrides) -> T5Config:
        """d_model 32, 4 heads, 2 + 2 layers, 8 buckets up to distance 20: for tests, seconds on a CPU."""
        return cls(vocab_size, **{"d_model": 32, "num_heads": 4, "num_encoder_layers": 2, "num_decoder_layers": 2,
                                  "d_ff": 64, "relative_attention_num_buckets": 8,
                                  "relative_attention_max_distance": 20, "dropout": 0.0, **overrides})

    @classmethod
    def small(cls, vocab_size: int = 32128, **overrides) -> T5Config:
        """T5-small: d_model 512, 8 heads, 6 + 6 layers, d_ff 2048, ReLU, tied output (60M parameters)."""
        return cls(vocab_size, **overrides)

    @classmethod
    def from_hugging_face(cls, config: dict, source: str = "config.json") -> T5Config:
        """Read a Hugging Face T5 ``config.json`` dict (or ``T5Config.to_dict()``); refuses what we cannot build.

        Tying: older files say ``tie_word_embeddings`` (false for v1.1); transformers 5 always
        ties the matrices and records in ``scale_decoder_outputs`` whether the output is scaled,
        which is what a tied T5 does.
        """
        if config.get("model_type") != "t5":
            raise ValueError(f"{source} describes a {config.get('model_type')!r} model, not 't5'")
        required = ("vocab_size", "d_model", "d_ff", "num_layers", "num_heads")
        missing = [key for key in required if key not in config]
        if missing:
            raise ValueError(f"{source} lacks {', '.join(missing)}")
        d_kv = config.get("d_kv", 64)
        if d_kv * config["num_heads"] != config["d_model"]:
            raise ValueError(f"{source}: d_kv {d_kv} x num_heads {config['num_heads']} != d_model {config['d_model']};"
                             " the course's attention gives each head d_model / num_heads dimensions")
        pad_id = config.get("pad_token_id", 0)
        start = config.get("decoder_start_token_id")
        if start is not None and start != pad_id:
            raise ValueError(f"{source}: decoder_start_token_id {start} is not the pad id {pad_id}; T5 starts from pad")
        eos_id = config.get("eos_token_id", 1)
        if isinstance(eos_id, list):
            if len(eos_id) != 1:
                raise ValueError(f"{source}: eos_token_id {eos_id}: one end token is supported")
            eos_id = eos_id[0]
        tie = config.get("scale_decoder_outputs", config.get("tie_word_embeddings", True))
        return cls(vocab_size=config["vocab_size"], d_model=config["d_model"], num_heads=config["num_heads"],
                   num_encoder_layers=config["num_layers"],
                   num_decoder_layers=config.get("num_decoder_layers") or config["num_layers"], d_ff=config["d_ff"],
                   feed_forward=config.get("feed_forward_proj", "relu"),
                   relative_attention_num_buckets=config.get("relative_attention_num_buckets", 32),
                   relative_attention_max_distance=config.get("relative_attention_max_distance", 128),
                   dropout=config.get("dropout_rate", 0.1), layer_norm_eps=config.get("layer_norm_epsilon", 1e-6),
                   tie_output=bool(tie), pad_id=pad_id, eos_id=eos_id)

    def layer_config(self) -> LayerConfig:
        """What T5's layers share with the course Transformer's: sizes, dropout, and pre-norm."""
        return LayerConfig(self.d_model, self.num_heads, self.d_ff, self.dropout, norm_first=True,
                           layer_norm_eps=self.layer_norm_eps, use_sdpa=self.use_sdpa)


# ---------------------------------------------------------------------------------------------
# The pieces T5 changes


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * g: a layer norm without the mean and without the bias.

    The mean of squares is taken in float32 even for half-precision input, as T5 does.
    """

    def __init__(self, d_model: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d_model))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean_square = x.float().pow(2).mean(-1, keepdim=True)
        return self.weight * (x.float() * torch.rsqrt(mean_square + self.eps)).to(x.dtype)


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GELU's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): T5 v1.1's.

    Hugging Face's 'gelu_new', written out in the same operations, so the two agree to the last bit.
    """
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GatedFeedForward(nn.Module):
    """(GELU(x W) * x V) W_2 (Shazeer, 2020), T5 v1.1's 'gated-gelu': the GELU branch gates the linear one.

    GELU is the tanh approximation, :func:`gelu_tanh`. Hugging Face names W, V, W_2 ``wi_0``,
    ``wi_1``, ``wo``.
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.w = nn.Linear(d_model, d_ff, bias=False)
        self.v = nn.Linear(d_model, d_ff, bias=False)
        self.w2 = nn.Linear(d_ff, d_model, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(self.dropout(gelu_tanh(self.w(x)) * self.v(x)))


def t5_feed_forward(config: T5Config) -> nn.Module:
    """'relu': the course's FeedForward without biases; 'gated-gelu': :class:`GatedFeedForward`."""
    if config.feed_forward == "gated-gelu":
        return GatedFeedForward(config.d_model, config.d_ff, config.dropout)
    return FeedForward(config.d_model, config.d_ff, config.dropout, "relu", bias=False)


def t5_attention(config: T5Config) -> MultiHeadAttention:
    """The course's attention without biases and with scores unscaled (scale 1)."""
    return MultiHeadAttention(config.d_model, config.num_heads, config.dropout, bias=False,
                              use_sdpa=config.use_sdpa, scale=1.0)


def relative_position_bucket(relative_position: torch.Tensor, bidirectional: bool, num_buckets: int,
                             max_distance: int) -> torch.Tensor:
    """Bucket of each relative position (key position - query position), in 0..num_buckets-1.

    Bidirectional (encoder): half the buckets for keys before the query, half for keys after.
    Causal (decoder): only the past counts; keys after the query (masked anyway) share bucket 0.
    Within a direction, distances below ``max_exact`` (half the buckets) get one bucket each;
    longer ones share log-spaced buckets up to ``max_distance``, beyond which all share the last.
    """
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
    else:
        distance = (-relative_position).clamp(min=0)
    max_exact = num_buckets // 2
    # the same float operations as Mesh TensorFlow and Hugging Face, so a distance on a bucket
    # boundary lands where theirs does
    log_spaced = max_exact + (torch.log(distance.clamp(min=max_exact).float() / max_exact)
                              / math.log(max_distance / max_exact) * (num_buckets - max_exact)).long()
    log_spaced = log_spaced.clamp(max=num_buckets - 1)
    return buckets + torch.where(distance < max_exact, distance, log_spaced)


class RelativePositionBias(nn.Module):
    """A learned scalar per head and bucket, added to the attention scores: (1, heads, L_query, L_key)."""

    def __init__(self, config: T5Config, bidirectional: bool):
        super().__init__()
        self.bidirectional = bidirectional
        self.num_buckets = config.relative_attention_num_buckets
        self.max_distance = config.relative_attention_max_distance
        self.relative_attention_bias = nn.Embedding(self.num_buckets, config.num_heads)

    def forward(self, query_length: int, key_length: int, offset: int = 0) -> torch.Tensor:
        """Queries at positions offset..offset+query_length-1 over keys at 0..key_length-1."""
        device = self.relative_attention_bias.weight.device
        query = torch.arange(query_length, device=device)[:, None] + offset
        key = torch.arange(key_length, device=device)[None, :]
        buckets = relative_position_bucket(key - query, self.bidirectional, self.num_buckets, self.max_distance)
        return self.relative_attention_bias(buckets).permute(2, 0, 1)[None]  # (1, h, Lq, Lk)


def t5_pieces(config: T5Config) -> dict:
    """T5's pieces for the course's ``EncoderLayer`` and ``DecoderLayer``: ``layer(config.layer_config(), **pieces)``.

    The relative position bias reaches the attention through the (float) mask, added to the
    scores; cross-attention has none.
    """
    return {"attention": partial(t5_attention, config), "feed_forward": partial(t5_feed_forward, config),
            "norm": partial(RMSNorm, config.d_model, config.layer_norm_eps)}


# ---------------------------------------------------------------------------------------------
# The model


class T5ForConditionalGeneration(EncoderDecoderLM):
    """T5 with its language-model head: ``forward(input_ids, attention_mask, decoder_input_ids) -> logits``.

    Works with ``course_lib.decoding`` (``encode``, ``decode_step``, ``reorder_state``; pass
    ``bos_id=0, eos_id=1, pad_id=0``: T5 starts from pad). Decoding keeps a key/value cache;
    ``kv_cache = False`` re-reads the whole prefix at every step instead (same tokens, slower).
    """

    def __init__(self, config: T5Config):
        super().__init__()
        self.config = config
        d = config.d_model
        self.shared = nn.Embedding(config.vocab_size, d)
        self.encoder_position_bias = RelativePositionBias(config, bidirectional=True)
        self.decoder_position_bias = RelativePositionBias(config, bidirectional=False)
        layer, pieces = config.layer_config(), t5_pieces(config)
        self.encoder_layers = nn.ModuleList(EncoderLayer(layer, **pieces) for _ in range(config.num_encoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(layer, **pieces) for _ in range(config.num_decoder_layers))
        self.encoder_norm = RMSNorm(d, config.layer_norm_eps)
        self.decoder_norm = RMSNorm(d, config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)
        self.lm_head = nn.Linear(d, config.vocab_size, bias=False)
        self.kv_cache = True
        self.init_weights()
        if config.tie_output:
            self.lm_head.weight = self.shared.weight

    def init_weights(self) -> None:
        """T5's initialisation (Mesh TensorFlow): N(0, 1) embeddings, and each matrix with std 1/sqrt(fan-in),
        the query's also divided by sqrt(d_k): the 1/sqrt(d_k) the scores do not get."""
        d, d_kv = self.config.d_model, self.config.d_kv
        with torch.no_grad():
            nn.init.normal_(self.shared.weight, std=1.0)
            nn.init.normal_(self.lm_head.weight, std=1.0)
            for bias in (self.encoder_position_bias, self.decoder_position_bias):
                nn.init.normal_(bias.relative_attention_bias.weight, std=d ** -0.5)
            for module in self.modules():
                if isinstance(module, MultiHeadAttention):
                    nn.init.normal_(module.q_proj.weight, std=(d * d_kv) ** -0.5)
                    for projection in (module.k_proj, module.v_proj, module.out_proj):
                        nn.init.normal_(projection.weight, std=d ** -0.5)
                elif isinstance(module, (FeedForward, GatedFeedForward)):
                    for linear in module.children():
                        if isinstance(linear, nn.Linear):
                            nn.init.normal_(linear.weight, std=linear.in_features ** -0.5)

    # -- pieces -------------------------------------------------------------------------------

    def run_encoder(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token ids (B, S) with ``mask`` (B, S) True at real tokens -> encoder output (B, S, d)."""
        x = self.dropout(self.shared(input_ids))
        S = input_ids.size(1)
        # relative position bias, computed once for the stack, with -inf at padded keys: (B, h, S, S)
        scores_mask = torch.where(mask[:, None, None, :], self.encoder_position_bias(S, S), float("-inf"))
        for layer in self.encoder_layers:
            x, _ = layer(x, scores_mask)
        return self.dropout(self.encoder_norm(x))

    def run_decoder(self, decoder_input_ids: torch.Tensor, memory: torch.Tensor,
                    memory_mask: torch.Tensor) -> torch.Tensor:
        """The decoder stack on ids (B, T) over the encoder output (B, S, d); memory_mask (B, 1, 1, S)."""
        y = self.dropout(self.shared(decoder_input_ids))
        T = decoder_input_ids.size(1)
        self_mask = torch.where(causal_mask(T, y.device), self.decoder_position_bias(T, T), float("-inf"))
        for layer in self.decoder_layers:
            y, _, _, _ = layer(y, memory, self_mask, memory_mask)
        return self.dropout(self.decoder_norm(y))

    def logits(self, y: torch.Tensor) -> torch.Tensor:
        """Decoder output (..., d) -> logits (..., V); a tied head first scales by d_model^-0.5."""
        if self.config.tie_output:
            y = y * self.config.d_model ** -0.5
        return self.lm_head(y)

    # -- decoding -----------------------------------------------------------------------------

    def cached_step(self, prev_tokens: torch.Tensor, t: int, state: TransformerState) -> tuple[torch.Tensor, list]:
        """Position t-1 through the decoder, reading the cached keys and values of 0..t-2."""
        y = self.dropout(self.shared(prev_tokens[:, None]))  # (B, 1, d): the new position only
        self_mask = self.decoder_position_bias(1, t, offset=t - 1)  # (1, h, 1, t): position t-1 over 0..t-1
        caches = []
        for layer, cache in zip(self.decoder_layers, state.caches):
            y, _, _, cache = layer(y, None, self_mask, state.memory_mask, cache=cache)
            caches.append(cache)
        return self.dropout(self.decoder_norm(y)), caches


# ---------------------------------------------------------------------------------------------
# Hugging Face weights


def _hugging_face_names(config: T5Config) -> dict[str, str]:
    """Our parameter name -> Hugging Face T5ForConditionalGeneration's."""
    names = {
        "shared.weight": "shared.weight",
        "encoder_position_bias.relative_attention_bias.weight":
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        "decoder_position_bias.relative_attention_bias.weight":
            "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        "encoder_norm.weight": "encoder.final_layer_norm.weight",
        "decoder_norm.weight": "decoder.final_layer_norm.weight",
    }
    if not config.tie_output:
        names["lm_head.weight"] = "lm_head.weight"
    attention = {"q_proj": "q", "k_proj": "k", "v_proj": "v", "out_proj": "o"}
    ff = ({"w": "wi_0", "v": "wi_1", "w2": "wo"} if config.feed_forward == "gated-gelu"
          else {"linear1": "wi", "linear2": "wo"})
    self_attention, cross_attention = ("self_attn", "SelfAttention"), ("cross_attn", "EncDecAttention")
    stacks = (("encoder", config.num_encoder_layers, (self_attention,)),
              ("decoder", config.num_decoder_layers, (self_attention, cross_attention)))
    for stack, num_layers, attentions in stacks:
        for i in range(num_layers):
            ours, theirs = f"{stack}_layers.{i}", f"{stack}.block.{i}.layer"
            for sub, (our_attention, their_attention) in enumerate(attentions):
                for our_proj, their_proj in attention.items():
                    their_name = f"{theirs}.{sub}.{their_attention}.{their_proj}.weight"
                    names[f"{ours}.{our_attention}.{our_proj}.weight"] = their_name
                names[f"{ours}.norm{sub + 1}.weight"] = f"{theirs}.{sub}.layer_norm.weight"
            sub = len(attentions)  # the feed-forward sublayer comes last
            for our_linear, their_linear in ff.items():
                names[f"{ours}.ff.{our_linear}.weight"] = f"{theirs}.{sub}.DenseReluDense.{their_linear}.weight"
            names[f"{ours}.norm{sub + 1}.weight"] = f"{theirs}.{sub}.layer_norm.weight"
    return names


def load_hugging_face_weights(model: T5ForConditionalGeneration, state: dict[str, torch.Tensor],
                              source: str = "the state dict") -> None:
    """Copy a Hugging Face ``T5ForConditionalGeneration`` state dict into ``model``.

    Keys Hugging Face keeps twice (``encoder.embed_tokens``, ``decoder.embed_tokens``, and
    ``lm_head`` when tied) are the shared embedding; other extra keys are ignored.
    """
    hint = ""
    if model.config.feed_forward == "relu" and any(".DenseReluDense.wi_0." in key for key in state):
        hint = " (it has a gated feed-forward: build the model with feed_forward='gated-gelu')"
    elif model.config.feed_forward == "gated-gelu" and any(".DenseReluDense.wi." in key for key in state):
        hint = " (its feed-forward is not gated: build the model with feed_forward='relu')"
    copy_weights(model, state, _hugging_face_names(model.config), source=source, hint=hint,
                 expected="a T5ForConditionalGeneration state dict matching the config")
