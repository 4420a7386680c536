"""The five study notes are sources with titles, never "seeds", wherever a reader or a student looks.

A random seed is still a seed (``seed=0``, "under a seed", "from three seeds", "the seed of the
initial weights"); what no reader may meet is a note called one: "seed 003", "the seed says",
"the seeds' sentences", "seed-like". :func:`seed_wording` tells the two apart (both kinds of
phrase are tested below) and is applied, outside code, to the book's Markdown, the README, the
released assignments' Markdown cells, ``course_lib``'s docstrings and comments, and the built
HTML (marked ``book``). The sources page says what each note holds and is linked from the intro.
"""
from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

from tests.conftest import ROOT

BOOK = ROOT / "book"
HTML = ROOT / "_build" / "html"
NOTE_KEYS = ["note-seq2seq", "note-seq2seq-learning", "slides-seq2seq", "notes-bahdanau-t5",
             "textbook-attention-korean"]

# "the seed(s)" in the sense of random seeds: followed by what a random seed does or has
_RANDOM_AFTER = (r"of\b|=|\d|value|values|argument|parameter|sets?\b|fix(?:es|ed)?\b|decides?\b|changes?\b"
                 r"|controls?\b|determines?\b|chooses?\b|picks?\b|is\s+(?:set|fixed|changed)|are\s+(?:set|fixed)")
# ... or preceded by a statistic over several of them: "the median of the seeds", "across the seeds"
_RANDOM_BEFORE = re.compile(r"(?:median|mean|average|spread|best|worst|each|all|any|none|both)\s+of\s+$"
                            r"|(?:across|over|among|between|for)\s+$", re.I)
_SEED_WORDING = re.compile(
    r"\bseeds?\s+0\d\d\b"  # seed 003, seeds 000 and 001
    r"|\bseed['\u2019]s\b|\bseeds['\u2019]"  # the seed's, the seeds' (not a closing quote: 'seed')
    r"|\bseed[-\s](?:notes?|texts?|sentences?|examples?|pairs?|dates?|batch|trace|like|figures?|material)\b"
    r"|\b(?P<article>the|this|that|these|those)\s+seeds?\b(?!\s*(?:" + _RANDOM_AFTER + r"))",
    re.I)


def seed_wording(text: str) -> list[str]:
    """The phrases of ``text`` that call a study note a seed, each with a little context."""
    found = []
    for match in _SEED_WORDING.finditer(text):
        if match.group("article") and _RANDOM_BEFORE.search(text[max(0, match.start() - 30):match.start()]):
            continue
        start, end = max(0, match.start() - 30), min(len(text), match.end() + 30)
        found.append(" ".join(text[start:end].split()))
    return found


CALLS_A_NOTE_A_SEED = [
    "The five steps of seed 001, on 'take your time'",
    "Seed 004, the textbook, says so.",
    "The seed 003 asks the next question",
    "As the seed says, the whole set of hidden states is handed over.",
    "The seed's worked example translates it.",
    "the seeds' four sentences, padded",
    "This chapter builds the pieces in the order the seeds give them",
    "the 13 words of the seed-like sentence",
    "The seed notes say that the last hidden state dominates.",
    "We compute it on the seed batch with an untrained model",
    "the seeds 000 and 001 both draw it",
    "That is the seed's trace: start, 세상아, ...",
    "written as in the seed.",
    "For Korean, the seed's choice, a cased model",
    "THE SEED SAYS SO",
    "the seed\u2019s date",
]
RANDOM_SEEDS = [
    "trained for a fixed number of epochs under a seed.",
    "run more than one seed",
    "from three seeds of its initial weights and batch order",
    "a point or two apart from one seed to the next, so the goal is on the median of the seeds",
    "seeds 1-4 land at 96-99 %",
    "seed 0 alone now lands at 94.2 %",
    "the same seed must give the same masking",
    "another seed must give another masking; different seeds, different lengths",
    "the seed of the initial weights",
    "the seed sets the initial weights and the batch order",
    "the seed = 0 of the run",
    "across the seeds, the exact match varies by a point",
    "its own seeded random generator, seeding every device",
    "a random seed; PYTHONHASHSEED=0",
    "the decoder uses the context vector as its \"seed\" (the note's word), its 'seed'",
]


