"""HarmonyModel: the harmony network behind the engine's model protocol (``--model PATH``).

The tiny network reads and writes 32x128 word pictures, not whole pages, so the line
proposals come from the bundled PP-OCRv4 text detector and every prompt works on crops
(pixels.py fits a crop into the network's picture and maps the answer back). One method
per prompt:

- :meth:`recognize_crops` (``recognize``) — behind :meth:`read`, so recognize, ask and
  caption read through the network with the default backend's records;
- :meth:`spot_crops` (``spot``) — behind :meth:`spot`, the words of ``detect --level word``;
- :meth:`render_words` (``render``) — the glyphs of ``render-text``;
- :meth:`erase_words` (``erase``) — the fill inside ``erase``'s stroke mask;
- :meth:`fill_words` (``fill``) — the new word's ink in ``edit``.

The tasks pick these up by capability (``hasattr(model, "erase_words")``), so the default
backend's path is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from ocromni.models.harmony.config import CheckpointError
from ocromni.models.harmony.pixels import NetworkView, chunks, light_text, parse_spot, rectify, to_grey, to_page
from ocromni.types import Line, Page, PageText, Word

CHECKPOINT_ENV = "OCROMNI_HARMONY_CHECKPOINT"


class HarmonyModel:
    name = "harmony"

    def __init__(self, device: str = "cpu", threads: Optional[int] = None, checkpoint: Optional[str] = None):
        import torch

        from ocromni.models.harmony.model import HarmonyNetwork
        from ocromni.models.ppocr import PPOCRModel

        checkpoint = checkpoint or os.environ.get(CHECKPOINT_ENV)
        if not checkpoint:
            raise CheckpointError(reason=f"the harmony model needs a checkpoint: pass --model PATH (a folder written by "
                                         f"'ocromni train') or set ${CHECKPOINT_ENV}")
        if threads:
            torch.set_num_threads(threads)
        dtype = torch.bfloat16 if device.startswith("cuda") else None  # GPU path: bf16 weights (untested here)
        self.network = HarmonyNetwork.from_pretrained(Path(checkpoint), device=device, dtype=dtype)
        self.device = str(self.network.device)
        self.checkpoint = str(checkpoint)
        self.detector = PPOCRModel(device="cpu", threads=threads)
        self.batch_size = 64

    # --- building blocks ----------------------------------------------------------------------

    def to_network_input(self, crop: np.ndarray) -> np.ndarray:
        """An RGB crop -> the network's grey (1, H, W) picture in [-1, 1].

        Scaled to the network's height and padded on the right with the crop's edge
        colour; crops wider than that are squeezed to the width (the tiny network reads
        words of up to ~10 letters; longer lines lose accuracy). Light text on a dark
        ground is inverted: the network only saw dark ink on light grounds.
        """
        return self.view_of(crop).picture(to_grey(crop), *self._picture_size)

    def recognize_crops(self, crops: list[np.ndarray]) -> list[str]:
        """The network's reading of each upright line or word crop (RGB)."""
        from ocromni.models.harmony.prompts import Sample

        texts = []
        for start in range(0, len(crops), self.batch_size):
            samples = [Sample("recognize", input_image=self.to_network_input(c)) for c in crops[start:start + self.batch_size]]
            texts += self.network.generate_text(samples)
        return texts

    def render_words(self, words: list[str]) -> list[np.ndarray]:
        """Text-to-image: one RGB word picture per word, drawn by the diffusion head."""
        from ocromni.models.harmony.decoder import to_uint8_rgb
        from ocromni.models.harmony.prompts import Sample

        return to_uint8_rgb(self.network.generate_images([Sample("render", prompt_text=w) for w in words]))

    def spot_crops(self, crops: list[np.ndarray]) -> list[Optional[tuple[tuple[float, float, float, float], str]]]:
        """The spot prompt: the first word of each crop as ``((x0, y0, x1, y1) in crop pixels, word)``,
        or None where the answer is not a box and a word."""
        from ocromni.models.harmony.prompts import Sample

        views = [self.view_of(crop) for crop in crops]
        samples = [Sample("spot", input_image=view.picture(to_grey(crop), *self._picture_size))
                   for crop, view in zip(crops, views)]
        answers = []
        for start in range(0, len(samples), self.batch_size):
            answers += self.network.generate_text(samples[start:start + self.batch_size])
        spotted = []
        for view, answer in zip(views, answers):
            found = parse_spot(answer)
            spotted.append(None if found is None else (view.to_crop(found[0]), found[1]))
        return spotted

    def erase_words(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """The erase prompt: each RGB crop's background without its text, as grey values (0-255) at the crop's size.

        A crop longer than the network's picture (four heights) is erased in pieces,
        side by side; light text on a dark ground is inverted for the network and back.
        """
        from ocromni.models.harmony.prompts import Sample

        jobs = []  # (crop index, column range, view)
        for index, crop in enumerate(crops):
            grey = to_grey(crop)
            inverted = light_text(grey)
            for a, b in chunks(crop.shape[1], crop.shape[0]):
                jobs.append((index, a, b, self.view_of(crop[:, a:b], inverted)))
        samples = [Sample("erase", input_image=view.picture(to_grey(crops[i][:, a:b]), *self._picture_size))
                   for i, a, b, view in jobs]
        answers = self._images(samples)
        erased = [np.zeros(crop.shape[:2], np.float32) for crop in crops]
        for (index, a, b, view), answer in zip(jobs, answers):
            erased[index][:, a:b] = view.answer(answer)
        return erased

    def fill_words(self, crops: list[np.ndarray], boxes: list, words: list[str]) -> list[np.ndarray]:
        """The fill prompt: each RGB crop with ``box`` (x0, y0, x1, y1, crop pixels) greyed out
        and ``word`` drawn into it by the network, as grey values (0-255) at the crop's size."""
        from ocromni.models.harmony.prompts import Sample

        samples, views = [], []
        for crop, box, word in zip(crops, boxes, words):
            grey = to_grey(crop)
            x0, y0, x1, y1 = (int(round(v)) for v in box)
            outside = np.ones(grey.shape, bool)
            outside[max(y0, 0):y1, max(x0, 0):x1] = False
            view = self.view_of(crop, light_text(grey[outside] if outside.any() else grey))
            picture = view.picture(grey, *self._picture_size)
            # As in training (data.SyntheticTasks.sample): the box and a pixel round it at mid-grey.
            nx0, ny0, nx1, ny1 = (int(round(v)) for v in view.to_network(box))
            picture[:, max(ny0 - 1, 0):ny1 + 1, max(nx0 - 1, 0):nx1 + 1] = 0.0
            samples.append(Sample("fill", input_image=picture, prompt_text=word))
            views.append(view)
        return [view.answer(answer) for view, answer in zip(views, self._images(samples))]

    def view_of(self, crop: np.ndarray, inverted: Optional[bool] = None) -> NetworkView:
        """How ``crop`` fits the network's picture; inverted when its text is light (unless told)."""
        if inverted is None:
            inverted = light_text(to_grey(crop))
        return NetworkView.fit(crop.shape, *self._picture_size, inverted)

    @property
    def _picture_size(self) -> tuple[int, int]:
        return self.network.config.image_height, self.network.config.image_width

    def _images(self, samples) -> list[np.ndarray]:
        from ocromni.models.harmony.decoder import to_uint8_rgb

        pictures = []
        for start in range(0, len(samples), self.batch_size):
            pictures += list(to_uint8_rgb(self.network.generate_images(samples[start:start + self.batch_size])))
        return pictures

    def detect_quads(self, image: np.ndarray):
        return self.detector.detect_quads(image)

    def probability_map(self, image: np.ndarray) -> np.ndarray:
        return self.detector.probability_map(image)

    # --- the protocol -------------------------------------------------------------------------

    def read(self, pages: list[Page], *, recognize: bool = True, rotate: bool = True) -> list[PageText]:
        """Lines proposed by the detector, read by the harmony network (one word per space-separated token)."""
        proposals = self.detector.read(pages, recognize=False, rotate=rotate)
        if not recognize:
            return proposals
        jobs = []
        for p, (page, page_text) in enumerate(zip(pages, proposals)):
            image = page.image
            for l, line in enumerate(page_text.lines):
                jobs.append((p, l, _axis_crop(image, line.bbox)))
            page.release()
        readings = self.recognize_crops([crop for _, _, crop in jobs]) if jobs else []
        for (p, l, _), text in zip(jobs, readings):
            line = proposals[p].lines[l]
            # The confidence stays the detector's score: the network gives no calibrated one.
            line.text = text
            line.words = _words_of(text, line)
        for page_text in proposals:
            page_text.lines = [line for line in page_text.lines if line.text]
        return proposals

    def spot(self, pages: list[Page], *, rotate: bool = True) -> list[PageText]:
        """Lines proposed by the detector, their words found by the network's spot prompt.

        Each line is rectified (turned and unwarped upright) and spotted left to right a
        window at a time: a window starts at the cursor and is four line heights wide (the
        network's picture), the network answers the box and text of the first word in it,
        and the cursor moves past that word. A word whose box runs to the window's edge
        may go on: the next answer, if it starts right at the new window's edge, is joined
        to it. Where an answer does not parse as a box and a word, or its box makes no
        headway or holds too little of the line's height, the rest of the line box becomes
        one word (with the network's ``recognize`` reading of it): a line whose first
        answer fails keeps the detector's line box as its one word box. Word confidences
        are the line's detector score (the network gives no calibrated one); line text is
        the words joined by spaces.
        """
        proposals, lines = self._spot_lines(pages, rotate)
        for job in lines:
            job.line.words = [Word(text, job.line.confidence, to_page(job.back, box)) for box, text in job.words]
            job.line.text = " ".join(word.text for word in job.line.words)
        return proposals

    def _spot_lines(self, pages: list[Page], rotate: bool) -> tuple[list[PageText], list["_SpotLine"]]:
        """The detector's proposals and, per line, the words the spot prompt found (see :meth:`spot`)."""
        proposals = self.detector.read(pages, recognize=False, rotate=rotate)
        lines = []
        for page, page_text in zip(pages, proposals):
            for line in page_text.lines:
                lines.append(_SpotLine(line, *rectify(page.image, line.polygon, pad=SPOT_PAD)))
            page.release()
        pending = list(lines)
        for _ in range(SPOT_MAX_WORDS):
            if not pending:
                break
            windows = [job.crop[:, int(job.cursor):int(job.cursor) + round(4 * job.height)] for job in pending]
            leftovers, still = [], []
            for job, window, answer in zip(pending, windows, self.spot_crops(windows)):
                # The box, kept to the window; one that ends before a tenth of a height
                # (no headway) or keeps less than a fifth of the height is no answer.
                x0, y0, x1, y1 = answer[0] if answer is not None else (0.0, 0.0, 0.0, 0.0)
                x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(window.shape[1])), min(y1, float(job.height))
                if answer is None or x1 <= max(x0, 0.1 * job.height) or y1 - y0 < 0.2 * job.height:
                    leftovers.append(job)
                    continue
                job.add((int(job.cursor) + x0, y0, int(job.cursor) + x1, y1), answer[1],
                        joined=job.open_word and x0 <= SPOT_JOIN * job.height)
                job.open_word = x1 >= window.shape[1] - SPOT_JOIN * job.height
                job.cursor = int(job.cursor) + x1 + (0.0 if job.open_word else 0.1 * job.height)
                if job.crop.shape[1] - job.cursor >= SPOT_MIN_REST * job.height:
                    still.append(job)
            if leftovers:
                readings = self.recognize_crops([job.crop[:, int(job.cursor):] for job in leftovers])
                for job, text in zip(leftovers, readings):
                    # The rest of the line proposal itself (the crop's padding left out): a
                    # line with no usable answer keeps the detector's box as its one word.
                    m = job.margin
                    job.add((max(job.cursor, m), m, job.crop.shape[1] - m, job.height - m), text.strip() or "?")
            pending = still
        return proposals, lines


