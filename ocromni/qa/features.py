"""Questions + OCR words -> model inputs: one token per OCR word, with its box.

A document is the words of all its pages in reading order, each with its box normalised
to 0..1000 of its own page. The model reads one token per word (not per word piece: OCR
words are the unit answers are made of, and a receipt is then ~150 tokens, not ~500):

- the word's MiniLM word pieces (the model pools their embeddings);
- its box, line and reading-order position;
- a few shape features OCR text makes useful (digits, amounts, dates, a trailing colon);
- how well its line, its left context and the line above match the question's words
  (cheap lexical evidence that a key such as ``DATE:`` is the one asked about).

Documents longer than ``max_words`` are read in windows that overlap by ``word_stride``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

MAX_COORD = 1000
PIECES_PER_WORD = 8
MAX_QUESTION_PIECES = 24

AMOUNT = re.compile(r"\d[\d,]*[.,]\d{2}(?!\d)")
DATE = re.compile(
    r"\d{1,4}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?\d{2,4}|\d{1,2}\s?-?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.I
)
TIME = re.compile(r"\d{1,2}:\d{2}")
CURRENCY = re.compile(r"^(rm|\$|usd|eur|myr|s\$|€|£)", re.I)
STOPWORDS = frozenset(
    "what is the of this a an for on in which who whom how much was were did does do it to me give tell find "
    "are be by at from there here written say says said entered under value please show".split()
)
N_FEATURES = 20


@dataclass
class DocWord:
    """One word of a document: its text, normalised box, page, line and pixel box."""

    text: str
    box: tuple  # (x0, y0, x1, y1) in 0..1000 of its page
    page: int = 1
    line: int = 0  # index into Document.lines
    bbox: Optional[list] = None  # pixels of the page, for evidence


@dataclass
class Document:
    """The words of one document (all pages) in reading order, and its line texts."""

    source: str
    words: list[DocWord]
    lines: list[str] = field(default_factory=list)
    line_pages: list[int] = field(default_factory=list)
    cache: dict = field(default_factory=dict, repr=False)  # per-document features, made once


def clean_text(text: str) -> str:
    """NFKC (full-width brackets and digits become ASCII) and collapsed white space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def normalise_box(bbox, width: float, height: float) -> tuple:
    x0, y0, x1, y1 = (float(v) for v in bbox)
    scale_x, scale_y = MAX_COORD / max(width, 1.0), MAX_COORD / max(height, 1.0)

    def clip(v):
        return int(min(max(round(v), 0), MAX_COORD))

    return (clip(min(x0, x1) * scale_x), clip(min(y0, y1) * scale_y), clip(max(x0, x1) * scale_x), clip(max(y0, y1) * scale_y))


def split_line(text: str, bbox) -> list[tuple[str, list]]:
    """A line's words with boxes shared out by character count (for lines without words)."""
    tokens = text.split()
    if not tokens:
        return []
    x0, y0, x1, y1 = (float(v) for v in bbox)
    total = sum(len(t) for t in tokens) + len(tokens) - 1
    per_char = (x1 - x0) / max(total, 1)
    out, cursor = [], x0
    for token in tokens:
        end = cursor + per_char * len(token)
        out.append((token, [cursor, y0, end, y1]))
        cursor = end + per_char
    return out


def document_from_pages(pages: Sequence, source: Optional[str] = None) -> Document:
    """A Document from ``PageText`` records (lines in reading order, words with boxes)."""
    words: list[DocWord] = []
    lines: list[str] = []
    line_pages: list[int] = []
    for page in pages:
        for line in page.lines:
            pieces = [(w.text, w.bbox) for w in line.words if w.text.strip()] if line.words else []
            if not pieces:
                pieces = split_line(line.text, line.bbox)
            pieces = [(clean_text(t), b) for t, b in pieces if clean_text(t)]
            if not pieces:
                continue
            line_index = len(lines)
            lines.append(" ".join(t for t, _ in pieces))
            line_pages.append(page.page)
            for text, bbox in pieces:
                for part in text.split():
                    words.append(DocWord(part, normalise_box(bbox, page.width, page.height), page.page, line_index, list(bbox)))
    if source is None:
        source = pages[0].source if pages else ""
    return Document(source, words, lines, line_pages)


