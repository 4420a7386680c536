"""Checks on what a model is given, written once: token ids inside the vocabulary, lengths, masks from lengths.

Every model of the course takes batches of token ids, (B, L) integer tensors, often with a
(B,) tensor of lengths for right padding. A wrong input should stop at the model's door
with a message that names the argument, what was wrong and what to do, not deep inside an
embedding lookup. These helpers import nothing from the rest of the package.
"""
from __future__ import annotations

import torch


def check_token_ids(name: str, ids: object, vocab_size: int, *, batch_size: int | None = None,
                    dims: int = 2) -> None:
    """``ids`` is a tensor of ``dims`` dimensions ((B, L) by default) of integer ids in 0..vocab_size-1.

    ``batch_size``, when given, is the number of rows ``ids`` must have. A ValueError names
    ``name`` and says what to do; nothing is returned.
    """
    what = "(batch, length)" if dims == 2 else "(batch,)" if dims == 1 else f"{dims}-dimensional"
    if not isinstance(ids, torch.Tensor):
        raise ValueError(f"{name} must be a {what} tensor of integer token ids, got {type(ids).__name__}")
    if ids.dim() != dims or ids.dtype not in (torch.long, torch.int):
        raise ValueError(f"{name} must be a {what} tensor of integer token ids,"
                         f" got shape {tuple(ids.shape)} and dtype {ids.dtype}")
    if dims == 2 and ids.size(1) == 0:
        raise ValueError(f"{name} is empty: it has 0 positions; every sequence needs at least one token")
    if batch_size is not None and ids.size(0) != batch_size:
        raise ValueError(f"{name} has batch size {ids.size(0)} but the source batch has {batch_size} rows")
    if ids.numel() and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"{name} holds ids outside the model's vocabulary 0..{vocab_size - 1}"
                         f" (min {int(ids.min())}, max {int(ids.max())}): encode the input with the"
                         " vocabulary the model was built with")


def check_lengths(name: str, lengths: object, batch_size: int, max_len: int) -> None:
    """``lengths`` is a (batch_size,) integer tensor, each in 1..max_len (the padded length)."""
    if not isinstance(lengths, torch.Tensor) or lengths.shape != (batch_size,) or lengths.is_floating_point():
        shape = tuple(lengths.shape) if isinstance(lengths, torch.Tensor) else type(lengths).__name__
        raise ValueError(f"{name} must be a ({batch_size},) integer tensor, one length per row of the batch,"
                         f" got {shape}")
    if lengths.numel() and (lengths.min() < 1 or lengths.max() > max_len):
        raise ValueError(f"{name} must lie in 1..{max_len} (the padded length), got"
                         f" min {int(lengths.min())}, max {int(lengths.max())}")


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool mask, True at real tokens, False at padding."""
    positions = torch.arange(max_len, device=lengths.device)  # (L,)
    return positions[None, :] < lengths[:, None]  # (B, L)


def check_sizes(config: object, *names: str) -> None:
    """Each named field of ``config`` is a positive int (a size, a count, a length), else a ValueError naming it."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_rates(config: object, *names: str) -> None:
    """Each named field of ``config`` is a dropout rate in [0, 1) (or None where the config allows a default)."""
    for name in names:
        value = getattr(config, name)
        if value is not None and not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {value}")


def check_heads(d_model: int, num_heads: int, *, width: str = "d_model", heads: str = "num_heads") -> None:
    """``d_model`` splits evenly into ``num_heads`` heads; ``width`` and ``heads`` name them as the config does."""
    if num_heads < 1 or d_model % num_heads:
        raise ValueError(f"{width} {d_model} is not divisible by {heads} {num_heads}:"
                         f" every head gets {width} / {heads} dimensions")
