import dataclasses

import pytest
import torch

from course_lib.attention import AttentionDecoder
from course_lib.recipes import (ATTENTION_STAGES, COOL_DOWN_BATCHES, DATES_STAGES, Recipe, Stage, dates_attention,
                              dates_gru, dates_transformer, digits_rnn)
from course_lib.transformer import Transformer
from course_lib.seq2seq import Seq2Seq
from course_lib.train import evaluate_seq2seq


def tiny_copy(**overrides) -> Recipe:
    settings = {"length": (2, 4), "n": 300, "hidden_size": 16, "emb_dim": 8, "batch_size": 32,
                "stages": [(1, 1e-2), (1, 1e-3)]}
    return digits_rnn("copy", **{**settings, **overrides})


def test_dates_recipe_defaults_are_the_benchmarks():
    recipe = dates_gru(n=300)
    assert recipe.name == "dates-gru"
    assert recipe.stages == DATES_STAGES
    assert (recipe.config.emb_dim, recipe.config.hidden_size, recipe.config.cell) == (64, 128, "gru")
    assert recipe.config.src_vocab_size == len(recipe.data.src_vocab)
    assert recipe.epochs == 2
    assert recipe.steps == 2 * -(-len(recipe.data.train) // recipe.batch_size)
    assert isinstance(recipe.build_model(), Seq2Seq)


def test_data_is_shared_between_equal_recipes():
    assert dates_gru(n=300).data is dates_gru(n=300, hidden_size=32).data
    assert dates_gru(n=300).data is not dates_gru(n=300, data_seed=1).data


def test_stages_are_checked_and_converted():
    recipe = tiny_copy(stages=[(2, 1e-3)])
    assert recipe.stages == (Stage(2, 1e-3),)
    with pytest.raises(ValueError, match="epochs"):
        Stage(0, 1e-3)
    with pytest.raises(ValueError, match="learning rate"):
        Stage(1, 0.0)
    with pytest.raises(ValueError, match="at least one stage"):
        tiny_copy(stages=[])


def test_digits_recipe_follows_its_arguments():
    recipe = tiny_copy(cell="lstm", length=(3, 5))
    assert recipe.name == "copy-lstm" and recipe.config.cell == "lstm"
    assert {len(src) for src, _ in recipe.data.train} <= {3, 4, 5}
    assert all(src == tgt for src, tgt in recipe.data.train)
    reverse = digits_rnn("reverse", length=(2, 4), n=100)
    assert all(src[::-1] == tgt for src, tgt in reverse.data.train)


def test_model_and_batches_are_deterministic():
    recipe = tiny_copy()
    first, second = recipe.build_model(), recipe.build_model()
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert [b.pairs for b in recipe.train_batches(1)] == [b.pairs for b in recipe.train_batches(1)]
    assert [b.pairs for b in recipe.train_batches(0)] != [b.pairs for b in recipe.train_batches(1)]
    other_seed = tiny_copy(seed=1)
    assert not torch.equal(other_seed.build_model().encoder.embedding.weight, first.encoder.embedding.weight)


def test_training_runs_every_stage_and_repeats_exactly():
    recipe = tiny_copy()
    runs = []
    for _ in range(2):
        model = recipe.build_model()
        history = recipe.train(model, device="cpu")
        runs.append((history, model))
    history = runs[0][0]
    assert len(history.train_loss) == len(history.valid_loss) == len(history.seconds) == recipe.epochs
    assert history.seconds == sorted(history.seconds) and not history.out_of_time
    assert history.train_loss == runs[1][0].train_loss
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1].state_dict().values(), runs[1][1].state_dict().values()))


def test_training_learns_something():
    recipe = tiny_copy(n=600, hidden_size=32, stages=[(8, 1e-2)])
    model = recipe.build_model()
    history = recipe.train(model, device="cpu", validate=False)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert all(loss != loss for loss in history.valid_loss)  # nan: no validation asked for
    assert evaluate_seq2seq(model, recipe.data, "test")["token_accuracy"] > 0.5


