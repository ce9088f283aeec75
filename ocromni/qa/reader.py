"""The QA predictor: routing, candidate rankers, and the LayoutQA span model behind them.

A question first goes to the :class:`ocromni.qa.ranker.Router`, which names its kind from
the nearest training wordings. Totals, dates, companies and addresses are answered by
that kind's candidate ranker; any other question is read as "the value of the key it
quotes" and answered by the form ranker when the key is printed in the document, or, for
the invoice and receipt fields the router knows ("When is payment due?"), the label the
page prints for that field ("Due Date:", see PRINTED_KEYS). What an item cost ("How
much were the eggs?") is the amount the form ranker finds beside the item's name (see
Reader.item_price); a cash, change, tax or subtotal question, the amount the money ranker
finds on the row of the field's printed label; an invoice (receipt, PO) number or a phone,
the number the number ranker finds likewise; a time of day, the time printed by its
label or the date (Reader.time_of_day). Only a question whose key the document does not
show goes to the LayoutQA span model (features (preprocess) + LayoutQA (model) + answer
decoding (postprocess)).

    reader = Reader.load()                       # the weights inside the package
    document = document_from_pages(page_texts)   # ocromni.recognize() output, all pages
    for answer in reader.answer(document, ["What is the total?", "date?"]):
        print(answer.to_dict())

Every question about a document goes through the model in one batch; the document's
word pieces and layout features are made once and shared by its questions.
"""

from __future__ import annotations

import re
from itertools import accumulate
from pathlib import Path
from typing import Optional, Sequence

from ocromni.qa.answer import DATE_PATTERNS, MIN_CONFIDENCE, Answer, clean_date, decide, evidence_for, window_candidates
from ocromni.qa.features import Document, collate, make_windows

BATCH_WINDOWS = 16
FIELD_KINDS = ("total", "date", "company", "address")
# A key printed (nearly) as the question quotes it: read the form, not the receipt layout.
QUOTED_KEY = 0.9
# Below this a key's match is a loose one ("patient" ~ "Payment"); a form key that OCR
# misread still matches at 0.77-0.84 on FUNSD ("11/16New Balance:").
LOOSE_KEY = 0.75
# The span model answers only questions whose key the document does not print; below this
# it says "not found" (its right answers average ~0.75 confidence, its wrong ones ~0.25).
FALLBACK_CONFIDENCE = 0.5
# What documents print for the fields the router knows beyond the four above. A question
# names its field in its own words ("When is payment due?", "Who is billed?") and the
# page labels it in others ("Due Date:", "Bill To:"): when the question's own words are
# not printed as asked, the form ranker reads the value of the best printed label of its
# field.
PRINTED_KEYS = {
    "invoice_number": ["Invoice No", "Invoice Number", "Invoice #", "Inv No", "Receipt No", "Receipt #", "Bill No", "Doc No",
                       "Document No", "Slip No", "Trans No", "Transaction No"],
    "due_date": ["Due Date", "Payment Due", "Date Due", "Pay By"],
    "customer": ["Bill To", "Billed To", "Sold To", "Customer", "Client"],
    "customer_address": ["Billing Address", "Customer Address", "Bill To", "Ship To"],
    "tax": ["VAT", "GST", "Sales Tax", "Tax", "SST"],
    "subtotal": ["Subtotal", "Sub Total"],
    "cash": ["Cash", "Tendered"],
    "change": ["Change"],
    "phone": ["Tel", "Phone", "Telephone"],
    "fax": ["Fax", "Facsimile", "Telefax"],
    "po_number": ["PO No", "PO Number", "Purchase Order", "P.O. No"],
    "cashier": ["Cashier", "Served By"],
    "time": ["Time"],
    "subject": ["Subject", "Re"],
    "sender": ["From", "Sender", "Signed"],
    "recipient": ["To", "Attention", "Attn"],
}
# Fields whose value is an amount: of the values beside their label, those reading as one
# ("VAT 20% 37.20": the rate stands nearer the label than the tax).
MONEY_FIELDS = ("tax", "subtotal", "cash", "change")
# Fields whose value is a number of some kind (an invoice's, a phone's): of the values on
# the row of any of their printed labels, those holding a number (ranker.NUMBER_TOKEN). A
# receipt prints "TAX INVOICE" at its head and its number by "Bill No:".
NUMBER_FIELDS = ("invoice_number", "po_number", "phone", "fax")
PHONE_FIELDS = ("phone", "fax")  # answered with the first phone number of the value (phone_only)
# Words that ask for a number, not an amount: "GST number", "GST ID", "GST Reg No".
NUMBER_WORDS = frozenset("number no id reg registration".split())
# A phone number as printed: "03-3362 4395", "(603) 6243 5520", "+603-3362 4137".
PHONE_NUMBER = re.compile(r"\(?\+?\d[\d \-()]{5,}\d")
# The words of an item-price question that are not the item ("How much did I pay for the
# eggs?" -> "eggs"; content_terms has dropped "how much did for the"), and how nearly the
# receipt must print the item's name (OCR slips, "Egg" for "eggs").
PRICE_TERMS = frozenset("cost costs price priced pay paid spend spent charge charged i my me we each per unit one".split())
ITEM_NAMED = 0.8
UNIT_TERMS = ("unit", "each", "per")  # "unit price of ...": the row's first amount, not its last
# Words that name a kind of value, not a field: alone they do not tie a question to a
# field's printed labels (see printed_key).
VALUE_WORDS = frozenset("number no date name address amount".split())
# Kinds of value that rule out labels that do not name them ("email address" is not a
# "Customer Address").
DISTINCT_KINDS = frozenset("email mail phone fax website address date".split())
# ... when the router is at least this sure of the field: "What is the customer's email
# address?" goes to "customer_address" with a 0.39 share of the vote, "Who is billed?" to
# "customer" with 0.94.
SURELY_ROUTED = 0.6
# ... and when it is at least this sure, one word of the field's labels is enough, however
# many other words the question has ("Amount of cash received?": cash, 0.93). No FUNSD
# key routes to a printed field this surely while naming it in under half its words.
CERTAINLY_ROUTED = 0.9
# A time of day as receipts print it: "18:09", "16:37:00", "03:30:27PM", "9:30 a.m.".
TIME_OF_DAY = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\b\.?)?")
GENERIC_TERMS = frozenset(
    "total amount grand sum due paid pay payable final date day dated company name store shop business vendor merchant "
    "seller issuer address location located where receipt invoice bill document".split())


