"""The Korean edition's translations: extracting the book's messages and keeping locales/ko/ in step.

Sphinx's gettext builder reads the same chapters with the same configuration as the English
build and writes one message template (.pot) per page: every paragraph, heading, caption, table
cell, admonition title and alt text, in its MyST source form (roles and math kept). sphinx-intl
merges the templates into ``locales/ko/LC_MESSAGES/<page>.po``: a message whose English changed
is marked fuzzy (its old translation kept as a hint), a new one is empty, a removed one obsolete.
The Korean build (course_tools/book.py) uses only translated, non-fuzzy messages.

``make translations`` runs :func:`update`; ``python -m course_tools translations --check`` and
the tests run :func:`problems`, which names the page and the paragraph of every message that is
untranslated, fuzzy, obsolete or missing from the .po files, and of every translation that
changes the markup or names a glossary term otherwise than the glossary's Korean column.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from course_tools.book import BUILD_DIR, edition_config

LANGUAGE = "ko"
TITLE = "Sequence to Sequence, from RNNs to T5"
LOCALES = "locales"
POT_DIR = "_build/gettext"  # the templates: generated, never committed
LINE_WIDTH = 0  # no wrapping: one message per line pair, so that a diff shows the paragraph that changed


def po_dir(root: Path) -> Path:
    """Where the Korean .po files live: locales/ko/LC_MESSAGES/."""
    return Path(root) / LOCALES / LANGUAGE / "LC_MESSAGES"


def extract(root: Path) -> Path:
    """Write the message templates of every page into _build/gettext/. The chapters' outputs come
    from the English build's execution cache (``make book`` first; a chapter missing there is
    executed): figure captions and alt text live in code cells' metadata and become messages only
    with the outputs they describe."""
    root = Path(root).resolve()
    start = time.perf_counter()
    # myst-nb gives the gettext builder an output's text/plain form; the image (and its alt text) as in HTML
    images = [["gettext", mime, rank] for rank, mime in enumerate(("image/svg+xml", "image/png", "image/jpeg"), 1)]
    config = edition_config(root, "gettext", {"project": TITLE, "nb_mime_priority_overrides": images})
    output = root / BUILD_DIR / "gettext-run"
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--config", str(config),
               "--builder", "custom", "--custom-builder", "gettext", "--path-output", str(output),
               "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}  # a fixed date in the headers: no churn
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"extracting the book's messages failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    target = root / POT_DIR
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(output / "_build" / "gettext", target, ignore=shutil.ignore_patterns("_static"))
    print(f"extracted the book's messages into {target.relative_to(root)}/ in {time.perf_counter() - start:.0f} s")
    return target


def update(root: Path) -> None:
    """Extract the messages and merge them into locales/ko/ (sphinx-intl): what a maintainer runs
    after editing a page, before translating what changed."""
    root = Path(root).resolve()
    pot = extract(root)
    command = [str(Path(sys.executable).parent / "sphinx-intl"), "update", "--pot-dir", str(pot),
               "--locale-dir", str(root / LOCALES), "--language", LANGUAGE, "--line-width", str(LINE_WIDTH),
               "--no-obsolete", "--jobs", "1"]
    subprocess.run(command, cwd=root, check=True, capture_output=True)
    stale = {p.relative_to(po_dir(root)).with_suffix("") for p in po_dir(root).rglob("*.po")} - \
            {p.relative_to(pot).with_suffix("") for p in pot.rglob("*.pot")}
    for page in stale:  # a page removed from the book
        (po_dir(root) / page).with_suffix(".po").unlink()
    for line in report(root):
        print(line)


ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$")
CODE = re.compile(r"(?<![}`])`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
TARGETED = {"term", "doc", "download", "ref", "numref"}  # roles whose text may be translated, not their target


def markup(text: str) -> list[str]:
    """What a translation must keep of a message, sorted: its math, inline code, link addresses,
    glue and citation roles whole, and the targets of term, doc and ref roles (their text is
    translated: {term}`은닉 상태 <hidden state>` for {term}`hidden state`)."""
    kept = []
    for name, body in ROLE.findall(text):
        if name in TARGETED:
            target = re.search(r"<([^<>]+)>\s*$", body)
            kept.append(f"{{{name}}}{(target.group(1) if target else body).strip()}")
        else:
            kept.append(f"{{{name}}}`{body}`")
    without_roles = ROLE.sub("", text)
    kept += MATH.findall(without_roles)
    kept += [f"`{code}`" for code in CODE.findall(MATH.sub("", without_roles))]
    kept += [f"({url})" for url in LINK.findall(without_roles)]
    return sorted(kept)


def markup_differences(original: str, translation: str) -> str:
    """Empty if the translation keeps the original's markup; otherwise what is missing and what is extra."""
    a, b = markup(original), markup(translation)
    if a == b:
        return ""
    missing = [m for m in a if a.count(m) > b.count(m)]
    extra = [m for m in b if b.count(m) > a.count(m)]
    return "; ".join(part for part in (f"missing {sorted(set(missing))}" if missing else "",
                                        f"extra {sorted(set(extra))}" if extra else "") if part)


