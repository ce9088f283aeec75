"""Make examples/sign.jpg: a shop's "OPEN" sign photographed on a brick wall.

    python examples/make_sign.py

Everything is synthesised here (fixed seed), so the picture is the project's own to
ship: a procedural brick wall (per-brick tint, mortar, grain), a painted wooden board
with a border and "OPEN" in Noto Sans Bold (OFL-1.1, shipped in ocromni/fonts), the
board hung in perspective with a soft shadow, then a photo's look: uneven light, a
vignette, lens blur, sensor noise and JPEG compression.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONT = HERE.parent / "ocromni" / "fonts" / "NotoSans-Bold.ttf"
SIZE = (800, 600)
# Where the board's corners land in the photo (clockwise from top-left): seen from
# below and to the left, so the right edge is nearer and taller.
BOARD_CORNERS = np.float32([[150, 175], [628, 138], [646, 392], [138, 418]])
BOARD_SIZE = (640, 300)


def smooth_noise(rng: np.random.Generator, shape, scale: float) -> np.ndarray:
    """Zero-mean noise with features about ``scale`` pixels across, in [-1, 1]."""
    small = rng.normal(0, 1, (max(2, int(shape[0] / scale)), max(2, int(shape[1] / scale)))).astype(np.float32)
    noise = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return noise / max(float(np.abs(noise).max()), 1e-6)


def brick_wall(rng: np.random.Generator) -> np.ndarray:
    width, height = SIZE
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    brick_h, brick_w, mortar = 34, 92, 5
    row = (yy // brick_h).astype(int)
    shifted = xx + (row % 2) * brick_w / 2
    col = (shifted // brick_w).astype(int)
    base = np.array([148, 72, 52], np.float32)
    tint = rng.normal(0, 14, (row.max() + 2, col.max() + 2, 3)).astype(np.float32)
    tint[..., 1:] = tint[..., :1] * 0.6 + tint[..., 1:] * 0.4  # bricks vary mostly in lightness
    wall = base + tint[row, col]
    wall += 14 * smooth_noise(rng, (height, width), 6)[..., None]  # fired-clay mottling
    in_mortar = ((yy % brick_h) < mortar) | ((shifted % brick_w) < mortar)
    mortar_colour = np.array([182, 172, 158], np.float32) + 10 * smooth_noise(rng, (height, width), 3)[..., None]
    wall = np.where(in_mortar[..., None], mortar_colour, wall)
    wall += rng.normal(0, 7, wall.shape).astype(np.float32)  # grit
    return wall


def board(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The painted board (RGB float) and its opacity."""
    width, height = BOARD_SIZE
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    paint = np.array([22, 74, 58], np.float32)  # dark green
    grain = np.sin(xx / 7.0 + 6 * smooth_noise(rng, (height, width), 40)) * 0.5 + smooth_noise(rng, (height, width), 4) * 0.5
    surface = paint + 9 * grain[..., None] + rng.normal(0, 3, (height, width, 3)).astype(np.float32)
    frame = np.zeros((height, width), np.uint8)
    cv2.rectangle(frame, (14, 14), (width - 15, height - 15), 1, 7)
    cream = np.array([232, 222, 196], np.float32)
    surface = np.where(frame[..., None] > 0, cream + 6 * grain[..., None], surface)

    font = ImageFont.truetype(str(FONT), 170)
    letters = Image.new("L", (width, height), 0)
    ImageDraw.Draw(letters).text((width / 2, height / 2 + 6), "OPEN", font=font, fill=255, anchor="mm")
    ink = np.asarray(letters, np.float32) / 255
    wear = np.clip(1.0 - 0.2 * np.maximum(smooth_noise(rng, (height, width), 3), 0) ** 2, 0, 1)  # chipped paint
    ink *= wear
    surface = surface * (1 - ink[..., None]) + cream * ink[..., None]
    return surface, np.ones((height, width), np.float32)


def make_sign(path: Path, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    width, height = SIZE
    photo = brick_wall(rng)
    surface, opacity = board(rng)
    source = np.float32([[0, 0], [BOARD_SIZE[0], 0], [BOARD_SIZE[0], BOARD_SIZE[1]], [0, BOARD_SIZE[1]]])
    warp = cv2.getPerspectiveTransform(source, BOARD_CORNERS)
    placed = cv2.warpPerspective(surface, warp, SIZE, flags=cv2.INTER_CUBIC)
    cover = cv2.warpPerspective(opacity, warp, SIZE, flags=cv2.INTER_LINEAR)
    shadow = cv2.warpPerspective(opacity, warp @ np.float32([[1, 0, 14], [0, 1, 20], [0, 0, 1]]), SIZE)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 9)
    photo *= (1 - 0.55 * shadow)[..., None]
    photo = photo * (1 - cover[..., None]) + placed * cover[..., None]

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 1.08 - 0.35 * (xx / width) * 0.6 - 0.25 * (yy / height)  # a lamp up and to the left
    vignette = 1 - 0.35 * (((xx - width / 2) / width) ** 2 + ((yy - height / 2) / height) ** 2)
    photo *= (light * vignette)[..., None]
    photo = cv2.GaussianBlur(photo, (0, 0), 0.8)
    photo += rng.normal(0, 3.0, photo.shape).astype(np.float32)
    image = Image.fromarray(np.clip(photo + 0.5, 0, 255).astype(np.uint8))
    image.save(path, quality=86, optimize=True)


if __name__ == "__main__":
    make_sign(HERE / "sign.jpg")
    print(f"wrote {HERE / 'sign.jpg'}")