class Reader:
    """A loaded QA model with its tokenizer; build once, reuse for every document."""

    def __init__(self, model, tokenizer, sentences, device: str = "cpu", scorers=None, pairing=None):
        from ocromni.qa.ranker import Router, router_wordings

        self.scorers = scorers or {}
        self.pairing = pairing  # the form ranker's key-value wording model (ocromni.qa.pairing)
        self.router = Router(sentences, router_wordings()) if self.scorers else None
        self.model = model
        self.sentences = sentences
        self.table = model.pieces.cpu().numpy()
        self.tokenizer = tokenizer
        self.device = device
        self.config = model.config

    @classmethod
    def load(cls, weights: Optional[str] = None, device: str = "cpu") -> "Reader":
        from ocromni.errors import ModelError
        from ocromni.qa.model import CONFIG_FILE, LayoutQA, SentenceEncoder, default_weights_dir, load_tokenizer
        from ocromni.qa.pairing import PAIRING_FILE, Pairing
        from ocromni.qa.ranker import RANKER_FILE, load_scorers

        directory = Path(weights) if weights else default_weights_dir()
        if not (directory / CONFIG_FILE).is_file():
            raise ModelError(reason=f"no QA weights in {directory}; train them with: python -m ocromni.qa.train --out {directory}")
        model = LayoutQA.from_pretrained(directory).to(device)
        sentences = SentenceEncoder(device)
        scorers, pairing = load_scorers(directory), Pairing.load(directory, sentences)
        if scorers and pairing is None:
            raise ModelError(reason=f"{directory} has {RANKER_FILE} but no {PAIRING_FILE}; retrain both with: "
                                    f"python -m ocromni.qa.ranker_train --out {directory}")
        return cls(model, load_tokenizer(), sentences, device, scorers, pairing)

    def route(self, question: str) -> str:
        """The question's kind: one of FIELD_KINDS, or "form" for everything else."""
        field, _ = self.field_of(question)
        return field if field in FIELD_KINDS + ("model",) else "form"

    def field_of(self, question: str) -> tuple[str, float]:
        """The router's label and its share of the vote: a field kind, another field
        (PRINTED_KEYS), "form", or "model" when there are no rankers."""
        if self.router is None:
            return "model", 1.0
        return self.router.route(question)

    def ranked_answer(self, document: Document, question: str) -> Optional[Answer]:
        """The rankers' answer, or None when the question is left to the span model."""
        from ocromni.qa import ranker

        field, share = self.field_of(question)
        if field == "model":
            return None
        kind = field if field in FIELD_KINDS else "form"
        key = ranker.key_as_printed(document, question)
        keys = ranker.find_keys(document, key, limit=1)
        quoted = bool(keys) and keys[0][0] >= QUOTED_KEY
        if field == "item_price" and not quoted:  # a form's "UNIT PRICE:" is a key like any other
            return self.item_price(document, question)
        if field == "time" and not quoted and share >= SURELY_ROUTED:  # a form's "TIME:" likewise
            return self.time_of_day(document, question, share)
        # "Total Pressure Drop:" on a form is a key like any other, not a receipt's total;
        # a bare "total" or "date" is asked of the layout the field ranker knows.
        specific = not all(term in GENERIC_TERMS for term in ranker.content_terms(key))
        if kind == "form" or (quoted and (specific or kind != "total")):
            printed = None
            if not quoted and share >= SURELY_ROUTED:
                printed = printed_key(document, field, question, share)
                if printed is None and field in PRINTED_KEYS and keys and keys[0][0] < LOOSE_KEY:
                    # The page prints neither the question's words nor a label of the field
                    # it asks for: what lies near a loose match of its words ("patient" ~
                    # "Payment", "due date for payment" ~ "PURPOSE") is no answer.
                    return self._answer(document, question, "form", None)
            # Only where the page's label stands in for the question's words, or the question
            # is the field's bare name ("change?"): a form's own key ("This Change: (From
            # Current Budget)", "Tax Status Paid or Free") keeps whatever value it is given.
            # And not where it asks for a number ("What is the GST number?": the GST
            # registration, not the GST charged).
            money = (field in MONEY_FIELDS and (printed is not None or set(label_words(question)) <= field_words(field))
                     and not NUMBER_WORDS & set(label_words(question)))
            # The same for a number the page prints by one of its labels: "TAX INVOICE" heads
            # the page, "Bill No: LCS03908" holds the number.
            number = field in NUMBER_FIELDS and printed is not None and "number" in self.scorers
            scorer = "money" if money and "money" in self.scorers else "number" if number else "form"
            if money:
                # Every label the page prints for the field, and the question's own words
                # when they name it ("What was the tax?" finds "TAX INVOICE" first).
                labels = printed_labels(document, field)
                if printed is None:
                    labels = [question] + labels
                candidates = ranker.labelled_candidates(document, labels, "money", self.pairing)
            elif number:
                candidates = ranker.labelled_candidates(document, printed_labels(document, field), "number", self.pairing)
            else:
                candidates = ranker.candidates_for("form", document, printed or question, self.pairing)
            if (money or number) and not candidates:  # the label stands with no amount (number) by it: no guessing
                return self._answer(document, question, "form", None)
            if not candidates and kind == "form":
                return None  # the key is not printed: the span model reads the page
            result = ranker.rank(self.scorers[scorer], candidates, with_null=scorer == "form")
            if money and result and result.text:
                result = amount_only(document, result)
            if number and field in PHONE_FIELDS and result and result.text:
                result = phone_only(document, result)
            if kind == "form" or specific or (result and result.text):
                return self._answer(document, question, "form", result)
        result = ranker.rank(self.scorers[kind], ranker.candidates_for(kind, document, question), with_null=False)
        return self._answer(document, question, kind, result)

    def item_price(self, document: Document, question: str) -> Answer:
        """What one bought item cost: the amount on (or just below) the row that names it,
        chosen by the form ranker among the values around that name as among a form key's.
        "Not found" when the receipt names no such item: the total is no answer to "How
        much were the bananas?"."""
        from ocromni.qa import ranker

        terms = ranker.content_terms(question)
        item = " ".join(term for term in terms if term not in PRICE_TERMS)
        found = ranker.find_keys(document, item, limit=1) if item else []
        result = None
        if found and found[0][0] >= ITEM_NAMED:
            candidates = [c for c in ranker.candidates_for("form", document, item, self.pairing)
                          if ranker.AMOUNT_TOKEN.search(c.text)]
            result = ranker.rank(self.scorers["form"], candidates, with_null=False)
            if result is not None:
                # A row prints the unit price before the line's amount ("120  0.85  102.00").
                result = amount_only(document, result, first=any(term in UNIT_TERMS for term in terms))
        return self._answer(document, question, "form", result)

    def time_of_day(self, document: Document, question: str, share: float) -> Answer:
        """The time a receipt or invoice was printed: the value of its "Time:" label, cut to
        the time, where it prints one (the form ranker chooses among the times around the
        label, as among a key's values); else the time printed beside a date (a till prints
        "23-03-18 18:09"), else the page's only time. "Not found" when no time of day is
        printed, or several stand apart from any date and label."""
        from ocromni.qa import ranker

        printed = printed_key(document, "time", question, share)
        if printed is not None:
            candidates = [c for c in ranker.candidates_for("form", document, printed, self.pairing) if TIME_OF_DAY.search(c.text)]
            result = ranker.rank(self.scorers["form"], candidates, with_null=False)
            if result is not None:
                return self._answer(document, question, "form", _time_only(document, result))
        words = [i for i, word in enumerate(document.words) if TIME_OF_DAY.search(word.text)]
        dated = [i for i in words if any(pattern.search(document.lines[document.words[i].line]) for pattern in DATE_PATTERNS)]
        distinct = {TIME_OF_DAY.search(document.words[i].text).group() for i in words}
        chosen = dated[:1] or (words if len(distinct) == 1 else [])
        if not chosen:
            return self._answer(document, question, "form", None)
        # Not measured odds: the one time a page prints is surer than one of several that
        # stands beside a date (a till's print time; opening hours stand elsewhere).
        confidence = 0.9 if len(distinct) == 1 else 0.7
        chosen_word = ranker.Ranked("", confidence, chosen[0], chosen[0])
        return self._answer(document, question, "form", _time_only(document, chosen_word))

    @staticmethod
    def _answer(document: Document, question: str, kind: str, result) -> Answer:
        from ocromni.qa.ranker import clean_ranked

        text = clean_ranked(kind, result.text) if result else ""
        confidence = result.probability if result else 0.0
        if kind == "date":
            text = clean_date(text)
        if not text or confidence < MIN_CONFIDENCE:
            return Answer(document.source, question, "", min(confidence, 1.0), False, [])
        return Answer(document.source, question, text, min(confidence, 1.0), True, evidence_for(document, result.first, result.last, result.words))

    def answer(self, document: Document, questions: Sequence[str]) -> list[Answer]:
        """One Answer per question, in order."""
        answers: list[Optional[Answer]] = [self.ranked_answer(document, q) if self.scorers else None for q in questions]
        remaining = [i for i, a in enumerate(answers) if a is None]
        if remaining:
            for i, answer in zip(remaining, self.model_answers(document, [questions[i] for i in remaining])):
                if self.scorers and answer.found and answer.confidence < FALLBACK_CONFIDENCE:
                    # The document prints no key like the one asked about: a hesitant span
                    # is more often a neighbouring field ("VAT number?" -> the receipt no.).
                    answer = Answer(answer.source, answer.question, "", answer.confidence, False, [])
                answers[i] = answer
        # An answer that is not the kind of value asked for is none: "What is the shop's
        # email?" of a receipt that prints none found "X" beside a loose match of "shop's".
        return [a if not a.found or fits_named_kind(a.question, a.answer) else Answer(a.source, a.question, "", 0.0, False, [])
                for a in answers]

    def model_answers(self, document: Document, questions: Sequence[str]) -> list[Answer]:
        """The LayoutQA span model's answers."""
        import torch

        windows = []
        for index, question in enumerate(questions):
            windows.extend(make_windows(self.tokenizer, self.table, document, question, max_words=self.config["max_words"],
                                        word_stride=self.config["word_stride"], question_index=index))
        candidates: list[list] = [[] for _ in questions]
        with torch.inference_mode():
            for begin in range(0, len(windows), BATCH_WINDOWS):
                batch = windows[begin:begin + BATCH_WINDOWS]
                tensors = {k: v.to(self.device) for k, v in collate(batch, self.sentences).items()}
                starts, ends = self.model(**tensors)
                starts, ends = starts.float().cpu().numpy(), ends.float().cpu().numpy()
                for row, window in enumerate(batch):
                    candidates[window.question_index].extend(window_candidates(
                        starts[row], ends[row], window.size, window.first_word, document,
                        questions[window.question_index], self.config["max_answer_words"],
                    ))
        return [decide(document, question, candidates[i]) for i, question in enumerate(questions)]


