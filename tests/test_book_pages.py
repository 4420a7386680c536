"""The book as its readers use it: launch buttons and the chapters' install cells, the Colab
notebooks, glossary links, citations, and each chapter's exercises and assignment."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import sys

import pytest
import yaml

from tests.conftest import ROOT

import jupytext

BOOK = ROOT / "book"
CHAPTERS = ["01-rnn-taxonomy", "02-encoder-context", "03-greedy-decoding", "04-teacher-forcing", "05-attention",
            "06-transformer", "07-bert", "08-t5-bart"]
MYST_ONLY = re.compile(r"\{(term|cite:[pt]|doc|download|glue:text)\}`|^`{3,}\{(exercise|solution)\}|^:{3,}\{", re.M)


def load_launch():
    spec = importlib.util.spec_from_file_location("book_launch", BOOK / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launch = load_launch()


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_launch_buttons_come_from_one_repository_address():
    cfg = config()
    assert cfg["repository"]["url"].startswith("https://github.com/")
    assert cfg["launch_buttons"]["colab_url"] and cfg["launch_buttons"]["binderhub_url"]
    assert "book/*.ipynb" in cfg["exclude_patterns"]  # the Colab copies are not pages of their own
    postbuild = ROOT / "postBuild"  # Binder: environment.yml, then course_lib itself
    assert os.access(postbuild, os.X_OK) and "pip install --no-deps -e ." in postbuild.read_text()


def test_install_cells_and_colab_notebooks_are_up_to_date():
    stale = launch.out_of_date(ROOT)
    assert not stale, f"out of date: {stale}; run `python book/launch.py` (after changing a chapter or the address)"
    pages = launch.notebook_pages(ROOT)
    assert {p.stem for p in pages} >= set(CHAPTERS) | {"appendix-korean", "performance"}


def install_cell(page: str) -> str:
    notebook = jupytext.read(BOOK / f"{page}.md")
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.metadata.get("tags") == ["remove-cell"], "the install cell stays out of the rendered book"
    return first.source


class FakeIPython:
    def __init__(self):
        self.magics = []

    def run_line_magic(self, name, line):
        self.magics.append((name, line))


def run_cell(source: str, shell: FakeIPython) -> None:
    from IPython.core.inputtransformer2 import TransformerManager

    exec(TransformerManager().transform_cell(source), {"get_ipython": lambda: shell})


def test_install_cells_follow_the_placeholder_flag_of_the_config():
    """While _config.yml marks the address as a placeholder, every page's cell installs nothing."""
    placeholder = config()["repository"]["placeholder"]
    assert launch.is_placeholder(ROOT) is placeholder
    for page in CHAPTERS + ["appendix-korean"]:
        assert ("%pip install" not in install_cell(page)) is placeholder, page
    assert ("git+" not in (BOOK / "05-attention.ipynb").read_text(encoding="utf-8")) is placeholder


def test_a_placeholder_flag_that_is_not_true_or_false_is_refused(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a/b\n  placeholder: maybe\n")
    with pytest.raises(ValueError, match="placeholder must be true or false, not 'maybe'"):
        launch.is_placeholder(tmp_path)


def page_extras(text: str) -> dict[str, str]:
    return {module: package for module, package in launch.BOOK_EXTRA_MODULES.items()  # from the [book] extra
            if re.search(rf"^\s*import {module}|^\s*from {module} ", text, re.M)}


@pytest.mark.parametrize("page", CHAPTERS + ["appendix-korean"])
def test_placeholder_install_cell_does_nothing_here_and_elsewhere_says_how_to_install_in_one_line(page, monkeypatch):
    text = (BOOK / f"{page}.md").read_text(encoding="utf-8")
    source = launch.install_cell(text, "https://github.com/a/b", "main", placeholder=True).split("\n", 2)[2]
    source = source.rsplit("```", 1)[0]
    shell = FakeIPython()
    run_cell(source, shell)
    assert shell.magics == []  # all importable, as in the book's build: nothing runs, nothing prints
    for missing in ["course_lib", *page_extras(text)]:
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, missing, None)
            with pytest.raises(ImportError) as raised:
                run_cell(source, shell)
        message = str(raised.value)
        assert "\n" not in message and "pip install -e path/to/course[course]" in message
        assert raised.value.__suppress_context__, "one line: not also the ImportError it replaces"
    assert shell.magics == [], "nothing to install from a placeholder address"


