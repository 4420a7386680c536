"""Text-to-text data: three tasks told apart by their prefix, one tokenizer, per-task views."""
from __future__ import annotations

import pytest

from course_lib.text_to_text import PREFIXES, detokenize, only_task, task_of, task_pairs, text_to_text_data, tokenize


def test_tokenizer_splits_digits_and_round_trips_every_target():
    assert tokenize("date: 2020년 3월 3일") == ["date", ":", "2", "0", "2", "0", "년", "3", "월", "3", "일"]
    assert tokenize("translate English to Korean: the cat.")[:5] == ["translate", "English", "to", "Korean", ":"]
    data = text_to_text_data(300, seed=1)
    targets = [t for split in (data.train, data.valid, data.test) for _, t in split]
    assert all(detokenize(tokenize(t)) == t for t in targets)
    assert detokenize(["고양이가", "매트", "위에", "앉았다", "."]) == "고양이가 매트 위에 앉았다."


def test_every_split_holds_every_task_and_no_source_twice():
    data = text_to_text_data(500, seed=0)
    again = text_to_text_data(500, seed=0)
    assert again.train == data.train and again.test == data.test
    for split in (data.train, data.valid, data.test):
        tasks = {task_of(s) for s, _ in split}
        assert tasks == set(PREFIXES)
    sources = [s for split in (data.train, data.valid, data.test) for s, _ in split]
    assert len(sources) == len(set(sources))
    dates = only_task(data, "date")
    assert dates.test and all(s.startswith("date: ") for s, _ in dates.test)
    assert dates.src_vocab is data.src_vocab
    assert task_of("summarize: something") == "unknown"


def test_task_pairs_are_prefixed_and_correct():
    for source, target in task_pairs("reverse", 20, seed=3):
        assert source.startswith("reverse: ") and source[len("reverse: "):][::-1] == target
    with pytest.raises(ValueError, match="unknown task 'sort'"):
        task_pairs("sort", 5)
    with pytest.raises(ValueError, match="unknown task"):
        only_task(text_to_text_data(100), "sort")


def test_one_vocabulary_for_both_sides_and_generate_reads_any_text():
    from course_lib.recipes import text_to_text_t5
    from course_lib.text_to_text import generate

    data = text_to_text_data(200, seed=0)
    assert data.src_vocab is data.tgt_vocab  # T5's shared embedding needs one meaning per id
    recipe = text_to_text_t5(n_per_task=200, d_model=32, num_heads=2, num_layers=1, d_ff=32)
    model = recipe.build_model()
    sources = ["reverse: 123", "summarize: words it never saw"]
    outputs = generate(model, recipe.data, sources, max_len=5)
    assert len(outputs) == 2 and all(isinstance(o, str) for o in outputs)
    assert generate(model, recipe.data, sources[:1], max_len=5) == outputs[:1]  # batching changes nothing
    with pytest.raises(ValueError, match="non-empty list of texts"):
        generate(model, recipe.data, "reverse: 123")