def _token_only(document: Document, result, pattern, last: bool = False):
    """``result`` cut to the first match of ``pattern`` in its words ("18:09 SH01" ->
    "18:09"; the last match when ``last``), with the evidence narrowed to that word;
    unchanged when no one word holds one."""
    from ocromni.qa.ranker import Ranked

    indices = list(result.words or range(result.first, result.last + 1))
    for index in reversed(indices) if last else indices:
        found = pattern.findall(document.words[index].text)
        if found:
            return Ranked(found[-1] if last else found[0], result.probability, index, index)
    return result


def _time_only(document: Document, result):
    """``result`` cut to its time of day, with an "AM"/"PM" the OCR read as the next word."""
    from ocromni.qa.ranker import Ranked

    cut = _token_only(document, result, TIME_OF_DAY)
    after = cut.last + 1
    if cut.first != cut.last or after >= len(document.words) or re.search(r"[AaPp]\.?[Mm]\.?$", cut.text):
        return cut
    word = document.words[after]
    if word.line == document.words[cut.last].line and re.fullmatch(r"[AaPp]\.?[Mm]\.?", word.text):
        return Ranked(f"{cut.text} {word.text}", cut.probability, cut.first, after)
    return cut


def amount_only(document: Document, result, first: bool = False):
    """A money field's answer cut to its amount, the last in the value ("GST @6%: $0.46" ->
    "0.46"; the first when ``first``), with the evidence narrowed to that word; unchanged
    when no one word holds it."""
    from ocromni.qa.ranker import AMOUNT_TOKEN

    return _token_only(document, result, AMOUNT_TOKEN, last=not first)