@pytest.mark.parametrize("page", CHAPTERS + ["appendix-korean"])
def test_install_cell_does_nothing_here_and_installs_from_the_repository_elsewhere(page, monkeypatch):
    text = (BOOK / f"{page}.md").read_text(encoding="utf-8")
    url, branch = config()["repository"]["url"], config()["repository"]["branch"]
    source = launch.install_cell(text, url, branch, placeholder=False).split("\n", 2)[2].rsplit("```", 1)[0]
    extras = page_extras(text)
    shell = FakeIPython()
    run_cell(source, shell)
    assert shell.magics == []  # all importable, as in the book's build: nothing runs, nothing prints
    for missing in ["course_lib", *extras]:  # any one missing (`import` raises ImportError): install them all
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, missing, None)
            shell = FakeIPython()
            with pytest.raises(ImportError):  # pip did nothing here: the cell stops after it, not a later one
                run_cell(source, shell)
        ((magic, line),) = shell.magics
        assert magic == "pip" and f'"course-lib @ git+{url}@{branch}"' in line
        for module, package in launch.BOOK_EXTRA_MODULES.items():
            assert (package in line) == (module in extras)


@pytest.mark.parametrize("page", CHAPTERS + ["appendix-korean", "performance"])
def test_colab_notebook_is_the_page_in_plain_markdown(page):
    colab = json.loads((BOOK / f"{page}.ipynb").read_text(encoding="utf-8"))
    source = jupytext.read(BOOK / f"{page}.md")
    code = [c for c in colab["cells"] if c["cell_type"] == "code"]
    assert ["".join(c["source"]) for c in code] == [c.source for c in source.cells if c.cell_type == "code"]
    assert all(not c["outputs"] for c in code)
    for cell in colab["cells"]:
        if cell["cell_type"] == "markdown":
            assert not MYST_ONLY.search("".join(cell["source"])), "Colab shows MyST roles as raw text"


def glossary_terms() -> set[str]:
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    terms = set()
    for block in re.findall(r"```\{glossary\}\n(.*?)```", text, re.S):
        terms |= {line.strip().lower() for line in block.splitlines() if line and not line[0].isspace() and line[0] != ":"}
    return terms


def test_every_glossary_term_is_linked_from_a_chapter_and_every_link_has_a_term():
    terms = glossary_terms()
    linked = set()
    for page in CHAPTERS + ["appendix-korean"]:
        text = (BOOK / f"{page}.md").read_text(encoding="utf-8")
        for role in re.findall(r"\{term\}`([^`]*)`", text):
            target = (re.search(r"<([^>]*)>$", role) or re.search(r"(.*)", role)).group(1).strip().lower()
            assert target in terms, f"{page}: no glossary term {target!r}"
            linked.add(target)
    english = set(english_terms())
    assert english <= linked, f"glossary terms no chapter links to: {sorted(english - linked)}"


