"""BERT (Devlin et al., 2019): the Transformer's encoder, pre-trained on problems made from raw text.

Chapter 7. Built from the course Transformer's pieces: BERT's layers are post-norm
``EncoderLayer``s with GELU. What BERT adds is around them:

- embeddings = token + segment (sentence A or B) + learned position, then LayerNorm and dropout;
- a pooler: tanh(W h_[CLS] + b), the sentence-level vector the next-sentence head reads;
- pre-training heads: a masked-LM head whose output matrix is the token embedding matrix
  (tied), and a next-sentence head, a 2-way classifier on the pooled [CLS] vector; its class 1
  is "B follows A", as in the study notes, where BERT's own code and Hugging Face use 0.

``BertModel.from_pretrained(folder)`` reads a Hugging Face checkpoint folder on disk
(config.json and model.safetensors); nothing is ever downloaded.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.checkpoints import copy_weights
from course_lib.inputs import check_heads, check_sizes, check_token_ids
from course_lib.transformer import EncoderLayer, LayerConfig, normal_init


@dataclass
class BertConfig:
    """BERT's sizes. L = ``num_layers``, H = ``hidden_size``, A = ``num_heads`` in the paper's notation."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position: int = 512
    type_vocab_size: int = 2
    dropout: float = 0.1
    layer_norm_eps: float = 1e-12
    pad_id: int = 0

    def __post_init__(self) -> None:
        check_sizes(self, "vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size", "max_position",
                    "type_vocab_size")
        check_heads(self.hidden_size, self.num_heads, width="hidden_size")

    @classmethod
    def base(cls, vocab_size: int = 30522) -> BertConfig:
        """BERT-base: L=12, H=768, A=12 (the paper's 110M parameters)."""
        return cls(vocab_size, 768, 12, 12, 3072)

    @classmethod
    def large(cls, vocab_size: int = 30522) -> BertConfig:
        """BERT-large: L=24, H=1024, A=16 (the paper's 340M parameters)."""
        return cls(vocab_size, 1024, 24, 16, 4096)

    @classmethod
    def tiny(cls, vocab_size: int, **overrides) -> BertConfig:
        """L=2, H=64, A=4: pre-trains on a CPU in a minute."""
        return cls(vocab_size, **{"hidden_size": 64, "num_layers": 2, "num_heads": 4, "intermediate_size": 256,
                                  "max_position": 128, **overrides})

    @classmethod
    def from_hugging_face(cls, config: dict, source: str = "config.json") -> BertConfig:
        """Read a Hugging Face ``config.json`` dict; refuses another architecture, naming it."""
        if config.get("model_type") != "bert":
            raise ValueError(f"{source} describes a {config.get('model_type')!r} model, not 'bert'")
        activation, positions = config.get("hidden_act", "gelu"), config.get("position_embedding_type", "absolute")
        if activation != "gelu" or positions != "absolute":
            raise ValueError(f"{source}: only hidden_act 'gelu' and absolute positions are supported, got"
                             f" {activation!r} and {positions!r}")
        keys = {"vocab_size": "vocab_size", "hidden_size": "hidden_size", "num_layers": "num_hidden_layers",
                "num_heads": "num_attention_heads", "intermediate_size": "intermediate_size",
                "max_position": "max_position_embeddings", "type_vocab_size": "type_vocab_size",
                "dropout": "hidden_dropout_prob", "layer_norm_eps": "layer_norm_eps", "pad_id": "pad_token_id"}
        missing = [theirs for theirs in keys.values() if theirs not in config and theirs != "pad_token_id"]
        if missing:
            raise ValueError(f"{source} lacks {', '.join(missing)}")
        return cls(**{ours: config[theirs] for ours, theirs in keys.items() if theirs in config})

    def layer_config(self) -> LayerConfig:
        """One BERT layer: the course's post-norm encoder layer with GELU."""
        return LayerConfig(self.hidden_size, self.num_heads, self.intermediate_size, self.dropout, "gelu",
                           norm_first=False, layer_norm_eps=self.layer_norm_eps)


