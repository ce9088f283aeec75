"""PP-OCRv4 text recognition: batched CTC recognition of line crops with character positions.

Decoding is greedy where the recogniser is sure and a beam search with a character
language model where it hesitates (``ctc_search``, ``charlm``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

# PP-OCRv4 rec input height (PaddleOCR's rec_image_shape 3,48,320).
INPUT_HEIGHT = 48
# Batch widths are rounded up to this many pixels, so only a bounded set of input shapes
# ever reaches the runtime (its per-shape kernels and buffers stay few) and padding stays small.
WIDTH_STEP = 32
# PaddleOCR pads every line to at least 320 px (the training width). Page lines, cut with
# a margin of context (pipeline.CROP_MARGIN), read as well padded to 160 px, which halves
# the work on the short lines that fill receipts. Narrower costs scene words their
# context: at 96 px receipts read as well and 12% faster, but ICDAR 2015 word spotting
# fell 61.0 -> 60.2 and Tesseract read NEW back in 20 of 24 edits (benchmarks/edit.py)
# against 22 at 160 px. Tightly cut word crops are read at 320 px
# (pipeline.WORD_CROP_MIN_WIDTH).
MIN_WIDTH = 160
# Lines wider than MIN_WIDTH are squeezed to this share of their natural width: one CTC
# frame covers 8 px and a Latin character at 48 px high spans about three, more than CTC
# needs. 0.8 saves a fifth of the work on receipt lines for 0.3 points of line accuracy
# (SROIE); short words, padded to MIN_WIDTH anyway, are left alone.
WIDTH_SCALE = 0.8
BATCH_SIZE = 8
# Caps one batch at about 6 lines of 320 px: on CPU, larger tensors fall out of cache and
# run slower per line (measured on PP-OCRv4 rec), and long lines stay one or two a batch.
BATCH_PIXELS = 2048 * INPUT_HEIGHT
# Space probability that marks a word break the greedy path skipped: in dropped spaces the
# space class peaks at 0.03-0.3 while inside words it stays near 0.001. On SROIE's
# ground-truth line crops (first 30 receipts) 0.025 reads 82.7% of lines exactly against
# 75.8% for greedy decoding alone (with WIDTH_SCALE and the decimal rule of _may_split);
# 0.05 gains 0.2 points there but drops the space in Chinese-Latin mixes ("ABC123 Total").
SPACE_PROBABILITY = 0.025
# ... and only where the characters either side are at least this many frames apart. Inside
# a word the bump often fills the single blank frame between two letters ("Descript ion",
# "Round ing"); between words the gap is wider. On SROIE's ground-truth line crops (first
# 30 receipts, 1,757 lines): 82.5% exact against 82.1% without the rule, 80.3% with three
# frames; with _drop_spaces_in_prices as well, 82.9%.
MIN_SPACE_GAP_FRAMES = 2
# Lines whose every frame's best class is at least this likely are decoded greedily: no
# language model can outweigh such a reading (ctc_search's LM_WEIGHT * -LM_FLOOR +
# LENGTH_BONUS = 3.5 nats at most, against log(0.99 / 0.01) = 4.6), and skipping them
# spares the search on one line in seven on SROIE (86% of its lines hesitate somewhere).
SEARCH_BELOW = 0.99


@dataclass
class Recognition:
    """What the recogniser read in one crop.

    ``char_x`` is the centre of each character of ``text`` along the crop's width, in crop
    pixels, from the CTC frames that emitted it; ``frame_width`` is the width of one frame
    in crop pixels (about a third of a Latin character).
    """

    text: str
    confidence: float
    char_x: list[float] = field(default_factory=list)
    char_confidence: list[float] = field(default_factory=list)
    frame_width: float = 0.0


class CTCRecognizer:
    """CTC line recogniser over an onnxruntime session; crops are BGR ``uint8``."""

    def __init__(self, session, charset: list[str], min_width: int = MIN_WIDTH, language_model=None):
        """``language_model``: a ``charlm.CharLanguageModel`` that settles hesitant frames
        (see ``ctc_search``); without one, decoding is greedy."""
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.charset = charset  # index 0 is the CTC blank
        self.min_width = min_width
        self.language_model = language_model
        if language_model is not None:
            from ocromni.models.ppocr.charlm import symbol

            # The model's column for each class (the blank's is never asked for).
            self.lm_columns = [language_model.columns[symbol(c)] for c in charset]

    @classmethod
    def charset_of(cls, session) -> list[str]:
        """The model's characters: blank, the dictionary in its metadata, then a space."""
        dictionary = session.get_modelmeta().custom_metadata_map["character"].splitlines()
        # PaddleOCR's use_space_char appends " " after the dictionary; CTC blank is index 0.
        return ["<blank>"] + dictionary + [" "]

    def recognize(self, crops: list[np.ndarray], min_width: int | None = None) -> list[Recognition]:
        """Read each crop; crops of similar aspect ratio share a batch to minimise padding.

        ``min_width``: the narrowest input, in pixels (default the recogniser's own).
        """
        min_width = min_width or self.min_width
        results: list[Recognition] = [None] * len(crops)  # type: ignore[list-item]
        widths = [self._input_width(c, min_width) for c in crops]
        order = sorted(range(len(crops)), key=lambda i: widths[i])

        def batches():
            start = 0
            while start < len(order):
                end = start + 1
                while end < len(order) and end - start < BATCH_SIZE:
                    if (end - start + 1) * self._batch_width(widths[order[end]], min_width) * INPUT_HEIGHT > BATCH_PIXELS:
                        break
                    end += 1
                batch = order[start:end]
                batch_width = self._batch_width(widths[batch[-1]], min_width)
                blob = np.zeros((len(batch), 3, INPUT_HEIGHT, batch_width), dtype=np.float32)
                for row, i in enumerate(batch):
                    blob[row, :, :, : widths[i]] = _normalise(crops[i], widths[i])
                yield blob, (batch, batch_width)
                start = end

        def read(probs: np.ndarray, tag) -> None:
            batch, batch_width = tag
            for row, i in enumerate(batch):
                # Frame positions scale back to the crop through its resize factor.
                frame_width = batch_width / probs.shape[1] * crops[i].shape[1] / widths[i]
                results[i] = self.decode(probs[row], frame_width)

        run_each = getattr(self.session, "run_each", None)  # OpenVINO: batches run side by side
        if run_each is not None:
            run_each(batches(), read)
        else:
            for blob, tag in batches():
                read(self.session.run(None, {self.input_name: blob})[0], tag)
        return results

    @staticmethod
    def _input_width(crop: np.ndarray, min_width: int) -> int:
        natural = _resized_width(crop)
        return max(min(natural, min_width), int(math.ceil(natural * WIDTH_SCALE)))

    @staticmethod
    def _batch_width(width: int, min_width: int) -> int:
        return max(min_width, int(math.ceil(width / WIDTH_STEP)) * WIDTH_STEP)

    def decode(self, probs: np.ndarray, frame_width: float) -> Recognition:
        """CTC decoding of one (frames, classes) probability matrix.

        Greedy, unless the recogniser hesitated somewhere (a frame's best class below
        SEARCH_BELOW) and a language model is loaded: then a beam search with the model
        chooses the text, and its alignment places the characters.

        The Chinese-trained model often lets a blank win over a space between Latin words,
        yet the space still shows as a clear bump in its probability there; a bump of
        SPACE_PROBABILITY or more is read as a space (never between two ideographs).
        """
        best = probs.argmax(axis=1)
        # A character is a run of equal non-blank frames; its position is the run's centre.
        change = np.flatnonzero(np.diff(best, prepend=-1, append=-1))
        runs = [(int(best[a]), int(a), int(b)) for a, b in zip(change[:-1], change[1:]) if best[a] != 0]
        if (
            self.language_model is not None
            and probs[np.arange(len(best)), best].min() < SEARCH_BELOW
            and not any(_is_cjk(self.charset[index]) for index, _, _ in runs)
        ):
            from ocromni.models.ppocr import ctc_search

            labels = ctc_search.prefix_beam_search(probs, self.lm_columns, self.language_model)
            if labels != [index for index, _, _ in runs]:
                runs = ctc_search.align(probs, labels)
        space = len(self.charset) - 1
        chars, xs, confs = [], [], []
        read_confs = []  # the line's confidence counts only what the decoder read
        previous_end = None
        for index, run_start, run_end in runs:
            char = self.charset[index]
            if (
                previous_end is not None
                and index != space
                and chars[-1] != " "
                and run_start - previous_end >= MIN_SPACE_GAP_FRAMES
            ):
                gap = probs[previous_end:run_start, space]
                if gap.max() >= SPACE_PROBABILITY and _may_split(chars, char):
                    chars.append(" ")
                    xs.append(float((previous_end + int(gap.argmax()) + 0.5) * frame_width))
                    confs.append(float(gap.max()))
            chars.append(char)
            xs.append(float((run_start + run_end) / 2 * frame_width))
            confs.append(float(probs[run_start:run_end, index].max()))
            read_confs.append(confs[-1])
            previous_end = run_end
        confidence = float(np.mean(read_confs)) if read_confs else 0.0
        _drop_spaces_in_prices(chars, xs, confs)
        # Spaces at either end carry no information, and callers compare text.
        keep = [i for i, ch in enumerate(chars) if ch != " "]
        if keep:
            chars, xs, confs = (v[keep[0] : keep[-1] + 1] for v in (chars, xs, confs))
        else:
            chars, xs, confs = [], [], []
        return Recognition("".join(_half_width_in_latin(chars)), confidence, xs, confs, float(frame_width))


