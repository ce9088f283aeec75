"""What the image-type classifier sees: layout, text and pixel statistics of one page.

Every feature is free of the image's resolution (sizes are shares of the page, counts are
logged), so a 5000-pixel receipt scan and a 500-pixel synthetic one are comparable. The
layout comes from ocromni's own OCR (a :class:`~ocromni.types.PageText`); the pixels only
give colourfulness, edges and flatness, computed on a small copy.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np

from ocromni.layout import group_rows, quad_size
from ocromni.types import Line, PageText

PRICE = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})*[.,]\d{2}(?!\d)")
DATE = re.compile(r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}[ \-](?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ \-,]+\d{2,4}\b", re.I)
LABEL = re.compile(r"^[^\W\d_][\w .'/&()#-]{0,30}\s*:\s*$")
KEY_VALUE = re.compile(r"^[^\W\d_][\w .'/&()#-]{0,30}\s*:\s*\S")

# Small word lists a person would also use to tell these apart; whole tokens, lower case.
# (No list for posters or signs: their words are anything at all.) The recogniser's
# confidence is not a feature either: training lines are drawn, not read, and their
# confidence would be made up.
LEXICONS = {
    "receipt": {"total", "subtotal", "cash", "change", "qty", "gst", "tax", "rounding", "rm", "receipt", "cashier", "tel",
                "thank", "item", "amount", "sst", "discount", "bill", "paid", "price"},
    "invoice": {"invoice", "due", "bill", "terms", "description", "unit", "balance", "payment", "po", "account"},
    "form": {"name", "date", "signature", "address", "phone", "title", "department", "fax", "no", "yes", "approved",
             "please", "form", "date:", "name:", "to:", "from:", "subject", "company", "code", "number", "check"},
    "letter": {"dear", "sincerely", "regards", "yours", "faithfully", "thank", "letter", "enclosed", "mr", "ms", "dr"},
    "screen": {"home", "search", "settings", "profile", "login", "log", "sign", "menu", "ok", "cancel", "save", "submit",
               "file", "edit", "view", "help", "inbox", "account", "notifications", "messages", "back", "next"},
    "product": {"net", "wt", "ingredients", "natural", "organic", "ml", "g", "kg", "best", "before", "made", "juice",
                "fresh", "recipe", "flavour", "flavor", "new", "pack"},
}

FEATURE_NAMES = (
    "lines_log", "aspect_log", "coverage_log", "height_median_log", "height_max_log", "height_ratio_log",
    "height_cv", "big_line_share", "digit_share", "price_share", "date_share", "label_share", "key_value_share",
    "chars_per_line_log", "words_per_line", "upper_share", "cjk_share", "left_aligned", "centred", "right_aligned",
    "multi_segment_rows", "text_span_y", "text_span_x", "wide_line_share", "long_line_share",
    "line_density", "largest_centre_y", "largest_width", "largest_area",
    *(f"lexicon_{name}" for name in LEXICONS),
    "colourfulness", "saturation_mean", "edge_density", "flat_share", "white_share", "dark_share", "grey_entropy",
    "text_present",
)


@dataclass
class LineGeometry:
    """A line's size and position in page shares (resolution-free)."""

    line: Line
    height: float  # text height in pixels (across the baseline)
    x0: float
    y0: float
    x1: float
    y1: float


def line_height(line: Line) -> float:
    """Pixels across the baseline: the quadrilateral's height, else the box's."""
    if len(line.polygon) == 4:
        width, height = quad_size(line.polygon)
        return max(min(height, width) if len(line.text) > 1 else height, 1.0)
    x0, y0, x1, y1 = line.bbox
    return max(y1 - y0, 1.0)


def geometry(page: PageText) -> list[LineGeometry]:
    lines = [line for line in page.lines if line.text.strip()]
    return [LineGeometry(line, line_height(line), *line.bbox) for line in lines]


def _aligned_share(values: np.ndarray, tolerance: float) -> float:
    """Share of values within ``tolerance`` of their most crowded neighbourhood."""
    if len(values) < 2:
        return 0.0
    counts = (np.abs(values[:, None] - values[None, :]) <= tolerance).sum(1)
    return float(counts.max()) / len(values)


def _is_cjk(char: str) -> bool:
    return "CJK" in unicodedata.name(char, "") or "HANGUL" in unicodedata.name(char, "") or "HIRAGANA" in unicodedata.name(char, "") or "KATAKANA" in unicodedata.name(char, "")


