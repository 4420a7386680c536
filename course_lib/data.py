"""Text to ids to padded batches, and the course's three generated tasks.

Top to bottom: special tokens, tokenisers, :class:`Vocab`, batching
(:func:`pad_batch`, :class:`Seq2SeqBatch`, :class:`Seq2SeqData`), the datasets
(dates, digit strings, a small English→Korean grammar) and :func:`load_task`.
Every dataset is generated in code from a seed: nothing is downloaded, and
train, valid and test never share a source sentence.
"""
from __future__ import annotations

import dataclasses
import datetime
import functools
import numbers
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple, Sequence

import torch
from babel import Locale
from babel.dates import format_date

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
SPECIALS = (PAD, BOS, EOS, UNK)

Pair = tuple[str, str]


# --- tokenisers ---------------------------------------------------------------

def char_tokenize(text: str) -> list[str]:
    """Every character is a token, spaces included: the date and digit tasks."""
    return list(text)


def char_detokenize(tokens: Iterable[str]) -> str:
    return "".join(tokens)


_WORD_RE = re.compile(r"\w+(?:'\w+)*|[^\w\s]")  # \w covers Hangul; "let's" stays whole
_NO_SPACE_BEFORE = set(".,!?;:%)]}…")
_NO_SPACE_AFTER = set("([{")


def word_tokenize(text: str) -> list[str]:
    """Words and punctuation marks: ``"Hello, world!" -> ["Hello", ",", "world", "!"]``."""
    return _WORD_RE.findall(text)


def word_detokenize(tokens: Iterable[str]) -> str:
    """Join words with spaces, but none before closing punctuation: undoes :func:`word_tokenize`."""
    text = ""
    for tok in tokens:
        if text and tok not in _NO_SPACE_BEFORE and text[-1] not in _NO_SPACE_AFTER:
            text += " "
        text += tok
    return text


# --- vocabulary ---------------------------------------------------------------

class Vocab:
    """Token ↔ id table: the four specials take ids 0..3, then the tokens in the order given."""

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self.itos: list[str] = list(SPECIALS)
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        for tok in tokens:
            if not isinstance(tok, str):
                raise ValueError(f"vocabulary tokens must be strings, got {tok!r} ({type(tok).__name__})")
            if tok not in self.stoi:
                self.stoi[tok] = len(self.itos)
                self.itos.append(tok)

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], min_freq: int = 1) -> Vocab:
        """Count tokens; keep those seen ``min_freq`` times, most frequent first (ties by token)."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, got {min_freq}")
        counts = Counter(tok for seq in sequences for tok in seq)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls(tok for tok, count in ranked if count >= min_freq)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        shown = " ".join(self.itos[:12]) + (" ..." if len(self) > 12 else "")
        return f"Vocab({len(self)} tokens: {shown})"

    pad_id = property(lambda self: PAD_ID)
    bos_id = property(lambda self: BOS_ID)
    eos_id = property(lambda self: EOS_ID)
    unk_id = property(lambda self: UNK_ID)

    def encode(self, tokens: Iterable[str], *, add_bos: bool = False, add_eos: bool = False,
               unk: bool = False) -> list[int]:
        """Tokens → ids. Unknown tokens are an error unless ``unk=True`` maps them to ``<unk>``."""
        tokens = list(tokens)
        if not unk:
            missing = list(dict.fromkeys(tok for tok in tokens if tok not in self.stoi))
            if missing:
                shown = ", ".join(map(repr, missing[:10])) + (", ..." if len(missing) > 10 else "")
                raise ValueError(f"{len(missing)} token(s) not in the vocabulary: {shown};"
                                 f" pass unk=True to map them to {UNK}")
        ids = [self.stoi.get(tok, UNK_ID) for tok in tokens]
        return [BOS_ID] * add_bos + ids + [EOS_ID] * add_eos

    def decode(self, ids: Sequence[int] | torch.Tensor, *, strip_special: bool = True) -> list[str]:
        """Ids → tokens. ``strip_special`` stops at the first ``<eos>`` and drops ``<pad>``/``<bos>``."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"decode takes one sequence (a 1-D tensor), got shape {tuple(ids.shape)};"
                                 " decode the rows of a batch one at a time")
            ids = ids.tolist()
        for i in ids:
            if not isinstance(i, numbers.Integral) or not 0 <= i < len(self):
                raise ValueError(f"id {i!r} is not in the vocabulary of size {len(self)} (ids 0..{len(self) - 1})")
        tokens = []
        for i in ids:
            if strip_special and i == EOS_ID:
                break
            if strip_special and i in (PAD_ID, BOS_ID):
                continue
            tokens.append(self.itos[i])
        return tokens

    def to_dict(self) -> dict[str, list[str]]:
        """A JSON-able form: ``json.dump(vocab.to_dict(), f)``."""
        return {"itos": list(self.itos)}

    @classmethod
    def from_dict(cls, data: dict[str, list[str]]) -> Vocab:
        itos = list(data["itos"])
        if tuple(itos[:4]) != SPECIALS:
            raise ValueError(f"a saved vocabulary starts with {SPECIALS}, this one with {tuple(itos[:4])}")
        if len(set(itos)) != len(itos):
            raise ValueError("a saved vocabulary must not repeat a token")
        return cls(itos[4:])


