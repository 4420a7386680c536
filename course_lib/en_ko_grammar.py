"""A small English→Korean grammar: the course's translation task (chapters 2-4, 7, 8).

English is subject-verb-object, Korean subject-object-verb with particles after nouns; the particle's
form depends on whether the noun ends in a consonant (받침): 고양이가, 책을. The word tables below
and :func:`random_pair` compose one sentence in both languages; :func:`course_lib.tasks.grammar_pairs`
draws ``n`` distinct ones from a seed, and :func:`has_batchim` / :func:`particle` are the rule itself,
which the appendix on Korean text and :func:`course_lib.tasks.referent_sentences` also use.
"""
from __future__ import annotations

import functools
import random
from typing import NamedTuple


def has_batchim(word: str) -> bool:
    """Whether the last syllable of ``word`` ends in a consonant (받침): 책, 사람 yes; 고양이 no."""
    if not word or not "가" <= word[-1] <= "힣":
        raise ValueError(f"{word!r} does not end in a Hangul syllable (가..힣); particles follow a Korean word")
    return (ord(word[-1]) - 0xAC00) % 28 != 0


_PARTICLES = {"topic": ("은", "는"), "subject": ("이", "가"), "object": ("을", "를"), "vocative": ("아", "야")}


def particle(noun: str, kind: str) -> str:
    """The particle after ``noun``: topic 은/는, subject 이/가, object 을/를, vocative 아/야.

    The first form follows a final consonant (책을, 사람은), the second a vowel (고양이를, 나는).
    The rule only: 나/너 + 가 contract to 내가/네가, which the grammar avoids (pronouns take 은/는).
    """
    if kind not in _PARTICLES:
        raise ValueError(f"unknown particle kind {kind!r}; use one of {list(_PARTICLES)}")
    after_consonant, after_vowel = _PARTICLES[kind]
    return after_consonant if has_batchim(noun) else after_vowel


# Nouns by tag: p person, n name, a animal, f food, d drink, m mass noun (no "a"),
# o thing, w written or made, s heard, x opens, l place to be on/under/near, i place to be in.
_NOUN_TABLE = """
p   teacher:선생님 student:학생 doctor:의사 child:아이 baby:아기 boy:소년 girl:소녀 man:남자 woman:여자
p   friend:친구 mother:엄마 father:아빠 farmer:농부 cook:요리사 singer:가수 king:왕 queen:여왕
pn  Minsu:민수 Jimin:지민 Sora:소라 Junho:준호 Mina:미나 Seojin:서진
a   cat:고양이 dog:개 puppy:강아지 bird:새 horse:말 cow:소 pig:돼지 rabbit:토끼 mouse:쥐 fish:물고기
a   duck:오리 tiger:호랑이 lion:사자 bear:곰 monkey:원숭이 frog:개구리 fox:여우 sheep:양 elephant:코끼리
f   apple:사과 cake:케이크 banana:바나나 egg:달걀 cookie:쿠키 pizza:피자 orange:오렌지 strawberry:딸기
f   sandwich:샌드위치
fm  bread:빵 rice:밥 kimchi:김치 soup:수프
dm  water:물 milk:우유 coffee:커피 juice:주스 tea:차
o   ball:공 pen:펜 hat:모자 phone:전화기 key:열쇠 picture:그림 flower:꽃 umbrella:우산 clock:시계
o   toy:장난감 shoe:신발 computer:컴퓨터 bicycle:자전거
ow  letter:편지
ws  song:노래
owx book:책
ox  door:문 window:창문
oxli box:상자 bag:가방 car:자동차
l   mat:매트 table:탁자 bed:침대 chair:의자 sofa:소파 desk:책상 bench:벤치 tree:나무 roof:지붕 rock:바위
l   carpet:카펫 blanket:담요
li  house:집 tent:텐트
"""
_NOUNS = {en: (ko, line.split()[0]) for line in _NOUN_TABLE.strip().splitlines()
          for en, ko in (item.split(":") for item in line.split()[1:])}