def text_features(page: PageText, width: int, height: int) -> dict[str, float]:
    """Features of the lines the OCR found (all zero on a page without text)."""
    geo = geometry(page)
    f = {name: 0.0 for name in FEATURE_NAMES}
    f["aspect_log"] = math.log(max(height, 1) / max(width, 1))
    if not geo:
        f["coverage_log"] = math.log(1e-4)
        f["height_median_log"] = f["height_max_log"] = math.log(1e-3)
        return f
    area = float(width * height)
    heights = np.array([g.height for g in geo])
    boxes = np.array([[g.x0, g.y0, g.x1, g.y1] for g in geo], dtype=np.float64)
    widths = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    confidences = np.array([g.line.confidence for g in geo])
    texts = [g.line.text for g in geo]
    chars = "".join(texts)
    letters = [c for c in chars if c.isalpha()]
    tokens = [t.strip(".,;!?()[]\"'").lower() for text in texts for t in text.split()]
    n = len(geo)

    f["lines_log"] = math.log1p(n)
    f["coverage_log"] = math.log(min(float((widths * heights).sum()) / area, 1.0) + 1e-4)
    median_h, max_h = float(np.median(heights)), float(heights.max())
    f["height_median_log"] = math.log(median_h / height + 1e-3)
    f["height_max_log"] = math.log(max_h / height + 1e-3)
    f["height_ratio_log"] = math.log(max_h / median_h)
    f["height_cv"] = float(heights.std() / heights.mean())
    f["big_line_share"] = float((heights > 1.8 * median_h).mean())
    f["digit_share"] = sum(c.isdigit() for c in chars) / max(len(chars), 1)
    f["price_share"] = sum(bool(PRICE.search(t)) for t in texts) / n
    f["date_share"] = sum(bool(DATE.search(t)) for t in texts) / n
    f["label_share"] = sum(bool(LABEL.match(t.strip())) for t in texts) / n
    f["key_value_share"] = sum(bool(KEY_VALUE.match(t.strip())) for t in texts) / n
    f["chars_per_line_log"] = math.log1p(len(chars) / n)
    f["words_per_line"] = min(len(tokens) / n, 20.0) / 5.0
    f["upper_share"] = sum(c.isupper() for c in letters) / max(len(letters), 1)
    f["cjk_share"] = sum(_is_cjk(c) for c in chars) / max(len(chars), 1)
    f["left_aligned"] = _aligned_share(boxes[:, 0] / width, 0.015)
    f["centred"] = _aligned_share((boxes[:, 0] + boxes[:, 2]) / 2 / width, 0.015)
    f["right_aligned"] = _aligned_share(boxes[:, 2] / width, 0.015)
    rows = group_rows(boxes)
    f["multi_segment_rows"] = sum(len(row) > 1 for row in rows) / len(rows)
    f["text_span_y"] = float(boxes[:, 3].max() - boxes[:, 1].min()) / height
    f["text_span_x"] = float(boxes[:, 2].max() - boxes[:, 0].min()) / width
    f["wide_line_share"] = float((widths > 0.5 * width).mean())
    f["long_line_share"] = sum(len(t) > 40 for t in texts) / n
    f["line_density"] = min(n * median_h / max(float(boxes[:, 3].max() - boxes[:, 1].min()), 1.0), 3.0)
    largest = int(np.argmax(heights * np.clip(confidences, 0.3, 1.0)))
    f["largest_centre_y"] = float(boxes[largest, 1] + boxes[largest, 3]) / 2 / height
    f["largest_width"] = float(widths[largest]) / width
    f["largest_area"] = math.log(float(widths[largest] * heights[largest]) / area + 1e-4)
    for name, words in LEXICONS.items():
        f[f"lexicon_{name}"] = math.log1p(sum(t in words for t in tokens)) / math.log1p(max(n, 1)) if n else 0.0
    f["text_present"] = 1.0
    return f


def small_copy(image: np.ndarray, long_side: int = 256) -> np.ndarray:
    """The image scaled down so its longer side is ``long_side`` (area averaging)."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(int(w * scale), 1), max(int(h * scale), 1)), interpolation=cv2.INTER_AREA)


def pixel_features(image: np.ndarray) -> dict[str, float]:
    """Colourfulness (Hasler & Suesstrunk 2003), saturation, edges, flat and paper-white areas."""
    small = small_copy(image).astype(np.float32)
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    colourfulness = math.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * math.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    hsv = cv2.cvtColor(small.astype(np.uint8), cv2.COLOR_RGB2HSV)
    grey = small.mean(axis=2)
    gx, gy = np.gradient(grey)
    magnitude = np.hypot(gx, gy)
    histogram = np.bincount((grey // 16).astype(int).ravel(), minlength=16) / grey.size
    entropy = -float(sum(p * math.log(p) for p in histogram if p > 0))
    return {
        "colourfulness": colourfulness / 100.0,
        "saturation_mean": float(hsv[..., 1].mean()) / 255.0,
        "edge_density": float((magnitude > 20).mean()),
        "flat_share": float((magnitude < 1.0).mean()),
        "white_share": float(((grey > 200) & (hsv[..., 1] < 40)).mean()),
        "dark_share": float((grey < 50).mean()),
        "grey_entropy": entropy / math.log(16),
    }


def page_features(page: PageText, image: np.ndarray) -> np.ndarray:
    """The feature vector (in :data:`FEATURE_NAMES` order) for one page and its pixels."""
    height, width = image.shape[:2]
    values = text_features(page, width, height)
    values.update(pixel_features(image))
    return np.array([values[name] for name in FEATURE_NAMES], dtype=np.float32)