def test_fit_options_reach_every_stage():
    recipe = tiny_copy()
    history = recipe.train(recipe.build_model(), device="cpu", teacher_forcing_ratio=0.5,
                           evaluate=lambda model: {"calls": 1.0})
    assert [m["calls"] for m in history.metrics] == [1.0] * recipe.epochs


def test_max_seconds_bounds_the_whole_run():
    recipe = tiny_copy()
    history = recipe.train(recipe.build_model(), device="cpu", max_seconds=0.0)
    assert history.out_of_time and len(history.train_loss) == 1


def test_attention_recipe_builds_its_decoder_and_cuts_the_cool_down():
    recipe = dates_attention("luong-general", n=6000)
    assert recipe.name == "dates-gru-luong-general" and recipe.stages == ATTENTION_STAGES
    assert recipe.data is dates_gru(n=6000).data  # chapter 2's dates
    model = recipe.build_model()
    assert isinstance(model.decoder, AttentionDecoder) and model.decoder.kind == "luong-general"
    per_epoch = -(-len(recipe.data.train) // recipe.batch_size)
    assert len(recipe.train_batches(0)) == per_epoch
    assert len(recipe.train_batches(1)) == COOL_DOWN_BATCHES < per_epoch  # the last stage is cut
    assert recipe.steps == per_epoch + COOL_DOWN_BATCHES
    assert [b.pairs for b in recipe.train_batches(1)] == [b.pairs for b in dates_attention(n=6000).train_batches(1)]
    assert not isinstance(dates_attention("none", n=6000).build_model().decoder, AttentionDecoder)


def test_attention_recipe_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown attention 'luong'"):
        dates_attention("luong", n=300)
    with pytest.raises(ValueError, match="last_stage_batches"):
        dataclasses.replace(tiny_copy(), last_stage_batches=0)


def test_transformer_recipe_trains_a_transformer_on_chapter_2s_dates():
    recipe = dates_transformer(n=6000, d_model=32)
    assert recipe.data is dates_gru(n=6000).data
    model = recipe.build_model()
    assert isinstance(model, Transformer) and model.config.d_model == 32 and model.config.norm_first
    assert model.config.positional == "learned" and model.config.src_vocab_size == len(recipe.data.src_vocab)
    per_epoch = -(-len(recipe.data.train) // recipe.batch_size)
    assert recipe.steps == 2 * per_epoch + min(per_epoch, recipe.last_stage_batches)
    first = recipe.train_batches(0)[:3]
    history = recipe.train(model, device="cpu", validate=False, max_seconds=0.0)
    assert history.out_of_time and history.train_loss[0] > 0
    assert [b.pairs for b in first] == [b.pairs for b in dates_transformer(n=6000).train_batches(0)[:3]]


def test_t5_recipe_trains_a_t5_with_adafactor_on_the_three_tasks():
    import torch

    from course_lib.recipes import text_to_text_t5
    from course_lib.train import t5_loss
    from course_lib.t5 import T5ForConditionalGeneration

    recipe = text_to_text_t5(n_per_task=300, d_model=32, num_heads=2, num_layers=1, d_ff=32,
                             stages=((2, 3e-2),))
    model = recipe.build_model()
    assert isinstance(model, T5ForConditionalGeneration) and recipe.optimizer == "adafactor"
    assert model.config.vocab_size == len(recipe.data.src_vocab) and model.config.eos_id == recipe.data.tgt_vocab.eos_id
    batch = recipe.valid_batches()[0]
    before = t5_loss(model, batch).item()
    history = recipe.train(model, device="cpu")
    assert history.valid_loss[-1] < before - 1.0  # two short epochs already learn the frequent tokens
    again = recipe.build_model()
    recipe.train(again, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    with pytest.raises(ValueError, match="unknown optimizer"):
        dataclasses.replace(recipe, optimizer="sgd")