HANGUL = re.compile(r"[\uac00-\ud7a3]")
TERM = re.compile(r"\{term\}`([^`]*)`")
LIST_START = re.compile(r"^(\d+[.)]|[-*+])\s")  # a message parsed on its own: "1. 제목" is an ordered list


def glossary_korean(glossary_text: str) -> dict[str, str]:
    """Every name of a glossary entry (lower case) -> the entry's first Korean name: the course's term.
    An entry is a run of unindented lines (its English and Korean names) in a {glossary} block."""
    found: dict[str, str] = {}
    for block in re.findall(r"```\{glossary\}\n(.*?)```", glossary_text, re.S):
        names: list[str] = []
        for line in block.splitlines() + [""]:
            if line.strip() and not line.startswith((" ", ":")):
                names.append(line.strip())
                continue
            korean = [n for n in names if HANGUL.search(n)]
            found.update({n.lower(): korean[0] for n in names} if korean else {})
            names = []
    return found


def _terms(text: str) -> list[tuple[str, str]]:
    """(shown text, target) of each {term} role."""
    pairs = []
    for body in TERM.findall(text):
        explicit = re.search(r"^(.*?)\s*<([^<>]+)>\s*$", body)
        pairs.append((explicit.group(1), explicit.group(2)) if explicit else (body, body))
    return pairs


def term_differences(original: str, translation: str, korean: dict[str, str]) -> list[str]:
    """Glossary terms a translation names otherwise than the glossary's Korean column: where the
    English shows a term by its full name (not an acronym, not a shortened form), the Korean must
    show the entry's first Korean name."""
    full = {target.lower() for shown, target in _terms(original) if shown.lower() == target.lower()
            and not target.isupper()}
    return [f"{{term}}`{shown} <{target}>` should read {korean[target.lower()]}"
            for shown, target in _terms(translation)
            if target.lower() in full and target.lower() in korean and korean[target.lower()] not in shown]


@dataclass
class PageState:
    """How far one page's translation is: counts of its messages."""

    page: str
    messages: int
    translated: int
    fuzzy: int

    @property
    def share(self) -> float:
        return self.translated / self.messages if self.messages else 1.0


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=LANGUAGE)


def _location(message) -> str:  # noqa: ANN001 (babel's Message)
    """Where a message comes from, as `book/05-attention.md:718`."""
    if not message.locations:
        return "?"
    path, line = message.locations[0]
    return f"{path.split('../')[-1]}:{line}"


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def states(root: Path, pot: Path | None = None) -> list[PageState]:
    """Each page's counts, read from its .po file (pages in the templates but with no .po count as 0 %)."""
    root = Path(root)
    pages = sorted(p.relative_to(pot).with_suffix("") for p in pot.rglob("*.pot")) if pot else \
        sorted(p.relative_to(po_dir(root)).with_suffix("") for p in po_dir(root).rglob("*.po"))
    result = []
    for page in pages:
        path = (po_dir(root) / page).with_suffix(".po")
        if not path.is_file():
            template = _catalog((pot / page).with_suffix(".pot"))
            result.append(PageState(str(page), sum(1 for m in template if m.id), 0, 0))
            continue
        messages = [m for m in _catalog(path) if m.id]
        result.append(PageState(str(page), len(messages), sum(1 for m in messages if m.string and not m.fuzzy),
                                sum(1 for m in messages if m.fuzzy)))
    return result


