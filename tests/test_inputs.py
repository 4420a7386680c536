"""course_lib.inputs: the one check of token ids and lengths every model calls, and masks from lengths."""
from __future__ import annotations

import pytest
import torch

from course_lib.inputs import check_lengths, check_token_ids, lengths_to_mask


def test_ids_inside_the_vocabulary_pass_in_every_integer_dtype():
    for dtype in (torch.long, torch.int):
        check_token_ids("src", torch.tensor([[0, 4], [3, 1]], dtype=dtype), vocab_size=5)
    check_token_ids("condition", torch.tensor([0, 2]), vocab_size=3, dims=1)


@pytest.mark.parametrize("ids, message", [
    ([[0, 5]], r"src holds ids outside the model's vocabulary 0\.\.4 \(min 0, max 5\): encode the input"),
    ([[-1, 2]], r"src holds ids outside the model's vocabulary 0\.\.4 \(min -1, max 2\)"),
])
def test_an_id_outside_the_vocabulary_is_named_with_the_range(ids, message):
    with pytest.raises(ValueError, match=message):
        check_token_ids("src", torch.tensor(ids), vocab_size=5)


def test_wrong_shapes_types_and_batches_say_what_was_expected():
    with pytest.raises(ValueError, match=r"src must be a \(batch, length\) tensor of integer token ids, got list"):
        check_token_ids("src", [[1, 2]], vocab_size=5)
    with pytest.raises(ValueError, match=r"got shape \(2,\) and dtype torch.int64"):
        check_token_ids("src", torch.tensor([1, 2]), vocab_size=5)
    with pytest.raises(ValueError, match=r"dtype torch.float32"):
        check_token_ids("src", torch.zeros(2, 3), vocab_size=5)
    with pytest.raises(ValueError, match="src is empty: it has 0 positions"):
        check_token_ids("src", torch.zeros(2, 0, dtype=torch.long), vocab_size=5)
    with pytest.raises(ValueError, match="tgt_in has batch size 3 but the source batch has 2 rows"):
        check_token_ids("tgt_in", torch.zeros(3, 4, dtype=torch.long), vocab_size=5, batch_size=2)
    with pytest.raises(ValueError, match=r"condition must be a \(batch,\) tensor"):
        check_token_ids("condition", torch.zeros(2, 1, dtype=torch.long), vocab_size=5, dims=1)


def test_lengths_lie_between_one_and_the_padded_length():
    check_lengths("src_lengths", torch.tensor([1, 4]), batch_size=2, max_len=4)
    with pytest.raises(ValueError, match=r"src_lengths must lie in 1\.\.4 \(the padded length\), got min 0, max 4"):
        check_lengths("src_lengths", torch.tensor([0, 4]), batch_size=2, max_len=4)
    with pytest.raises(ValueError, match=r"got min 1, max 5"):
        check_lengths("src_lengths", torch.tensor([1, 5]), batch_size=2, max_len=4)
    with pytest.raises(ValueError, match=r"must be a \(2,\) integer tensor, one length per row of the batch, got \(3,\)"):
        check_lengths("src_lengths", torch.tensor([1, 2, 3]), batch_size=2, max_len=4)
    with pytest.raises(ValueError, match="integer tensor"):
        check_lengths("src_lengths", torch.tensor([1.0, 2.0]), batch_size=2, max_len=4)


def test_the_mask_is_true_at_the_first_length_positions_of_each_row():
    mask = lengths_to_mask(torch.tensor([1, 3, 0]), 3)
    assert mask.dtype == torch.bool
    assert mask.tolist() == [[True, False, False], [True, True, True], [False, False, False]]


def test_config_checks_name_the_field_and_what_it_must_be():
    from types import SimpleNamespace

    from course_lib.inputs import check_heads, check_rates, check_sizes

    config = SimpleNamespace(d_model=64, num_layers=0, flag=True, dropout=1.0, attention_dropout=None)
    check_sizes(config, "d_model")
    with pytest.raises(ValueError, match="num_layers must be a positive int, got 0"):
        check_sizes(config, "d_model", "num_layers")
    with pytest.raises(ValueError, match="flag must be a positive int, got True"):
        check_sizes(config, "flag")
    check_rates(config, "attention_dropout")  # None: the config's default applies
    with pytest.raises(ValueError, match=r"dropout must lie in \[0, 1\), got 1.0"):
        check_rates(config, "dropout")
    check_heads(64, 8)
    with pytest.raises(ValueError, match="hidden_size 64 is not divisible by num_heads 6: every head gets hidden_size"):
        check_heads(64, 6, width="hidden_size")
    with pytest.raises(ValueError, match="d_model 64 is not divisible by decoder_heads 0"):
        check_heads(64, 0, heads="decoder_heads")
