"""English <-> 한국어: a link on every page to the same page in the other edition, and Korean search words.

The English edition is built into _build/html/, the Korean one (language ``ko``) into _build/html/ko/
(course_tools/book.py), so the other edition's page is found by a relative path: no JavaScript.
Sphinx has no Korean search language: its default splits text at spaces, so a word with a particle
attached (어텐션은) would be the only form indexed. The Korean search language here also indexes each
word's morphemes (kiwipiepy, which the appendix already uses, ships its own model), so 어텐션 is found.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from os import path
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import init as init_locale
from sphinx.search import SearchLanguage
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

EDITIONS = {"en": ("ko", "한국어"), "ko": ("en", "English")}
SUBFOLDER = {"en": "", "ko": "ko/"}  # where each edition lies under _build/html/
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def other_edition_link(pagename: str, language: str) -> str:
    """The relative address of ``pagename`` in the other edition, from this edition's page."""
    other, _ = EDITIONS[language]
    up = "../" * (pagename.count("/") + (1 if language == "ko" else 0))
    return f"{up}{SUBFOLDER[other]}{pagename}.html"


def switch_html(pagename: str, language: str) -> str:
    """The switch's markup: a link with the other language's name, marked with that language."""
    other, name = EDITIONS[language]
    href = other_edition_link(pagename, language)
    return (f'<nav class="language-switch" aria-label="Language"><a href="{href}" hreflang="{other}" '
            f'lang="{other}" class="reference external language-switch-link">{name}</a></nav>\n')


def add_switch(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Put the switch at the top of every page's body (only pages with a body: not search or genindex)."""
    language = app.config.language if app.config.language in EDITIONS else "en"
    if "body" in context:
        context["body"] = switch_html(pagename, language) + context["body"]


class TranslateTocCaptions(SphinxTransform):
    """The captions of the table of contents (Foundations, Attention, ...) in the edition's language.

    Jupyter Book's tables of contents (sphinx-external-toc) are inserted after Sphinx has translated
    the page, so their captions stay English; this runs after them and looks each caption up in the
    page's catalog (the captions are messages of the root page's .po file)."""

    default_priority = 900

    def apply(self, **kwargs: Any) -> None:
        if self.config.language in (None, "", "en"):
            return
        dirs = [path.join(self.env.srcdir, folder) for folder in self.config.locale_dirs]
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        catalog, found = init_locale(dirs, self.config.language, domain)
        if not found:
            return
        for node in self.document.findall(addnodes.toctree):
            if node.get("caption"):
                node["caption"] = catalog.gettext(node["caption"])


class SearchKorean(SearchLanguage):
    """Sphinx's default word splitting, plus each Korean word's morphemes (nouns, stems) from kiwipiepy."""

    lang = "ko"
    language_name = "Korean"
    _kiwi = None

    def split(self, input: str) -> list[str]:  # noqa: A002 (Sphinx's name)
        words = super().split(input)
        if not HANGUL.search(input):
            return words
        if SearchKorean._kiwi is None:
            from kiwipiepy import Kiwi
            SearchKorean._kiwi = Kiwi()
        morphemes = [token.form for token in SearchKorean._kiwi.tokenize(input)
                     if token.tag.startswith(("NN", "VV", "VA", "SL", "XR")) and len(token.form) > 1]
        return words + morphemes

    def word_filter(self, word: str) -> bool:
        """Keep one-letter Korean words out as Sphinx keeps short English ones."""
        return len(word) > 1 and super().word_filter(word)


def add_static(app: Sphinx) -> None:
    """The switch's style sheet, from beside this file."""
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", add_static)
    app.add_css_file("language_switch.css")
    app.connect("html-page-context", add_switch)
    app.add_search_language(SearchKorean)
    app.add_transform(TranslateTocCaptions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