# What a value the question names by its kind looks like: an email has an "@", a website
# a "www." or a domain.
VALUE_SHAPES = {r"e-?mail": re.compile(r"\S@\S"), r"website|web site|url": re.compile(r"www\.|https?://|\w\.(?:com|net|org|[a-z]{2})\b", re.I)}


def fits_named_kind(question: str, answer: str) -> bool:
    """Whether ``answer`` looks like the kind of value ``question`` names (VALUE_SHAPES);
    true when it names none."""
    return all(shape.search(answer) for kind, shape in VALUE_SHAPES.items() if re.search(rf"\b(?:{kind})\b", question, re.I))


def phone_only(document: Document, result):
    """A phone answer cut to its first number ("03-3362 4395 Fax:03-3362 4395" ->
    "03-3362 4395"), read on the answer's whole line, so that a number the OCR split
    ("03-" "55423228") is whole; the evidence narrowed to the words that hold it.
    Unchanged when it holds none."""
    from ocromni.qa.ranker import Ranked, line_infos, span_of

    line = next(info for info in line_infos(document) if info.first <= result.first <= info.last)
    # Where each word starts in the line's text (its words joined by single spaces).
    starts = list(accumulate((len(document.words[i].text) + 1 for i in range(line.first, line.last + 1)), initial=0))
    # An answer of several lines (a joined row, a value wrapped below its key) is read on its first.
    start, end = starts[result.first - line.first], starts[min(result.last, line.last) - line.first + 1] - 1
    for found in PHONE_NUMBER.finditer(line.text):
        if found.end() > start and found.start() < end:  # the first number that overlaps the answer
            return Ranked(found.group(), result.probability, *span_of(document, line, found.start(), found.end()))
    return result