@pytest.mark.parametrize("text", CALLS_A_NOTE_A_SEED)
def test_seed_wording_finds_a_note_called_a_seed(text):
    assert seed_wording(text), text


@pytest.mark.parametrize("text", RANDOM_SEEDS)
def test_seed_wording_leaves_random_seeds_alone(text):
    assert seed_wording(text) == [], text


_FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.M | re.S)  # code cells and code blocks
_INLINE_CODE = re.compile(r"``.+?``|`[^`\n]+`")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def markdown_prose(text: str) -> str:
    """Markdown without its front matter, fenced blocks (code cells among them) and inline code."""
    text = _FRONT_MATTER.sub("", text)
    text = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return _INLINE_CODE.sub(" ", text)


def test_markdown_prose_leaves_out_code():
    text = ("---\njupytext: x\n---\nProse.\n\n```{code-cell} ipython3\nprint(\"the seed's date\")\n```\n"
            "`seed 003` and more")
    assert markdown_prose(text).split() == ["Prose.", "and", "more"]


def _report(found: dict[str, list[str]]) -> str:
    return "a study note called a seed (name it and cite it: {cite:t}`key`, see book/sources.md):\n" + "\n".join(
        f"  {where}: {phrase}" for where, phrases in found.items() for phrase in phrases)


def test_book_pages_never_call_a_note_a_seed():
    found = {page.name: seed_wording(markdown_prose(page.read_text(encoding="utf-8")))
             for page in sorted(BOOK.glob("*.md"))}
    found = {name: phrases for name, phrases in found.items() if phrases}
    assert not found, _report(found)


def test_readme_never_calls_a_note_a_seed():
    found = seed_wording(markdown_prose((ROOT / "README.md").read_text(encoding="utf-8")))
    assert not found, _report({"README.md": found})


def test_released_assignments_never_call_a_note_a_seed():
    notebooks = sorted((ROOT / "assignments").glob("*/*.ipynb"))
    assert len(notebooks) >= 8
    found = {}
    for notebook in notebooks:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "markdown" and (phrases := seed_wording(markdown_prose("".join(cell["source"])))):
                found[f"{notebook.relative_to(ROOT)} cell {i}"] = phrases
    assert not found, _report(found)