class BertEmbeddings(nn.Module):
    """token + segment + position embeddings, summed, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.word = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_id)
        self.position = nn.Embedding(config.max_position, config.hidden_size)
        self.token_type = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = self.position.weight[: input_ids.size(1)]  # (L, H)
        return self.dropout(self.norm(self.word(input_ids) + self.token_type(token_type_ids) + positions))


@dataclass
class BertOutput:
    last_hidden_state: torch.Tensor  # (B, L, H)
    pooled: torch.Tensor  # (B, H): tanh(W h_[CLS] + b)
    attentions: list[torch.Tensor] | None = None  # per layer (B, heads, L, L), when asked for


class BertModel(nn.Module):
    """The encoder: embeddings, ``num_layers`` post-norm encoder layers, and the pooler."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        layer_config = config.layer_config()
        self.layers = nn.ModuleList(EncoderLayer(layer_config) for _ in range(config.num_layers))
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)
        self.apply(normal_init)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, need_weights: bool = False) -> BertOutput:
        """input_ids (B, L); attention_mask (B, L), 1/True at real tokens; token_type_ids (B, L), 0 or 1."""
        self._check(input_ids, attention_mask, token_type_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        mask = None if attention_mask is None else attention_mask.bool()[:, None, None, :]  # (B, 1, 1, L)
        x = self.embeddings(input_ids, token_type_ids)
        attentions = [] if need_weights else None
        for layer in self.layers:
            x, weights = layer(x, mask, need_weights)
            if need_weights:
                attentions.append(weights)
        pooled = torch.tanh(self.pooler(x[:, 0]))  # the [CLS] position
        return BertOutput(x, pooled, attentions)

    def _check(self, input_ids, attention_mask, token_type_ids) -> None:
        check_token_ids("input_ids", input_ids, self.config.vocab_size)
        if input_ids.size(1) > self.config.max_position:
            raise ValueError(f"input of {input_ids.size(1)} tokens is longer than the model's max_position"
                             f" {self.config.max_position}: truncate it (encode(..., truncate=True)) or split it")
        for name, other in (("attention_mask", attention_mask), ("token_type_ids", token_type_ids)):
            if other is not None and other.shape != input_ids.shape:
                raise ValueError(f"{name} {tuple(other.shape)} must have input_ids' shape {tuple(input_ids.shape)}")

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> BertModel:
        """A Hugging Face BERT checkpoint folder on disk (config.json + model.safetensors) as a course model."""
        config, state = read_checkpoint(folder)
        model = cls(config)
        load_hugging_face_weights(model, state, source=str(Path(folder) / "model.safetensors"))
        return model.eval()


class BertForPreTraining(nn.Module):
    """BERT with both pre-training heads: masked LM (tied to the token embeddings) and next sentence."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        H = config.hidden_size
        self.mlm_transform = nn.Sequential(nn.Linear(H, H), nn.GELU(), nn.LayerNorm(H, eps=config.layer_norm_eps))
        self.mlm_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.nsp = nn.Linear(H, 2)
        self.mlm_transform.apply(normal_init)
        self.nsp.apply(normal_init)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None,
                predict_at: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """MLM logits (B, L, V) and NSP logits (B, 2) (class 1: B follows A).

        The NSP classes follow the study notes: 1 = IsNext, 0 = NotNext. BERT's reference code and
        Hugging Face's ``BertForPreTraining`` use the opposite labels (0 = IsNext), so with their
        weights the two NSP logits come in the other order.

        With ``predict_at``, a bool (B, L) mask, the MLM logits are computed only at those
        positions, (N, V) in row-major order: training needs them only at the masked tokens,
        and the vocabulary-sized output layer is the costliest matrix multiply of a small BERT.
        """
        out = self.bert(input_ids, attention_mask, token_type_ids)
        hidden = out.last_hidden_state
        if predict_at is not None:
            if predict_at.shape != input_ids.shape or predict_at.dtype != torch.bool:
                raise ValueError(f"predict_at must be a bool mask shaped like input_ids {tuple(input_ids.shape)},"
                                 f" got {predict_at.dtype} {tuple(predict_at.shape)}")
            hidden = hidden[predict_at]
        mlm = F.linear(self.mlm_transform(hidden), self.bert.embeddings.word.weight, self.mlm_bias)
        return mlm, self.nsp(out.pooled)


def pretraining_loss(mlm_logits: torch.Tensor, nsp_logits: torch.Tensor, mlm_labels: torch.Tensor,
                     nsp_labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of the masked tokens (labels -100 elsewhere) and of the next-sentence labels.

    ``mlm_logits`` (B, L, V) with labels (B, L), or (N, V) with labels (N,) from ``predict_at``.
    """
    mlm = F.cross_entropy(mlm_logits.reshape(-1, mlm_logits.size(-1)), mlm_labels.reshape(-1), ignore_index=-100)
    return mlm, F.cross_entropy(nsp_logits, nsp_labels)


# ---------------------------------------------------------------------------------------------
# Reading Hugging Face checkpoints


def read_checkpoint(folder: str | Path) -> tuple[BertConfig, dict[str, torch.Tensor]]:
    """config.json and model.safetensors of a checkpoint folder, with errors that name the file."""
    from safetensors.torch import load_file

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"checkpoint folder {folder} does not exist")
    config_path, weights_path = folder / "config.json", folder / "model.safetensors"
    for path in (config_path, weights_path):
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint folder {folder} has no {path.name}: a Hugging Face BERT folder"
                                    " holds config.json and model.safetensors")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{config_path} is not valid JSON: {error}") from None
    return BertConfig.from_hugging_face(config, str(config_path)), load_file(str(weights_path))


def _hugging_face_names(config: BertConfig) -> dict[str, str]:
    """Our parameter name -> Hugging Face's, for every parameter of BertModel."""
    names = {
        "embeddings.word.weight": "embeddings.word_embeddings.weight",
        "embeddings.position.weight": "embeddings.position_embeddings.weight",
        "embeddings.token_type.weight": "embeddings.token_type_embeddings.weight",
        "embeddings.norm.weight": "embeddings.LayerNorm.weight",
        "embeddings.norm.bias": "embeddings.LayerNorm.bias",
        "pooler.weight": "pooler.dense.weight",
        "pooler.bias": "pooler.dense.bias",
    }
    parts = {"self_attn.q_proj": "attention.self.query", "self_attn.k_proj": "attention.self.key",
             "self_attn.v_proj": "attention.self.value", "self_attn.out_proj": "attention.output.dense",
             "norm1": "attention.output.LayerNorm", "ff.linear1": "intermediate.dense",
             "ff.linear2": "output.dense", "norm2": "output.LayerNorm"}
    for i in range(config.num_layers):
        for ours, theirs in parts.items():
            for kind in ("weight", "bias"):
                names[f"layers.{i}.{ours}.{kind}"] = f"encoder.layer.{i}.{theirs}.{kind}"
    return names


def load_hugging_face_weights(model: BertModel, state: dict[str, torch.Tensor], source: str = "the checkpoint") -> None:
    """Copy a Hugging Face BertModel state dict (with or without a 'bert.' prefix) into ``model``."""
    if any(key.startswith("bert.") for key in state):
        state = {key[len("bert."):]: value for key, value in state.items() if key.startswith("bert.")}
    copy_weights(model, state, _hugging_face_names(model.config), source=source,
                 expected="a BERT checkpoint matching its config.json")

