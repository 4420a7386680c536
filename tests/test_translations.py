"""The Korean edition's .po files: what a translation must keep, and the check that names every
message left untranslated, fuzzy, obsolete or missing (course_tools/translations.py)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from course_tools import translations
from course_tools.translations import markup, markup_differences, problems, states
from tests.conftest import ROOT

ORIGINAL = ("After {glue:text}`steps` steps, $s_i = f(s_{i-1}, c_i)$ feeds the {term}`hidden state` and "
            "{term}`weights <attention weight>` of `masked_softmax` ([d2l](https://d2l.ai)) {cite:p}`bahdanau2015`.")
GOOD = ("{glue:text}`steps` 단계 뒤 $s_i = f(s_{i-1}, c_i)$는 {term}`은닉 상태 <hidden state>`와 `masked_softmax`의 "
        "{term}`어텐션 가중치 <attention weight>`로 들어간다([d2l](https://d2l.ai)) {cite:p}`bahdanau2015`.")


def test_markup_keeps_math_code_links_and_roles_and_the_targets_of_term_roles():
    assert markup(ORIGINAL) == sorted(["{glue:text}`steps`", "$s_i = f(s_{i-1}, c_i)$", "{term}hidden state",
                                       "{term}attention weight", "`masked_softmax`", "(https://d2l.ai)",
                                       "{cite:p}`bahdanau2015`"])


def test_a_translation_may_move_and_translate_text_but_not_change_markup():
    assert markup_differences(ORIGINAL, GOOD) == ""
    assert "missing ['$s_i = f(s_{i-1}, c_i)$']" in markup_differences(ORIGINAL, GOOD.replace("$s_i = f(s_{i-1}, c_i)$", "s_i"))
    changed_target = markup_differences(ORIGINAL, GOOD.replace("<hidden state>", "<은닉 상태>"))
    assert "missing ['{term}hidden state']" in changed_target and "extra ['{term}은닉 상태']" in changed_target
    assert "missing" in markup_differences(ORIGINAL, GOOD.replace("{glue:text}`steps`", "300"))
    assert "extra" in markup_differences("no math here", "수식 $x$ 추가")


def _write(path: Path, entries: list[tuple[str, str, bool]]) -> None:
    catalog = Catalog(locale="ko")
    for number, (msgid, msgstr, fuzzy) in enumerate(entries, 1):
        catalog.add(msgid, msgstr, locations=[("../../book/page.md", number * 10)],
                    flags=("fuzzy",) if fuzzy else ())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=0)


def test_problems_name_the_page_and_paragraph_of_each_message_not_ready(tmp_path):
    pot = tmp_path / "_build" / "gettext"
    _write(pot / "book" / "page.pot", [("Done paragraph.", "", False), ("Changed paragraph.", "", False),
                                      ("New paragraph.", "", False), ("Empty paragraph.", "", False),
                                      ("Math $x_t$ paragraph.", "", False)])
    _write(pot / "book" / "other.pot", [("Other page.", "", False)])
    _write(translations.po_dir(tmp_path) / "book" / "page.po",
           [("Done paragraph.", "끝난 문단.", False), ("Changed paragraph.", "바뀐 문단.", True),
            ("Empty paragraph.", "", False), ("Math $x_t$ paragraph.", "수식 x_t 문단.", False),
            ("Removed paragraph.", "지운 문단.", False)])
    found = problems(tmp_path, pot)
    text = "\n".join(found)
    assert len(found) == 6, text
    assert "book/other: no locales/ko/LC_MESSAGES/book/other.po" in text
    assert "book/page.md:30: not in locales/ko/LC_MESSAGES/book/page.po" in text and "New paragraph." in text
    assert "book/page.md:20: fuzzy" in text and "Changed paragraph." in text
    assert "book/page.md:30: untranslated: Empty paragraph." in text
    assert "changes the markup (missing ['$x_t$'])" in text
    assert "book/page: obsolete message" in text and "Removed paragraph." in text
    (state,) = states(tmp_path)
    assert (state.page, state.messages, state.translated, state.fuzzy) == ("book/page", 5, 3, 1)


def test_a_complete_translation_has_no_problems(tmp_path):
    pot = tmp_path / "_build" / "gettext"
    _write(pot / "book" / "page.pot", [(ORIGINAL, "", False)])
    _write(translations.po_dir(tmp_path) / "book" / "page.po", [(ORIGINAL, GOOD, False)])
    assert problems(tmp_path, pot) == []
    assert translations.report(tmp_path) == ["book/page                       1/1    translated (100.0%)"]


@pytest.mark.book
def test_every_message_of_the_book_is_translated_and_none_is_fuzzy():
    """The Korean edition is complete and in step: extracted from the pages as they are now (with
    the English build's cached outputs, so captions and alt text count), no message is missing from
    the .po files, untranslated, fuzzy (English changed since) or obsolete. After editing a page:
    `make translations`, translate what it lists, commit the .po files."""
    if not (ROOT / "_build" / ".jupyter_cache").is_dir():
        pytest.fail("the book is not built: run `make book` (make test builds it first)")
    found = problems(ROOT, translations.extract(ROOT))
    assert not found, f"{len(found)} messages keep the Korean edition from being complete:\n" + "\n".join(found[:40])


def test_the_korean_build_fails_if_it_executed_a_chapter(tmp_path, monkeypatch, capsys):
    """The Korean edition must find every chapter in the English build's cache: a change in the
    cache's records during its build (a chapter executed) fails it, and nothing is copied."""
    from course_tools import book

    records = iter([{(1, "2026-01-01T00:00:00")}, {(1, "2026-01-01T00:00:00"), (2, "2026-01-02T00:00:00")}])
    monkeypatch.setattr(book, "executed_records", lambda root: next(records))
    monkeypatch.setattr(book.subprocess, "run", lambda *a, **k: SimpleNamespace(returncode=0))
    (tmp_path / "_config.yml").write_text("title: t\n")
    assert book.build_korean(tmp_path) == 1
    assert "the Korean edition executed chapters" in capsys.readouterr().out
    assert not (tmp_path / "_build" / "html" / "ko").exists()


def test_the_language_switch_links_the_same_page_of_the_other_edition():
    import importlib.util

    spec = importlib.util.spec_from_file_location("language_switch", ROOT / "book" / "_ext" / "language_switch.py")
    switch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(switch)
    assert switch.other_edition_link("book/05-attention", "en") == "../ko/book/05-attention.html"
    assert switch.other_edition_link("book/05-attention", "ko") == "../../book/05-attention.html"
    assert switch.other_edition_link("index", "ko") == "../index.html"
    html = switch.switch_html("book/05-attention", "en")
    assert 'hreflang="ko"' in html and 'lang="ko"' in html and ">한국어<" in html


GLOSSARY = """
```{glossary}
:sorted:

hidden state
은닉 상태
  The vector an RNN carries.

attention weight
어텐션 가중치
  A softmax output.

BERT
버트
  An encoder.
```
"""


def test_glossary_terms_read_as_the_glossary_says():
    korean = translations.glossary_korean(GLOSSARY)
    assert korean == {"hidden state": "은닉 상태", "은닉 상태": "은닉 상태", "attention weight": "어텐션 가중치",
                      "어텐션 가중치": "어텐션 가중치", "bert": "버트", "버트": "버트"}
    english = "The {term}`hidden state`, its {term}`weights <attention weight>` and {term}`BERT`."
    assert translations.term_differences(english, "{term}`은닉 상태 <hidden state>`, {term}`가중치 <attention weight>`, "
                                                  "{term}`BERT <BERT>`.", korean) == []  # shortened, acronym: free
    assert translations.term_differences(english, "{term}`숨은 상태 <hidden state>`", korean) == [
        "{term}`숨은 상태 <hidden state>` should read 은닉 상태"]


def test_every_translated_glossary_term_reads_as_the_glossary_says():
    """Over the committed .po files (no build needed): a term the English names in full reads,
    in Korean, as the glossary's first Korean name, so a term reads the same in both editions."""
    korean = translations.glossary_korean((ROOT / "book" / "glossary.md").read_text(encoding="utf-8"))
    assert len(korean) > 100
    found = []
    for path in sorted(translations.po_dir(ROOT).rglob("*.po")):
        with path.open("rb") as file:
            for message in read_po(file, locale="ko"):
                if message.id and message.string and path.stem != "glossary":
                    found += [f"{path.stem}: {d}" for d in translations.term_differences(message.id, message.string, korean)]
    assert not found, "\n".join(found)


def test_text_printed_by_a_cell_is_not_required_where_its_numbers_differ(tmp_path):
    """A summary made by a code cell (Markdown(f"...")) is a message with this machine's numbers: on
    another machine it may print other numbers, which stay English rather than fail the check, and
    the old translation is not reported obsolete. Prose messages stay required."""
    page = "# Page\n\nSome prose.\n\n```{code-cell} ipython3\nMarkdown(f'- {x:.3f}')\n```\n\nMore prose.\n"
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.md").write_text(page, encoding="utf-8")
    assert translations.output_lines(page) == {5, 6}  # the fence and the cell's lines
    pot = tmp_path / "_build" / "gettext"

    def write(path: Path, entries: list[tuple[str, str, int]]) -> None:
        catalog = Catalog(locale="ko")
        for msgid, msgstr, line in entries:
            catalog.add(msgid, msgstr, locations=[("../../book/page.md", line)])
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, catalog, width=0)

    write(pot / "book" / "page.pot", [("Some prose.", "", 3), ("- 0.124", "", 6), ("More prose.", "", 9)])
    write(translations.po_dir(tmp_path) / "book" / "page.po", [("Some prose.", "약간의 글.", 3),
                                                              ("- 0.123", "- 0.123", 6)])
    found = problems(tmp_path, pot)
    assert len(found) == 1 and "More prose." in found[0] and "not in" in found[0], found


def test_a_translation_that_reads_as_a_list_is_a_problem(tmp_path):
    """Sphinx parses each translation on its own and keeps the English where the result is not a
    paragraph: a heading translated as "1. RNN의 분류" is an ordered list there and silently stays
    English. It must be escaped, "1\\. RNN의 분류"; a message left as it is (7. BERT) is harmless."""
    pot = tmp_path / "_build" / "gettext"
    _write(pot / "book" / "page.pot", [("1. The RNN taxonomy", "", False), ("7. BERT", "", False),
                                      ("2. Hand out", "", False)])
    _write(translations.po_dir(tmp_path) / "book" / "page.po", [("1. The RNN taxonomy", "1. RNN의 분류", False),
                                                               ("7. BERT", "7. BERT", False),
                                                               ("2. Hand out", "2\\. 나눠 주기", False)])
    found = problems(tmp_path, pot)
    assert len(found) == 1 and "starts like a list item" in found[0] and "RNN의 분류" in found[0], found