def label_words(question: str) -> list[str]:
    """The content words of the key a question asks about (not the "s" of "customer's")."""
    from ocromni.qa.ranker import content_terms, question_key

    return [word for word in content_terms(question_key(question)) if len(word) > 1]


def field_words(field: str) -> set:
    """The content words of a field's printed labels (PRINTED_KEYS)."""
    from ocromni.qa.ranker import content_terms

    return set(content_terms(" ".join(PRINTED_KEYS.get(field, []))))


def printed_key(document: Document, field: str, question: str, share: float = 0.0) -> Optional[str]:
    """The label of ``field`` (see PRINTED_KEYS) that the document prints most nearly as
    written, when one reads at least QUOTED_KEY; else None.

    A question of function words alone ("Who is it from?") leaves the field to the
    router. Otherwise at least half the question's words must be words of those labels
    ("When is payment due?", "Who is billed?"): the router puts every question somewhere,
    and "What is the flight number?" lands on "phone", whose labels a receipt always
    prints, while a form's own key that OCR misread ("AMOUNT OF CHANGE INCREASE (CIRCLE
    ONE)") is no question about a receipt's change; only when the router's ``share`` of
    the vote is at least CERTAINLY_ROUTED, or the question asks "how much" of a money
    field ("How much cash did the customer hand over?": the question word already asks
    for an amount), does one such word suffice. One of them must
    name the field, not only the kind of value (VALUE_WORDS): "What is the VAT number?"
    is not asking for the "Invoice Number". And a kind of value the labels do not give
    (DISTINCT_KINDS) rules them out: "What is the customer's email address?" is not the
    "Customer Address".
    """
    labels = PRINTED_KEYS.get(field, [])
    words = label_words(question)
    vocabulary = field_words(field)
    named = [word for word in words if word in vocabulary]
    sure = share >= CERTAINLY_ROUTED or (field in MONEY_FIELDS and re.match(r"\s*how much\b", question, re.I))
    if words and ((len(named) < len(words) / 2 and not sure) or all(word in VALUE_WORDS for word in named)
                  or any(word in DISTINCT_KINDS and word not in vocabulary for word in words)):
        return None
    best, best_score = None, 0.0
    for label, score in _printed(document, labels):
        if score > best_score:
            best, best_score = label, score
    return best