def english_terms() -> list[str]:
    """The first line of each glossary entry (its English name)."""
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    names = []
    for block in re.findall(r"```\{glossary\}\n(.*?)```", text, re.S):
        for entry in re.split(r"\n\s*\n", block):
            lines = [line for line in entry.splitlines() if line and not line.startswith(":")]
            if lines and not lines[0][0].isspace():
                names.append(lines[0].strip().lower())
    return names


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (BOOK / "references.bib").read_text(encoding="utf-8"), re.M))
    for page in BOOK.glob("*.md"):
        for group in re.findall(r"\{cite:[pt]\}`([^`]*)`", page.read_text(encoding="utf-8")):
            missing = {k.strip() for k in group.split(",")} - keys
            assert not missing, f"{page.name}: {missing} not in book/references.bib"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_ends_with_exercises_then_its_assignment_and_how_to_hand_it_in(page):
    text = (BOOK / f"{page}.md").read_text(encoding="utf-8")
    exercises, assignment = text.index("\n## Exercises\n"), text.index("\n## Assignment\n")
    assert exercises < assignment and text.count("\n## ") - text[:exercises].count("\n## ") == 2
    labels = re.findall(r"\{exercise\}.*\n:label: (\S+)", text[exercises:assignment])
    assert 2 <= len(labels) <= 4
    assert sorted(re.findall(r"\{solution\} (\S+)\n:class: dropdown", text)) == sorted(labels)
    release = f"assignments/{page}/{page}.ipynb"
    assert f"<../{release}>`" in text and (ROOT / release).is_file()
    assert f"submitted/<your name>/{page}/{page}.ipynb" in text


# --- one Korean term per concept ----------------------------------------------------

HANGUL = re.compile(r"[\uac00-\ud7a3]")
GLOSS_ITEM = re.compile(r"[\uac00-\ud7a3A-Z0-9][\uac00-\ud7a3A-Za-z0-9 \-]*")  # 은닉 상태, 토큰 ID, KV 캐시
MIN_GLOSSES = 5  # glossary terms each chapter gives with their Korean name (chapters 1-6 give 7 to 13)


def glossary_entries() -> list[tuple[list[str], list[str]]]:
    """(English names, Korean names) of each glossary entry, in the glossary's order."""
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    entries = []
    for block in re.findall(r"```\{glossary\}\n(.*?)```", text, re.S):
        for entry in re.split(r"\n\s*\n", block):
            names = [line.strip() for line in entry.splitlines() if line and not line[0].isspace() and line[0] != ":"]
            if names:
                entries.append(([n for n in names if not HANGUL.search(n)], [n for n in names if HANGUL.search(n)]))
    return entries


def korean_terms() -> dict[str, str]:
    """English name (lower case) -> the Korean term the book uses for it: the entry's first Korean
    name, or, where an entry has as many Korean names as English ones (Bahdanau attention,
    additive attention), the Korean name in the same place."""
    terms = {}
    for english, korean in glossary_entries():
        for i, name in enumerate(english):
            if korean:
                terms[name.lower()] = korean[i] if len(korean) == len(english) else korean[0]
    return terms


def _term_at_end(tail: str, names: list[str]) -> str | None:
    """The longest glossary name (or its plural) that ``tail`` ends with, as a whole word."""
    for name in names:
        plural = rf"(?:s|es)?" if not name.endswith("y") else rf"(?:s|es)?|{re.escape(name[:-1])}ies"
        if re.search(rf"(?<![\w-])(?:{re.escape(name)}{plural})$", tail):
            return name
    return None


