"""HarmonyModel: the harmony network behind the engine's model protocol (``--model PATH``).

The tiny network reads 32x128 word pictures, not whole pages, so ``read`` takes line
proposals from the bundled PP-OCRv4 text detector and asks the network (its ``recognize``
prompt) for the text of every line crop; the coordinates, confidences and JSON records
are those of the default backend, so every command that reads text works unchanged.
The network also answers the generation prompts directly: :meth:`render_words`
(text-to-image) and :meth:`erase_words` (word pictures without their text).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from ocromni.models.harmony.config import CheckpointError
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
        words of up to ~10 letters; longer lines lose accuracy).
        """
        config = self.network.config
        grey = Image.fromarray(crop).convert("L")
        scale = config.image_height / max(grey.height, 1)
        width = max(1, min(config.image_width, round(grey.width * scale)))
        grey = grey.resize((width, config.image_height), Image.BILINEAR)
        pixels = np.asarray(grey, dtype=np.float32)
        canvas = np.full((config.image_height, config.image_width), float(np.median(pixels[:, -1])), np.float32)
        canvas[:, :width] = pixels
        return (canvas / 127.5 - 1.0)[None]

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

    def erase_words(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """The erase prompt: each word crop's background without its text, at the network's size."""
        from ocromni.models.harmony.decoder import to_uint8_rgb
        from ocromni.models.harmony.prompts import Sample

        samples = [Sample("erase", input_image=self.to_network_input(c)) for c in crops]
        return to_uint8_rgb(self.network.generate_images(samples))

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