# --- per-word features ------------------------------------------------------------------


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def question_terms(question: str) -> list[str]:
    """The question's content words, lower-case letters and digits only."""
    terms = [_alnum(t) for t in re.split(r"[\s/]+", clean_text(question))]
    return [t for t in terms if t and t not in STOPWORDS]


def _trigrams(text: str) -> set:
    padded = f"#{text}#"
    return {padded[i:i + 3] for i in range(len(padded) - 2)} if len(padded) >= 3 else {padded}


def _match(term_grams, word: str) -> float:
    """How well a document word matches one question term (trigram Jaccard, 1 = same)."""
    if not word:
        return 0.0
    grams = _trigrams(word)
    return len(term_grams & grams) / len(term_grams | grams)


def shape_features(word: str) -> list[float]:
    n = max(len(word), 1)
    digits = sum(ch.isdigit() for ch in word)
    alpha = [ch for ch in word if ch.isalpha()]
    upper = sum(ch.isupper() for ch in alpha)
    punct = sum(not ch.isalnum() for ch in word)
    return [
        min(np.log1p(len(word)) / 3.0, 2.0), digits / n, len(alpha) / n, upper / max(len(alpha), 1), punct / n,
        float(bool(AMOUNT.search(word))), float(bool(DATE.search(word))), float(bool(TIME.search(word))),
        float(word.endswith(":")), float(bool(CURRENCY.match(word))),
    ]


def _document_static(document: Document) -> dict:
    """Question-independent arrays of a document, computed once and cached on it."""
    if "static" in document.cache:
        return document.cache["static"]
    words = document.words
    n = len(words)
    boxes = np.array([w.box for w in words], dtype=np.int64).reshape(n, 4)
    line_ids = np.array([w.line for w in words], dtype=np.int64)
    features = np.zeros((n, 14), dtype=np.float32)
    n_lines = max(len(document.lines), 1)
    for i, word in enumerate(words):
        features[i, :10] = shape_features(word.text)
        first = i == 0 or words[i - 1].line != word.line
        last = i == n - 1 or words[i + 1].line != word.line
        features[i, 10] = float(first)
        features[i, 11] = float(last)
        features[i, 12] = word.line / n_lines
    counts = np.bincount(line_ids, minlength=n_lines) if n else np.zeros(0)
    if n:
        features[:, 13] = np.minimum(counts[line_ids] / 10.0, 2.0)
    static = {"boxes": boxes, "lines": line_ids, "features": features, "alnum": [_alnum(w.text) for w in words]}
    document.cache["static"] = static
    return static


def question_features(document: Document, question: str) -> np.ndarray:
    """Per word: matches to the question's terms in the word, its line, left of it, above it."""
    static = _document_static(document)
    n = len(document.words)
    out = np.zeros((n, N_FEATURES - 14), dtype=np.float32)
    terms = question_terms(question)
    if not terms or not n:
        return out
    grams = [_trigrams(t) for t in terms]
    # match[i, t]: word i against term t (a glued OCR word "Date:12/01" still holds "date")
    match = np.zeros((n, len(terms)), dtype=np.float32)
    for i, text in enumerate(static["alnum"]):
        for t, term in enumerate(terms):
            if len(term) >= 3 and len(text) > len(term) + 2 and term in text:
                match[i, t] = 0.9
            else:
                match[i, t] = _match(grams[t], text)
    lines = static["lines"]
    n_lines = int(lines.max()) + 1
    line_best = np.zeros((n_lines, len(terms)), dtype=np.float32)
    np.maximum.at(line_best, lines, match)
    line_cover = line_best.mean(axis=1)
    out[:, 0] = match.max(axis=1)
    out[:, 1] = (match >= 0.99).any(axis=1)
    out[:, 2] = line_cover[lines]
    above = np.concatenate([[0.0], line_cover[:-1]])
    out[:, 3] = above[lines]
    # Left context: the best cover by words before this one on its line (the key of a value).
    running = np.zeros(len(terms), dtype=np.float32)
    for i in range(n):
        if i == 0 or lines[i] != lines[i - 1]:
            running[:] = 0
        out[i, 4] = running.mean()
        running = np.maximum(running, match[i])
    out[:, 5] = len(terms) / 10.0
    return out


