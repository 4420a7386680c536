"""BART (Lewis et al., 2020): a denoising autoencoder, an encoder-decoder Transformer pre-trained to rebuild text.

Chapter 8. BART's layers are the course Transformer's post-norm ``EncoderLayer`` and
``DecoderLayer`` with GELU, unchanged. What BART adds is around them:

- learned positions, one table per stack, read from row 2 on: Hugging Face keeps fairseq's
  offset of 2 (rows 0 and 1 are unused), so a checkpoint's table has ``max_position + 2`` rows;
- token embeddings (multiplied by sqrt(d_model) if ``scale_embedding``) plus positions, then a
  layer norm (``layernorm_embedding``) and dropout;
- one embedding matrix shared by encoder, decoder and the output layer, and a fixed
  ``final_logits_bias`` added to the logits;
- special tokens <s>=0, <pad>=1, </s>=2; the decoder starts from </s> (id 2), and
  ``shift_tokens_right`` makes the decoder input from the labels.

``load_hugging_face_weights`` copies a Hugging Face ``BartForConditionalGeneration`` state dict
in; nothing is ever downloaded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from course_lib.checkpoints import copy_weights
from course_lib.inputs import check_heads, check_rates, check_sizes
from course_lib.transformer import (ACTIVATIONS, DecoderLayer, EncoderDecoderLM, EncoderLayer, LayerConfig,
                                    LearnedPositionalEncoding, TransformerState, causal_mask, normal_init)

POSITION_OFFSET = 2  # Hugging Face's BartLearnedPositionalEmbedding reads position p from row p + 2


@dataclass
class BartConfig:
    """BART's sizes and choices. The defaults are BART-base (140M parameters)."""

    vocab_size: int = 50265
    d_model: int = 768
    encoder_layers: int = 6
    decoder_layers: int = 6
    encoder_heads: int = 12
    decoder_heads: int = 12
    encoder_ffn_dim: int = 3072
    decoder_ffn_dim: int = 3072
    max_position: int = 1024
    activation: str = "gelu"
    dropout: float = 0.1  # embeddings and residual branches
    attention_dropout: float = 0.0  # attention weights
    activation_dropout: float = 0.0  # inside the feed-forward network
    scale_embedding: bool = False  # multiply token embeddings by sqrt(d_model)
    pad_id: int = 1
    bos_id: int = 0
    eos_id: int = 2
    decoder_start_id: int = 2
    use_sdpa: bool = True  # fused attention kernels; False: the written-out path

    def __post_init__(self) -> None:
        check_sizes(self, "vocab_size", "d_model", "encoder_layers", "decoder_layers", "encoder_heads",
                    "decoder_heads", "encoder_ffn_dim", "decoder_ffn_dim", "max_position")
        for name in ("encoder_heads", "decoder_heads"):
            check_heads(self.d_model, getattr(self, name), heads=name)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}: choose one of {sorted(ACTIVATIONS)}")
        check_rates(self, "dropout", "attention_dropout", "activation_dropout")
        for name in ("pad_id", "bos_id", "eos_id", "decoder_start_id"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value < self.vocab_size:
                raise ValueError(f"{name} must be a token id in 0..{self.vocab_size - 1}, got {value!r}")

    @classmethod
    def tiny(cls, vocab_size: int, **overrides) -> BartConfig:
        """d_model 32, 4 heads, 2 + 2 layers, feed-forward 64, 64 positions: for tests, seconds on a CPU."""
        return cls(vocab_size, **{"d_model": 32, "encoder_layers": 2, "decoder_layers": 2, "encoder_heads": 4,
                                  "decoder_heads": 4, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64,
                                  "max_position": 64, "dropout": 0.0, **overrides})

    @classmethod
    def base(cls, vocab_size: int = 50265, **overrides) -> BartConfig:
        """BART-base: d_model 768, 6 + 6 layers, 12 heads, feed-forward 3072."""
        return cls(vocab_size, **overrides)

    @classmethod
    def large(cls, vocab_size: int = 50265, **overrides) -> BartConfig:
        """BART-large: d_model 1024, 12 + 12 layers, 16 heads, feed-forward 4096."""
        return cls(vocab_size, **{"d_model": 1024, "encoder_layers": 12, "decoder_layers": 12, "encoder_heads": 16,
                                  "decoder_heads": 16, "encoder_ffn_dim": 4096, "decoder_ffn_dim": 4096, **overrides})

    @classmethod
    def from_hugging_face(cls, config: dict, source: str = "config.json") -> BartConfig:
        """Read a Hugging Face BART ``config.json`` dict (or ``BartConfig.to_dict()``); refuses what we cannot build."""
        if config.get("model_type") != "bart":
            raise ValueError(f"{source} describes a {config.get('model_type')!r} model, not 'bart'")
        keys = {"vocab_size": "vocab_size", "d_model": "d_model", "encoder_layers": "encoder_layers",
                "decoder_layers": "decoder_layers", "encoder_heads": "encoder_attention_heads",
                "decoder_heads": "decoder_attention_heads", "encoder_ffn_dim": "encoder_ffn_dim",
                "decoder_ffn_dim": "decoder_ffn_dim", "max_position": "max_position_embeddings"}
        missing = [theirs for theirs in keys.values() if theirs not in config]
        if missing:
            raise ValueError(f"{source} lacks {', '.join(missing)}")
        # flags of older BART/mBART configs that change the architecture
        for flag, plain in (("normalize_before", False), ("add_final_layer_norm", False),
                            ("normalize_embedding", True), ("static_position_embeddings", False)):
            if config.get(flag, plain) != plain:
                raise ValueError(f"{source}: {flag}={config[flag]} is not BART's layout (BART has {flag}={plain})")
        if config.get("tie_word_embeddings", True) is False:
            raise ValueError(f"{source}: tie_word_embeddings=false; BART's output layer is its embedding matrix"
                             " (an untied one is not supported)")
        optional = {"activation": ("activation_function", "gelu"), "dropout": ("dropout", 0.1),
                    "attention_dropout": ("attention_dropout", 0.0), "activation_dropout": ("activation_dropout", 0.0),
                    "scale_embedding": ("scale_embedding", False),
                    "pad_id": ("pad_token_id", 1), "bos_id": ("bos_token_id", 0), "eos_id": ("eos_token_id", 2),
                    "decoder_start_id": ("decoder_start_token_id", 2)}
        values = {ours: config[theirs] for ours, theirs in keys.items()}
        for ours, (theirs, default) in optional.items():
            values[ours] = default if config.get(theirs) is None else config[theirs]
        return cls(**values)

    def layer_config(self, stack: str) -> LayerConfig:
        """One stack's layers ('encoder' or 'decoder'): the course's post-norm layers (LayerNorm eps 1e-5), with
        BART's own dropout rates on the attention weights and inside the feed-forward network."""
        heads, ffn = (self.encoder_heads, self.encoder_ffn_dim) if stack == "encoder" else (self.decoder_heads,
                                                                                             self.decoder_ffn_dim)
        return LayerConfig(self.d_model, heads, ffn, self.dropout, self.activation, norm_first=False,
                           use_sdpa=self.use_sdpa, attention_dropout=self.attention_dropout,
                           activation_dropout=self.activation_dropout)


def shift_tokens_right(labels: torch.Tensor, pad_id: int, decoder_start_id: int) -> torch.Tensor:
    """The decoder input for ``labels`` (B, T): the start token, then the labels but the last.

    Positions the loss ignores (label -100) become pad: the decoder must be fed real ids.
    """
    if labels.dim() != 2:
        raise ValueError(f"labels must be (batch, length), got {tuple(labels.shape)}")
    shifted = labels.new_empty(labels.shape)
    shifted[:, 0] = decoder_start_id
    shifted[:, 1:] = labels[:, :-1]
    return shifted.masked_fill(shifted == -100, pad_id)


class BartForConditionalGeneration(EncoderDecoderLM):
    """BART with its language-model head: ``forward(input_ids, attention_mask, decoder_input_ids) -> logits``.

    Works with ``course_lib.decoding`` (``encode``, ``decode_step``, ``reorder_state``; pass
    ``bos_id=2, eos_id=2, pad_id=1``: BART starts from </s>). Decoding keeps a key/value cache;
    ``kv_cache = False`` re-reads the whole prefix at every step instead (same tokens, slower).
    """

    def __init__(self, config: BartConfig):
        super().__init__()
        self.config = config
        d = config.d_model
        self.shared = nn.Embedding(config.vocab_size, d, padding_idx=config.pad_id)
        self.encoder_positions = LearnedPositionalEncoding(d, config.max_position + POSITION_OFFSET)
        self.decoder_positions = LearnedPositionalEncoding(d, config.max_position + POSITION_OFFSET)
        self.encoder_embedding_norm, self.decoder_embedding_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.encoder_layers = nn.ModuleList(EncoderLayer(config.layer_config("encoder"))
                                            for _ in range(config.encoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(config.layer_config("decoder"))
                                            for _ in range(config.decoder_layers))
        self.dropout = nn.Dropout(config.dropout)
        self.embed_scale = math.sqrt(d) if config.scale_embedding else 1.0
        self.lm_head = nn.Linear(d, config.vocab_size, bias=False)
        self.register_buffer("final_logits_bias", torch.zeros(1, config.vocab_size))
        self.kv_cache = True
        self.apply(normal_init)  # BERT's: N(0, 0.02), zero biases and padding row
        self.lm_head.weight = self.shared.weight  # tied: one matrix embeds tokens and scores them

    # -- pieces -------------------------------------------------------------------------------

    def embed(self, ids: torch.Tensor, positions: LearnedPositionalEncoding, norm: nn.LayerNorm,
              offset: int = 0) -> torch.Tensor:
        """Tokens (B, L) at positions offset.. -> norm(scale * token + position), dropped out: (B, L, d)."""
        length = offset + ids.size(1)
        if length > self.config.max_position:
            raise ValueError(f"a sequence of {length} positions is longer than the model's max_position"
                             f" {self.config.max_position}: shorten it")
        x = self.shared(ids) * self.embed_scale + positions(ids.size(1), offset + POSITION_OFFSET)
        return self.dropout(norm(x))

    def run_encoder(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token ids (B, S) with ``mask`` (B, S) True at real tokens -> encoder output (B, S, d)."""
        x = self.embed(input_ids, self.encoder_positions, self.encoder_embedding_norm)
        for layer in self.encoder_layers:
            x, _ = layer(x, mask[:, None, None, :])
        return x

    def run_decoder(self, decoder_input_ids: torch.Tensor, memory: torch.Tensor,
                    memory_mask: torch.Tensor) -> torch.Tensor:
        """The decoder stack on ids (B, T) over the encoder output (B, S, d); memory_mask (B, 1, 1, S)."""
        y = self.embed(decoder_input_ids, self.decoder_positions, self.decoder_embedding_norm)
        self_mask = causal_mask(decoder_input_ids.size(1), y.device)
        for layer in self.decoder_layers:
            y, _, _, _ = layer(y, memory, self_mask, memory_mask)
        return y

    def logits(self, y: torch.Tensor) -> torch.Tensor:
        """Decoder output (..., d) -> logits (..., V), with ``final_logits_bias`` added."""
        return self.lm_head(y) + self.final_logits_bias[0]

    # -- decoding -----------------------------------------------------------------------------

    def cached_step(self, prev_tokens: torch.Tensor, t: int, state: TransformerState) -> tuple[torch.Tensor, list]:
        """Position t-1 through the decoder, reading the cached keys and values of 0..t-2."""
        y = self.embed(prev_tokens[:, None], self.decoder_positions, self.decoder_embedding_norm, offset=t - 1)
        caches = []
        for layer, cache in zip(self.decoder_layers, state.caches):
            y, _, _, cache = layer(y, None, None, state.memory_mask, cache=cache)  # attends to all past positions
            caches.append(cache)
        return y, caches


# ---------------------------------------------------------------------------------------------
# Hugging Face weights


def _hugging_face_names(config: BartConfig) -> dict[str, str]:
    """Our parameter name -> Hugging Face BartForConditionalGeneration's."""
    names = {"shared.weight": "model.shared.weight"}
    for stack in ("encoder", "decoder"):
        names[f"{stack}_positions.embedding.weight"] = f"model.{stack}.embed_positions.weight"
        for kind in ("weight", "bias"):
            names[f"{stack}_embedding_norm.{kind}"] = f"model.{stack}.layernorm_embedding.{kind}"
    parts = {"encoder": {"self_attn": "self_attn", "norm1": "self_attn_layer_norm", "ff.linear1": "fc1",
                         "ff.linear2": "fc2", "norm2": "final_layer_norm"},
             "decoder": {"self_attn": "self_attn", "norm1": "self_attn_layer_norm", "cross_attn": "encoder_attn",
                         "norm2": "encoder_attn_layer_norm", "ff.linear1": "fc1", "ff.linear2": "fc2",
                         "norm3": "final_layer_norm"}}
    for stack, num_layers in (("encoder", config.encoder_layers), ("decoder", config.decoder_layers)):
        for i in range(num_layers):
            for ours, theirs in parts[stack].items():
                modules = ([(f"{ours}.{p}", f"{theirs}.{p}") for p in ("q_proj", "k_proj", "v_proj", "out_proj")]
                           if ours.endswith("attn") else [(ours, theirs)])
                for our_module, their_module in modules:
                    for kind in ("weight", "bias"):
                        their_name = f"model.{stack}.layers.{i}.{their_module}.{kind}"
                        names[f"{stack}_layers.{i}.{our_module}.{kind}"] = their_name
    return names


def load_hugging_face_weights(model: BartForConditionalGeneration, state: dict[str, torch.Tensor],
                              source: str = "the state dict") -> None:
    """Copy a Hugging Face ``BartForConditionalGeneration`` state dict (or a ``BartModel`` one, without the
    'model.' prefix) into ``model``.

    ``final_logits_bias`` is optional (zeros when absent, as Hugging Face does); the copies of the
    shared embedding (``encoder.embed_tokens``, ``decoder.embed_tokens``, ``lm_head``) and other
    extra keys are ignored.
    """
    if not any(key.startswith("model.") for key in state):
        state = {f"model.{key}": value for key, value in state.items()}
    copy_weights(model, state, _hugging_face_names(model.config), source=source,
                 expected="a BartForConditionalGeneration state dict matching the config")
    with torch.no_grad():
        bias = state.get("final_logits_bias", state.get("model.final_logits_bias"))
        if bias is None:
            model.final_logits_bias.zero_()
        elif bias.shape != model.final_logits_bias.shape:
            raise ValueError(f"{source}: final_logits_bias has shape {tuple(bias.shape)}, the config implies"
                             f" {tuple(model.final_logits_bias.shape)}")
        else:
            model.final_logits_bias.copy_(bias)
