"""A character n-gram model of document text, which the recogniser's beam search consults.

PP-OCRv4's recogniser reads each character from its pixels, so on receipts it confuses
shapes that the neighbouring letters would settle: "Totai Arnount", "GST Sunmary",
"Invoice nunber", "Amount (RH)". An n-gram over characters knows that "amount" is likely
and "arnount" is not; weighed against the recogniser's own probabilities in a CTC beam
search (``ctc_search``), it puts a quarter of the lines greedy decoding misreads on
SROIE's dev receipts right (87.8% -> 91.0% of matched lines) and lifts ICDAR 2015 word
accuracy from 69.5% to 75.5% (benchmarks/perception.py, system ocromni-greedy).

The model is trained on text that ships with ocromni itself, never on a dataset: the
printed text of the synthetic receipts, invoices, forms and letters that train ``ask``
(``ocromni.qa.synthetic``, which draws on Malaysian and US names, streets and products)
and the whole words of the MiniLM vocabulary (English). Training is deterministic:

    python -m ocromni.models.ppocr.charlm --out ocromni/weights/charlm.npz   # about 5 s

Symbols are lower-case: the model weighs which letter comes next, the recogniser decides
its case. Every digit is one symbol, because which digit comes next is never predictable
from text, while that a digit comes next often is ("RM 8.20", not "RM B.2O").
"""

from __future__ import annotations

import argparse
import os
import random
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np

# Each symbol is predicted from the five before it: enough to see most of a word ("amoun"
# -> "t"), few enough that the synthetic text's templates do not make every context a
# fixed phrase. On SROIE's matched lines, order 5 reads 91.1% and order 6 91.0%.
ORDER = 6
# Contexts seen fewer times are left out of the table and answered by their shorter suffix:
# a third of all contexts, seen once, add size without telling the next character.
MIN_CONTEXT_COUNT = 2
PUNCTUATION = ".,:;-/()#&*%'\"@+=$!?"
START, END, DIGIT, OTHER = "\x02", "\x03", "0", "~"
SYMBOLS = "".join(chr(c) for c in range(ord("a"), ord("z") + 1)) + DIGIT + " " + PUNCTUATION + OTHER + END
SYNTHETIC_SEED = 0
SYNTHETIC_PAGES = 3000
WEIGHTS = Path(__file__).resolve().parents[2] / "weights" / "charlm.npz"
# OCROMNI_LANGUAGE_MODEL=0 decodes greedily, as PaddleOCR and RapidOCR do; the perception
# benchmark's "ocromni-greedy" system runs so, to show what the model is worth.
LANGUAGE_MODEL_ENV = "OCROMNI_LANGUAGE_MODEL"


def symbol(char: str) -> str:
    """The model's symbol for one character: lower-case Latin, DIGIT, punctuation or OTHER."""
    lower = char.lower()
    if lower.isdigit() and lower.isascii():
        return DIGIT
    if "a" <= lower <= "z" or lower == " " or lower in PUNCTUATION:
        return lower
    return OTHER


class CharLanguageModel:
    """Log-probabilities of the next symbol after a history, from an interpolated table.

    ``log_probs[row, column]`` holds log P(symbol | context) for every context in the
    table, already interpolated with all its shorter suffixes (Witten-Bell); a history is
    answered by its longest suffix that the table holds.
    """

    def __init__(self, contexts: list[str], log_probs: np.ndarray, order: int = ORDER):
        self.order = order
        self.rows = {context: row for row, context in enumerate(contexts)}
        # float16 halves the table's memory (7 MB); the search adds these in float32.
        self.log_probs = log_probs.astype(np.float16)
        self.symbols = SYMBOLS
        self.columns = {s: column for column, s in enumerate(SYMBOLS)}

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> "CharLanguageModel":
        with np.load(path) as stored:
            contexts = str(stored["contexts"]).split("\n")
            return cls(contexts, stored["log_probs"], int(stored["order"]))

    def save(self, path: Path) -> None:
        contexts = sorted(self.rows, key=self.rows.get)
        np.savez_compressed(
            path, contexts=np.array("\n".join(contexts)), log_probs=self.log_probs, order=self.order
        )

    def row_of(self, history: str) -> int:
        """The table row that answers ``history`` (in symbols, see :func:`symbol`)."""
        padded = (START * (self.order - 1) + history)[-(self.order - 1) :] if self.order > 1 else ""
        for start in range(len(padded) + 1):
            row = self.rows.get(padded[start:])
            if row is not None:
                return row
        raise ValueError("the table lacks the empty context")  # every trained table has it

    def next_log_probs(self, history: str) -> np.ndarray:
        """log P(every symbol | history), ``history`` in symbols (see :func:`symbol`)."""
        return self.log_probs[self.row_of(history)]

    def log_prob(self, history: str, next_symbol: str) -> float:
        return float(self.next_log_probs(history)[self.columns[next_symbol]])

    @classmethod
    def train(cls, lines: Iterable[str], order: int = ORDER, min_context_count: int = MIN_CONTEXT_COUNT) -> "CharLanguageModel":
        """Count n-grams over ``lines`` (duplicates once) and interpolate them (Witten-Bell)."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        # Templates repeat lines word for word; counting each once keeps them from
        # making every context look certain.
        for line in sorted(set(lines)):
            text = START * (order - 1) + "".join(symbol(c) for c in line) + END
            for i in range(order - 1, len(text)):
                for n in range(order):
                    counts[text[i - n : i]][text[i]] += 1
        kept = sorted((c for c, seen in counts.items() if len(c) <= 1 or sum(seen.values()) >= min_context_count),
                      key=lambda c: (len(c), c))
        columns = {s: column for column, s in enumerate(SYMBOLS)}
        probs = {}
        uniform = np.full(len(SYMBOLS), 1.0 / len(SYMBOLS))
        for context in kept:  # shorter contexts first: each interpolates with its suffix
            lower = probs[context[1:]] if context else uniform
            seen = counts[context]
            total, types = sum(seen.values()), len(seen)
            row = lower * types
            for s, count in seen.items():
                row[columns[s]] += count
            probs[context] = row / (total + types)
        table = np.log(np.stack([probs[c] for c in kept]))
        return cls(kept, table, order)


def load_unless_disabled() -> "CharLanguageModel | None":
    """The shipped model, or None where $OCROMNI_LANGUAGE_MODEL is 0 / off / no."""
    if os.environ.get(LANGUAGE_MODEL_ENV, "").strip().lower() in ("0", "off", "no", "false"):
        return None
    return CharLanguageModel.load()


def training_lines(pages: int = SYNTHETIC_PAGES, seed: int = SYNTHETIC_SEED) -> list[str]:
    """The printed lines of ``pages`` synthetic documents, then the MiniLM vocabulary's words."""
    from ocromni.qa import synthetic
    from ocromni.qa.model import encoder_path

    rng = random.Random(seed)
    kinds = sorted(synthetic.MAKERS)
    lines = []
    for _ in range(pages):
        page = synthetic.MAKERS[rng.choice(kinds)](rng)
        lines.extend(" ".join(word for word, _box in row) for row in page.lines)
    vocabulary = (encoder_path() / "vocab.txt").read_text(encoding="utf-8").split()
    lines.extend(w for w in vocabulary if len(w) > 1 and w.isascii() and w.isalpha())
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the recogniser's character n-gram model.")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    model = CharLanguageModel.train(training_lines())
    model.save(args.out)
    print(f"{len(model.rows)} contexts -> {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
