"""Pieces the image benchmarks share (erase.py, edit.py): backgrounds and PSNR."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
from PIL import Image


def background_crop(path: Path, rng: random.Random, size: tuple[int, int]) -> np.ndarray:
    """A random ``size`` (width, height) crop of the photo at ``path``, scaled up to 1.3x."""
    image = Image.open(path).convert("RGB")
    width, height = size
    scale = max(width / image.width, height / image.height) * rng.uniform(1.0, 1.3)
    image = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))), Image.BICUBIC)
    x, y = rng.randint(0, image.width - width), rng.randint(0, image.height - height)
    return np.asarray(image.crop((x, y, x + width, y + height)))


def psnr(a: np.ndarray, b: np.ndarray, where=None) -> float:
    """Peak signal-to-noise ratio of two uint8 images, over ``where`` (a mask) if given."""
    error = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = float(error[where].mean()) if where is not None else float(error.mean())
    return 10 * math.log10(255**2 / max(mse, 1e-10))
