"""The book quotes saved benchmark tables: they are found from any folder inside the repository."""
from __future__ import annotations

import json

from course_lib.benchmark_results import describe, find_benchmark, load_benchmark
from tests.conftest import ROOT


def test_saved_tables_are_found_from_the_book_folder_and_read():
    for name in ("attention_dates", "transformer_speed", "transformer_dates", "bert_speed", "t5_text_to_text"):
        path = find_benchmark(name, ROOT / "book")
        assert path == ROOT / "benchmarks" / "results" / f"{name}.json"
        record = load_benchmark(name, ROOT / "book")
        assert record["rows"] and record["benchmark"] == name
        assert describe(record).startswith(f"`python benchmarks/{name}.py")


def test_outside_the_repository_it_says_how_to_make_them(tmp_path, capsys):
    assert load_benchmark("attention_dates", tmp_path) is None
    assert "benchmarks/attention_dates.py --save" in capsys.readouterr().out
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "x.json").write_text(json.dumps({"rows": [1]}))
    assert load_benchmark("x", tmp_path / "benchmarks") == {"rows": [1]}
