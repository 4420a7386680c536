"""Text to ids to padded batches: tokenisers, :class:`Vocab`, :func:`pad_batch`, splits and :func:`load_task`.

Top to bottom: special tokens, tokenisers, :class:`Vocab`, batching (:func:`pad_batch`,
:class:`Seq2SeqBatch`, :class:`Seq2SeqData`), :func:`split_pairs` and :func:`load_task`,
which generates a task (:mod:`course_lib.tasks`), splits it so that train, valid and test
never share a source sentence, and builds the vocabularies from train.
"""
from __future__ import annotations

import dataclasses
import numbers
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import torch

from course_lib.en_ko_grammar import EXAMPLE_SENTENCES, FIXED_PHRASES
from course_lib.inputs import lengths_to_mask
from course_lib.tasks import Pair, date_pairs, digit_pairs, grammar_pairs

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
SPECIALS = (PAD, BOS, EOS, UNK)


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

    pad_id, bos_id, eos_id, unk_id = PAD_ID, BOS_ID, EOS_ID, UNK_ID  # the same in every vocabulary

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
    mask = lengths_to_mask(lengths, ids.shape[1])  # (B, T)
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
        return lengths_to_mask(self.src_lengths, self.src.shape[1])

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



# --- splits and tasks ---------------------------------------------------------

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


TASKS = ("dates", "copy", "reverse", "en-ko")


def load_task(name: str, *, n: int, seed: int = 0, fractions: Sequence[float] = (0.8, 0.1, 0.1),
              **kwargs) -> Seq2SeqData:
    """Generate task ``name``, split it, and build both vocabularies from the train split only.

    dates, copy, reverse are character-level (copy/reverse take ``length=``); en-ko is
    word-level and keeps :data:`EXAMPLE_SENTENCES` in train.
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
        keep = [src for src, _ in EXAMPLE_SENTENCES + FIXED_PHRASES]
    else:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    train, valid, test = split_pairs(pairs, fractions, seed=seed, keep_in_train=keep)
    src_vocab = Vocab.build(tok(s) for s, _ in train)
    tgt_vocab = Vocab.build(tok(t) for _, t in train)
    return Seq2SeqData(name, train, valid, test, src_vocab, tgt_vocab, tok, tok, detok, detok)