# --- batching -----------------------------------------------------------------

def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = PAD_ID,
              device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad id sequences to one length: ``(ids [B, T] long, lengths [B] long, mask [B, T] bool)``.

    ``mask`` is True at real tokens and False at padding.
    """
    if len(seqs) == 0:
        raise ValueError("pad_batch got no sequences; pass at least one")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if (lengths == 0).any():
        raise ValueError(f"sequence {int((lengths == 0).nonzero()[0])} is empty; every sequence needs a token")
    ids = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]  # (B, T)
    if device is not None:
        ids, lengths, mask = ids.to(device), lengths.to(device), mask.to(device)
    return ids, lengths, mask


@dataclass
class Seq2SeqBatch:
    """One batch: sources without specials, targets as ``<bos> y_1 .. y_n <eos>``, both padded."""

    src: torch.Tensor          # (B, S) long
    src_lengths: torch.Tensor  # (B,) long
    tgt: torch.Tensor          # (B, T) long
    pairs: list[Pair] = dataclasses.field(default_factory=list)  # the texts, for printing and scoring

    @property
    def src_mask(self) -> torch.Tensor:
        """(B, S) bool, True at real source tokens."""
        positions = torch.arange(self.src.shape[1], device=self.src.device)
        return positions[None, :] < self.src_lengths[:, None]

    @property
    def tgt_in(self) -> torch.Tensor:
        """(B, T-1): what the decoder reads under teacher forcing, ``<bos> y_1 .. y_n``."""
        return self.tgt[:, :-1]

    @property
    def tgt_out(self) -> torch.Tensor:
        """(B, T-1): what it must predict, ``y_1 .. y_n <eos>``, padded with ``PAD_ID``."""
        return self.tgt[:, 1:]

    def __len__(self) -> int:
        return self.src.shape[0]

    def to(self, device: torch.device | str) -> Seq2SeqBatch:
        return dataclasses.replace(self, src=self.src.to(device), src_lengths=self.src_lengths.to(device),
                                   tgt=self.tgt.to(device))


SPLITS = ("train", "valid", "test")


@dataclass(repr=False)
class Seq2SeqData:
    """A task's splits (lists of ``(source, target)`` texts), its vocabularies and tokenisers."""

    name: str
    train: list[Pair]
    valid: list[Pair]
    test: list[Pair]
    src_vocab: Vocab
    tgt_vocab: Vocab
    src_tokenize: Callable[[str], list[str]]
    tgt_tokenize: Callable[[str], list[str]]
    tgt_detokenize: Callable[[Iterable[str]], str]
    src_detokenize: Callable[[Iterable[str]], str] = char_detokenize

    def __repr__(self) -> str:
        return (f"Seq2SeqData({self.name!r}: train {len(self.train)}, valid {len(self.valid)},"
                f" test {len(self.test)} pairs; vocab src {len(self.src_vocab)}, tgt {len(self.tgt_vocab)})")

    def encode_source(self, text: str, unk: bool = False) -> list[int]:
        return self.src_vocab.encode(self.src_tokenize(text), unk=unk)

    def encode_target(self, text: str, unk: bool = False) -> list[int]:
        return self.tgt_vocab.encode(self.tgt_tokenize(text), add_bos=True, add_eos=True, unk=unk)

    def encode_pair(self, src_text: str, tgt_text: str, *, unk: bool = False) -> tuple[list[int], list[int]]:
        """Source ids (no specials) and target ids (``<bos> .. <eos>``)."""
        return self.encode_source(src_text, unk=unk), self.encode_target(tgt_text, unk=unk)

    def decode_source(self, ids: Sequence[int] | torch.Tensor) -> str:
        return self.src_detokenize(self.src_vocab.decode(ids))

    def decode_target(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Ids → text, stopping at the first ``<eos>``: what the decoders' outputs read as."""
        return self.tgt_detokenize(self.tgt_vocab.decode(ids))

    def batches(self, split: str, batch_size: int, *, shuffle: bool = False, seed: int = 0,
                device: torch.device | str | None = None, unk: bool = False) -> list[Seq2SeqBatch]:
        """The split cut into batches in order, or shuffled by ``seed`` (no sorting by length)."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; use one of {SPLITS}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        pairs = list(getattr(self, split))
        if shuffle:
            random.Random(seed).shuffle(pairs)
        out = []
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            encoded = [self.encode_pair(s, t, unk=unk) for s, t in chunk]
            src, src_lengths, _ = pad_batch([s for s, _ in encoded], device=device)
            tgt, _, _ = pad_batch([t for _, t in encoded], device=device)
            out.append(Seq2SeqBatch(src, src_lengths, tgt, chunk))
        return out


# --- datasets -----------------------------------------------------------------

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


def split_pairs(pairs: Iterable[Pair], fractions: Sequence[float] = (0.8, 0.1, 0.1), *, seed: int = 0,
                keep_in_train: Iterable[str] = ()) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """Train/valid/test: drop repeated sources (first kept), shuffle by ``seed``, cut.

    Sources in ``keep_in_train`` land in train, so no source is ever in two splits.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    first_target: dict[str, str] = {}
    for src, tgt in pairs:
        first_target.setdefault(src, tgt)
    unique = list(first_target.items())
    rng = random.Random(seed)
    rng.shuffle(unique)
    keep = set(keep_in_train)
    unique = [p for p in unique if p[0] in keep] + [p for p in unique if p[0] not in keep]
    n_train = round(fractions[0] * len(unique))
    n_valid = round(fractions[1] * len(unique))
    return unique[:n_train], unique[n_train : n_train + n_valid], unique[n_train + n_valid :]


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


# --- English → Korean grammar -------------------------------------------------

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
            place: _NP | None = None, stop: str = "") -> Pair:
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


