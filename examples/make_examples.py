"""Make the example images shipped in examples/ (reproducible: fixed seed, built-in fonts).

    python examples/make_examples.py

The receipt is typeset with PDF base-14 fonts (Courier, Helvetica) that pymupdf carries,
then given a scan's look: warm paper, a slight skew, blur and sensor noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image, ImageFilter

HERE = Path(__file__).parent

RECEIPT_LINES = [
    ("hebo", 15, "center", "GREENLEAF MARKET"),
    ("helv", 10, "center", "12 Harbour Road, Portsmouth PO1 3LT"),
    ("helv", 10, "center", "Tel 023 9284 1170"),
    ("cour", 10, "left", ""),
    ("cour", 10, "left", "Date: 14/03/2024        Time: 18:42"),
    ("cour", 10, "left", "Receipt No: 004817"),
    ("cour", 10, "left", "--------------------------------------"),
    ("cour", 10, "left", "Sourdough Loaf            1 x   3.20"),
    ("cour", 10, "left", "Free Range Eggs 12        1 x   4.10"),
    ("cour", 10, "left", "Whole Milk 2L             2 x   2.30"),
    ("cour", 10, "left", "Cheddar Mature 400g       1 x   5.75"),
    ("cour", 10, "left", "Apples Braeburn           1 x   2.40"),
    ("cour", 10, "left", "--------------------------------------"),
    ("cobo", 11, "left", "TOTAL                         20.05"),
    ("cour", 10, "left", "Card payment                  20.05"),
    ("cour", 10, "left", "VAT included                   0.62"),
    ("cour", 10, "left", ""),
    ("helv", 10, "center", "Thank you for shopping with us!"),
]


def make_receipt(path: Path, seed: int = 7) -> None:
    width_pt, margin = 260, 14
    height_pt = 40 + 16 * len(RECEIPT_LINES)
    doc = pymupdf.open()
    page = doc.new_page(width=width_pt, height=height_pt)
    y = 30.0
    for font, size, align, text in RECEIPT_LINES:
        if text:
            length = pymupdf.get_text_length(text, fontname=font, fontsize=size)
            x = (width_pt - length) / 2 if align == "center" else margin
            page.insert_text((x, y), text, fontname=font, fontsize=size)
        y += 16
    pix = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
    ink = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width).astype(np.float32) / 255.0

    rng = np.random.default_rng(seed)
    paper = np.array([246, 241, 228], np.float32)
    toner = np.array([38, 36, 40], np.float32)
    rgb = ink[..., None] * paper + (1 - ink[..., None]) * toner
    rgb += rng.normal(0, 4.0, rgb.shape)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    image = image.rotate(-0.8, resample=Image.BICUBIC, expand=True, fillcolor=(92, 88, 84))
    image.save(path, optimize=True)


if __name__ == "__main__":
    make_receipt(HERE / "receipt.png")
    print(HERE / "receipt.png")