def output_lines(page_source: str) -> set[int]:
    """The line numbers of a MyST page's code cells. A message located there is text a cell printed
    (a summary made with Markdown(f"...")): its numbers come from this machine's run, so on another
    machine it may differ and simply stay English; it is not required, nor obsolete when it is gone."""
    lines, inside = set(), False
    for number, line in enumerate(page_source.splitlines(), 1):
        if line.startswith("```{code-cell}"):
            inside = True
        elif inside and line.startswith("```"):
            inside = False
        if inside:
            lines.add(number)
    return lines


def _printed(message, root: Path) -> bool:  # noqa: ANN001 (babel's Message)
    """Whether every location of a message is inside a code cell of its page (printed text)."""
    found = []
    for path, line in message.locations:
        source = root / path.split("../")[-1]
        found.append(source.is_file() and int(line or 0) in output_lines(source.read_text(encoding="utf-8")))
    return bool(found) and all(found)


def problems(root: Path, pot: Path) -> list[str]:
    """Every message that keeps a page from being fully Korean, one line each naming the page and
    the paragraph: missing from the .po file (run `make translations`), obsolete, fuzzy or untranslated."""
    root, found = Path(root), []
    glossary = root / "book" / "glossary.md"
    korean = glossary_korean(glossary.read_text(encoding="utf-8")) if glossary.is_file() else {}
    for template_path in sorted(pot.rglob("*.pot")):
        page = template_path.relative_to(pot).with_suffix("")
        path = (po_dir(root) / page).with_suffix(".po")
        if not path.is_file():
            found.append(f"{page}: no {path.relative_to(root)} (run `make translations`)")
            continue
        template, catalog = _catalog(template_path), _catalog(path)
        for message in template:
            if message.id and message.id not in catalog and not _printed(message, root):
                found.append(f"{_location(message)}: not in {path.relative_to(root)} (run `make translations`): "
                             f"{_first_words(message.id)}")
        for message in catalog:
            if not message.id:
                continue
            if message.id not in template:
                if _printed(message, root):
                    continue  # printed by a cell on the machine that translated it; this run printed other numbers
                found.append(f"{page}: obsolete message (run `make translations`): {_first_words(message.id)}")
            elif message.fuzzy:
                found.append(f"{_location(message)}: fuzzy, the English changed since it was translated: "
                             f"{_first_words(message.id)}")
            elif not message.string:
                found.append(f"{_location(message)}: untranslated: {_first_words(message.id)}")
            elif difference := markup_differences(message.id, message.string):
                found.append(f"{_location(message)}: the translation changes the markup ({difference}): "
                             f"{_first_words(message.id)}")
            elif message.string != message.id and LIST_START.match(message.string):
                found.append(f"{_location(message)}: the translation starts like a list item, so Sphinx reads it as a "
                             f"list and keeps the English: escape it (1\\. …): {_first_words(message.string)}")
            elif page.name != "glossary" and (terms := term_differences(message.id, message.string, korean)):
                # (the glossary itself lists each entry's other names, linking to themselves)
                found.append(f"{_location(message)}: not the glossary's term: {'; '.join(terms)}")
    return found


def report(root: Path) -> list[str]:
    """Per page: the share of messages translated, and how many are fuzzy."""
    lines = []
    for state in states(root):
        lines.append(f"{state.page:28} {state.translated:4}/{state.messages:<4} translated ({state.share:6.1%})"
                     + (f", {state.fuzzy} fuzzy" if state.fuzzy else ""))
    return lines