# base, 3rd-person singular, past; Korean present and past (plain 한다체); object tags (* any)
_TRANSITIVE_TABLE = """
see sees saw 본다 봤다 *           like likes liked 좋아한다 좋아했다 *
love loves loved 사랑한다 사랑했다 pa   want wants wanted 원한다 원했다 fdo
eat eats ate 먹는다 먹었다 f        drink drinks drank 마신다 마셨다 d
buy buys bought 산다 샀다 fdo       make makes made 만든다 만들었다 fw
open opens opened 연다 열었다 x     close closes closed 닫는다 닫았다 x
find finds found 찾는다 찾았다 pao   catch catches caught 잡는다 잡았다 a
throw throws threw 던진다 던졌다 o   carry carries carried 나른다 날랐다 o
wash washes washed 씻는다 씻었다 ao  draw draws drew 그린다 그렸다 pao
write writes wrote 쓴다 썼다 w      meet meets met 만난다 만났다 p
help helps helped 돕는다 도왔다 pa   call calls called 부른다 불렀다 pa
follow follows followed 따라간다 따라갔다 pa   hear hears heard 듣는다 들었다 pas
sing sings sang 부른다 불렀다 s
"""
# ... and intransitive verbs with the particle a place takes: 에 where one ends up, 에서 where one acts
_INTRANSITIVE_TABLE = """
sit sits sat 앉는다 앉았다 에          stand stands stood 선다 섰다 에
hide hides hid 숨는다 숨었다 에        sleep sleeps slept 잔다 잤다 에서
run runs ran 달린다 달렸다 에서        walk walks walked 걷는다 걸었다 에서
jump jumps jumped 뛴다 뛰었다 에서     wait waits waited 기다린다 기다렸다 에서
play plays played 논다 놀았다 에서     rest rests rested 쉰다 쉬었다 에서
smile smiles smiled 웃는다 웃었다 에서  cry cries cried 운다 울었다 에서
dance dances danced 춤춘다 춤췄다 에서  sing sings sang 노래한다 노래했다 에서
"""


def _verbs(table: str) -> dict[str, list[str]]:
    words = table.split()
    return {words[i]: words[i + 1 : i + 6] for i in range(0, len(words), 6)}


_TRANSITIVE, _INTRANSITIVE = _verbs(_TRANSITIVE_TABLE), _verbs(_INTRANSITIVE_TABLE)
_ADJECTIVES = {en: (ko, tags) for en, ko, tags in (item.split(":") for item in """
    big:큰:paoli small:작은:paoli red:빨간:ox blue:파란:ox black:검은:aox white:하얀:aox yellow:노란:ox
    new:새로운:oxl cute:귀여운:pa pretty:예쁜:pao happy:행복한:pa hungry:배고픈:pa sleepy:졸린:pa
    lazy:게으른:pa angry:화난:pa sad:슬픈:pa kind:친절한:p brave:용감한:pa hot:뜨거운:fd cold:차가운:fd
    sweet:달콤한:f fresh:신선한:f heavy:무거운:ox soft:부드러운:l""".split())}
_DETERMINERS = {"the": "", "a": "", "my": "내", "your": "너의", "his": "그의", "her": "그녀의",
                "our": "우리", "their": "그들의", "this": "이", "that": "저"}
_PREPOSITIONS = {"on": ("위", "l"), "under": ("아래", "l"), "next to": ("옆", "l"), "behind": ("뒤", "l"),
                 "in front of": ("앞", "l"), "in": ("안", "i")}
_PHRASES = {"hello": "안녕", "goodbye": "잘 가", "thank you": "고마워", "good night": "잘 자", "take your time": "천천히",
            "good morning": "좋은 아침", "see you tomorrow": "내일 봐", "be careful": "조심해", "hurry up": "서둘러",
            "come here": "이리 와", "no problem": "괜찮아", "welcome home": "어서 와", "of course": "물론이지"}
_ADDRESSEES = {"world": "세상", "friend": "친구", "puppy": "강아지", "cat": "고양이", "Minsu": "민수", "Jimin": "지민",
               "Sora": "소라"}


class _NP(NamedTuple):
    en: str         # as a subject
    en_obj: str     # as an object (differs for pronouns: I / me)
    ko: str         # without its particle
    pronoun: bool
    third_singular: bool
    noun: str = ""


_PRONOUNS = {en: _NP(en, obj, ko, True, third) for en, obj, ko, third in [
    ("I", "me", "나", False), ("you", "you", "너", False), ("he", "him", "그", True),
    ("she", "her", "그녀", True), ("we", "us", "우리", False), ("they", "them", "그들", False)]}


def _noun_phrase(noun: str, det: str | None = "the", adj: str | None = None) -> _NP:
    ko, tags = _NOUNS[noun]
    if "n" in tags:
        return _NP(noun, noun, ko, False, True, noun)
    en = [w for w in (det, adj, noun) if w]
    if det == "a" and en[1][0] in "aeiou":
        en[0] = "an"
    ko_words = [w for w in (_DETERMINERS[det] if det else "", _ADJECTIVES[adj][0] if adj else "", ko) if w]
    return _NP(" ".join(en), " ".join(en), " ".join(ko_words), False, True, noun)