def _may_split(chars: list[str], char: str) -> bool:
    """Whether a space the greedy path skipped may go between ``chars[-1]`` and ``char``."""
    before = chars[-1]
    if _is_ideograph(before) and _is_ideograph(char):
        return False
    # Decimal numbers ("66.04", "1,250") never hold a space; receipts' dot-matrix digits
    # leave blank-space bumps after the separator that read as "66. 04".
    if before in ".," and char.isdigit() and len(chars) > 1 and chars[-2].isdigit():
        return False
    return True


def _drop_spaces_in_prices(chars: list[str], xs: list[float], confs: list[float]) -> None:
    """Remove, in place, a space the model itself read inside a price: "73. 00" is "73.00".

    Receipt fonts print a wide gap after the decimal point, and the model emits a real space
    there (not only a bump, which ``_may_split`` already refuses). Only a point between a
    digit and exactly two digits counts: "1. 2012-0013" (a numbered item) keeps its space.
    None of SROIE's 5,476 dev lines has a price written with such a space; on its
    ground-truth line crops (first 30 receipts) the rule lifts exact lines from 82.1% to 82.5%.
    """
    for i in range(len(chars) - 3, 1, -1):
        if (
            chars[i] == " "
            and chars[i - 1] == "."
            and chars[i - 2].isdigit()
            and chars[i + 1].isdigit()
            and chars[i + 2].isdigit()
            and (i + 3 == len(chars) or not chars[i + 3].isdigit())
        ):
            del chars[i], xs[i], confs[i]