def printed_labels(document: Document, field: str) -> list[str]:
    """Every label of ``field`` (see PRINTED_KEYS) that the document prints as one."""
    return [label for label, _ in _printed(document, PRINTED_KEYS.get(field, []))]


def _printed(document: Document, labels: list[str]) -> list[tuple[str, float]]:
    """``(label, match)`` of the labels printed at least QUOTED_KEY nearly, as labels;
    cached on the document (a question asks printed_key and then printed_labels)."""
    from ocromni.qa.ranker import find_keys

    cache_key = ("printed", tuple(labels))
    if cache_key in document.cache:
        return document.cache[cache_key]
    out, text = [], "\n".join(document.lines)
    for label in labels:
        found = find_keys(document, label, limit=1)
        if found and found[0][0] >= QUOTED_KEY and _reads_as_label(document, label, found[0]):
            out.append((label, found[0][0]))
        elif _glued_label(label).search(text):
            out.append((label, 1.0))
    document.cache[cache_key] = out
    return out


def _glued_label(label: str):
    """A label that OCR read as one word with its value, the space after its colon dropped
    ("Tel:03-3362 4395"): its letters open a word and a colon follows them, then the value.
    (The form ranker's candidates take such a value, ranker.glued_candidates; finding the
    label is what the word-level key match cannot do.)"""
    from ocromni.qa.ranker import spelled_out

    return re.compile(spelled_out(label) + r"[.#]?:(?=[^\s:/])", re.I | re.M)


def _reads_as_label(document: Document, label: str, span: tuple) -> bool:
    """Whether a found label stands as one. "From" and "To" are also words of running text
    ("... from the date of purchase"): printed as labels they end in a colon ("FROM:") or
    stand alone on their line, with the value beside them."""
    from ocromni.qa.ranker import content_terms, line_infos

    if content_terms(label):
        return True
    _, first, last = span
    if document.words[last].text.rstrip().endswith(":"):
        return True
    return any(line.first == first and line.last == last for line in line_infos(document))
