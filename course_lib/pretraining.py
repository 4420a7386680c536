"""BERT's pre-training problems, made from raw text: WordPiece vocabularies, masked tokens, sentence pairs.

Chapter 7. Pre-training needs no labels: the problems are generated from the text itself.

- Masked language model: choose 15 % of the real tokens; replace 80 % of those with [MASK],
  10 % with a random token, leave 10 % unchanged; predict the original token at each chosen
  position (labels are -100 everywhere else, which cross-entropy ignores). Special tokens
  ([CLS], [SEP]) and padding are never chosen.
- Next-sentence prediction: sentence A and a sentence B that follows it (label 1) or a
  sentence from another document (label 0), half and half. This is the convention of the
  study notes the course follows; BERT's reference code (create_pretraining_data.py) and
  Hugging Face's ``BertForPreTraining`` use the opposite one: 0 = IsNext (B follows A),
  1 = NotNext (B is random). Swap the labels (1 - label) before comparing with them.

WordPiece vocabularies are trained with Hugging Face ``tokenizers``, not written by hand.
"""
from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from course_lib.bert import pretraining_loss
from course_lib.decoding import eval_mode

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # ids 0..4 in a course vocabulary


def train_wordpiece(texts: Iterable[str], vocab_size: int, *, lowercase: bool = False, min_frequency: int = 2):
    """A BERT-style WordPiece tokenizer (``tokenizers.Tokenizer``) trained on ``texts``.

    Special tokens get ids 0-4 in the order of ``SPECIAL_TOKENS``; encodings get [CLS] ... [SEP]
    (and [SEP] after a second sentence, with segment ids 0 and 1). Same texts, same vocabulary:
    see ``_continuation_pieces`` for how training is made deterministic.
    """
    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens, got {vocab_size}")
    texts = list(texts)
    # strip_accents=False always: stripping decomposes (NFD) every Hangul syllable into jamo
    normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    pieces = _continuation_pieces(texts, normalizer, pre_tokenizer)
    trainer_tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    trainer_tokenizer.normalizer, trainer_tokenizer.pre_tokenizer = normalizer, pre_tokenizer
    trainer = trainers.WordPieceTrainer(vocab_size=max(vocab_size, len(SPECIAL_TOKENS) + len(pieces) + 1),
                                        min_frequency=min_frequency, special_tokens=SPECIAL_TOKENS + pieces,
                                        show_progress=False)
    trainer_tokenizer.train_from_iterator(texts, trainer=trainer)
    # the pieces were "special" only to fix their ids during training; rebuild without that
    tokenizer = Tokenizer(models.WordPiece(trainer_tokenizer.get_vocab(with_added_tokens=True), unk_token="[UNK]"))
    tokenizer.normalizer, tokenizer.pre_tokenizer = normalizer, pre_tokenizer
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return tokenizer


def _continuation_pieces(texts: Sequence[str], normalizer, pre_tokenizer) -> list[str]:
    """"##c" for every character c that occurs inside a word, sorted.

    tokenizers 0.23's WordPiece trainer creates these pieces while iterating over a hash map,
    so their ids, and with them the tie-breaks between equally frequent merges, change from
    run to run (huggingface/tokenizers issue 1794). Handing them to the trainer up front, in
    sorted order, fixes their ids and makes training deterministic.
    """
    inner = set()
    for text in texts:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)):
            inner.update(word[1:])
    return [f"##{c}" for c in sorted(inner)]


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

    def draw() -> torch.Tensor:
        """(B, L) uniform numbers in [0, 1) from the caller's generator."""
        return torch.rand(input_ids.shape, generator=generator).to(input_ids.device)

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
    sentence of another document (label 0). Needs at least two documents. (BERT's reference code
    and Hugging Face label the other way round: 0 = IsNext; see the module's docstring.)
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


# ---------------------------------------------------------------------------------------------
# Encoding text for a BERT model


def load_tokenizer(folder: str | Path):
    """The ``tokenizers.Tokenizer`` of a Hugging Face checkpoint folder on disk (its tokenizer.json)."""
    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: a Hugging Face checkpoint folder with a fast tokenizer"
                                " holds tokenizer.json")
    return Tokenizer.from_file(str(path))


