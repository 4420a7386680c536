import pytest
import torch

from course_lib.data import load_task
from course_lib.decoding import greedy_decode
from course_lib.device import seed_everything
from course_lib.metrics import exact_match
from course_lib.seq2seq import Seq2Seq, Seq2SeqConfig, masked_cross_entropy
from course_lib.train import accuracy_by_length, evaluate_seq2seq, fit


@pytest.fixture(scope="module")
def data():
    return load_task("copy", n=400, length=(3, 5), seed=0)


def new_model(data, seed=0, **overrides):
    seed_everything(seed)
    config = Seq2SeqConfig.tiny(len(data.src_vocab), len(data.tgt_vocab), hidden_size=37, **overrides)
    return Seq2Seq(config)


def train(data, epochs=4, model=None, **kwargs):
    model = model or new_model(data)
    history = fit(model, lambda epoch: data.batches("train", 32, shuffle=True, seed=epoch),
                  data.batches("valid", 64), epochs=epochs, lr=3e-3, device="cpu", progress=False, **kwargs)
    return model, history


@pytest.fixture(scope="module")
def trained(data):
    return train(data, epochs=6)


def test_loss_falls_on_a_copy_task(trained):
    _, history = trained
    assert len(history.train_loss) == len(history.valid_loss) == len(history.seconds) == 6
    assert history.train_loss[-1] < 0.7 * history.train_loss[0]
    assert history.valid_loss[-1] < 0.7 * history.valid_loss[0]
    assert history.seconds == sorted(history.seconds) and not history.out_of_time


def test_training_is_repeatable_under_a_seed(data):
    runs = [train(data, epochs=2, model=new_model(data, dropout=0.1), teacher_forcing_ratio=0.5, seed=7)[1]
            for _ in range(2)]
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].valid_loss == runs[1].valid_loss


def test_max_seconds_stops_training(data):
    _, history = train(data, epochs=5, max_seconds=0.0)
    assert history.out_of_time
    assert len(history.train_loss) == 1


def test_evaluate_callback_and_table(data):
    calls = []

    def evaluate(model):
        calls.append(model.training)
        return {"answer": 42.0}

    _, history = train(data, epochs=2, evaluate=evaluate)
    assert calls == [False, False]
    assert history.metrics == [{"answer": 42.0}] * 2
    table = history.as_table()
    assert "answer" in table and "valid_loss" in table and len(table.splitlines()) == 3


def test_custom_loss_fn(data):
    seen = []

    def loss_fn(model, batch):
        seen.append(len(batch))
        logits = model(batch.src, batch.src_lengths, batch.tgt_in)
        return masked_cross_entropy(logits, batch.tgt_out)

    train(data, epochs=1, loss_fn=loss_fn)
    assert sum(seen) == len(data.train) + len(data.valid)
    with pytest.raises(ValueError, match="teacher_forcing_ratio"):
        train(data, epochs=1, loss_fn=loss_fn, teacher_forcing_ratio=0.5)


def test_bad_epochs(data):
    with pytest.raises(ValueError, match="epochs"):
        train(data, epochs=0)


def test_progress_goes_to_stdout_only(data, capsys):
    train(data, epochs=1)
    assert capsys.readouterr() == ("", "")
    fit(new_model(data), data.batches("train", 64), None, epochs=1, device="cpu", progress=True)
    out, err = capsys.readouterr()
    assert err == "" and "epochs" in out


def test_evaluate_seq2seq_matches_greedy_decoding(data, trained):
    model, _ = trained
    results = evaluate_seq2seq(model, data, "valid", batch_size=17, device="cpu", teacher_forced=True)
    assert set(results) == {"exact_match", "token_accuracy", "teacher_forced_token_accuracy"}
    assert all(0.0 <= v <= 1.0 for v in results.values())
    predictions, right, real, tf_right = [], 0, 0, 0
    for batch in data.batches("valid", 17):  # batches of 17: the last one is shorter, its targets too
        out = greedy_decode(model, batch.src, batch.src_lengths, max_len=10)
        predictions += [data.decode_target(row) for row in out.tokens]
        gold, mask = batch.tgt_out, batch.tgt_out != 0
        pred = torch.nn.functional.pad(out.tokens, (0, 10))[:, : gold.size(1)]  # cut or padded to the gold length
        right, real = right + int(((pred == gold) & mask).sum()), real + int(mask.sum())
        with torch.no_grad():
            tf_pred = model.eval()(batch.src, batch.src_lengths, batch.tgt_in).argmax(-1)
        tf_right += int(((tf_pred == gold) & mask).sum())
    model.train()
    assert results["exact_match"] == exact_match(predictions, [t for _, t in data.valid])
    assert results["token_accuracy"] == right / real  # over every real target token of the split, not per batch
    assert results["teacher_forced_token_accuracy"] == tf_right / real
    assert model.training


def test_accuracy_by_length_averages_to_exact_match(data, trained):
    model, _ = trained
    by_length = accuracy_by_length(model, data, "test", device="cpu")
    assert set(by_length) <= {3, 4, 5}
    counts = {n: sum(len(s) == n for s, _ in data.test) for n in by_length}
    overall = sum(by_length[n] * counts[n] for n in by_length) / len(data.test)
    assert overall == pytest.approx(evaluate_seq2seq(model, data, "test", device="cpu")["exact_match"])
    assert set(accuracy_by_length(model, data, "test", device="cpu", bucket_size=2)) <= {2, 4}


def test_adafactor_steps_scale_with_each_weight_and_bad_names_are_refused(data):
    # Adafactor's first step moves a weight by lr * RMS(weight) (relative step), Adam's by lr, whatever the size
    for name, expected in (("adam", lambda w: 1e-2), ("adafactor", lambda w: 1e-2 * w.pow(2).mean().sqrt())):
        big, small = torch.nn.Parameter(torch.full((4, 4), 10.0)), torch.nn.Parameter(torch.full((4, 4), 0.1))
        model = torch.nn.Module()
        model.big, model.small = big, small
        before = {"big": big.detach().clone(), "small": small.detach().clone()}
        fit(model, data.batches("train", 8)[:1], None, epochs=1, lr=1e-2, device="cpu", progress=False,
            optimizer=name, clip=None, loss_fn=lambda m, batch: (m.big.sum() + m.small.sum()))
        for key, weight in before.items():
            step = (before[key] - getattr(model, key).detach()).abs().mean()
            # float32 holds 10.0 to 1e-6, a tenth of a thousandth of a step of 1e-2: rel 1e-3 is rounding, not slack
            assert step == pytest.approx(float(expected(weight)), rel=1e-3), (name, key)
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        train(data, epochs=1, optimizer="sgd")
