"""T5's and BART's pre-training corruptions, as plain functions on token sequences.

Chapter 8. Like BERT's masking (``course_lib.pretraining``), these make a pre-training problem
out of raw text, but for an encoder-decoder: the encoder reads a corrupted sequence, the
decoder writes what was lost (T5) or the whole original (BART).

- T5, span corruption: about 15 % of the tokens, in spans of mean length 3, are dropped;
  each span leaves ONE sentinel of its own in the input (<extra_id_0>, <extra_id_1>, ...),
  and the target lists every sentinel followed by the tokens it stands for.
- BART, five noising functions: token masking, token deletion, text infilling (Poisson(3)
  span lengths, one <mask> per span, zero-length spans insert a <mask>), sentence
  permutation and document rotation.

Every function works on any sequence of tokens: ids (ints) or word strings, as long as the
special tokens (sentinels, mask, eos, pad) are of the same kind. Randomness comes from
``rng``, a ``random.Random`` (draws continue from it across calls) or an int seed, never from
the global ``random``. A trailing end-of-sequence token (``eos``) and trailing padding
(``pad``) are never corrupted: they are set aside and put back unchanged after the result,
so lengths change and a batch must be padded again afterwards.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")

NUM_T5_SENTINELS = 100  # T5's vocabularies end with <extra_id_0> ... <extra_id_99>


def t5_sentinel_ids(vocab_size: int, count: int = NUM_T5_SENTINELS) -> list[int]:
    """The ids of <extra_id_0>, <extra_id_1>, ...: Hugging Face's T5 counts them DOWN from vocab_size - 1."""
    if not 0 < count <= vocab_size:
        raise ValueError(f"count must lie in 1..vocab_size ({vocab_size}), got {count}")
    return [vocab_size - 1 - i for i in range(count)]


def t5_sentinel_tokens(count: int = NUM_T5_SENTINELS) -> list[str]:
    """The sentinel strings <extra_id_0>, <extra_id_1>, ..., for sequences of words."""
    return [f"<extra_id_{i}>" for i in range(count)]


def _as_rng(rng: random.Random | int) -> random.Random:
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    raise TypeError(f"rng must be a random.Random or an int seed, got {type(rng).__name__}")


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value}: it is the share of tokens to corrupt")


def _split_tail(tokens: Sequence[T], eos: T | None, pad: T | None) -> tuple[list[T], list[T]]:
    """(body, tail): tail is the trailing eos and padding, which no corruption may touch.

    With ``pad`` given, the trailing run of ``pad`` is padding, and ``pad`` may occur nowhere
    else. With ``eos`` given, the tokens (before padding) must end with it.
    """
    tokens = list(tokens)
    end = len(tokens)
    if pad is not None:
        while end > 0 and tokens[end - 1] == pad:
            end -= 1
        if pad in tokens[:end]:
            raise ValueError(f"the padding token {pad!r} occurs at position {tokens.index(pad)}, before the end:"
                             " padding must come last (pass pad=None if that token is ordinary text)")
    if eos is not None:
        if end == 0 or tokens[end - 1] != eos:
            raise ValueError(f"the tokens do not end with eos={eos!r} (before any padding): append it, or pass"
                             " eos=None for a sequence without one")
        end -= 1
    return tokens[:end], tokens[end:]


def split_text(tokens: Sequence[T], eos: T | None = None, pad: T | None = None) -> tuple[list[T], list[T]]:
    """(text, tail): the tail is the trailing run of ``pad`` and, just before it, ``eos`` if it is there.

    Unlike the checks inside this module's corruptions, it raises nothing: an eos that is
    missing, or ``None`` for eos or pad, just leaves that part out of the tail. (The reference
    of assignment 08's ``split_text``.)
    """
    end = len(tokens)
    if pad is not None:
        while end > 0 and tokens[end - 1] == pad:
            end -= 1
    if eos is not None and end > 0 and tokens[end - 1] == eos:
        end -= 1
    return list(tokens[:end]), list(tokens[end:])

# ---------------------------------------------------------------------------------------------
# T5: span corruption