def _clause(subj: _NP, verb: str, *, past: bool, obj: _NP | None = None, prep: str | None = None,
            place: _NP | None = None, stop: str = "") -> tuple[str, str]:
    """One sentence in both languages: English S V O [P place], Korean S [place P] O V."""
    table = _TRANSITIVE if obj else _INTRANSITIVE
    base, third, past_en, ko_present, ko_past, extra = [verb, *table[verb]]
    en = [subj.en, past_en if past else third if subj.third_singular else base]
    ko = [subj.ko + particle(subj.ko, "topic" if subj.pronoun else "subject")]
    if place:
        en += [prep, place.en_obj]
        ko.append(f"{place.ko} {_PREPOSITIONS[prep][0]}{'에서' if obj else extra}")
    if obj:
        en[2:2] = [obj.en_obj]
        ko.append(obj.ko + particle(obj.ko, "object"))
    ko.append(ko_past if past else ko_present)
    text = " ".join(en)
    return text[0].upper() + text[1:] + stop, " ".join(ko) + stop


def _greeting(phrase: str, addressee: str) -> tuple[str, str]:
    """A set phrase said to someone: the vocative (아/야) comes first in Korean, 세상아, 안녕!"""
    ko = _ADDRESSEES[addressee]
    return f"{phrase.capitalize()}, {addressee}!", f"{ko}{particle(ko, 'vocative')}, {_PHRASES[phrase]}!"


FIXED_PHRASES = [(p, ko) for p, ko in _PHRASES.items()] + [_greeting(p, a) for p in _PHRASES for a in _ADDRESSEES]
"""Set phrases, alone and addressed: learnt by heart, not composed, so :func:`course_lib.data.load_task`
keeps them in train."""


EXAMPLE_SENTENCES: list[tuple[str, str]] = [
    _greeting("hello", "world"),
    ("take your time", _PHRASES["take your time"]),
    _clause(_noun_phrase("cat"), "sit", past=True, prep="on", place=_noun_phrase("mat"), stop="."),
    _clause(_PRONOUNS["I"], "see", past=False, obj=_noun_phrase("cat")),
]
"""The course's four running examples, made by the grammar; :func:`course_lib.tasks.grammar_pairs` includes them.

"Hello, world!" → "세상아, 안녕!" is the example of the study note on sequence to sequence and "take your
time" → "천천히" that of the Bahdanau-to-T5 study notes (``note-seq2seq`` and ``notes-bahdanau-t5`` on the
book's sources page); "The cat sat on the mat." is the lecture slides' sentence (``slides-seq2seq``), which
they give in English only, so its Korean is the course's; "I see the cat" → "나는 고양이를 본다" is the
course's own.
"""


@functools.cache
def _with_tags(table: str, tags: str) -> list[str]:
    """Entries of the noun or adjective table that carry one of ``tags`` ('*' any)."""
    entries = _NOUNS if table == "nouns" else _ADJECTIVES
    return [w for w, (_, t) in entries.items() if tags == "*" or any(c in t for c in tags)]


def _random_np(rng: random.Random, tags: str) -> _NP:
    """A noun with one of ``tags``, with a random determiner and maybe an adjective that fits it."""
    noun = rng.choice(_with_tags("nouns", tags))
    mass = "m" in _NOUNS[noun][1]
    dets = [d for d in _DETERMINERS if not (mass and d == "a")] + [None] * mass  # "I drink water"
    det = rng.choices(dets, weights=[4 if d == "the" else 2 if d in ("a", None) else 1 for d in dets])[0]
    adjs = _with_tags("adjectives", _NOUNS[noun][1])
    adj = rng.choice(adjs) if adjs and rng.random() < 0.3 else None
    return _noun_phrase(noun, det, adj)


def random_pair(rng: random.Random) -> tuple[str, str]:
    """One (English, Korean) pair drawn with ``rng``: a set phrase 15 % of the time, else a sentence.

    Sentences are intransitive (25 %) or transitive, with a pronoun or a noun phrase as subject,
    in the present or the past, maybe with a place; :func:`course_lib.tasks.grammar_pairs` draws
    ``n`` distinct ones.
    """
    r = rng.random()
    if r < 0.15:
        return rng.choice(FIXED_PHRASES)
    subj = rng.choice(list(_PRONOUNS.values())) if rng.random() < 0.25 else _random_np(rng, "pa")
    past, stop = rng.random() < 0.5, rng.choice(("", "."))
    obj = prep = place = None
    if r < 0.4:
        verb = rng.choice(list(_INTRANSITIVE))
    else:
        verb = rng.choice(list(_TRANSITIVE))
        tags = _TRANSITIVE[verb][-1]
        while obj is None or obj.ko == subj.ko or (obj.noun and obj.noun == subj.noun):
            use_pronoun = (tags == "*" or "p" in tags) and rng.random() < 0.15
            obj = rng.choice(list(_PRONOUNS.values())) if use_pronoun else _random_np(rng, tags)
    if rng.random() < (0.2 if obj else 0.7):
        prep = rng.choice(list(_PREPOSITIONS))
        place = _random_np(rng, _PREPOSITIONS[prep][1])
    return _clause(subj, verb, past=past, obj=obj, prep=prep, place=place, stop=stop)