def word_pieces(tokenizer, document: Document) -> np.ndarray:
    """``(n_words, PIECES_PER_WORD)`` word-piece ids per word, 0-padded; cached on the document."""
    if "pieces" in document.cache:
        return document.cache["pieces"]
    n = len(document.words)
    pieces = np.zeros((n, PIECES_PER_WORD), dtype=np.int64)
    if n:
        encoded = tokenizer([w.text for w in document.words], add_special_tokens=False)["input_ids"]
        for i, ids in enumerate(encoded):
            ids = ids[:PIECES_PER_WORD] or [tokenizer.unk_token_id]
            pieces[i, : len(ids)] = ids
    document.cache["pieces"] = pieces
    return pieces


def word_vectors(tokenizer, document: Document, table: np.ndarray) -> np.ndarray:
    """``(n_words, 2 * 384)``: mean and first of each word's MiniLM piece embeddings (cached).

    The piece table is frozen, so this is done once per document rather than per question
    or per training step.
    """
    if "vectors" in document.cache:
        return document.cache["vectors"]
    pieces = word_pieces(tokenizer, document)
    present = (pieces > 0)[..., None].astype(np.float32)
    embedded = table[pieces]  # (n, pieces, dim)
    mean = (embedded * present).sum(1) / np.maximum(present.sum(1), 1.0)
    vectors = np.concatenate([mean, embedded[:, 0]], axis=1).astype(np.float32)
    document.cache["vectors"] = vectors
    return vectors


def question_pieces(tokenizer, question: str) -> list[int]:
    return tokenizer(clean_text(question).lower(), add_special_tokens=False)["input_ids"][:MAX_QUESTION_PIECES]


@dataclass
class Window:
    """One window of a document behind one question: a row of the model's input."""

    question_ids: list[int]
    question: str
    vectors: np.ndarray  # (n, 2 * 384) pooled word-piece embeddings
    boxes: np.ndarray  # (n, 4)
    features: np.ndarray  # (n, N_FEATURES)
    first_word: int  # document index of the window's first word
    question_index: int = 0
    starts: list = field(default_factory=list)  # training targets: 0 = no answer, else 1 + word in window
    ends: list = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.vectors)


def window_starts(n_words: int, max_words: int, stride: int) -> list[int]:
    starts = [0]
    while starts[-1] + max_words < n_words:
        starts.append(starts[-1] + max(max_words - stride, 1))
    return starts


def make_windows(tokenizer, table: np.ndarray, document: Document, question: str, *, max_words: int = 384,
                 word_stride: int = 64, question_index: int = 0, only=None) -> list[Window]:
    """The windows of one question over one document (at least one, even when empty).

    ``table`` is the frozen MiniLM piece-embedding table (numpy), see :func:`word_vectors`.
    """
    static = _document_static(document)
    vectors = word_vectors(tokenizer, document, table)
    features = np.concatenate([static["features"], question_features(document, question)], axis=1)
    q_ids = question_pieces(tokenizer, question)
    n = len(document.words)
    windows = []
    for begin in (only if only is not None else window_starts(n, max_words, word_stride)):
        end = min(begin + max_words, n)
        windows.append(Window(q_ids, clean_text(question), vectors[begin:end], static["boxes"][begin:end], features[begin:end], begin, question_index))
    return windows


def collate(windows: Sequence[Window], sentences):
    """Pad windows into the model's tensors (torch is imported here, not at import time).

    ``sentences``: a :class:`ocromni.qa.model.SentenceEncoder` (text -> embedding).
    """
    import torch

    batch = len(windows)
    n_q = max(len(w.question_ids) for w in windows)
    n_w = max(max(w.size for w in windows), 1)
    question = torch.zeros((batch, n_q), dtype=torch.long)
    vectors = torch.zeros((batch, n_w, windows[0].vectors.shape[1]), dtype=torch.float32)
    boxes = torch.zeros((batch, n_w, 4), dtype=torch.long)
    features = torch.zeros((batch, n_w, N_FEATURES), dtype=torch.float32)
    word_mask = torch.zeros((batch, n_w), dtype=torch.bool)
    for row, window in enumerate(windows):
        question[row, : len(window.question_ids)] = torch.tensor(window.question_ids, dtype=torch.long)
        if window.size:
            vectors[row, : window.size] = torch.from_numpy(window.vectors)
            boxes[row, : window.size] = torch.from_numpy(window.boxes)
            features[row, : window.size] = torch.from_numpy(window.features)
            word_mask[row, : window.size] = True
    sentence = sentences([w.question for w in windows])
    return {"question": question, "sentence": sentence, "vectors": vectors, "boxes": boxes, "features": features, "word_mask": word_mask}
