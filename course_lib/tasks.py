"""The course's generated tasks: dates, digit strings, English→Korean sentences, 그분 and 걔, help texts.

Every task is made in code from a seed, so nothing is downloaded and every run sees the same data.
:func:`course_lib.data.load_task` splits the pair tasks (dates, copy, reverse, en-ko) and builds
their vocabularies; :func:`referent_sentences` (chapter 6) and :func:`pydoc_documents` (chapters 7
and 8, raw text for pre-training) are used as they are.
"""
from __future__ import annotations

import datetime
import functools
import random
import re
from typing import Callable, Sequence

from babel import Locale
from babel.dates import format_date
from pydoc_data.topics import topics

from course_lib.en_ko_grammar import EXAMPLE_SENTENCES, has_batchim, particle, random_pair

Pair = tuple[str, str]
"""(source, target) text."""


def _distinct(draw: Callable[[], Pair], n: int, what: str, first: Sequence[Pair] = ()) -> list[Pair]:
    """Call ``draw`` until ``n`` pairs with distinct sources exist (``first`` go first)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    pairs = dict(first)
    tries = 0
    while len(pairs) < n:
        pairs.setdefault(*draw())
        tries += 1
        if tries > 50 * n + 1000:
            raise ValueError(f"only {len(pairs)} distinct {what} pairs exist with these settings;"
                             f" ask for fewer than n={n} or widen the settings")
    return list(pairs.items())[:n]


# Dates: Babel (CLDR) renders a date; the target is ISO 8601.
DATE_LOCALES = {"en": "en_US", "ko": "ko_KR", "fr": "fr_FR", "de": "de_DE"}
DATE_FORMATS = ("full", "long", "medium", "d MMM y", "EEEE d MMMM y", "y/MM/dd")
"""'short' is left out: en, ko and de write its year with two digits, which no model can map to one century."""


@functools.cache
def _locale(lang: str) -> Locale:
    if lang not in DATE_LOCALES:
        raise ValueError(f"unknown language {lang!r}; choose from {list(DATE_LOCALES)}")
    return Locale.parse(DATE_LOCALES[lang])


def render_date(day: datetime.date, lang: str, fmt: str) -> str:
    """``day`` as Babel writes it in ``lang`` (en, ko, fr, de), with odd spaces made plain."""
    return re.sub(r"[\u00a0\u2009\u202f]", " ", format_date(day, fmt, locale=_locale(lang)))


def date_pairs(n: int, *, seed: int = 0, languages: Sequence[str] = ("en", "ko", "fr", "de"),
               start_year: int = 1950, end_year: int = 2049) -> list[Pair]:
    """``n`` pairs like ``('mardi 3 mars 2020', '2020-03-03')``: random day, language and format."""
    unknown = [lang for lang in languages if lang not in DATE_LOCALES]
    if unknown or not languages:
        raise ValueError(f"unknown languages {unknown}; choose from {list(DATE_LOCALES)}")
    if not 1000 <= start_year <= end_year <= 9999:
        raise ValueError(f"need 1000 <= start_year <= end_year <= 9999, got {start_year}, {end_year}")
    first = datetime.date(start_year, 1, 1).toordinal()
    last = datetime.date(end_year, 12, 31).toordinal()
    rng = random.Random(seed)

    def draw() -> Pair:
        day = datetime.date.fromordinal(rng.randint(first, last))
        return render_date(day, rng.choice(languages), rng.choice(DATE_FORMATS)), day.isoformat()

    return _distinct(draw, n, "date")


def digit_pairs(n: int, length: int | tuple[int, int], *, task: str = "copy", seed: int = 0) -> list[Pair]:
    """``n`` digit strings (``length`` digits, or a length drawn from an inclusive range) and
    their copy or reverse: ``('40213', '31204')``."""
    lo, hi = (length, length) if isinstance(length, int) else length
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
        raise ValueError(f"length must be >= 1 or a range (lo, hi) with 1 <= lo <= hi, got {length!r}")
    if task not in ("copy", "reverse"):
        raise ValueError(f"unknown task {task!r}; use 'copy' or 'reverse'")
    rng = random.Random(seed)

    def draw() -> Pair:
        digits = "".join(rng.choices("0123456789", k=rng.randint(lo, hi)))
        return digits, digits if task == "copy" else digits[::-1]

    return _distinct(draw, n, f"{task} digit")


# --- English → Korean sentences (the grammar is course_lib.en_ko_grammar) -------------

def grammar_pairs(n: int, *, seed: int = 0, include_examples: bool = True) -> list[Pair]:
    """``n`` English→Korean pairs from a small grammar: SVO → SOV, particles by 받침, two tenses.

    Sentences (transitive, intransitive, with a place) take 85 %; set phrases (천천히), alone or
    addressed with a vocative (세상아, 안녕!), the rest. Pronoun subjects take the topic particle
    (나는), noun subjects the subject particle (고양이가), so each English sentence has one
    translation. :data:`~course_lib.en_ko_grammar.EXAMPLE_SENTENCES` come first.
    """
    rng = random.Random(seed)
    return _distinct(lambda: random_pair(rng), n, "en-ko", EXAMPLE_SENTENCES if include_examples else ())


# --- who is 그분? (chapter 6, self-attention) ----------------------------------

_WHEN = ("지난", "이번", "작년", "어제")
_WHERE = ("회사", "학교", "동아리", "카페", "모임")
_HONORED = ("사수님", "팀장님", "교수님", "선배님", "사장님")  # 그분 (that honoured person) refers to one of these
_PLAIN = ("동기", "후배", "친구", "동생", "조카")  # 걔 (that kid, casual) refers to one of these
_STATES = ("친절했다", "바빴다", "웃었다", "조용했다", "피곤했다")


def referent_sentences(n: int, *, seed: int = 0) -> list[tuple[list[str], int]]:
    """Sentences where a pronoun points back to one of two people: (words, index of the referent).

    The self-attention example of the Bahdanau-to-T5 study notes (``notes-bahdanau-t5``), made
    checkable: '지난 회사 에서 사수님 과 동기 를 만났다 . 그분 은 친절했다 .' The pronoun is always at
    index 10. 그분 (honorific) refers to the honoured person (사수님, 팀장님, ...), 걔 (casual) to the
    other one; which comes first is random, so only the words, not their places, tell which is
    meant. Particles follow the final consonant (과/와, 을/를, 은/는).
    """
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        people = [rng.choice(_HONORED), rng.choice(_PLAIN)]
        rng.shuffle(people)
        pronoun = rng.choice(("그분", "걔"))
        first, second = people
        words = [rng.choice(_WHEN), rng.choice(_WHERE), "에서", first, "과" if has_batchim(first) else "와",
                 second, particle(second, "object"), "만났다", ".", pronoun, particle(pronoun, "topic"),
                 rng.choice(_STATES), "."]
        referent = 3 if (first in _HONORED) == (pronoun == "그분") else 5
        sentences.append((words, referent))
    return sentences



# --- raw text (chapters 7 and 8) ------------------------------------------------------

def pydoc_documents(*, min_words: int = 4, max_words: int = 60) -> list[list[str]]:
    """The standard library's help texts (``pydoc_data.topics``) as documents of sentences.

    One document per help topic; code blocks (indented lines), tables, doctests and headings are dropped, and
    sentences of fewer than ``min_words`` or more than ``max_words`` words are skipped.
    """
    documents = []
    for name in sorted(topics):
        prose = []
        for paragraph in re.split(r"\n\s*\n", topics[name]):
            lines = paragraph.splitlines()
            if (not lines or any(line.startswith((" ", "\t", "|", "+-", ">>>")) for line in lines)
                    or re.fullmatch(r"[*=\-]+", lines[-1])):
                continue  # code, tables, doctests, headings
            prose.append(" ".join(line.strip() for line in lines))
        sentences = [s for p in prose for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", p)
                     if min_words <= len(s.split()) <= max_words]
        if len(sentences) >= 2:
            documents.append(sentences)
    return documents
