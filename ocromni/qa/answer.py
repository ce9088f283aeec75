"""From span scores to an answer: decoding, confidence, clean-up of amounts and dates, evidence.

Confidence is the model's probability of the returned answer text: start and end are
softmaxes over the window's words plus "no answer", a span's probability is their
product, and spans that read the same after clean-up (the total printed twice, say)
pool their probability. The answer is "found" only when that beats the window's
no-answer probability and a floor; otherwise the answer is empty, ``found`` is false and
the confidence stays the (low) probability of the best candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from ocromni.qa.features import Document, question_terms

MIN_CONFIDENCE = 0.1
TOP_K = 12

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# Numeric dates start a number (not inside "1300-88-6555", a phone number) and keep one
# separator ("12- 24/06/2018" holds 24/06/2018, not 12-24/06). They may end inside one:
# OCR glues times on ("04/03/201815:41").
DATE_PATTERNS = [
    re.compile(r"(?<!\d)(?:19|20)\d{2}\s?([/.\-])\s?\d{1,2}\s?\1\s?\d{1,2}"),
    re.compile(r"(?<!\d)\d{1,2}\s?([/.\-])\s?\d{1,2}\s?\1\s?\d{2,4}"),
    re.compile(rf"\d{{1,2}}[\s\-./]*{_MONTH}[\s\-./,]*\d{{2,4}}", re.I),
    re.compile(rf"{_MONTH}\s*\d{{1,2}}(?:st|nd|rd|th)?,?\s*\d{{2,4}}", re.I),
]
NUMBER = re.compile(r"-?\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?(?!\d)|-?\d+(?:[.,]\d{1,2})?(?!\d)")
DATE_WORDS = re.compile(r"\b(date|dated|when|day)\b", re.I)
AMOUNT_WORDS = re.compile(
    r"\b(total|amount|how much|price|cost|paid|pay|payable|due|balance|sum|subtotal|sub total|tax|gst|vat|sst|"
    r"change|cash|fee|charge|spent|spend|bill)\b", re.I)
# Digits OCR reads as letters, fixed only inside numbers ("RM33.9O").
DIGIT_LOOKALIKES = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}


@dataclass
class Answer:
    """One answer to one question about one document (all its pages)."""

    source: str
    question: str
    answer: str
    confidence: float
    found: bool
    evidence: list = field(default_factory=list)  # [{"page", "bbox", "text"}]

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "question": self.question,
            "answer": self.answer,
            "confidence": round(float(self.confidence), 4),
            "found": bool(self.found),
            "evidence": [
                {"page": e["page"], "bbox": [round(float(v), 1) for v in e["bbox"]], "text": e["text"]} for e in self.evidence
            ],
        }


# --- clean-up of the answer text --------------------------------------------------------


def answer_kind(question: str) -> Optional[str]:
    """"date", "amount" or None, from the question's wording."""
    if DATE_WORDS.search(question):
        return "date"
    if AMOUNT_WORDS.search(question):
        return "amount"
    return None


def parse_amounts(text: str) -> list[float]:
    """Every number in ``text`` read as an amount ("RM1,234.50" -> 1234.5)."""
    values = []
    for token in amount_strings(text):
        try:
            values.append(float(token))
        except ValueError:
            pass
    return values


