"""Copying weights from another implementation into a course model, parameter by parameter.

BERT (chapter 7), T5 and BART (chapter 8) each map their parameter names to Hugging Face's
(``_hugging_face_names`` in their modules); ``copy_weights`` is the check-and-copy they share,
so a wrong checkpoint fails with the key or the shape that is wrong, never inside torch.
``load_torch_attention`` and ``load_torch_transformer`` copy PyTorch's own modules into the
course Transformer, for the tests against them and the speed benchmark.
"""
from __future__ import annotations

import torch
from torch import nn

from course_lib.transformer import MultiHeadAttention, Transformer


def copy_weights(model: nn.Module, state: dict[str, torch.Tensor], names: dict[str, str], *, source: str,
                 expected: str, hint: str = "") -> None:
    """Copy ``state[theirs]`` into each of ``model``'s parameters ``ours`` for ``names = {ours: theirs}``.

    A missing key is a ValueError naming it (and ``hint``) and what ``source`` should have been
    (``expected``); a shape that differs is a ValueError naming the key and both shapes.
    """
    missing = [theirs for theirs in names.values() if theirs not in state]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"{source} lacks {shown}{hint}: is it {expected}?")
    ours = dict(model.named_parameters())
    with torch.no_grad():
        for our_name, their_name in names.items():
            value = state[their_name]
            if value.shape != ours[our_name].shape:
                raise ValueError(f"{source}: {their_name} has shape {tuple(value.shape)}, the config implies"
                                 f" {tuple(ours[our_name].shape)}")
            ours[our_name].copy_(value)


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