def _greeting(phrase: str, addressee: str) -> Pair:
    """A set phrase said to someone: the vocative (아/야) comes first in Korean, 세상아, 안녕!"""
    ko = _ADDRESSEES[addressee]
    return f"{phrase.capitalize()}, {addressee}!", f"{ko}{particle(ko, 'vocative')}, {_PHRASES[phrase]}!"


_FIXED = [(p, ko) for p, ko in _PHRASES.items()] + [_greeting(p, a) for p in _PHRASES for a in _ADDRESSEES]
"""Set phrases, alone and addressed: learnt by heart, not composed, so :func:`load_task` keeps them in train."""


SEED_EXAMPLES: list[Pair] = [
    _greeting("hello", "world"),
    ("take your time", _PHRASES["take your time"]),
    _clause(_noun_phrase("cat"), "sit", past=True, prep="on", place=_noun_phrase("mat"), stop="."),
    _clause(_PRONOUNS["I"], "see", past=False, obj=_noun_phrase("cat")),
]
"""The seeds' own sentences, made by the grammar; :func:`grammar_pairs` always includes them."""


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


def _random_pair(rng: random.Random) -> Pair:
    r = rng.random()
    if r < 0.15:
        return rng.choice(_FIXED)
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


def grammar_pairs(n: int, *, seed: int = 0, include_seed_examples: bool = True) -> list[Pair]:
    """``n`` English→Korean pairs from a small grammar: SVO → SOV, particles by 받침, two tenses.

    Sentences (transitive, intransitive, with a place) take 85 %; set phrases (천천히), alone or
    addressed with a vocative (세상아, 안녕!), the rest. Pronoun subjects take the topic particle
    (나는), noun subjects the subject particle (고양이가), so each English sentence has one
    translation. :data:`SEED_EXAMPLES` come first.
    """
    rng = random.Random(seed)
    return _distinct(lambda: _random_pair(rng), n, "en-ko", SEED_EXAMPLES if include_seed_examples else ())