class _SpotLine:
    """One line being spotted: its rectified crop, the matrix back to the page, the words so far."""

    def __init__(self, line: Line, crop: np.ndarray, back: np.ndarray):
        self.line, self.crop, self.back = line, crop, back
        self.height = crop.shape[0]
        self.margin = self.height * SPOT_PAD / (1 + 2 * SPOT_PAD)  # rectify's padding, crop pixels
        self.cursor = 0.0  # crop x where the next window starts
        self.words: list[tuple[tuple[float, float, float, float], str]] = []  # (crop box, text)
        self.open_word = False  # the last word ran to its window's edge

    def add(self, box, text: str, joined: bool = False) -> None:
        if joined and self.words:
            (x0, y0, _, y1), before = self.words[-1]
            self.words[-1] = ((x0, min(y0, box[1]), box[2], max(y1, box[3])), before + text)
        else:
            self.words.append((box, text))


# Spotting a line (HarmonyModel.spot): the rectified crop keeps this share of the line's
# height round the text (training words fill most of the picture's height); at most
# this many windows a line; a rest narrower than this many line heights holds no word.
SPOT_PAD = 0.1
SPOT_MAX_WORDS = 24
SPOT_MIN_REST = 0.6
# A word box within this share of a height of its window's right edge may go on past it;
# the next answer starting within as much of its window's left edge continues it.
SPOT_JOIN = 0.15


def _axis_crop(image: np.ndarray, bbox) -> np.ndarray:
    x0, y0, x1, y1 = (int(round(v)) for v in bbox)
    pad = max(1, (y1 - y0) // 10)
    h, w = image.shape[:2]
    crop = image[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
    return crop if crop.size else np.full((8, 8, 3), 255, np.uint8)


def _words_of(text: str, line: Line) -> list[Word]:
    """Words of the line, their boxes shared out along the line by character count."""
    pieces = text.split(" ")
    total = max(len(text), 1)
    (x0, y0), (x1, y1) = (line.bbox[0], line.bbox[1]), (line.bbox[2], line.bbox[3])
    words, start = [], 0
    for piece in pieces:
        if piece:
            a = x0 + (x1 - x0) * start / total
            b = x0 + (x1 - x0) * (start + len(piece)) / total
            words.append(Word(piece, line.confidence, [[a, y0], [b, y0], [b, y1], [a, y1]]))
        start += len(piece) + 1
    return words