@dataclass
class Encoded:
    """Token ids of a batch of sentences or sentence pairs, padded to the longest, as BERT reads them."""

    input_ids: torch.Tensor  # (B, L): [CLS] A [SEP] (B [SEP]) then [PAD]
    token_type_ids: torch.Tensor  # (B, L): 0 for [CLS] A [SEP], 1 for B [SEP] (0 on padding)
    attention_mask: torch.Tensor  # (B, L): 1 at real tokens, 0 at padding
    tokens: list[list[str]]  # the word pieces, unpadded

    def to(self, device: str | torch.device) -> Encoded:
        return Encoded(self.input_ids.to(device), self.token_type_ids.to(device), self.attention_mask.to(device),
                       self.tokens)

    def inputs(self) -> dict[str, torch.Tensor]:
        """The keyword arguments of ``BertModel.forward``."""
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask,
                "token_type_ids": self.token_type_ids}


def encode(tokenizer, first: str | Sequence[str], second: str | Sequence[str] | None = None, *,
           max_len: int | None = None, truncate: bool = False) -> Encoded:
    """Encode sentences (or pairs: ``first[i]`` with ``second[i]``) into padded tensors.

    Nothing is cut silently: with ``max_len`` set, an encoding longer than it raises a
    ValueError unless ``truncate=True``, which trims the longer sentence of a pair first.
    """
    first = [first] if isinstance(first, str) else list(first)
    if second is not None:
        second = [second] if isinstance(second, str) else list(second)
        if len(second) != len(first):
            raise ValueError(f"got {len(first)} first sentences but {len(second)} second ones: pairs need one of each")
    if not first:
        raise ValueError("nothing to encode: pass at least one sentence")
    pad_id = tokenizer.token_to_id("[PAD]")
    if pad_id is None:
        raise ValueError("the tokenizer has no [PAD] token: is it a BERT WordPiece tokenizer?")
    tokenizer = Tokenizer.from_str(tokenizer.to_str())  # a copy: the caller's settings stay as they are
    tokenizer.no_padding()
    tokenizer.no_truncation()
    if max_len is not None and truncate:
        tokenizer.enable_truncation(max_len, strategy="longest_first")
    items = first if second is None else list(zip(first, second))
    encodings = tokenizer.encode_batch(items)
    if max_len is not None and not truncate:
        too_long = [(i, len(e.ids)) for i, e in enumerate(encodings) if len(e.ids) > max_len]
        if too_long:
            i, n = max(too_long, key=lambda item: item[1])
            raise ValueError(f"{len(too_long)} of {len(encodings)} encodings exceed max_len={max_len} (the longest,"
                             f" item {i}, has {n} tokens): pass truncate=True to cut them, or raise max_len")
    length = max(len(e.ids) for e in encodings)
    input_ids = torch.full((len(encodings), length), pad_id, dtype=torch.long)
    token_type_ids = torch.zeros_like(input_ids)
    attention_mask = torch.zeros_like(input_ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        input_ids[row, :n] = torch.tensor(e.ids)
        token_type_ids[row, :n] = torch.tensor(e.type_ids)
        attention_mask[row, :n] = 1
    return Encoded(input_ids, token_type_ids, attention_mask, [e.tokens for e in encodings])


# ---------------------------------------------------------------------------------------------
# Pre-training batches


@dataclass
class PretrainingBatch:
    """One batch of both pre-training problems: masked tokens and is-B-the-next-sentence."""

    input_ids: torch.Tensor  # (B, L), after masking
    token_type_ids: torch.Tensor
    attention_mask: torch.Tensor
    mlm_labels: torch.Tensor  # (B, L): original ids at the chosen positions, -100 elsewhere
    nsp_labels: torch.Tensor  # (B,): 1 when B follows A (BERT's code and Hugging Face: 0)

    def to(self, device: str | torch.device) -> PretrainingBatch:
        return PretrainingBatch(*(t.to(device) for t in (self.input_ids, self.token_type_ids, self.attention_mask,
                                                          self.mlm_labels, self.nsp_labels)))


class PretrainingData:
    """Next-sentence ``pairs`` (from ``nsp_pairs``) encoded once, cut to ``max_len``; masked per call.

    ``batches(seed=epoch)`` draws fresh masks each epoch (RoBERTa's dynamic masking); a fixed
    seed gives a fixed validation set.
    """

    def __init__(self, tokenizer, pairs: Sequence[tuple[str, str, int]], *, max_len: int):
        if not pairs:
            raise ValueError("no sentence pairs to pre-train on: nsp_pairs needs documents of two or more sentences")
        encoded = encode(tokenizer, [a for a, _, _ in pairs], [b for _, b, _ in pairs], max_len=max_len, truncate=True)
        self.input_ids, self.token_type_ids, self.attention_mask = (
            encoded.input_ids, encoded.token_type_ids, encoded.attention_mask)
        self.nsp_labels = torch.tensor([label for *_, label in pairs])
        special_ids = torch.tensor([i for i in map(tokenizer.token_to_id, SPECIAL_TOKENS) if i is not None])
        self.special = torch.isin(self.input_ids, special_ids)
        self.mask_id, self.vocab_size = tokenizer.token_to_id("[MASK]"), tokenizer.get_vocab_size()
        self.first_ordinary_id = max(int(special_ids.max()) + 1, len(SPECIAL_TOKENS))

    def __len__(self) -> int:
        return len(self.nsp_labels)

    def batches(self, batch_size: int, *, seed: int = 0, shuffle: bool = True) -> list[PretrainingBatch]:
        """Batches of ``batch_size`` pairs (the last may be smaller), each trimmed to its longest pair."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        generator = torch.Generator().manual_seed(seed)
        masked = mask_tokens(self.input_ids, self.special, mask_id=self.mask_id, vocab_size=self.vocab_size,
                             first_ordinary_id=self.first_ordinary_id, generator=generator)
        order = torch.randperm(len(self), generator=generator) if shuffle else torch.arange(len(self))
        batches = []
        for rows in order.split(batch_size):
            length = int(self.attention_mask[rows].sum(1).max())
            batches.append(PretrainingBatch(masked.input_ids[rows, :length], self.token_type_ids[rows, :length],
                                            self.attention_mask[rows, :length], masked.labels[rows, :length],
                                            self.nsp_labels[rows]))
        return batches


def pretraining_step_loss(model, batch: PretrainingBatch) -> torch.Tensor:
    """Masked-LM loss plus next-sentence loss, as BERT sums them (``fit``'s ``loss_fn``)."""
    chosen = batch.mlm_labels != -100
    mlm_logits, nsp_logits = model(batch.input_ids, batch.attention_mask, batch.token_type_ids, predict_at=chosen)
    mlm, nsp = pretraining_loss(mlm_logits, nsp_logits, batch.mlm_labels[chosen], batch.nsp_labels)
    return mlm + nsp


@torch.no_grad()
def pretraining_metrics(model, batches: Sequence[PretrainingBatch]) -> dict[str, float]:
    """Masked-LM loss and accuracy (over masked positions) and next-sentence accuracy."""
    device = next(model.parameters()).device
    mlm_sum = mlm_right = mlm_count = nsp_right = nsp_count = 0.0
    with eval_mode(model):
        for batch in batches:
            batch = batch.to(device)
            chosen = batch.mlm_labels != -100
            mlm_logits, nsp_logits = model(batch.input_ids, batch.attention_mask, batch.token_type_ids,
                                           predict_at=chosen)
            n = int(chosen.sum())
            mlm, _ = pretraining_loss(mlm_logits, nsp_logits, batch.mlm_labels[chosen], batch.nsp_labels)
            mlm_sum += mlm.item() * n
            mlm_count += n
            mlm_right += (mlm_logits.argmax(-1) == batch.mlm_labels[chosen]).sum().item()
            nsp_right += (nsp_logits.argmax(-1) == batch.nsp_labels).sum().item()
            nsp_count += len(batch.nsp_labels)
    return {"mlm_loss": mlm_sum / mlm_count, "mlm_accuracy": mlm_right / mlm_count,
            "nsp_accuracy": nsp_right / nsp_count}


def unigram_loss(batches: Sequence[PretrainingBatch], train_batches: Sequence[PretrainingBatch],
                 vocab_size: int) -> float:
    """Cross-entropy of always guessing the training text's word-piece frequencies, at the masked positions.

    The baseline a masked-LM loss must beat to show the model reads the context at all.
    """
    counts = torch.ones(vocab_size)  # add-one smoothing
    for batch in train_batches:
        labels = batch.mlm_labels[batch.mlm_labels != -100]
        counts += torch.bincount(labels, minlength=vocab_size).float()
    log_p = (counts / counts.sum()).log()
    targets = torch.cat([b.mlm_labels[b.mlm_labels != -100] for b in batches])
    return -log_p[targets].mean().item()


@torch.no_grad()
def fill_mask(model, tokenizer, text: str, *, k: int = 5) -> list[list[tuple[str, float]]]:
    """For each [MASK] in ``text``: the model's ``k`` likeliest word pieces and their probabilities."""
    enc = encode(tokenizer, text).to(next(model.parameters()).device)
    mask_id = tokenizer.token_to_id("[MASK]")
    positions = (enc.input_ids[0] == mask_id).nonzero().flatten().tolist()
    if not positions:
        raise ValueError(f"{text!r} has no [MASK] token to fill")
    with eval_mode(model):
        mlm_logits, _ = model(**enc.inputs())
    result = []
    for position in positions:
        probs = mlm_logits[0, position].softmax(-1)
        top = probs.topk(k)
        result.append([(tokenizer.id_to_token(i), p) for i, p in zip(top.indices.tolist(), top.values.tolist())])
    return result


# ---------------------------------------------------------------------------------------------
# BERT's WordPiece tokenization, written out (the reference of assignment 07's Part 1)


def is_punctuation(char: str) -> bool:
    """True for a character that BERT's basic tokenizer splits off: string.punctuation or a Unicode P... category."""
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def basic_tokenize(text: str, lowercase: bool = True) -> list[str]:
    """BERT's basic tokenizer: words and punctuation marks, each mark a token of its own.

    With ``lowercase`` the text is lowercased and its accents stripped (NFD, then the combining
    marks, category Mn, dropped). Control characters and CJK spacing, which Hugging Face's
    tokenizer also handles, are left out.
    """
    if lowercase:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(char for char in text if unicodedata.category(char) != "Mn")
    tokens: list[str] = []
    for word in text.split():
        current = ""
        for char in word:
            if is_punctuation(char):
                if current:
                    tokens.append(current)
                tokens.append(char)
                current = ""
            else:
                current += char
        if current:
            tokens.append(current)
    return tokens


def wordpiece(word: str, vocab, unk: str = "[UNK]", max_chars: int = 100) -> list[str]:
    """Greedy longest-match-first WordPiece pieces of one word (later pieces with ``##``).

    The whole word becomes ``[unk]`` when some part of it matches no piece, or when it is
    longer than ``max_chars``. ``vocab`` is anything that supports ``in``.
    """
    if len(word) > max_chars:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
        else:
            return [unk]
        pieces.append(piece)
        start = end
    return pieces