def random_segmentation(num_items: int, num_segments: int, rng: random.Random | int) -> list[int]:
    """``num_segments`` positive lengths adding up to ``num_items``, every such list equally likely.

    T5's ``_random_segmentation``: cut the items at ``num_segments - 1`` distinct places
    chosen uniformly among the ``num_items - 1`` gaps between them.
    """
    if not 1 <= num_segments <= num_items:
        raise ValueError(f"cannot cut {num_items} items into {num_segments} non-empty segments:"
                         " num_segments must lie in 1..num_items")
    cuts = sorted(_as_rng(rng).sample(range(1, num_items), num_segments - 1))
    bounds = [0, *cuts, num_items]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def noise_span_counts(length: int, noise_density: float, mean_span_length: float) -> tuple[int, int]:
    """(noise tokens, noise spans) of T5's span corruption for a sequence of ``length`` tokens.

    round(length * noise_density) noise tokens, at least 1 (for a positive density) and at most
    length - 1; round(noise / mean_span_length) spans, at least 1. Python's round, like T5's
    tf.round, rounds halves to even. No noise for noise_density 0.
    """
    _check_rate("noise_density", noise_density)
    if mean_span_length < 1:
        raise ValueError(f"mean_span_length must be at least 1 (a span holds whole tokens), got {mean_span_length}")
    if noise_density == 0:
        return 0, 0
    if length < 2:
        raise ValueError(f"a sequence of {length} token(s) is too short to corrupt: spans alternate between kept"
                         " and dropped tokens, so it needs at least 2 (eos and padding do not count)")
    num_noise = min(max(round(length * noise_density), 1), length - 1)
    num_spans = max(round(num_noise / mean_span_length), 1)
    if num_spans > length - num_noise:
        raise ValueError(f"{num_spans} noise spans need at least {num_spans} kept tokens between them, but only"
                         f" {length - num_noise} of {length} are kept: lower noise_density ({noise_density})"
                         f" or raise mean_span_length ({mean_span_length})")
    return num_noise, num_spans


def random_spans_noise_mask(length: int, *, noise_density: float = 0.15, mean_span_length: float = 3.0,
                            rng: random.Random | int) -> list[bool]:
    """T5's noise mask: True at the tokens to drop, in spans of random lengths.

    The counts are fixed (``noise_span_counts``); the noise tokens and the kept tokens are each
    cut into that many spans by ``random_segmentation`` and interleaved kept, noise, kept,
    noise, ... So the mask starts with kept tokens and, as in T5's code, ends with a noise span.
    """
    num_noise, num_spans = noise_span_counts(length, noise_density, mean_span_length)
    if num_spans == 0:
        return [False] * length
    rng = _as_rng(rng)
    noise_lengths = random_segmentation(num_noise, num_spans, rng)
    kept_lengths = random_segmentation(length - num_noise, num_spans, rng)
    mask: list[bool] = []
    for kept, noise in zip(kept_lengths, noise_lengths):
        mask += [False] * kept + [True] * noise
    return mask


@dataclass
class SpanCorruption(Generic[T]):
    """One T5 pre-training example."""

    inputs: list[T]  # the tokens with every dropped span replaced by its own sentinel (then eos and padding)
    targets: list[T]  # sentinel_0 span_0 sentinel_1 span_1 ... sentinel_k (then eos)