def _docstrings_and_comments(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every docstring and comment of a Python file."""
    source = path.read_text(encoding="utf-8")
    found = [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list):  # docstrings of modules, classes, functions, and of module variables
            for first, second in zip([None, *body], body):
                doc = second.value.value if (isinstance(second, ast.Expr) and isinstance(second.value, ast.Constant)
                                             and isinstance(second.value.value, str)) else None
                if doc and (first is None or isinstance(first, (ast.Assign, ast.AnnAssign))):
                    found.append((second.lineno, doc))
    return found


def test_course_lib_docstrings_and_comments_never_call_a_note_a_seed():
    found = {}
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        for line, text in _docstrings_and_comments(path):
            if phrases := seed_wording(_INLINE_CODE.sub(" ", text)):
                found[f"{path.relative_to(ROOT)}:{line}"] = phrases
    assert not found, _report(found)


def test_course_lib_names_no_note_a_seed():
    """Public names too: the course's example sentences are EXAMPLE_SENTENCES, not SEED_EXAMPLES."""
    import course_lib.en_ko_grammar as grammar
    from course_lib import tasks

    assert grammar.EXAMPLE_SENTENCES and not hasattr(grammar, "SEED_EXAMPLES")
    assert "include_examples" in tasks.grammar_pairs.__kwdefaults__
    named = {f"{path.relative_to(ROOT)}: {name}" for path in sorted((ROOT / "course_lib").rglob("*.py"))
             for name in re.findall(r"\b\w*(?:seed_ex|seed_sent|seed_note)\w*", path.read_text("utf-8"), re.I)}
    assert not named, named


# --- the sources page ---------------------------------------------------------------

def test_sources_page_cites_every_note_and_is_in_the_book():
    text = (BOOK / "sources.md").read_text(encoding="utf-8")
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    for key in NOTE_KEYS:
        assert re.search(rf"^@\w+\{{{re.escape(key)},", bib, re.M), f"{key} not in book/references.bib"
        assert f"{{cite:t}}`{key}`" in text, f"book/sources.md does not list {key}"
    assert "file: book/sources" in (ROOT / "_toc.yml").read_text(encoding="utf-8")


def test_intro_links_the_sources_page_where_it_names_the_notes():
    intro = (BOOK / "intro.md").read_text(encoding="utf-8")
    paragraph = next(p for p in intro.split("\n\n") if "study notes" in p)
    assert re.search(r"\{doc\}`(?:[^`<]*<)?sources>?`", paragraph), paragraph


def _chapters_citing(key: str) -> set[str]:
    pattern = re.compile(r"\{cite:[pt]\}`[^`]*\b" + re.escape(key) + r"\b(?!-)[^`]*`")
    return {page.stem for page in BOOK.glob("[0-9][0-9]-*.md") if pattern.search(page.read_text(encoding="utf-8"))} | (
        {"appendix"} if pattern.search((BOOK / "appendix-korean.md").read_text(encoding="utf-8")) else set())


def _chapters_listed(cell: str) -> set[str]:
    """'1–3' -> {'01-...', '02-...', '03-...'} (by number), 'appendix' -> {'appendix'}."""
    stems = {int(page.stem[:2]): page.stem for page in BOOK.glob("[0-9][0-9]-*.md")}
    listed = {"appendix"} if "appendix" in cell else set()
    for first, last in re.findall(r"(\d+)(?:\s*[–-]\s*(\d+))?", cell):
        listed |= {stems[n] for n in range(int(first), int(last or first) + 1)}
    return listed


def test_sources_page_lists_the_chapters_that_cite_each_note():
    """Which note holds what: the table's "Chapters" column is where each note is cited."""
    rows = {m[1]: m[2] for m in re.finditer(r"^\| \{cite:t\}`([^`]+)` \|.*\| ([^|]*) \|$",
                                            (BOOK / "sources.md").read_text(encoding="utf-8"), re.M)}
    assert sorted(rows) == sorted(NOTE_KEYS)
    wrong = {key: {"listed": sorted(_chapters_listed(cell)), "cited in": sorted(_chapters_citing(key))}
             for key, cell in rows.items() if _chapters_listed(cell) != _chapters_citing(key)}
    assert not wrong, json.dumps(wrong, indent=1)


# --- the built book -------------------------------------------------------------------

def html_prose(path: Path) -> str:
    """The text of a built page a reader sees, outside code: no code cell's input, no literal."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main") or soup
    for tag in main.select('.cell_input, script, style, code, .headerlink, div[class*="highlight-"]:not(.output)'):
        tag.decompose()
    return main.get_text(" ")


@pytest.mark.book
def test_built_pages_never_call_a_note_a_seed():
    pages = sorted(HTML.rglob("*.html"))
    pages = [p for p in pages if not p.relative_to(HTML).parts[0].startswith(("_", "."))
             and p.name not in ("search.html", "genindex.html")]
    if not pages:
        pytest.fail("the book is not built: run `make book` (make test builds it first)")
    found = {p.relative_to(HTML).as_posix(): phrases for p in pages if (phrases := seed_wording(html_prose(p)))}
    assert not found, _report(found)