def _half_width_in_latin(chars: list[str]) -> list[str]:
    """Full-width ASCII forms (（，：) as plain ASCII unless an ideograph sits beside them.

    The Chinese-trained model often reads Latin text's brackets and commas as their
    full-width twins; beside Chinese text they are the right reading and stay.
    """
    letters = [c for c in chars if c != " "]
    out = list(chars)
    position = 0
    for i, char in enumerate(chars):
        if char == " ":
            continue
        if 0xFF01 <= ord(char) <= 0xFF5E:
            neighbours = letters[max(position - 1, 0) : position] + letters[position + 1 : position + 2]
            if not any(_is_ideograph(n) for n in neighbours):
                out[i] = chr(ord(char) - 0xFEE0)
        position += 1
    return out


def _is_cjk(char: str) -> bool:
    # Kana, CJK symbols and ideographs: lines holding them are left to the recogniser alone,
    # since the language model knows Latin text. Full-width forms are not counted: the model
    # reads them in Latin lines too ("Qty（s）").
    return 0x3040 <= ord(char) <= 0x9FFF or 0xAC00 <= ord(char) <= 0xD7AF


def _is_ideograph(char: str) -> bool:
    # CJK Unified Ideographs (and extension A), plus CJK punctuation and full-width forms.
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xFF00 <= code <= 0xFFEF


def _resized_width(crop: np.ndarray) -> int:
    height, width = crop.shape[:2]
    return max(1, int(math.ceil(INPUT_HEIGHT * width / max(height, 1))))


def _normalise(crop: np.ndarray, width: int) -> np.ndarray:
    resized = cv2.resize(crop, (width, INPUT_HEIGHT), interpolation=cv2.INTER_LINEAR)
    # PaddleOCR's (x / 255 - 0.5) / 0.5 scaling into [-1, 1].
    return resized.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