def span_corruption(tokens: Sequence[T], *, sentinels: Sequence[T], rng: random.Random | int,
                    noise_density: float = 0.15, mean_span_length: float = 3.0,
                    eos: T | None = None, pad: T | None = None) -> SpanCorruption[T]:
    """T5's span corruption: drop spans (``random_spans_noise_mask``), each leaving a sentinel of its own.

    ``sentinels`` are <extra_id_0>, <extra_id_1>, ... in that order (``t5_sentinel_ids`` or
    ``t5_sentinel_tokens``); span i gets ``sentinels[i]``. The targets hold each sentinel with
    the span it replaced, then one more sentinel that closes the last span, as in the T5 paper
    ("<X> for inviting <Y> last <Z>") and Hugging Face's T5 examples; so k spans need k + 1
    sentinels. A trailing ``eos`` stays last in the inputs and ends the targets too; trailing
    padding stays in the inputs. ``reconstruct_spans`` undoes it.
    """
    body, tail = _split_tail(tokens, eos, pad)
    if len(set(sentinels)) != len(sentinels):
        raise ValueError("the sentinels must be distinct: each span needs a token of its own")
    sentinel_set = set(sentinels)
    clash = next((i for i, token in enumerate(body) if token in sentinel_set), None)
    if clash is not None:
        raise ValueError(f"token {body[clash]!r} at position {clash} is a sentinel: the text must not contain"
                         " sentinels, or the targets could not be told apart from it")
    num_noise, num_spans = noise_span_counts(len(body), noise_density, mean_span_length)
    if num_spans + 1 > len(sentinels):
        raise ValueError(f"{num_spans} spans need {num_spans + 1} sentinels (one per span and one to close the"
                         f" targets), but {len(sentinels)} were given: pass more sentinels (T5 has"
                         f" {NUM_T5_SENTINELS}) or corrupt a shorter sequence")
    mask = random_spans_noise_mask(len(body), noise_density=noise_density, mean_span_length=mean_span_length,
                                   rng=rng)
    inputs: list[T] = []
    targets: list[T] = []
    span = -1
    for i, (token, noisy) in enumerate(zip(body, mask)):
        if noisy:
            if i == 0 or not mask[i - 1]:  # a span starts
                span += 1
                inputs.append(sentinels[span])
                targets.append(sentinels[span])
            targets.append(token)
        else:
            inputs.append(token)
    # The closing sentinel: T5's preprocessing code leaves it out (its masks end with a dropped span and the eos
    # ends the targets); kept, it costs one token and marks the targets' end with or without an eos.
    targets.append(sentinels[span + 1])
    eos_tail = [eos] if eos is not None else []
    return SpanCorruption(inputs + tail, targets + eos_tail)


def reconstruct_spans(inputs: Sequence[T], targets: Sequence[T], sentinels: Sequence[T]) -> list[T]:
    """The original tokens: every sentinel of ``inputs`` replaced by the span that follows it in ``targets``.

    Whatever follows the closing sentinel of the targets (an eos) is ignored; the inputs'
    own eos and padding are kept.
    """
    index = {sentinel: i for i, sentinel in enumerate(sentinels)}
    num_spans = sum(1 for token in inputs if token in index)
    spans: list[list[T]] = []
    for position, token in enumerate(targets):
        if token in index:
            if index[token] != len(spans):
                raise ValueError(f"target position {position} holds sentinel {index[token]} where sentinel"
                                 f" {len(spans)} was due: sentinels must come in order")
            if len(spans) == num_spans:
                break  # the sentinel that closes the last span
            spans.append([])
        elif not spans:
            raise ValueError(f"the targets must start with the first sentinel (sentinels[0]), got {token!r}")
        else:
            spans[-1].append(token)
    else:
        raise ValueError(f"the inputs hold {num_spans} sentinels, but the targets end before sentinel {num_spans}"
                         " that closes the last span")
    original: list[T] = []
    for token in inputs:
        if token in index:
            if index[token] >= len(spans):
                raise ValueError(f"the inputs hold sentinel {index[token]}, which the targets never fill")
            original += spans[index[token]]
        else:
            original.append(token)
    return original


# ---------------------------------------------------------------------------------------------
# BART: five ways to corrupt a document


def token_masking(tokens: Sequence[T], *, mask: T, rng: random.Random | int, p: float = 0.15,
                  eos: T | None = None, pad: T | None = None) -> list[T]:
    """BERT-style masking: every token independently becomes ``mask`` with probability ``p``."""
    _check_rate("p", p)
    body, tail = _split_tail(tokens, eos, pad)
    rng = _as_rng(rng)
    return [mask if rng.random() < p else token for token in body] + tail


def token_deletion(tokens: Sequence[T], *, rng: random.Random | int, p: float = 0.15,
                   eos: T | None = None, pad: T | None = None) -> list[T]:
    """Every token independently deleted with probability ``p``: the model must find where text is missing."""
    _check_rate("p", p)
    body, tail = _split_tail(tokens, eos, pad)
    rng = _as_rng(rng)
    return [token for token in body if rng.random() >= p] + tail


