"""BERT's pre-training problems, made from raw text: WordPiece vocabularies, masked tokens, sentence pairs.

Chapter 7. Pre-training needs no labels: the problems are generated from the text itself.

- Masked language model: choose 15 % of the real tokens; replace 80 % of those with [MASK],
  10 % with a random token, leave 10 % unchanged; predict the original token at each chosen
  position (labels are -100 everywhere else, which cross-entropy ignores). Special tokens
  ([CLS], [SEP]) and padding are never chosen.
- Next-sentence prediction: sentence A and a sentence B that follows it (label 1) or a
  sentence from another document (label 0), half and half.

WordPiece vocabularies are trained with Hugging Face ``tokenizers``, not written by hand.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # ids 0..4 in a course vocabulary


def train_wordpiece(texts: Iterable[str], vocab_size: int, *, lowercase: bool = False, min_frequency: int = 2):
    """A BERT-style WordPiece tokenizer (``tokenizers.Tokenizer``) trained on ``texts``.

    Special tokens get ids 0-4 in the order of ``SPECIAL_TOKENS``; encodings get [CLS] ... [SEP]
    (and [SEP] after a second sentence, with segment ids 0 and 1).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens, got {vocab_size}")
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    # strip_accents=False always: stripping decomposes (NFD) every Hangul syllable into jamo
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=SPECIAL_TOKENS, show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return tokenizer


@dataclass
class MaskedBatch:
    input_ids: torch.Tensor  # (B, L) with chosen positions replaced
    labels: torch.Tensor  # (B, L) the original id at chosen positions, -100 elsewhere


def mask_tokens(input_ids: torch.Tensor, special_mask: torch.Tensor, *, mask_id: int, vocab_size: int,
                rate: float = 0.15, first_ordinary_id: int = len(SPECIAL_TOKENS),
                generator: torch.Generator | None = None) -> MaskedBatch:
    """BERT's masking: choose ``rate`` of the ordinary tokens, then 80 % [MASK], 10 % random, 10 % kept.

    ``special_mask`` (B, L) is True at [CLS], [SEP], padding and anything else that must never
    be chosen. Random replacements are drawn from the ordinary ids ``first_ordinary_id..vocab_size-1``.
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must lie in (0, 1), got {rate}")
    if special_mask.shape != input_ids.shape or special_mask.dtype != torch.bool:
        raise ValueError(f"special_mask must be a bool tensor shaped like input_ids {tuple(input_ids.shape)},"
                         f" got {special_mask.dtype} {tuple(special_mask.shape)}")
    draw = lambda: torch.rand(input_ids.shape, generator=generator).to(input_ids.device)  # noqa: E731
    chosen = (draw() < rate) & ~special_mask
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = draw()
    to_mask = chosen & (action < 0.8)
    to_random = chosen & (action >= 0.8) & (action < 0.9)
    random_ids = torch.randint(first_ordinary_id, vocab_size, input_ids.shape, generator=generator).to(input_ids.device)
    masked = torch.where(to_mask, torch.full_like(input_ids, mask_id), input_ids)
    masked = torch.where(to_random, random_ids, masked)
    return MaskedBatch(masked, labels)


def nsp_pairs(documents: Sequence[Sequence[str]], *, seed: int = 0) -> list[tuple[str, str, int]]:
    """(sentence A, sentence B, label) for every sentence that has a successor in its document.

    Half the time (by a seeded coin) B is the next sentence (label 1); otherwise B is a random
    sentence of another document (label 0). Needs at least two documents.
    """
    if sum(1 for doc in documents if doc) < 2:
        raise ValueError("next-sentence pairs need at least two non-empty documents to draw 'not next' sentences from")
    rng = random.Random(seed)
    filled = [d for d, doc in enumerate(documents) if doc]
    pairs = []
    for d, doc in enumerate(documents):
        others = [j for j in filled if j != d]
        for i in range(len(doc) - 1):
            if rng.random() < 0.5:
                pairs.append((doc[i], doc[i + 1], 1))
            else:
                pairs.append((doc[i], rng.choice(documents[rng.choice(others)]), 0))
    return pairs
