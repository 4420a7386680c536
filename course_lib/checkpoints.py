"""Copying a Hugging Face state dict into a course model, parameter by parameter.

BERT (chapter 7), T5 and BART (chapter 8) each map their parameter names to Hugging Face's
(``_hugging_face_names`` in their modules); this is the check-and-copy they share, so a wrong
checkpoint fails with the key or the shape that is wrong, never inside torch.
"""
from __future__ import annotations

import torch
from torch import nn


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