def _fix_digits(text: str) -> str:
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch not in DIGIT_LOOKALIKES:
            continue
        before = chars[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if (before.isdigit() or before in ".,") and not after.isalpha() or after.isdigit() and not before.isalpha():
            chars[i] = DIGIT_LOOKALIKES[ch]
    return "".join(chars)


def amount_strings(text: str) -> list[str]:
    """Every number in ``text`` as plain digits with "." for decimals ("RM1,234.50" -> "1234.50")."""
    fixed = _fix_digits(text)
    out = []
    for match in NUMBER.finditer(fixed):
        token = match.group()
        if re.search(r"[.,]\d{1,2}$", token):  # a decimal part; the other separators group thousands
            head, decimals = token[:-3 if token[-3] in ".," else -2], token[-2:].lstrip(".,")
            token = re.sub(r"[.,]", "", head) + "." + decimals
        else:
            token = re.sub(r"[.,]", "", token)
        out.append(token)
    return out


def clean_amount(text: str) -> str:
    """The amount in ``text`` as plain digits ("RM 1,234.50" -> "1234.50"); the text if none."""
    tokens = amount_strings(text)
    if not tokens:
        return text
    with_decimals = [t for t in tokens if "." in t]
    return (with_decimals or tokens)[-1]


def clean_date(text: str) -> str:
    """The date in ``text`` as printed ("Date:12-01-19 21:13" -> "12-01-19"); the text if none."""
    best = None
    for pattern in DATE_PATTERNS:
        match = pattern.search(text)
        if match and (best is None or match.start() < best.start()):
            best = match
    if best is None:
        return text
    date = best.group().strip(" ,")
    if best.re in (DATE_PATTERNS[2], DATE_PATTERNS[3]):
        # OCR glues "April 13, 1984" into "Apri113,_1984": the year may follow what matched.
        year = re.match(r"[\s,._]*(?:19|20)\d{2}(?!\d)", text[best.end():])
        if year:
            date = text[best.start():best.end() + year.end()].strip(" ,")
    # OCR glues the time on: "12-01-1921:13" is 12-01-19 at 21:13, not the year 1921.
    if re.search(r"[/.\-]\d{4}$", date) and text[best.end():best.end() + 1] == ":":
        date = date[:-2]
    return date


def strip_label(text: str, question: str) -> str:
    """Drop a key glued to its value ("Cashier:JOHN" -> "JOHN") when the question names it."""
    match = re.match(r"^([A-Za-z][A-Za-z .#/]{0,24}):\s*(\S.*)$", text)
    if not match:
        return text
    label = "".join(ch for ch in match.group(1).lower() if ch.isalnum())
    if any(term in label or label in term for term in question_terms(question) if len(term) >= 2):
        return match.group(2)
    return text


def clean_answer(text: str, question: str) -> str:
    text = " ".join(text.split())
    kind = answer_kind(question)
    if kind == "date":
        return clean_date(text)
    if kind == "amount":
        return clean_amount(text)
    return strip_label(text, question)


# --- decoding ---------------------------------------------------------------------------


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


@dataclass
class Candidate:
    text: str
    probability: float
    first: int  # document word indices
    last: int
    no_answer: float  # the no-answer probability of its window


def window_candidates(start: np.ndarray, end: np.ndarray, n_words: int, first_word: int, document: Document,
                      question: str, max_answer_words: int) -> list[Candidate]:
    """Top spans of one window, pooled by cleaned text. ``start``/``end``: index 0 = no answer."""
    start, end = _log_softmax(start[: n_words + 1]), _log_softmax(end[: n_words + 1])
    no_answer = float(np.exp(start[0] + end[0]))
    if n_words == 0:
        return []
    k = min(TOP_K, n_words)
    starts = np.argsort(-start[1:])[:k] + 1
    ends = np.argsort(-end[1:])[:k] + 1
    pooled: dict[str, Candidate] = {}
    for s in starts:
        for e in ends:
            if e < s or e - s >= max_answer_words:
                continue
            p = float(np.exp(start[s] + end[e]))
            a, b = first_word + s - 1, first_word + e - 1
            text = clean_answer(" ".join(w.text for w in document.words[a:b + 1]), question)
            if text in pooled:
                best = pooled[text]
                if p > best.probability:  # keep the likeliest span's place for the evidence
                    best.first, best.last = a, b
                best.probability += p
            else:
                pooled[text] = Candidate(text, p, a, b, no_answer)
    return list(pooled.values())


def evidence_for(document: Document, first: int, last: int, words: Sequence[int] = ()) -> list[dict]:
    """Per page touched: the union box of the answer's words and the text of their lines.
    The words are ``first`` to ``last``, or ``words`` where given (a table column's cells)."""
    by_page: dict[int, dict] = {}
    for word in (document.words[i] for i in words or range(first, last + 1)):
        entry = by_page.setdefault(word.page, {"page": word.page, "boxes": [], "lines": []})
        if word.bbox is not None:
            entry["boxes"].append(word.bbox)
        if word.line not in entry["lines"]:
            entry["lines"].append(word.line)
    evidence = []
    for page, entry in sorted(by_page.items()):
        boxes = np.array(entry["boxes"], dtype=float) if entry["boxes"] else np.zeros((1, 4))
        bbox = [float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()), float(boxes[:, 3].max())]
        text = "\n".join(document.lines[i] for i in entry["lines"] if i < len(document.lines))
        evidence.append({"page": page, "bbox": bbox, "text": text})
    return evidence


def decide(document: Document, question: str, candidates: list[Candidate]) -> Answer:
    """The answer record from every window's candidates."""
    best = max(candidates, key=lambda c: c.probability, default=None)
    if best is None or not best.text:
        confidence = best.probability if best else 0.0
        return Answer(document.source, question, "", min(confidence, MIN_CONFIDENCE), False, [])
    found = best.probability > best.no_answer and best.probability >= MIN_CONFIDENCE
    if not found:
        return Answer(document.source, question, "", best.probability, False, [])
    return Answer(document.source, question, best.text, min(best.probability, 1.0), True,
                  evidence_for(document, best.first, best.last))
