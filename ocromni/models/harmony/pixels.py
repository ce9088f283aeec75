"""Between page crops of any size and the network's 32x128 grey pictures, and back.

The network was trained on word pictures of one size, dark ink on a light ground, the
word starting a few pixels from the left edge (data.py). Crops from real pages are
neither: :class:`NetworkView` scales a crop to the network's height (squeezing it to the
width only when it is too long), remembers how, and maps points and answers back onto
the crop; :func:`light_text` tells when a crop has to be inverted first (light text on a
dark sign) so that the network sees the polarity it was trained on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import numpy as np
from PIL import Image

# The spot prompt's answer: "x0,y0,x1,y1 word" in the network's picture (data.py).
SPOT_ANSWER = re.compile(r"\s*(-?\d+),(-?\d+),(-?\d+),(-?\d+) (\S.*?)\s*$")
# Pixels a training picture leaves left of its word (2-6 px; data.SyntheticTasks.styled_word).
LEFT_MARGIN = 4


def to_grey(crop: np.ndarray) -> np.ndarray:
    """An RGB (or grey) crop as float grey values 0-255, PIL's luma ("L", ITU-R 601)."""
    if crop.ndim == 2:
        return crop.astype(np.float32)
    rgb = crop[..., :3].astype(np.float32)
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def light_text(grey: np.ndarray) -> bool:
    """Whether the text of a grey crop is lighter than its ground.

    The ground is the crop's median; text is the minority far from it. Light text pulls
    the bright tail further from the median than the dark tail; a crop with no text to
    speak of (a fill's masked crop) is called light-text when its ground is dark, so it
    is inverted onto the light grounds the network knows.
    """
    low, ground, high = np.percentile(grey, [3, 50, 97])
    if max(high - ground, ground - low) < 24:
        return ground < 128
    return high - ground > ground - low


@dataclass
class NetworkView:
    """How one crop was fitted into the network's picture.

    ``scale_y`` network pixels per crop pixel vertically, ``scale_x`` horizontally (equal
    unless the crop was squeezed), ``used`` the picture's columns the crop fills (the rest
    is padding in the crop's ground), ``inverted`` whether its grey values were flipped.
    """

    crop_width: int
    crop_height: int
    scale_x: float
    scale_y: float
    used: int
    inverted: bool

    @classmethod
    def fit(cls, crop_shape, height: int = 32, width: int = 128, inverted: bool = False) -> "NetworkView":
        crop_height, crop_width = max(int(crop_shape[0]), 1), max(int(crop_shape[1]), 1)
        scale_y = height / crop_height
        used = max(1, min(width, round(crop_width * scale_y)))
        return cls(crop_width, crop_height, used / crop_width, scale_y, used, inverted)

    def picture(self, grey: np.ndarray, height: int = 32, width: int = 128) -> np.ndarray:
        """The crop's grey values (0-255) as the network's (1, height, width) input in [-1, 1]."""
        values = 255.0 - grey if self.inverted else grey
        scaled = np.asarray(Image.fromarray(values.astype(np.float32)).resize((self.used, height), Image.BILINEAR))
        canvas = np.full((height, width), float(np.median(scaled[:, -1])), np.float32)
        canvas[:, :self.used] = scaled
        return (np.clip(canvas, 0, 255) / 127.5 - 1.0)[None]

    def answer(self, picture: np.ndarray) -> np.ndarray:
        """A network answer picture (H, W[, C] uint8) as grey values at the crop's size, polarity restored."""
        grey = to_grey(picture)[:, :self.used]
        resized = np.asarray(Image.fromarray(grey).resize((self.crop_width, self.crop_height), Image.BILINEAR))
        return 255.0 - resized if self.inverted else resized

    def to_network(self, box) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        return x0 * self.scale_x, y0 * self.scale_y, x1 * self.scale_x, y1 * self.scale_y

    def to_crop(self, box) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        return x0 / self.scale_x, y0 / self.scale_y, x1 / self.scale_x, y1 / self.scale_y


def parse_spot(answer: str) -> Optional[tuple[tuple[int, int, int, int], str]]:
    """``((x0, y0, x1, y1), word)`` from a spot answer, or None when it is not one (or the box is empty)."""
    match = SPOT_ANSWER.match(answer)
    if not match:
        return None
    x0, y0, x1, y1 = (int(v) for v in match.groups()[:4])
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1, y1), match.group(5)


def chunks(width: int, height: int, aspect: float = 4.0) -> list[tuple[int, int]]:
    """Column ranges that cut a crop into pieces no wider than ``aspect`` heights (the
    network's picture is 4 heights wide), of near-equal width."""
    count = max(1, int(np.ceil(width / max(aspect * height, 1.0))))
    edges = np.linspace(0, width, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def rectify(image: np.ndarray, quad, pad: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The quad's content warped upright (padded by ``pad`` of its height all round), and
    the 3x3 matrix taking crop points back to page points (``layout.crop_quad``)."""
    import cv2

    from ocromni import layout

    margin = pad * layout.quad_size(quad)[1]
    return layout.crop_quad(image, layout.expand_quad(quad, margin), interpolation=cv2.INTER_LINEAR)


def to_page(matrix: np.ndarray, box) -> list[list[float]]:
    """A crop box ``(x0, y0, x1, y1)`` as a page polygon (clockwise from top-left) through ``matrix``."""
    from ocromni import layout

    x0, y0, x1, y1 = box
    return layout.map_points(matrix, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).tolist()
