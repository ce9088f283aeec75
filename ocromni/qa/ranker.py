"""Candidate rankers: the learned answerer for key fields and form keys.

With a hundred-odd real documents, free span extraction memorises the training
receipts (the companies, the layouts) instead of learning where a total or an address
stands. A ranker generalises better: for each kind of question it lists the spans that
*could* be the answer (every amount, every date, each header line and each run of header
lines, the values right of, just above the row of, below, under the column of and left
of a form key, whole rows, columns and paragraphs) and scores them from features that
carry over to unseen documents -- the value's type, its place on the page, the keywords
beside and above it, its font height, being the largest amount near "total", and how it
sits relative to the key the question names (is the key its nearest label? does the
key's wording ask for a date, a number, a person? does the key head a table's column?)
and, for form keys, what its words say about being this key's value
(:mod:`ocromni.qa.pairing`). A small MLP per kind, trained with a
softmax over each document's candidates (soft targets: how well each candidate scores
against the truth), turns the features into a probability; that probability is the
answer's confidence.

Kinds: ``total`` (amounts), ``date``, ``company``, ``address`` (receipt and invoice
fields), ``form`` (the value of a key the question quotes; also used for any question
the router cannot place, when the key is printed in the document) and ``money`` (the
amount of a printed money label -- cash, change, tax, subtotal: the form candidates on
the label's row that hold an amount, scored by an MLP of their own trained on synthetic
receipts and invoices; the form ranker learnt where a value stands from FUNSD's forms,
whose values do not sit a page's width right of their labels) and ``number`` (an invoice,
receipt or PO number, a phone: likewise the candidates on the row of any of the field's
printed labels, with a word of three digits or more, scored by an MLP trained on the
synthetic documents' numbers). Which kind a question is
comes from :class:`Router` (nearest wordings by MiniLM sentence embedding), so wordings
never seen in training still land on the right kind.

Inference is numpy only (the pairing's sentence embeddings aside); the weights are a small
JSON file beside the QA model.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np

from ocromni.qa.answer import DATE_PATTERNS, amount_strings, clean_date
from ocromni.qa.features import Document, STOPWORDS

RANKER_FILE = "ranker.json"
KINDS = ("total", "date", "company", "address", "form", "money", "number")
HEADER_LINES = 16  # company and address stand in a receipt's first lines

# --- line geometry ----------------------------------------------------------------------


@dataclass
class LineInfo:
    """One OCR line: its text, words, union box (0..1000 of its page) and page."""

    index: int
    text: str
    first: int  # document word indices
    last: int
    box: tuple
    page: int

    @property
    def height(self) -> float:
        return max(self.box[3] - self.box[1], 1)

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2


def line_infos(document: Document) -> list[LineInfo]:
    """Per line: text, word range and union box; cached on the document."""
    if "line_infos" in document.cache:
        return document.cache["line_infos"]
    spans: dict[int, list] = {}
    for i, word in enumerate(document.words):
        spans.setdefault(word.line, []).append(i)
    infos = []
    for line, members in sorted(spans.items()):
        boxes = np.array([document.words[i].box for i in members], dtype=float)
        box = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
        text = " ".join(document.words[i].text for i in members)
        infos.append(LineInfo(len(infos), text, members[0], members[-1], box, document.words[members[0]].page))
    document.cache["line_infos"] = infos
    return infos


def line_holding(document: Document, index: int) -> LineInfo:
    """The line that holds word ``index`` (the map cached on the document, as line_infos)."""
    if "line_holding" not in document.cache:
        document.cache["line_holding"] = {document.words[l.first].line: l for l in line_infos(document)}
    return document.cache["line_holding"][document.words[index].line]


def header_rows(document: Document, count: int) -> list[LineInfo]:
    """The first ``count`` lines of page 1, with widely spaced lines joined back together.

    Shop names are often printed in spaced-out capitals, and the recogniser splits a line
    at gaps wider than a character or so: "AIK HUAT HARDWARE" came as three lines of one
    word side by side, so a name printed on two rows took five lines, more than a company
    candidate joins. Fragments of a word or two without digits that follow each other
    left to right on one row are joined; a row of fields ("Tel: 07-1234  Fax: 07-5678")
    stays split. (Over SROIE's dev receipts, 5-fold, four training seeds: company ANLS
    0.886 -> 0.906 on average.)
    """
    groups: list[list[LineInfo]] = []
    for line in (l for l in line_infos(document) if l.page == 1):
        previous = groups[-1][-1] if groups else None
        if (previous is not None and _spaced_word(previous.text) and _spaced_word(line.text) and _same_row(previous, line)
                and line.box[0] >= previous.box[2] - 0.5 * previous.height):
            groups[-1].append(line)
        elif len(groups) < count:
            groups.append([line])
        else:
            break
    rows = []
    for index, group in enumerate(groups):
        box = (min(l.box[0] for l in group), min(l.box[1] for l in group),
               max(l.box[2] for l in group), max(l.box[3] for l in group))
        rows.append(LineInfo(index, " ".join(l.text for l in group), group[0].first, group[-1].last, box, 1))
    return rows


def _spaced_word(text: str) -> bool:
    """Whether a line may be a fragment of a spaced-out line: a word or two, no digits."""
    return len(text.split()) <= 2 and not any(c.isdigit() for c in text)


def _same_row(a: LineInfo, b: LineInfo) -> bool:
    if a.page != b.page:
        return False
    overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    return overlap > 0.5 * min(a.height, b.height)


def _median_height(lines: list[LineInfo]) -> float:
    return float(np.median([l.height for l in lines])) if lines else 10.0


# --- keyword groups ---------------------------------------------------------------------

def _words(*names):
    return re.compile(r"(?<![a-z])(?:" + "|".join(names) + r")", re.I)


KEYWORDS = {
    "total": _words("total", "tota1", "t0tal", "jumlah", "amount", "amt", "grand", "nett", "net"),
    "rounded": _words("round", "rnd"),
    "sub": _words("sub", "subtotal"),
    "tax": _words("gst", "tax", "vat", "sst", "service", "svc"),
    "cash": _words("cash", "tender", "paid", "payment", "visa", "master", "card", "credit", "debit"),
    "change": _words("change", "chng", "balance", "baki"),
    "discount": _words("disc", "discount", "adj", "rounding", "saving", "less"),
    "item": _words("qty", "quantity", "unit", "price", "@", "x ?\\d", "\\d ?x", "pcs", "item", "kg"),
    "due": _words("due", "payable", "pay"),
    "incl": _words("incl", "inclusive", "inc\\.", "including", "include", "w/ ?gst", "after"),
    "excl": _words("excl", "exclusive", "excluding", "exclude", "before", "w/o"),
    "final": _words("payable", "rounded", "nett", "grand", "final", "due", "pay"),
    "date": _words("date", "dated", "tarikh", "dt"),
    "time": _words("time", "\\d{1,2}:\\d{2}"),
    "expiry": _words("exp", "expiry", "valid", "due", "until", "birth"),
    "company_suffix": _words("sdn", "bhd", "s/b", "enterprise", "trading", "plt", "ltd", "limited", "inc", "corp", "co\\.",
                             "company", "restaurant", "restoran", "cafe", "store", "mart", "shop", "hardware", "bakery",
                             "stationery", "pharmacy", "kedai", "services", "station", "market", "llc", "gmbh", "group"),
    "address": _words("jalan", "jln", "lorong", "persiaran", "lebuh", "taman", "tmn", "bandar", "lot", "no\\.?\\s?\\d",
                      "no:", "road", "rd", "street", "st\\.", "avenue", "ave", "blvd", "lane", "drive", "floor", "flr",
                      "level", "suite", "unit", "block", "blok", "kawasan", "seksyen", "section", "kampung", "kg\\.?",
                      "industri", "plaza", "mall", "centre", "center", "building", "wisma", "menara", "box"),
    "region": _words("selangor", "johor", "kuala", "lumpur", "perak", "penang", "pulau", "pinang", "melaka", "malacca",
                     "pahang", "kedah", "kelantan", "sabah", "sarawak", "negeri", "sembilan", "terengganu", "perlis",
                     "putrajaya", "malaysia", "singapore", "darul", "ehsan", "takzim", "d\\.e", "w\\.p", "wilayah",
                     "persekutuan", "usa", "u\\.s\\.a", "city"),
    "contact": _words("tel", "telephone", "phone", "fax", "h/p", "hp", "mobile", "email", "e-mail", "www", "http", "website"),
    "registration": _words("gst", "reg", "roc", "co\\.? ?no", "company no", "business no", "sst", "tin", "id", "(?:\\(|\\b)\\d{5,}-[a-z]"),
    "document": _words("invoice", "receipt", "bill", "tax", "cashier", "order", "table", "counter", "pos", "terminal",
                       "slip", "member", "transaction", "doc", "date", "time"),
}
POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")
KEY_NAMES = tuple(KEYWORDS)


def keyword_vector(text: str, names=KEY_NAMES) -> np.ndarray:
    return np.array([float(bool(KEYWORDS[n].search(text))) for n in names], dtype=np.float32)


def _text_shape(text: str) -> list[float]:
    letters = [c for c in text if c.isalpha()]
    n = max(len(text), 1)
    return [
        min(len(text) / 40.0, 2.0),
        len(letters) / n,
        sum(c.isdigit() for c in text) / n,
        sum(c.isupper() for c in letters) / max(len(letters), 1),
        float(text.rstrip().endswith(":")),
        float(":" in text),
    ]


# --- candidates -------------------------------------------------------------------------


@dataclass
class Candidate:
    text: str  # the answer as returned
    first: int  # document word span, for evidence
    last: int
    features: np.ndarray
    # The answer's own words where they are not every word from first to last: a table
    # column's cells, between which the reading order runs through the other columns.
    words: tuple = ()


def line_context(document: Document, line: LineInfo) -> dict:
    """Texts around one of ``line_infos(document)``: above, two above, below, and its
    row-mates to the left and right. Cached on the document: finding row-mates scans every
    line, and a receipt asks for the context of each amount and date, for every question."""
    contexts = document.cache.setdefault("line_contexts", {})
    if line.index not in contexts:
        contexts[line.index] = _line_context(line_infos(document), line.index)
    return contexts[line.index]


def _line_context(lines: list[LineInfo], index: int) -> dict:
    line = lines[index]
    left = [l for l in lines if l.index != index and _same_row(l, line) and l.box[2] <= line.box[0] + 5]
    right = [l for l in lines if l.index != index and _same_row(l, line) and l.box[0] >= line.box[2] - 5]
    return {
        "above": lines[index - 1].text if index >= 1 else "",
        "above2": lines[index - 2].text if index >= 2 else "",
        "below": lines[index + 1].text if index + 1 < len(lines) else "",
        "left": " ".join(l.text for l in sorted(left, key=lambda l: l.box[0])),
        "right": " ".join(l.text for l in sorted(right, key=lambda l: l.box[0])),
    }


AMOUNT_KEYS = ("total", "rounded", "sub", "tax", "cash", "change", "discount", "item", "due", "incl", "excl", "final")
AMOUNT_TOKEN = re.compile(r"\d[\d,]*[.,]\s?\d{2}(?!\d)")
MAX_ROUNDING = 0.1  # a rounding adjustment is a few cents


def amount_candidates(document: Document) -> list[Candidate]:
    """Every amount with decimals: its value, rank, repetition and the keywords around it."""
    lines = line_infos(document)
    if not lines:
        return []
    found = []  # (value, line, first word, last word, text)
    for line in lines:
        words = document.words[line.first:line.last + 1]
        for offset, word in enumerate(words):
            text = word.text
            last = offset
            # OCR splits "4. 13" and "48 .00" into two words: join the amount's two halves.
            if offset + 1 < len(words) and (
                (re.search(r"\d[.,]$", text) and re.fullmatch(r"\d{2}\S*", words[offset + 1].text))
                or (re.fullmatch(r"\d+", text) and re.fullmatch(r"[.,]\d{2}\S*", words[offset + 1].text))
            ):
                text, last = text + words[offset + 1].text, offset + 1
            if not AMOUNT_TOKEN.search(text.replace(" ", "")) and not re.search(r"\d[.,]\d{2}", "".join(amount_strings(text))):
                continue
            for token in amount_strings(text):
                if "." not in token:
                    continue
                try:
                    value = float(token)
                except ValueError:
                    continue
                if value <= 0 or value >= 1e6:
                    continue
                found.append((value, line, line.first + offset, line.first + last, token, text))
    if not found:
        return []
    values = np.array([f[0] for f in found])
    plausible = values[values < 100000]
    top = plausible.max() if len(plausible) else values.max()
    order = sorted(set(values.tolist()), reverse=True)
    n_lines = len(lines)
    heights = _median_height(lines)
    # Cash minus change is what was paid: a strong hint for the total on receipts.
    cash_values = [f[0] for f in found if KEYWORDS["cash"].search(f[1].text + " " + line_context(document, f[1])["above"])]
    change_values = [f[0] for f in found if KEYWORDS["change"].search(f[1].text + " " + line_context(document, f[1])["above"])]
    paid = {round(c - ch, 2) for c in cash_values for ch in change_values}
    keyword_lines = [l.index for l in lines if KEYWORDS["total"].search(l.text) and not KEYWORDS["sub"].search(l.text)]
    # Amounts labelled "total" (not sub-total, not before tax), by label on their line or just above.
    def labelled_total(line):
        context = line_context(document, line)
        label = line.text + " " + context["left"] + ("" if AMOUNT_TOKEN.search(context["above"]) else " " + context["above"])
        return bool(KEYWORDS["total"].search(label)) and not KEYWORDS["sub"].search(label) and not KEYWORDS["excl"].search(label)

    # A rounding adjustment ("Rounding -0.02", cash rounded to 5 sen or cents) turns the
    # sum into the amount paid: the amount it yields, printed below it, is the total; the
    # amount it adjusts, printed above it, is not.
    roundings = []  # (adjustment, its line)
    for value, line, *_ in found:
        context = line_context(document, line)
        if value < MAX_ROUNDING and KEYWORDS["rounded"].search(" ".join((line.text, context["left"], context["above"]))):
            roundings.append((value, line.index))

    def rounding_role(value, line_index) -> list[float]:
        """[the value is a rounding's result, the value is what a rounding adjusts]."""
        result = adjusted = False
        for adjustment, rounding_line in roundings:
            for other, other_line, *_ in found:
                if other == value or abs(abs(other - value) - adjustment) >= 0.005:
                    continue
                result |= other_line.index <= rounding_line < line_index
                adjusted |= line_index <= rounding_line < other_line.index
        return [float(result), float(adjusted)]

    totals = [f for f in found if labelled_total(f[1])]
    total_max = max((f[0] for f in totals), default=None)
    last_total = totals[-1][0] if totals else None
    candidates = []
    for value, line, first, last, token, raw in found:
        context = line_context(document, line)
        own = line.text.replace(raw, " ")
        rank = order.index(value)
        after_total = [line.index - k for k in keyword_lines if 0 <= line.index - k <= 3]
        features = [
            value / max(top, 1e-6), float(value == top), 1.0 / (1 + rank), min(np.log1p(value) / 8, 2.0),
            min(float((values == value).sum()) / 4, 1.5), line.index / n_lines, line.cy / 1000.0,
            float(round(value, 2) in paid), float(bool(re.search(r"rm|\$|myr|usd", raw, re.I))),
            float(raw.strip().startswith("-")), float(line.box[0] > 500), line.height / heights,
            float(bool(after_total)), (1.0 / (1 + min(after_total))) if after_total else 0.0,
            float(value >= 10000), float(len(token.split(".")[0]) > 5),
            float(labelled_total(line)), float(value == total_max), float(value == last_total),
            float(bool(AMOUNT_TOKEN.search(context["above"]))), float(total_max is not None and value > total_max),
            *rounding_role(value, line.index),
        ]
        for place in (own, context["left"], context["above"], context["above2"]):
            features.extend(keyword_vector(place, AMOUNT_KEYS))
        candidates.append(Candidate(token, first, last, np.array(features, dtype=np.float32)))
    return candidates


def date_candidates(document: Document) -> list[Candidate]:
    """Every date-like string, cleaned as printed, with where it stands and what labels it."""
    lines = line_infos(document)
    candidates = []
    seen_texts: dict[str, int] = {}
    raw = []
    for line in lines:
        for number, pattern in enumerate(DATE_PATTERNS):
            for match in pattern.finditer(line.text):
                text = clean_date(line.text[match.start():])
                if not text or not re.search(r"\d", text):
                    continue
                raw.append((line, number, match, text))
                seen_texts[text] = seen_texts.get(text, 0) + 1
    n_lines = max(len(lines), 1)
    for rank, (line, number, match, text) in enumerate(raw):
        context = line_context(document, line)
        before = line.text[:match.start()]
        after = line.text[match.end():]
        digits = re.sub(r"\D", "", text)
        year = re.search(r"(?:19|20)\d{2}", text)
        features = [
            float(number == 0), float(number == 1), float(number >= 2), 1.0 / (1 + rank), float(rank == 0),
            line.index / n_lines, line.cy / 1000.0, min(seen_texts[text] / 3, 1.5), float(bool(year)),
            len(digits) / 8.0, float(bool(re.search(r"\d{1,2}:\d{2}", after[:12]))), float(len(before.strip()) == 0),
            float(bool(re.search(r"[A-Za-z]", text))), float(bool(re.search(r"[/.\-]", text))),
            float(len(text) != len(match.group().strip(" ,"))),
        ]
        for place in (before, context["left"], context["above"], after + " " + context["right"]):
            features.extend(keyword_vector(place, ("date", "time", "expiry", "document", "due")))
        first, last = span_of(document, line, match.start(), match.end())
        candidates.append(Candidate(text, first, last, np.array(features, dtype=np.float32)))
    return candidates


def span_of(document: Document, line: LineInfo, start: int, end: int) -> tuple[int, int]:
    """The words of ``line`` that the characters ``start:end`` of its text fall in."""
    cursor, first, last = 0, None, None
    for i in range(line.first, line.last + 1):
        length = len(document.words[i].text)
        if cursor + length > start and first is None:
            first = i
        if cursor < end:
            last = i
        cursor += length + 1
    return (first if first is not None else line.first), (last if last is not None else line.last)


HEADER_KEYS = ("company_suffix", "address", "region", "contact", "registration", "document", "date", "total")


def _header_features(lines: list[LineInfo], index: int, heights: float) -> list[float]:
    line = lines[index]
    text = line.text
    centre = (line.box[0] + line.box[2]) / 2
    features = [
        index / HEADER_LINES, float(index == 0), 1.0 / (1 + index), line.cy / 1000.0, line.height / heights,
        abs(centre - 500) / 500, (line.box[2] - line.box[0]) / 1000, float(bool(POSTCODE.search(text))),
        float(bool(re.search(r"\d{5,}|\d+-\d{3,}", text))),
    ]
    features += _text_shape(text)
    features += list(keyword_vector(text, HEADER_KEYS))
    return features


def company_candidates(document: Document) -> list[Candidate]:
    """Each of the first rows, and each pair of consecutive ones (names split in two)."""
    lines = header_rows(document, HEADER_LINES)
    if not lines:
        return []
    heights = _median_height(lines)
    tallest = max(l.height for l in lines)
    per_line = [_header_features(lines, i, heights) for i in range(len(lines))]
    alpha_before = np.cumsum([0] + [float(sum(c.isalpha() for c in l.text) >= 3) for l in lines])
    suffix_lines = [i for i, l in enumerate(lines) if KEYWORDS["company_suffix"].search(l.text)]
    candidates = []
    for i in range(len(lines)):
        for size in (1, 2):
            if i + size > len(lines):
                continue
            group = lines[i:i + size]
            text = " ".join(l.text for l in group)
            nxt = per_line[i + size] if i + size < len(lines) else [0.0] * len(per_line[0])
            prev = per_line[i - 1] if i >= 1 else [0.0] * len(per_line[0])
            first_suffix = float(bool(suffix_lines) and suffix_lines[0] in range(i, i + size))
            features = [float(size == 2), alpha_before[i] / 4, max(l.height for l in group) / tallest,
                        first_suffix, float(bool(suffix_lines) and i > suffix_lines[0])]
            features += per_line[i] + (per_line[i + 1] if size == 2 else [0.0] * len(per_line[0])) + nxt + prev
            candidates.append(Candidate(text, group[0].first, group[-1].last, np.array(features, dtype=np.float32)))
    return candidates


# A line that opens with a contact label ("Tel 023 9284 1170", "Fax: ...") is never part
# of an address (none of SROIE's addresses holds one), however it follows the postcode; the
# ranker, trained on receipts whose contact lines read "TEL:", took a "Tel" line in.
CONTACT_LINE = re.compile(r"\s*(?:tel|telephone|phone|fax|h/p|mobile|e-?mail|www|http|website)\b", re.I)


def address_candidates(document: Document) -> list[Candidate]:
    """Each run of 1-6 consecutive header lines, none of them a contact line."""
    lines = [l for l in line_infos(document) if l.page == 1][:HEADER_LINES + 4]
    if not lines:
        return []
    heights = _median_height(lines)
    per_line = [_header_features(lines, i, heights) for i in range(len(lines))]
    is_addressy = [float(bool(KEYWORDS["address"].search(l.text) or KEYWORDS["region"].search(l.text) or POSTCODE.search(l.text)))
                   for l in lines]
    suffix_lines = [i for i, l in enumerate(lines) if KEYWORDS["company_suffix"].search(l.text)]
    width = len(per_line[0])
    candidates = []
    for i in range(len(lines)):
        for size in range(1, 7):
            if i + size > len(lines) or CONTACT_LINE.match(lines[i + size - 1].text):
                break
            group = lines[i:i + size]
            text = " ".join(l.text for l in group)
            inside = np.mean([per_line[j] for j in range(i, i + size)], axis=0).tolist()
            nxt = per_line[i + size] if i + size < len(lines) else [0.0] * width
            prev = per_line[i - 1] if i >= 1 else [0.0] * width
            addressy = is_addressy[i:i + size]
            features = [
                size / 6, float(size == 1), float(size >= 4), np.mean(addressy), float(addressy[0]), float(addressy[-1]),
                float(i + size < len(lines) and is_addressy[i + size]), float(i >= 1 and is_addressy[i - 1]),
                float(any(POSTCODE.search(l.text) for l in group)), float(bool(POSTCODE.search(group[-1].text))),
                float(any(KEYWORDS["contact"].search(l.text) for l in group)),
                float(any(KEYWORDS["registration"].search(l.text) for l in group)),
                float(bool(suffix_lines) and i == suffix_lines[0] + 1), float(bool(suffix_lines) and i <= suffix_lines[0]),
                float(text.rstrip().endswith(",")), min(len(text) / 120, 2.0),
            ]
            features += inside + per_line[i] + per_line[i + size - 1] + nxt + prev
            candidates.append(Candidate(text, group[0].first, group[-1].last, np.array(features, dtype=np.float32)))
    return candidates


# --- form keys --------------------------------------------------------------------------

TEMPLATE = re.compile(
    r"^(what(?:'s| is| are| was)?( the)?|(?:which|who)(?: is| was| are)?( the)?|value of( the)?|tell me( the)?|"
    r"give me( the)?|find( the)?)\s+", re.I)


def question_key(question: str, keep_suffix: bool = False) -> str:
    """The key a question quotes: "What is the DATE:?" -> "DATE:"; "the date field?" ->
    "date" (unless ``keep_suffix``: "COUPON VALUE" is a key of its own, see key_as_printed)."""
    text = " ".join(question.split()).strip()
    text = re.sub(r"\?+$", "", text).strip()
    text = TEMPLATE.sub("", text).strip()
    text = re.sub(r"^(the|a|an)\s+", "", text, flags=re.I)
    if not keep_suffix:
        text = re.sub(r"\s+(field|entry|value)$", "", text, flags=re.I)
    return text


# A key matches as printed from this score up (find_keys: 1.0 is the same letters and digits).
PRINTED_KEY = 0.9


def key_as_printed(document: Document, question: str) -> str:
    """The key a question quotes, as the document prints it: question_key's, with a final
    "value", "field" or "entry" kept where the page prints the key with that word.

    "What is the date field?" asks for the date, but "COUPON VALUE" is a form's key of its
    own: cut to "COUPON", it matched "COUPON CODE REGISTRATION FORM" at the top of the page
    as well as the key itself, and the value was looked for by the title.
    """
    key = question_key(question)
    whole = question_key(question, keep_suffix=True)
    if whole != key:
        found = find_keys(document, whole, limit=1)
        if found and found[0][0] >= PRINTED_KEY:
            return whole
    return key


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _ratio(a: str, b: str) -> float:
    from rapidfuzz.fuzz import ratio

    return ratio(a, b) / 100.0


def find_keys(document: Document, key: str, limit: int = 3) -> list[tuple[float, int, int]]:
    """The word spans that best read as ``key``: ``(score, first, last)``; within one line,
    or whole lines stacked under each other (:func:`stacked_keys`)."""
    goal = _alnum(key)
    if len(goal) < 1:
        return []
    found = []
    lines = line_infos(document)
    for line in lines:
        keys = [_alnum(document.words[i].text) for i in range(line.first, line.last + 1)]
        for a in range(len(keys)):
            joined = ""
            for b in range(a, len(keys)):
                joined += keys[b]
                if len(joined) > 1.6 * len(goal) + 4:
                    break
                score = _ratio(joined, goal)
                if goal in joined and len(goal) >= 4:
                    score = max(score, 0.9 * len(goal) / len(joined) + 0.1)
                if score >= 0.6:
                    found.append((score, line.first + a, line.first + b))
    found += stacked_keys(document, lines, goal)
    # Equal matches of the letters and digits ("Magazine" and "MAGAZINE", "REMARKS:" and
    # '"REMARKS') are told apart by the key as typed: its case, where it has capitals, and
    # its final punctuation, where it has any; then by what follows them on their row
    # (a table's "Promotion / Code" and "Promotion / Number" headers both match "Promotion").
    typed = {f: _as_typed(" ".join(document.words[i].text for i in range(f[1], f[2] + 1)), key) for f in found}
    context = {f: _read_on(document, lines, line_holding(document, f[2]), f, key) for f in found}
    found.sort(key=lambda f: (-round(f[0], 6), -typed[f], -context[f], f[1]))
    out = []
    for f in found:
        if all(f[2] < o[1] or f[1] > o[2] for o in out):
            out.append(f)
        if len(out) == limit:
            break
    return out


def _read_on(document: Document, lines: list[LineInfo], info: LineInfo, found: tuple[float, int, int], key: str) -> float:
    """How closely a key match, read on into what follows it on its row (the rest of its
    line ``info``, then the next line to its right), spells ``key``: "Cost" followed by
    "($)" reads as "Cost ($)", the "Cost" of "Cost Per Interview" does not."""
    words = [document.words[i].text for i in range(found[1], info.last + 1)]
    right = sorted([l for l in lines if l is not info and _same_row(l, info) and l.box[0] >= info.box[2] - 5
                    and l.box[0] - info.box[2] < 3 * info.height], key=lambda l: l.box[0])
    if right:
        words.append(right[0].text)
    goal = "".join(key.split()).lower()
    printed = "".join(" ".join(words).split()).lower()[:len(goal)]
    return _ratio(printed, goal)


def _as_typed(printed: str, key: str) -> float:
    """How closely ``printed`` spells ``key`` in case and punctuation as well as letters.
    A key typed all in lower case says nothing of case, and one without final punctuation
    nothing of a printed colon: "what is the date?" should not prefer a "date" in running
    text to the form's "DATE:"."""
    printed, key = "".join(printed.split()), "".join(key.split())
    if key == key.lower():
        printed = printed.lower()
    if key[-1:].isalnum():
        printed = printed.rstrip(string.punctuation)
    return _ratio(printed, key)


# A key printed over several lines ("NUMBER OF / SAMPLING / PERSONNEL:") is matched as
# whole lines, up to this many, read one after the other and stacked close under each
# other; and only where the lines together read as the key at least STACKED_KEY_MATCH
# (a looser match of several lines is more often a label and its neighbour by chance).
STACKED_KEY_LINES = 3
STACKED_KEY_MATCH = 0.8


def stacked_keys(document: Document, lines: list[LineInfo], goal: str) -> list[tuple[float, int, int]]:
    """``(score, first, last)`` of runs of stacked whole lines that read as ``goal`` (letters
    and digits) better than each of their lines alone."""
    found = []
    for start, top in enumerate(lines):
        joined, alone = _alnum(top.text), _ratio(_alnum(top.text), goal)
        for below in lines[start + 1:start + STACKED_KEY_LINES]:
            above = lines[below.index - 1]
            if (below.page != above.page or below.box[1] < above.box[1] + 0.5 * above.height
                    or below.box[1] - above.box[3] > 0.8 * max(above.height, below.height)
                    or min(below.box[2], above.box[2]) - max(below.box[0], above.box[0]) <= 0):
                break
            joined += _alnum(below.text)
            if len(joined) > 1.3 * len(goal) + 2:
                break
            alone = max(alone, _ratio(_alnum(below.text), goal))
            score = _ratio(joined, goal)
            if score >= STACKED_KEY_MATCH and score > alone:
                found.append((score, top.first, below.last))
    return found


# Where a form value stands relative to its key: 0 rest of the key's line, 1 a row-mate,
# 2-3 the line(s) below, 4 the next line read, 5 a whole table column, 6 a right block, 7 up
# to the next key on the line, 8 glued to the key, 9 the joined row, 10 a column cell, 11 a
# mark left of the key, 12 a paragraph below, 13 a row's value wrapped onto the lines below,
# 14 a value raised above or sunk below the key's row, 15 the line just above the key.
FORM_OPTION_KINDS = 16
# A block right of the key runs on for up to this many lines below its first: lists of
# names ("cc:", "Distribution:") run to a dozen lines.
RIGHT_BLOCK_LINES = 12
FORM_BASE_FEATURES = 7  # the key's match and place, before the option kind's one-hot
# The options that stand on the key's own row: the rest of its line (0), up to the next
# key (7), glued to it (8), its right row-mates (1) and the row joined (9). A receipt or
# invoice prints a money label's amount on the label's row ("CHANGE .... RM 23.90"); the
# amounts below a label belong to other rows.
ROW_OPTIONS = (0, 1, 7, 8, 9)
# A number's candidates stand by its label as printed (the key's match, a candidate's first
# feature, at least this), not by a loose match of it ("ID No:" for "Inv No"), and hold a
# word of three digits or more: "LCS03908", "03-3362", not "within 3 months".
PRINTED_MATCH = 0.9
NUMBER_TOKEN = re.compile(r"\S*\d\S*\d\S*\d")


def option_kind(candidate: Candidate) -> int:
    """Which of form_candidates' options a form candidate is (see the comments there)."""
    return int(np.argmax(candidate.features[FORM_BASE_FEATURES:FORM_BASE_FEATURES + FORM_OPTION_KINDS]))


def form_candidates(document: Document, question: str) -> list[Candidate]:
    """Values around the key the question quotes: after it on its line, right of it, below it."""
    lines = line_infos(document)
    if not lines:
        return []
    heights = _median_height(lines)
    key = key_as_printed(document, question)
    key_alnum = _alnum(key)  # compared with every line and candidate below
    keys = find_keys(document, key)
    candidates = glued_candidates(document, key, lines, heights)
    for rank, (score, k_first, k_last) in enumerate(keys):
        # A key printed over several lines has its value by or under its last line.
        key_line = line_holding(document, k_last)
        kx0 = min(document.words[i].box[0] for i in range(k_first, k_last + 1))
        kx1 = max(document.words[i].box[2] for i in range(k_first, k_last + 1))
        key_text = " ".join(document.words[i].text for i in range(k_first, k_last + 1))
        base = [score, float(rank == 0), 1.0 / (1 + rank), float(key_text.rstrip().endswith(":")),
                float(k_last == key_line.last), float(k_first == key_line.first), len(key_alnum) / 20]
        options = []  # (kind, first word, last word, lines)
        if k_last < key_line.last:
            options.append((0, k_last + 1, key_line.last, [key_line]))
            # The rest of the line up to the next key ("Date: 9/3/92 Time: 10:00").
            for stop in range(k_last + 2, key_line.last + 1):
                if re.search(r"[A-Za-z]:$", document.words[stop].text) and stop - 1 > k_last:
                    options.append((7, k_last + 1, stop - 1, [key_line]))
                    break
        # Row-mates to the right of the key, nearest first, and what continues below them.
        row_mates = [l for l in lines if l is not key_line and _same_row(l, key_line)]
        right = sorted([l for l in row_mates if l.box[0] >= kx1 - 5], key=lambda l: l.box[0])
        for l in right[:2]:
            options.append((1, l.first, l.last, [l]))
        # A value typed a little off the printed row, right of its key: raised ("AVERAGE
        # WEIGHT RANGE (GM)" with "16-30" half a line up) or sunk ("LOCATION" with
        # "STAMFORD, CT" half a line down). Too far off to be a row-mate, and never a
        # receipt's amount (not a ROW_OPTIONS kind: the amounts above a label are other rows').
        beside = [l for l in lines if l is not key_line and l.page == key_line.page
                  and all(l is not r for r in right)  # by identity: LineInfo equality compares every field
                  and l.box[0] >= kx1 - 5 and l.box[0] - kx1 < 25 * heights]
        raised = [l for l in beside if l.box[1] < key_line.box[1] and l.box[3] >= key_line.box[1] - 0.5 * heights]
        sunk = [l for l in beside if l.box[3] > key_line.box[3] and l.box[1] <= key_line.box[3] + 0.5 * heights]
        for off_row in (raised, sunk):
            for l in sorted(off_row, key=lambda l: l.box[0])[:1]:
                options.append((14, l.first, l.last, [l]))
        # A value written on the rule its key is printed under ("9/8/95" over "DATE", a
        # name over "NAME", a total over "TOTAL"): the nearest line just above the key's
        # first line (not one of its own) that overlaps it across.
        key_top = line_holding(document, k_first)
        above = [l for l in lines if l.page == key_top.page and not key_top.index <= l.index <= key_line.index
                 and l.box[3] <= key_top.box[1] + 0.3 * key_top.height and key_top.box[1] - l.box[3] < 1.5 * heights
                 and min(l.box[2], kx1) - max(l.box[0], kx0) > 0]
        for l in sorted(above, key=lambda l: -l.box[3])[:1]:
            options.append((15, l.first, l.last, [l]))
        if right:
            group = [right[0]]
            for l in lines[right[0].index + 1:right[0].index + 1 + RIGHT_BLOCK_LINES]:
                if l.page != right[0].page or l.box[1] - group[-1].box[3] > 1.2 * heights or abs(l.box[0] - right[0].box[0]) > 60:
                    break
                group.append(l)
                options.append((6, group[0].first, l.last, list(group)))
        # The whole row right of the key, joined: OCR often cuts one value ("SALEM (RJR)")
        # into several row-mates; stop at the first row-mate that reads as a key itself.
        if len(right) >= 2:
            joined = [right[0]]
            for l in right[1:4]:
                if find_keys_quick(l.text):
                    break
                joined.append(l)
            if len(joined) >= 2:
                options.append((9, joined[0].first, joined[-1].last, list(joined)))
        # A value that starts on the key's row and wraps onto the lines below ("Reason for
        # the Amendment: Survival after ... / may not be ... / exposure."): the row's value,
        # then each following line while they stay close below and read as no key.
        row_values = [o for o in options if o[0] in (0, 1, 9)]
        if row_values:
            below_row = [l for l in lines[key_line.index + 1:] if l.page == key_line.page
                         and l.box[1] >= max(o[3][-1].box[3] for o in row_values) - 0.3 * heights][:3]
            for _, first, _, group in row_values[:3]:
                bottom, wrapped = max(l.box[3] for l in group), list(group)
                for l in below_row:
                    if l.box[1] - bottom > 1.2 * heights or find_keys_quick(l.text) or l.box[2] < kx0:
                        break
                    wrapped.append(l)
                    bottom = l.box[3]
                    options.append((13, first, l.last, list(wrapped)))
        # Table columns: the cells straight below the key (a header such as "QUANTITY"),
        # however far down, skipping lines that lie beside the key's column.
        column = [l for l in lines if l.page == key_line.page and l.box[1] >= key_line.box[3] - 0.3 * key_line.height
                  and l.box[1] - key_line.box[3] < 15 * heights and l is not key_line
                  and _alnum(l.text) not in key_alnum  # not the rest of a key printed over two lines ("ACCOUNT / NO.")
                  and min(l.box[2], kx1) - max(l.box[0], kx0) > 0.5 * min(l.box[2] - l.box[0], kx1 - kx0)]
        column.sort(key=lambda l: (l.box[1], l.box[0]))
        # Is the key a table's column header, its value under it rather than beside it? The
        # ranker is told how many cells share the key's row, what share of them read as
        # labels (no digits: "Total Cost", "Account Month" beside "Cost Per Interview"),
        # and whether the nearest cell under the key holds digits, and how far below it is.
        header_row = [len(row_mates) / 4,
                      float(np.mean([not re.search(r"\d", l.text) for l in row_mates])) if row_mates else -1.0,
                      float(bool(column) and bool(re.search(r"\d", column[0].text))),
                      min((column[0].box[1] - key_line.box[3]) / heights, 5.0) / 5 if column else 1.0]
        for l in column[:2]:
            options.append((10, l.first, l.last, [l]))
        # The whole column under a header, its cells joined top to bottom ("% SOLUTION" ->
        # "100 100 100 100 100"): FUNSD links a column header to all its cells at once.
        # The cells follow closely, and a cell that reads as a key ends the column.
        run = []
        for l in column:
            if (run and l.box[1] - run[-1].box[3] > 2.5 * heights) or find_keys_quick(l.text):
                break
            run.append(l)
        if len(run) >= 2:
            options.append((5, run[0].first, run[-1].last, run))
        # Checkbox marks ("X", "(X)") printed just left of the key on its row.
        left = sorted([l for l in row_mates if l.box[2] <= kx0 + 5 and kx0 - l.box[2] < 8 * heights],
                      key=lambda l: -l.box[2])
        if k_first > key_line.first:
            options.append((11, k_first - 1, k_first - 1, [key_line]))
        if left:
            options.append((11, left[0].last, left[0].last, [left[0]]))
        # Lines below: overlapping the key horizontally, or starting near its left edge.
        below = [l for l in lines if l.page == key_line.page and l.box[1] >= key_line.box[3] - 0.3 * key_line.height
                 and l.box[1] - key_line.box[3] < 6 * heights and min(l.box[2], kx1 + 200) - max(l.box[0], kx0 - 30) > 0]
        below.sort(key=lambda l: (l.box[1], l.box[0]))
        if below:
            group = [below[0]]
            options.append((2, below[0].first, below[0].last, list(group)))
            for l in below[1:4]:
                if l.box[1] - group[-1].box[3] > 1.5 * heights:
                    break
                group.append(l)
                options.append((3, group[0].first, l.last, list(group)))
            # A paragraph below the key ("PROJECT DESCRIPTION"): its lines in reading
            # order while they stay close and left-aligned with the first.
            paragraph = [below[0]]
            for l in lines[below[0].index + 1:below[0].index + 16]:
                if (l.page != below[0].page or l.box[1] - paragraph[-1].box[3] > 1.5 * heights
                        or abs(l.box[0] - below[0].box[0]) > 80 or find_keys_quick(l.text)):
                    break
                paragraph.append(l)
            if len(paragraph) > 4:
                options.append((12, paragraph[0].first, paragraph[-1].last, list(paragraph)))
        # The next line in reading order (values the OCR put on a line of their own).
        if key_line.index + 1 < len(lines):
            nxt = lines[key_line.index + 1]
            options.append((4, nxt.first, nxt.last, [nxt]))
        seen = set()
        for kind, first, last, group in options:
            # A column's cells are its lines' words, not every word read between its first
            # and last (the reading order runs along the rows, through the other columns).
            indices = [i for l in group for i in range(l.first, l.last + 1)] if kind == 5 else range(first, last + 1)
            span = ("column", *indices) if kind == 5 else (first, last)
            if span in seen or last < first:
                continue
            seen.add(span)
            text = " ".join(document.words[i].text for i in indices)
            box = (min(document.words[i].box[0] for i in indices), min(document.words[i].box[1] for i in indices),
                   max(document.words[i].box[2] for i in indices), max(document.words[i].box[3] for i in indices))
            other_key = find_keys_quick(text)
            features = base + [float(kind == k) for k in range(FORM_OPTION_KINDS)] + [
                (box[0] - kx1) / 200, (box[1] - key_line.box[3]) / (3 * heights), (box[0] - kx0) / 200,
                len(group) / 4, min(len(text) / 60, 2.0), other_key, _ratio(_alnum(text), key_alnum),
                float(key_alnum in _alnum(text)) if len(key_alnum) >= 3 else 0.0,
                max(l.height for l in group) / heights, *header_row,
            ] + _text_shape(text) + _type_agreement(key, text) + _continuation(lines, group[-1], box, heights, text) \
                + _neighbour_features(lines, line_holding(document, first), key_line, kx0, kx1, box, heights)
            candidates.append(Candidate(text, first, last, np.array(features, dtype=np.float32), tuple(indices) if kind == 5 else ()))
    return _with_distance_rank(candidates)


# What kind of value a key asks for, judged from its wording.
KEY_TYPES = {
    "date": _words("date", "dated", "day", "mo\\.", "month", "yr", "year", "when"),
    "number": _words("no\\.?", "number", "#", "code", "amount", "cost", "qty", "quantity", "total", "price", "\\$",
                     "phone", "tel", "fax", "ext", "count", "weight", "length", "size", "%"),
    "person": _words("name", "by", "to", "from", "cc", "attention", "attn", "signature", "signed", "manager",
                     "contact", "author", "approved", "requested", "recipient"),
    "mark": _words("yes", "no\\b", "check", "mail", "delivery", "hand", "fax\\b"),
}


def _type_agreement(key: str, text: str) -> list[float]:
    """The key's wording (date? number? person?) beside the candidate's shape, so the MLP
    can learn that a "Date:" wants a date and a "No." wants digits."""
    stripped = text.strip(" _:;|.,")
    return [float(bool(pattern.search(key))) for pattern in KEY_TYPES.values()] + [
        float(any(p.search(text) for p in DATE_PATTERNS)),
        float(bool(re.search(r"\d", text))),
        float(len(stripped) <= 3 and bool(re.fullmatch(r"[(\[]?[xXvV✓☑]+[)\]]?", stripped))),
    ]


def _continuation(lines: list[LineInfo], last_line: LineInfo, box: tuple, heights: float, text: str) -> list[float]:
    """Does the value go on below? FUNSD links a key to its whole value, and a value that
    ends open ("circum-", "Route 4 and", "New York,") with a line close under it,
    across from it and reading as no key, most often goes on there: whether the text ends
    open (a comma, hyphen, slash or lower-case word), whether such a line is under it, and
    whether that line starts in lower case."""
    words = text.split()
    open_end = float(bool(words) and (words[-1][-1] in ",-/&(" or (words[-1].isalpha() and words[-1].islower())))
    under = [l for l in lines if l.page == last_line.page and l is not last_line
             and last_line.box[3] - 0.3 * heights <= l.box[1] <= last_line.box[3] + 1.2 * heights
             and min(l.box[2], box[2]) - max(l.box[0], box[0]) > 0 and not find_keys_quick(l.text)]
    nearest = min(under, key=lambda l: l.box[1]) if under else None
    return [open_end, float(nearest is not None), float(nearest is not None and nearest.text.lstrip()[:1].islower())]


def _neighbour_features(lines: list[LineInfo], value_line: LineInfo, key_line: LineInfo, kx0: float, kx1: float,
                        box: tuple, heights: float) -> list[float]:
    """Is the key the value's nearest label? Forms print a value beside or under its own
    key; a candidate whose nearest line above or to the left is some other text more often
    belongs to that other key."""
    if value_line is key_line:
        return [1.0, 1.0, 0.0]
    above = [l for l in lines if l.page == value_line.page and l is not value_line and l.box[3] <= value_line.box[1] + 0.3 * value_line.height
             and min(l.box[2], value_line.box[2]) - max(l.box[0], value_line.box[0]) > 0]
    nearest_above = max(above, key=lambda l: l.box[3]) if above else None
    left = [l for l in lines if l is not value_line and _same_row(l, value_line) and l.box[2] <= value_line.box[0] + 5]
    nearest_left = max(left, key=lambda l: l.box[2]) if left else None
    dx = max(box[0] - kx1, kx0 - box[2], 0.0)
    dy = max(box[1] - key_line.box[3], key_line.box[1] - box[3], 0.0)
    # The gap in page units (0..1000), not line heights: forms with small print often leave
    # a wide gap between a key and its value.
    return [float(nearest_above is key_line), float(nearest_left is key_line), min(np.hypot(dx, dy) / 300, 3.0)]


def _with_distance_rank(candidates: list[Candidate]) -> list[Candidate]:
    """Append each candidate's rank by distance from its key among the question's candidates."""
    if not candidates:
        return candidates
    distances = [c.features[-1] for c in candidates]
    order = {index: rank for rank, index in enumerate(np.argsort(distances, kind="stable"))}
    return [replace(c, features=np.append(c.features, np.float32(1.0 / (1 + order[i])))) for i, c in enumerate(candidates)]


def spelled_out(key: str) -> str:
    """A pattern of ``key``'s letters and digits opening a word, with up to two marks
    between them, as OCR reads a key ("D.A.T.E", "TIME", "Invoice#")."""
    letters = [re.escape(ch) for ch in key if ch.isalnum()]
    return r"(?:^|(?<=\s))" + r"[^A-Za-z0-9\s]{0,2}".join(letters)


def glued_candidates(document: Document, key: str, lines: list, heights: float) -> list[Candidate]:
    """Values OCR glued onto their key in one word ("TIME3:28CST", "DATE_April30,1985")."""
    letters = [ch for ch in key if ch.isalnum()]
    if len(letters) < 2:
        return []
    pattern = re.compile(spelled_out(key) + r"[\s:;._\-]*", re.I)
    out = []
    for line in lines:
        match = pattern.search(line.text)
        if not match or match.end() >= len(line.text):
            continue
        glued = match.end() < len(line.text) and line.text[match.end() - 1] not in " " and not line.text[match.end():].startswith(" ")
        if not glued:
            continue
        text = line.text[match.end():]
        first, last = span_of(document, line, match.start(), len(line.text))
        features = [1.0, 1.0, 1.0, float(":" in match.group()), 1.0, float(match.start() == 0), len(letters) / 20]
        features += [float(k == 8) for k in range(FORM_OPTION_KINDS)] + [0.0, 0.0, 0.0, 0.25, min(len(text) / 60, 2.0),
                                                         find_keys_quick(text), 0.0, 0.0, 1.0,
                                                         0.0, 0.0, 0.0, 1.0] + _text_shape(text)  # no table row
        features += _type_agreement(key, text) + _continuation(lines, line, line.box, heights, text)
        features += [1.0, 1.0, 0.0]  # glued to its key: the key is its nearest label
        out.append(Candidate(text, first, last, np.array(features, dtype=np.float32)))
    return out[:2]


def find_keys_quick(text: str) -> float:
    """Does this text look like a key itself (a label ending in ':'), not a value?"""
    stripped = text.strip()
    return float(stripped.endswith(":") or bool(re.match(r"^[A-Za-z][A-Za-z .&/()#]{1,30}:", stripped)))


GENERATORS = {
    "total": lambda document, question: amount_candidates(document),
    "date": lambda document, question: date_candidates(document),
    "company": lambda document, question: company_candidates(document),
    "address": lambda document, question: address_candidates(document),
    "form": form_candidates,
}


def candidates_for(kind: str, document: Document, question: str, pairing=None) -> list[Candidate]:
    """The candidates of one kind; the question-independent kinds are cached per document.

    ``pairing`` (:class:`ocromni.qa.pairing.Pairing`, required for ``form``, ``money`` and
    ``number``) adds what the candidate's wording says about being the key's value to the
    form candidates' layout. ``money`` candidates are the form candidates on the key's row
    (ROW_OPTIONS) that hold an amount; ``number`` candidates, those by the key as printed
    that hold a word of three digits or more (PRINTED_MATCH, NUMBER_TOKEN).
    """
    if kind == "money":
        return [c for c in candidates_for("form", document, question, pairing)
                if option_kind(c) in ROW_OPTIONS and AMOUNT_TOKEN.search(c.text)]
    if kind == "number":
        return [c for c in candidates_for("form", document, question, pairing)
                if option_kind(c) in ROW_OPTIONS and c.features[0] >= PRINTED_MATCH and NUMBER_TOKEN.search(c.text)]
    if kind == "form":
        candidates = form_candidates(document, question)
        extra = pairing.features(document, key_as_printed(document, question), [c.text for c in candidates])
        return [replace(c, features=np.concatenate([c.features, e])) for c, e in zip(candidates, extra)]
    cache_key = f"candidates_{kind}"
    if cache_key not in document.cache:
        document.cache[cache_key] = GENERATORS[kind](document, question)
    return document.cache[cache_key]


def labelled_candidates(document: Document, labels: list[str], kind: str, pairing) -> list[Candidate]:
    """The ``kind`` candidates of each of a field's printed labels, once each: a receipt
    prints its tax by "GST @6%" and its heading "TAX INVOICE", its number by "Bill No:" and
    the same heading, and the value stands by only one."""
    seen, out = set(), []
    for label in labels:
        for candidate in candidates_for(kind, document, label, pairing):
            if (candidate.first, candidate.last) not in seen:
                seen.add((candidate.first, candidate.last))
                out.append(candidate)
    return out


# --- the scorer -------------------------------------------------------------------------


class Scorer:
    """A small MLP: candidate features -> score; numpy inference, weights from JSON."""

    def __init__(self, weights: dict):
        self.mean = np.array(weights["mean"], dtype=np.float32)
        self.std = np.array(weights["std"], dtype=np.float32)
        self.w1 = np.array(weights["w1"], dtype=np.float32)
        self.b1 = np.array(weights["b1"], dtype=np.float32)
        self.w2 = np.array(weights["w2"], dtype=np.float32)
        self.b2 = float(weights["b2"])
        self.null = float(weights.get("null", 0.0))  # the "not in the document" score (form kind)

    def scores(self, features: np.ndarray) -> np.ndarray:
        if features.shape[-1] != self.mean.shape[0]:
            from ocromni.errors import ModelError

            raise ModelError(reason=f"{RANKER_FILE} expects {self.mean.shape[0]} features, this version makes "
                                    f"{features.shape[-1]}; retrain with: python -m ocromni.qa.ranker_train")
        x = (features - self.mean) / self.std
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        return hidden @ self.w2 + self.b2


@dataclass
class Ranked:
    """The ranker's answer: text, probability and word span (None when nothing fits)."""

    text: str
    probability: float
    first: int = -1
    last: int = -1
    words: tuple = ()  # as Candidate.words


def rank(scorer: Scorer, candidates: list[Candidate], with_null: bool) -> Optional[Ranked]:
    if not candidates:
        return None
    scores = scorer.scores(np.stack([c.features for c in candidates]))
    if with_null:
        scores = np.concatenate([scores, [scorer.null]])
    scores = scores - scores.max()
    probabilities = np.exp(scores) / np.exp(scores).sum()
    pooled: dict[str, float] = {}
    best_index: dict[str, int] = {}
    for i, candidate in enumerate(candidates):
        pooled[candidate.text] = pooled.get(candidate.text, 0.0) + float(probabilities[i])
        if candidate.text not in best_index or probabilities[i] > probabilities[best_index[candidate.text]]:
            best_index[candidate.text] = i
    text = max(pooled, key=pooled.get)
    # "Not found" when absence is likelier than *any* answer, not merely likelier than the
    # best single one: a key with several plausible values around it spreads its
    # probability over them, and comparing the null with the best alone turned many
    # present values into "not found".
    if with_null and probabilities[-1] > 0.5:
        return Ranked("", float(pooled[text]))
    chosen = candidates[best_index[text]]
    return Ranked(text, pooled[text], chosen.first, chosen.last, chosen.words)


# --- routing ----------------------------------------------------------------------------


class Router:
    """Question -> kind, by its nearest training wordings in MiniLM sentence space."""

    def __init__(self, sentences, wordings: dict[str, list[str]]):
        self.sentences = sentences
        self.labels, texts = [], []
        for label, items in wordings.items():
            for text in items:
                self.labels.append(label)
                texts.append(text)
        self.matrix = sentences([t for t in texts]).numpy() if texts else np.zeros((0, 384), dtype=np.float32)

    def route(self, question: str, k: int = 5) -> tuple[str, float]:
        """The likeliest label and its share of the k nearest wordings' similarity, among
        the labels the question's opening word allows (see ``WH_LABELS``)."""
        vector = self.sentences([question]).numpy()[0]
        similarity = self.matrix @ vector
        allowed = asked_labels(question)
        if allowed is not None:
            similarity = np.where([label in allowed for label in self.labels], similarity, -np.inf)
        nearest = [i for i in np.argsort(-similarity)[:k] if np.isfinite(similarity[i])]
        votes: dict[str, float] = {}
        for i in nearest:
            votes[self.labels[i]] = votes.get(self.labels[i], 0.0) + float(np.exp(8 * similarity[i]))
        label = max(votes, key=votes.get)
        return label, votes[label] / sum(votes.values())


# What a question that opens with a question word can ask for. Sentence embeddings weigh
# the topic words over the question word, so a short "Who issued it?" sat nearest "When
# was this issued?" and was answered with the date; "who" never asks for a date. "form"
# (the value of a key the question quotes) stays open to every question word.
WH_LABELS = {
    "who": {"company", "customer", "recipient", "sender", "cashier"},
    "whom": {"customer", "recipient", "sender"},
    "when": {"date", "due_date", "time"},
    "where": {"address", "customer_address"},
    "how much": {"total", "subtotal", "tax", "cash", "change", "item_price"},
    "how many": set(),  # a count ("How many items?") is none of the fields: only a quoted key
    # "What time was the purchase?" sat nearest the date's wordings, "At what time was it
    # paid?" the total's; a time of day is neither.
    "what time": {"time"},
}
WH_WORD = re.compile(r"\s*(how much|how many|who|whom|when|where|(?:at )?(?:what|which) time)\b", re.I)


# What a question that names a kind of value can ask for, whatever its other words: "What's
# the shop's phone number?" sat nearest "Location of the shop?" and was answered with the
# shop's address.
# A kind no field holds (an email, a website) leaves the question to a key the page prints.
# A subtotal is not the total ("Sub-total amount?" sat nearest "total amount?"), nor a time
# of day the date ("time of purchase?" sat nearest "Date of purchase?"), unless the question
# asks for both. "Change" names the money handed back only beside a word of handing back
# ("What change did the customer get back?" sat nearest "Who is the customer?"); alone it
# is as often a change to a document.
VALUE_LABELS = {r"(?:tele)?phone": {"phone"}, r"fax|facsimile": {"fax"}, r"e-?mail|website": set(),
                r"sub[\s-]?total": {"subtotal"}, r"(?<!date and )(?<!date & )time(?!\s*(?:and|&)\s*date)": {"time"},
                r"change(?=.*\b(?:back|returned|given|get|got|due|tendered)\b)": {"change"}}


def asked_labels(question: str) -> Optional[set]:
    """The router labels the question's opening word and the kind of value it names allow
    (see ``WH_LABELS``, ``VALUE_LABELS``), or None when they allow any."""
    allowed = None
    match = WH_WORD.match(question)
    if match is not None:
        opening = match.group(1).lower()
        allowed = WH_LABELS["what time" if opening.endswith("time") else opening] | {"form"}
    for pattern, labels in VALUE_LABELS.items():
        if re.search(rf"\b(?:{pattern})\b", question, re.I):
            named = labels | {"form"}
            allowed = named if allowed is None else allowed & named | {"form"}
    return allowed


# More ways people ask for the four fields (and whose address, who from and to), so the
# router's neighbourhoods are wide (the benchmark's wordings are kept out of here and out
# of the generator's).
ROUTER_EXTRA = {
    "total": ["How much do I owe?", "What did it cost?", "What was charged?", "Total cost?", "What is the sum to be paid?",
              "How much money was spent?", "What is the payable amount?", "How much was the bill?"],
    "date": ["When was this?", "What day is on the receipt?", "When was the bill printed?", "Date of purchase?",
             "When did the transaction take place?", "What is the invoice date?"],
    "company": ["Who sold this?", "What is the name of the business?", "Which restaurant is this?", "Which company?",
                "Issuer name?", "Which shop is it?", "Who is the supplier?", "Who issued the invoice?", "shop?", "store?"],
    "address": ["Where can I find the shop?", "Where is the business?", "What is the street address?",
                "Where is this place?", "Location of the shop?", "Which street is the store on?", "Full address?"],
    # Letters and fax covers: who it is from and to ("Who is it from?" sat nearest "Who
    # sold this?" and was answered with the page's heading).
    "sender": ["Who is it from?", "Who sent this?", "Who sent the fax?", "From whom is this memo?", "Who is the sender?"],
    "recipient": ["Who is it to?", "Who is the fax for?", "Who was this sent to?", "Who is the memo addressed to?"],
    # Whose address: the customer's is not the issuer's ("What is the customer's address?"
    # sat nearer the shop's wordings and was answered with the invoice's own letterhead).
    "customer_address": ["What is the customer's address?", "Where does the customer live?", "client address?",
                         "What is the buyer's address?", "address of the recipient of the bill?"],
    # A phone is the business's, but not its address (see VALUE_LABELS), and a bill's number
    # is not whom it bills ("bill no?" sat nearest "Who is billed?").
    "phone": ["What is the store's telephone?", "company phone number?", "Which number do I call?",
              "What is the restaurant's tel no?", "contact phone of the merchant?"],
    "invoice_number": ["bill no?", "transaction number?", "What is the slip number?", "receipt #?"],
    "fax": ["What is the fax number?", "fax?", "fax no?", "Which number do I fax?", "facsimile number?"],
}


# What one bought item cost ("How much were the eggs?"): the amount on the item's row, not
# the total (see Reader.item_price). The items here are on purpose none of the tests'.
ITEM_PRICE_WORDINGS = ["How much did the coffee cost?", "What was the price of the bread?", "How much were the grapes?",
                       "price of chicken rice?", "How much did I pay for the batteries?", "What did the shampoo cost?",
                       "How much was the notebook?", "cost of the tea?", "What is the price of the sugar?",
                       "How much were two pens?", "What is the unit price of the rice?", "unit price of soap?"]
# Counts and quantities are none of the fields: read as a key the document may print, never
# as the total ("quantity of steel widgets?" was answered with the invoice's total).
COUNT_WORDINGS = ["quantity of apples?", "What quantity of paper was bought?", "number of items?",
                  "How many pens were bought?", "qty of bread?"]


def router_wordings() -> dict[str, list[str]]:
    """Training wordings per label: the synthetic generator's, a few more, and form-key questions."""
    from ocromni.qa.synthetic import FORM_KEYS, FORM_WORDINGS, WORDINGS

    wordings = {label: list(WORDINGS.get(label, [])) + ROUTER_EXTRA.get(label, []) for label in {**WORDINGS, **ROUTER_EXTRA}}
    wordings["item_price"] = ITEM_PRICE_WORDINGS
    forms = []
    for i, key in enumerate(FORM_KEYS):
        if key.lower() in ("date", "total", "company", "address"):
            continue
        style = key if i % 3 else key.title()
        forms.append(FORM_WORDINGS[i % len(FORM_WORDINGS)].format(key=style + (":" if i % 2 else "")))
    wordings["form"] = forms + COUNT_WORDINGS
    return wordings


def load_scorers(directory) -> dict[str, Scorer]:
    path = Path(directory) / RANKER_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {kind: Scorer(weights) for kind, weights in data["scorers"].items()}


def content_terms(question: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", question.lower()) if t not in STOPWORDS]


def clean_ranked(kind: str, text: str) -> str:
    """Tidy a ranked answer: form values lose the fill-in underscores and colons OCR keeps."""
    text = " ".join(text.split())
    if kind in ("form", "company", "address"):
        text = text.strip(" _:;|.,") if kind == "form" else text.strip(" _:;|")
        text = re.sub(r"(?<=\s)_+|_+(?=\s)", "", text)
        text = " ".join(text.split())
    if kind == "form":
        # The rest of a label the question quoted only in part ("GST ID" of "(GST ID No
        # :000306020352)"), and the bracket it closes.
        text = LABEL_TAIL.sub("", text)
        for opening, closing in ("()", "[]"):
            if text.endswith(closing) and text.count(closing) > text.count(opening):
                text = text[:-1].rstrip()
    if kind == "company":
        # Receipts print the registration number after the name; it is not part of it.
        text = REGISTRATION_TAIL.sub("", text).strip(" ,.-")
    return text


LABEL_TAIL = re.compile(r"^(?:no|nos|number|num|#)\.?\s*[:\[]\s*(?=\S)", re.I)
REGISTRATION_TAIL = re.compile(
    r"[\s(\[]*(?:(?:co(?:mpany)?\.?|roc|reg(?:istration)?\.?|business)\s*(?:reg\.?|no\.?|number)?\s*[:.]?\s*)?"
    r"[\d][\dA-Z\-\s]{3,16}[A-Z]?[\s)\]]*$", re.I)