# --- who is 그분? (chapter 6, self-attention) ----------------------------------

_WHEN = ("지난", "이번", "작년", "어제")
_WHERE = ("회사", "학교", "동아리", "카페", "모임")
_HONORED = ("사수님", "팀장님", "교수님", "선배님", "사장님")  # 그분 (that honoured person) refers to one of these
_PLAIN = ("동기", "후배", "친구", "동생", "조카")  # 걔 (that kid, casual) refers to one of these
_STATES = ("친절했다", "바빴다", "웃었다", "조용했다", "피곤했다")


def referent_sentences(n: int, *, seed: int = 0) -> list[tuple[list[str], int]]:
    """Sentences where a pronoun points back to one of two people: (words, index of the referent).

    The seed's self-attention example, made checkable: '지난 회사 에서 사수님 과 동기 를
    만났다 . 그분 은 친절했다 .' The pronoun is always at index 10. 그분 (honorific) refers to the
    honoured person (사수님, 팀장님, ...), 걔 (casual) to the other one; which comes first is
    random, so only the words, not their places, tell which is meant. Particles follow the
    final consonant (과/와, 을/를, 은/는).
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


# --- tasks --------------------------------------------------------------------

TASKS = ("dates", "copy", "reverse", "en-ko")


def load_task(name: str, *, n: int, seed: int = 0, fractions: Sequence[float] = (0.8, 0.1, 0.1),
              **kwargs) -> Seq2SeqData:
    """Generate task ``name``, split it, and build both vocabularies from the train split only.

    dates, copy, reverse are character-level (copy/reverse take ``length=``); en-ko is
    word-level and keeps :data:`SEED_EXAMPLES` in train.
    """
    keep: list[str] = []
    if name == "dates":
        pairs, tok, detok = date_pairs(n, seed=seed, **kwargs), char_tokenize, char_detokenize
    elif name in ("copy", "reverse"):
        length = kwargs.pop("length", (3, 10))
        pairs = digit_pairs(n, length, task=name, seed=seed, **kwargs)
        tok, detok = char_tokenize, char_detokenize
    elif name == "en-ko":
        pairs, tok, detok = grammar_pairs(n, seed=seed, **kwargs), word_tokenize, word_detokenize
        keep = [src for src, _ in SEED_EXAMPLES + _FIXED]
    else:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    train, valid, test = split_pairs(pairs, fractions, seed=seed, keep_in_train=keep)
    src_vocab = Vocab.build(tok(s) for s, _ in train)
    tgt_vocab = Vocab.build(tok(t) for _, t in train)
    return Seq2SeqData(name, train, valid, test, src_vocab, tgt_vocab, tok, tok, detok, detok)