def korean_glosses(text: str, terms: dict[str, str]) -> list[tuple[int, str, str]]:
    """(line, English term, Korean) of each glossary term a page gives with a Korean name in
    parentheses, as in '{term}`hidden state` (은닉 상태)', '**vocabulary** (어휘 사전)' or 'tokenisation
    and embedding (토큰화, 임베딩)', outside code cells. A quotation of a note in parentheses (after
    an italic quote, or not a short term) is no gloss, nor is the Korean of a longer phrase that
    holds the term's Korean ('auxiliary particle (보조사)')."""
    text = re.sub(r"^(`{3,}).*?^\1\s*$", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.M | re.S)
    text = re.sub(r"\{term\}`(?:[^`<]*<([^>`]+)>|([^`]+))`", lambda m: f"TERM[{m[1] or m[2]}]", text)
    names = sorted(terms, key=len, reverse=True)
    found = []
    for match in re.finditer(r"\(([^()]*[\uac00-\ud7a3][^()]*)\)", text):
        items = [part.strip() for part in re.split(r"[,;/]| or ", match[1]) if HANGUL.search(part)]
        if not GLOSS_ITEM.fullmatch(items[0]) or len(items[0].split()) > 4:
            continue  # a quotation, not a term
        before = " ".join(text[:match.start()].split())
        before = re.sub(r"(\*\*|__)$", "", before).rstrip()
        role = re.search(r"TERM\[([^\]]+)\]((?:\*\*|__)?[\w -]{0,40})$", before)
        if role and set(role[2].strip("*_ ").lower().split()) <= set(role[1].lower().split()):
            english = [role[1].strip().lower()]  # '{term}`multilingual <multilingual vocabulary>` vocabulary'
        elif before.endswith(("*", '"', "'", "\u201d", "\u2019", "`")):
            continue  # after an italic quotation or a piece of code
        else:
            tail = re.sub(r"[*_`]|TERM\[[^\]]*\]", "", before[-120:]).lower().rstrip()
            english = []
            while len(english) < len(items) and (name := _term_at_end(tail, names)):
                english.insert(0, name)  # 'tokenisation and embedding (토큰화, 임베딩)': one Korean each
                tail = re.sub(rf"{re.escape(name)}\w*$", "", tail)
                if not re.search(r"(?:,| and| or|, and)\s*$", tail):
                    break
                tail = re.sub(r"(?:,| and| or|, and)\s*$", "", tail)
            if len(english) > 1 and len(english) != len(items):
                english = english[-1:]
        for name, item in zip(english, items if len(english) > 1 else items[:1]):
            if name in terms and not (item != terms[name] and terms[name] in item):
                found.append((text.count("\n", 0, match.start()) + 1, name, item))
    return found


def test_korean_glosses_finds_terms_and_leaves_quotations():
    terms = {"hidden state": "은닉 상태", "value": "값", "vocabulary": "어휘 사전", "decoder": "디코더",
             "attention map": "히트맵"}
    text = ("A **{term}`hidden state`** (은닉 상태), the **{term}`values <value>`** (밸류, also 값),\n"
            "a vocabulary (어휘 사전), *handed to the decoder* (전체 hidden state를 디코더에 넘겨줘서),\n"
            "the decoder (디코더 부분을 말하는 긴 인용입니다), a {term}`heatmap <attention map>` (히트맵)\n"
            "```{code-cell} ipython3\nprint('decoder (디코더)')\n```\n")
    assert korean_glosses(text, terms) == [(1, "hidden state", "은닉 상태"), (1, "value", "밸류"),
                                           (2, "vocabulary", "어휘 사전"), (3, "attention map", "히트맵")]


def test_glossary_gives_each_korean_term_one_concept():
    seen: dict[str, list[str]] = {}
    for english, korean in glossary_entries():
        for name in korean:
            assert name not in seen, f"{name} names both {seen[name]} and {english} in book/glossary.md"
            seen[name] = english
    assert korean_terms()["value"] == "값" and korean_terms()["additive attention"] == "덧셈 어텐션"


@pytest.mark.parametrize("page", CHAPTERS + ["appendix-korean"])
def test_chapter_gives_glossary_terms_their_glossary_korean(page):
    """One Korean word per concept: where a chapter gives a term's Korean, it is the glossary's
    (a second name may follow it, '값, also 밸류'); and Korean terms are given on first use."""
    terms = korean_terms()
    glosses = korean_glosses((BOOK / f"{page}.md").read_text(encoding="utf-8"), terms)
    wrong = [f"line {line}: {english} ({korean}), the glossary says {terms[english]}"
             for line, english, korean in glosses if korean != terms[english]]
    assert not wrong, f"{page}: " + "; ".join(wrong)
    glossed = {english for _, english, _ in glosses}
    assert len(glossed) >= MIN_GLOSSES, (
        f"{page} gives the Korean of {len(glossed)} glossary terms ({', '.join(sorted(glossed))}): "
        f"give at least {MIN_GLOSSES} key terms their glossary Korean on first use, as 'term (한국어)'")