def poisson(rng: random.Random, lam: float) -> int:
    """One draw from Poisson(lam) (Knuth's method: count uniform factors until their product drops below e^-lam)."""
    limit, count, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def text_infilling(tokens: Sequence[T], *, mask: T, rng: random.Random | int, p: float = 0.3,
                   poisson_lambda: float = 3.0, eos: T | None = None, pad: T | None = None) -> list[T]:
    """BART's text infilling: spans of Poisson(``poisson_lambda``) length, each replaced by ONE ``mask``.

    Span lengths are drawn until they add up to round(p * len) masked tokens (the last one cut
    to fit; BART masked 30 %). A zero-length span (probability e^-3, about 5 %, for lambda 3)
    inserts a ``mask`` where nothing is missing, so the model must also learn how many tokens
    a mask stands for, zero included. The spans go into distinct gaps between the kept tokens,
    chosen uniformly, so no two masks touch (fairseq's BART code starts spans at random words
    and lets them run into each other).
    """
    _check_rate("p", p)
    if poisson_lambda <= 0:
        raise ValueError(f"poisson_lambda must be positive (the mean span length), got {poisson_lambda}")
    body, tail = _split_tail(tokens, eos, pad)
    rng = _as_rng(rng)
    budget = round(p * len(body))
    lengths: list[int] = []
    total = 0
    while total < budget:
        length = min(poisson(rng, poisson_lambda), budget - total)
        lengths.append(length)
        total += length
    kept = len(body) - budget
    if len(lengths) > kept + 1:
        raise ValueError(f"{len(lengths)} spans do not fit into the {kept + 1} gaps between the {kept} kept tokens:"
                         f" lower p ({p}) or corrupt a longer sequence")
    gaps = sorted(rng.sample(range(kept + 1), len(lengths)))
    out: list[T] = []
    position = kept_so_far = 0
    for gap, length in zip(gaps, lengths):
        take = gap - kept_so_far  # kept tokens before this span
        out += body[position:position + take]
        out.append(mask)
        position += take + length
        kept_so_far = gap
    out += body[position:]
    return out + tail


def split_sentences(tokens: Sequence[T], full_stop: T) -> list[list[T]]:
    """The sentences of a document, each ending with its ``full_stop`` (the last one may lack it)."""
    sentences: list[list[T]] = [[]]
    for token in tokens:
        sentences[-1].append(token)
        if token == full_stop:
            sentences.append([])
    return [s for s in sentences if s]


def sentence_permutation(tokens: Sequence[T], *, rng: random.Random | int, full_stop: T | None = None,
                         sentence_starts: Sequence[int] | None = None, eos: T | None = None,
                         pad: T | None = None) -> list[T]:
    """The document's sentences in a uniformly random order.

    Sentences end with ``full_stop`` (BART split on full stops), or start at the positions
    ``sentence_starts`` (positions in the tokens; 0 is implied). Give exactly one of the two.
    """
    if (full_stop is None) == (sentence_starts is None):
        raise ValueError("give exactly one of full_stop (a token that ends a sentence) and sentence_starts"
                         " (the positions where sentences start)")
    body, tail = _split_tail(tokens, eos, pad)
    if full_stop is not None:
        sentences = split_sentences(body, full_stop)
    else:
        starts = sorted(set(sentence_starts) | {0})
        if starts[-1] > len(body) or any(s < 0 for s in starts):
            raise ValueError(f"sentence_starts must lie in 0..{len(body)} (the tokens before eos and padding),"
                             f" got {list(sentence_starts)}")
        bounds = [*starts, len(body)]
        sentences = [body[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]
    _as_rng(rng).shuffle(sentences)
    return [token for sentence in sentences for token in sentence] + tail


def document_rotation(tokens: Sequence[T], *, rng: random.Random | int, eos: T | None = None,
                      pad: T | None = None) -> list[T]:
    """The document rotated to start at a uniformly chosen token: the model must find the true start."""
    body, tail = _split_tail(tokens, eos, pad)
    if not body:
        return tail
    start = _as_rng(rng).randrange(len(body))
    return body[start:] + body[:start] + tail
