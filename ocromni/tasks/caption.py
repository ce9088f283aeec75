"""caption: a description of an image that focuses on its text.

Each page is read by the engine (or its PDF text layer), then described from what was
read: the kind of image (a small classifier over layout, text and pixel features, see
:mod:`ocromni.caption_model`), its layout, the most prominent text -- the rows with the
largest text, measured in the pixels, quoted exactly as read -- and the dominant colours
(k-means over the pixels, named from a small palette). ``detail="short"`` quotes one or
two rows; ``detail="long"`` up to three, the start of the text in reading order
and the colours' shares. A page on which nothing legible is read is "an image" (kind
``image``): without text there is nothing to tell a sign from a poster or a receipt by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

import numpy as np

from ocromni.engine import Engine
from ocromni.errors import UsageError
from ocromni.types import Line, Page, PageRecord, PageText

DETAILS = ("short", "long")

# The kind of a page on which nothing legible was read. The classifier tells its kinds
# apart mostly by their text, and without any it guessed "sign" for every such page (a
# cat, a brick wall, a blank sheet: 86-96 % sure); so it is not asked, and the caption
# claims no more than it knows.
NO_TEXT_KIND = "image"
# How each kind is named in a sentence.
KIND_PHRASES = {
    "receipt": "a receipt", "invoice": "an invoice", "form": "a form", "letter": "a letter", "sign": "a sign",
    "poster": "a poster", "screenshot": "a screenshot", "product": "a product package", "scene": "a street scene photo",
    NO_TEXT_KIND: "an image",
}

# A small palette of colour names people use, as sRGB; pixels take the nearest in CIELAB.
PALETTE = {
    "white": (250, 250, 250), "light grey": (200, 200, 200), "grey": (128, 128, 128), "dark grey": (64, 64, 64),
    "black": (10, 10, 10), "red": (205, 30, 35), "dark red": (120, 20, 25), "orange": (240, 130, 30),
    "yellow": (245, 215, 40), "beige": (225, 205, 165), "brown": (125, 80, 45), "green": (45, 155, 65),
    "dark green": (25, 85, 45), "teal": (0, 128, 128), "cyan": (70, 200, 220), "light blue": (145, 190, 235),
    "blue": (30, 85, 200), "navy": (20, 30, 90), "purple": (125, 55, 165), "pink": (240, 135, 180),
    "magenta": (200, 40, 160), "gold": (200, 165, 80),
}
# A short caption also quotes the runner-up row when its text is at least this share of
# the largest's (to the eye about as large: measured sizes vary by some 10-20% within one
# font size, and on a receipt the shop name and a bold total are both "the" large text);
# a long one quotes up to two more rows at least half as large.
SHORT_RUNNER_UP = 0.7
LONG_RUNNER_UP = 0.5
MIN_COLOUR_SHARE = 0.08  # colours covering less of the image are not "dominant"


@dataclass
class Colour:
    name: str
    share: float  # of the image's pixels
    rgb: tuple[int, int, int]  # the cluster's mean colour

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "share": round(self.share, 3), "hex": "#%02x%02x%02x" % self.rgb}


@dataclass
class CaptionRecord(PageRecord):
    """What ``caption`` says about one page; ``text`` is the caption itself."""

    kind: str = ""
    kind_confidence: float = 0.0
    layout: str = ""
    prominent_text: str = ""  # the most prominent row
    prominent_lines: list[str] = field(default_factory=list)  # the rows the caption quotes, most prominent first
    colours: list[Colour] = field(default_factory=list)
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        record = self._header()
        record.update({
            "kind": self.kind, "kind_confidence": round(self.kind_confidence, 4), "layout": self.layout,
            "prominent_text": self.prominent_text, "prominent_lines": list(self.prominent_lines), "colours": [c.to_dict() for c in self.colours], "text": self.text,
        })
        return record


# --- the parts of a caption -------------------------------------------------------------


def prominent_lines(page: PageText, image: Optional[np.ndarray] = None) -> list[tuple[float, str]]:
    """``(text size in pixels, text)`` of visual rows, most prominent first.

    A line's size is :func:`text_size`: its letters' height measured in the pixels
    (:func:`glyph_height`) when the page image is given, combined with its box. Lines the
    recogniser read with less than ``CLEAR_READING`` confidence, or with fewer than two
    letters or digits, only count when nothing else does: a big misread blob (a signature,
    a stamp, a logo the recogniser guesses at) should not beat a clearly read headline.
    Segments the detector split from one row -- boxes of one height on one baseline, a
    small gap apart -- are joined back, so a headline is quoted whole.
    """
    from ocromni.caption_model.features import geometry

    geo = [g for g in geometry(page) if sum(ch.isalnum() for ch in g.line.text) >= 1]
    if not geo:
        return []
    for threshold in (CLEAR_READING, READABLE):
        readable = [g for g in geo if reads_as_text(g.line, threshold)]
        if readable:
            geo = readable
            break
    grey = _grey(image) if image is not None else None
    sizes = [text_size(g.line, g.height, grey) for g in geo]
    used: set[int] = set()
    rows = []
    for i in sorted(range(len(geo)), key=lambda i: -sizes[i]):
        if i in used:
            continue
        row = [i]
        used.add(i)
        grew = True
        while grew:
            grew = False
            for j in range(len(geo)):
                if j in used or not _continues_row(geo, row, j):
                    continue
                row.append(j)
                used.add(j)
                grew = True
        row.sort(key=lambda k: geo[k].x0)
        rows.append((sizes[i], " ".join(geo[k].line.text.strip() for k in row)))
    return rows


# Recogniser confidences: lines read at least this surely are the candidates for the most
# prominent text; below READABLE a reading is mostly guesswork. Of the dev lines the OCR
# read right (matching their annotation), 98% score at least 0.85; the large misreadings
# that took the quote from the real headline (signatures, stamps, script logos) mostly
# score between the two.
CLEAR_READING = 0.85
READABLE = 0.5
# Letters fill about this share of a detector box's height (PP-OCR's boxes are the text's
# shrunk kernel grown back by a margin); used where the pixels show no letters.
GLYPH_SHARE_OF_BOX = 0.6
# A line of text is at most this many times as tall as its mean character advance (the
# box's length over its characters): a box taller than that holds two stacked lines, a logo
# or a mark, not one line of large letters. Printed and handwritten lines stay under it.
MAX_HEIGHT_PER_ADVANCE = 2.5


def text_size(line: Line, box_height: float, grey: Optional[np.ndarray] = None) -> float:
    """How large a line's text looks, in pixels: the geometric mean of its letters' height
    (:func:`glyph_height`, from the pixels) and its box's height across the baseline.

    Each alone misjudges some lines. The box's margin depends on its shape and on rules
    and neighbours nearby, and a box around two stacked lines or a logo is tall without
    its letters being large (so the box counts at most ``MAX_HEIGHT_PER_ADVANCE`` times the
    line's mean character advance). The ink, thresholded, can merge letters with an
    underline or lose thin strokes. Where both agree the mean changes nothing; where one
    slips, it shrinks the error. (Against the annotated line sizes of the dev receipts and
    forms, the mean varies less within a page than either measure alone; on scene words it
    lies between the two.)
    """
    characters = max(len("".join(line.text.split())), 1)
    along = box_height
    if len(line.polygon) == 4:
        from ocromni.layout import quad_size

        along = max(quad_size(line.polygon))
    box = min(box_height, MAX_HEIGHT_PER_ADVANCE * along / characters)
    if grey is None:
        return GLYPH_SHARE_OF_BOX * box
    return float(np.sqrt(box * max(glyph_height(grey, line, box_height), 1.0)))


def glyph_height(grey: np.ndarray, line: Line, box_height: float) -> float:
    """How tall a line's letters are in pixels, measured in the image rather than the box.

    The detector's box height is a poor measure of type size alone: its margin depends on
    the box's shape and on rules and neighbours nearby (a receipt's three-letter column
    header between two dashed rules gets a taller box than the shop name above it in larger
    type). So the line is cut out along its quadrilateral (rotated text comes out
    upright), split into ink and paper by Otsu's threshold (ink being the side the crop's
    border is not), and the letters are its connected components of plausible shape; their
    height runs from the 10th percentile of their tops down to the baseline, where most
    letters end (the lowest quarter of their bottoms, taken from an actual letter: in
    "Qty" the Q's tail and the y's descender both end below it): the cap or ascender
    height, which neither descenders nor an accent lift.
    """
    import cv2

    from ocromni.layout import crop_quad

    if len(line.polygon) != 4:
        return GLYPH_SHARE_OF_BOX * box_height
    crop, _ = crop_quad(grey, np.asarray(line.polygon, dtype=np.float32), cv2.INTER_LINEAR)
    if crop.shape[0] > crop.shape[1] and len(line.text.strip()) > 1:
        crop = np.ascontiguousarray(np.rot90(crop))  # a word set vertically
    height, width = crop.shape[:2]
    if height < 4 or width < 4:
        return GLYPH_SHARE_OF_BOX * box_height
    _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    if np.mean(border > 0) >= 0.5:  # light paper: the ink is the dark side
        ink = 255 - ink
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h, area = stats[1:].T.astype(np.float64)
    # Letters: not rules running along the line, not specks, and not much shorter than the
    # line's tall letters (dots, commas, fragments of a neighbour's descenders).
    letters = (w <= 4 * h) & (area >= 0.02 * h * h + 2) & (h >= 0.1 * height) & (h >= 3)
    if letters.any():
        letters &= h >= 0.4 * np.percentile(h[letters], 90)
    if not letters.any():
        return GLYPH_SHARE_OF_BOX * box_height
    baseline = np.percentile(y[letters] + h[letters], 25, method="lower")
    return float(baseline - np.percentile(y[letters], 10))


def _continues_row(geo, row: list[int], j: int) -> bool:
    """Whether line ``j`` is another segment of the row: boxes (not letters, which vary
    with the font's case) of about one height, mostly on one band, a small gap apart."""
    g = geo[j]
    for k in row:
        h = geo[k]
        if not 0.75 <= g.height / h.height <= 1.33:
            continue
        overlap = min(g.y1, h.y1) - max(g.y0, h.y0)
        if overlap < 0.6 * min(g.y1 - g.y0, h.y1 - h.y0):
            continue
        gap = max(g.x0 - h.x1, h.x0 - g.x1)
        if gap < 2.0 * h.height:
            return True
    return False


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


def describe_layout(page: PageText, width: int, height: int) -> str:
    """A few words on how the text is arranged, from the OCR geometry."""
    from ocromni.caption_model.features import text_features

    f = text_features(page, width, height)
    n = len([line for line in page.lines if line.text.strip()])
    if n == 0:
        return "no legible text"
    parts = []
    big_headline = f["height_ratio_log"] > 0.5 and f["largest_centre_y"] < 0.4
    if n <= 4:
        if f["largest_area"] > np.log(0.02) and f["centred"] >= 0.99 and n > 1:
            parts.append("a few large centred lines")
        elif f["largest_area"] > np.log(0.02):
            parts.append("large text filling much of the image" if f["largest_area"] > np.log(0.1) else "a few large lines")
        else:
            parts.append("sparse text on a photo" if f["edge_density"] > 0.08 else "a few small lines")
        return parts[0]
    if big_headline:
        parts.append("a centred headline" if abs(_largest_centre_x(page) - 0.5) < 0.08 else "a large headline")
    if f["price_share"] > 0.12 and f["multi_segment_rows"] > 0.2:
        parts.append("table-like rows of item and price")
    elif f["label_share"] + f["key_value_share"] > 0.2:
        parts.append("labelled fields (label: value)")
    elif _two_columns(page, width):
        parts.append("two columns of text")
    elif f["long_line_share"] > 0.3:
        parts.append("paragraphs in a single column")
    elif f["multi_segment_rows"] > 0.4:
        parts.append("table-like rows")
    elif f["coverage_log"] < np.log(0.03) and f["edge_density"] > 0.08:
        parts.append("sparse text on a photo")
    elif f["centred"] > 0.6:
        parts.append("centred lines")
    else:
        parts.append("a single column" if f["left_aligned"] > 0.5 else "scattered blocks of text")
    return " above ".join(parts) if len(parts) == 2 and parts[0].endswith("headline") else " and ".join(parts)


def _largest_centre_x(page: PageText) -> float:
    from ocromni.caption_model.features import geometry

    geo = geometry(page)
    largest = max(geo, key=lambda g: g.height)
    return (largest.x0 + largest.x1) / 2 / max(page.width, 1)


def _two_columns(page: PageText, width: int) -> bool:
    """Whether running text stands on both sides of a vertical gutter."""
    boxes = np.array([line.bbox for line in page.lines if line.text.strip()], dtype=np.float64)
    long = boxes[(boxes[:, 2] - boxes[:, 0]) > 6 * (boxes[:, 3] - boxes[:, 1])]
    if len(long) < 6:
        return False
    middle = (long[:, 0].min() + long[:, 2].max()) / 2
    left = long[long[:, 2] < middle]
    right = long[long[:, 0] > middle]
    return len(left) >= 3 and len(right) >= 3 and len(left) + len(right) >= 0.8 * len(long)


def _lab(rgb: np.ndarray) -> np.ndarray:
    import cv2

    pixels = np.asarray(rgb, dtype=np.float32).reshape(1, -1, 3) / 255.0
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB).reshape(-1, 3)


_PALETTE_NAMES = list(PALETTE)
_PALETTE_LAB = None


def colour_name(rgb) -> str:
    """The palette name nearest to an sRGB colour (CIE76 distance in CIELAB)."""
    global _PALETTE_LAB
    if _PALETTE_LAB is None:
        _PALETTE_LAB = _lab(np.array(list(PALETTE.values())))
    distances = np.linalg.norm(_PALETTE_LAB - _lab(np.array([rgb]))[0], axis=1)
    return _PALETTE_NAMES[int(np.argmin(distances))]


def dominant_colours(image: np.ndarray, k: int = 6, iterations: int = 12) -> list[Colour]:
    """The image's main colours by pixel share: k-means in CIELAB, clusters named and merged."""
    from ocromni.caption_model.features import small_copy

    pixels = small_copy(image[..., :3], 96).reshape(-1, 3).astype(np.float64)
    lab = _lab(pixels).astype(np.float64)
    rng = np.random.default_rng(0)  # a fixed seed: the same image always gets the same colours
    centres = [lab[rng.integers(len(lab))]]
    for _ in range(1, k):  # k-means++ seeding
        distance = np.min([np.sum((lab - c) ** 2, axis=1) for c in centres], axis=0)
        if distance.sum() <= 0:
            break
        centres.append(lab[rng.choice(len(lab), p=distance / distance.sum())])
    centres = np.array(centres)
    for _ in range(iterations):
        assignment = np.argmin(((lab[:, None, :] - centres[None]) ** 2).sum(2), axis=1)
        centres = np.array([lab[assignment == c].mean(0) if np.any(assignment == c) else centres[c] for c in range(len(centres))])
    assignment = np.argmin(((lab[:, None, :] - centres[None]) ** 2).sum(2), axis=1)
    merged: dict[str, list] = {}
    for c in range(len(centres)):
        members = pixels[assignment == c]
        if not len(members):
            continue
        rgb = members.mean(0)
        name = colour_name(rgb)
        total = merged.setdefault(name, [0, np.zeros(3)])
        total[0] += len(members)
        total[1] += members.sum(0)
    colours = [Colour(name, count / len(pixels), tuple(int(round(v)) for v in rgb_sum / count)) for name, (count, rgb_sum) in merged.items()]
    return sorted(colours, key=lambda c: -c.share)


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return f"\u201c{text if len(text) <= limit else text[: limit - 1] + '…'}\u201d"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def quoted_rows(rows: list[tuple[float, str]], detail: str) -> list[str]:
    """The rows a caption quotes: the most prominent, then (short) the next one if its
    text is nearly as large, or (long) up to two more that are at least half as large."""
    if not rows:
        return []
    share, most = (SHORT_RUNNER_UP, 2) if detail == "short" else (LONG_RUNNER_UP, 3)
    return [rows[0][1]] + [text for size, text in rows[1:most] if size >= share * rows[0][0]]


def compose(kind: str, layout: str, quoted: list[str], colours: list[Colour], page: Optional[PageText], detail: str) -> str:
    """The caption sentence(s) from the parts; ``page`` is None when nothing on it is legible."""
    phrase = KIND_PHRASES.get(kind, "an image")
    phrase = phrase[0].upper() + phrase[1:]
    sentences = [f"{phrase} with {layout}."]
    if quoted:
        then = f", then {_join([_quote(t, 200) for t in quoted[1:]])}" if len(quoted) > 1 else ""
        sentences.append(f"The most prominent text reads {_quote(quoted[0], 200)}{then}.")
    main = [c for c in colours if c.share >= MIN_COLOUR_SHARE] or colours[:1]
    if detail == "short":
        if main:
            sentences.append(f"Dominant colours: {_join([c.name for c in main[:3]])}.")
        return " ".join(sentences)
    # Rows as the eye counts them (page.text joins an item and its price, a table's cells),
    # not the detector's segments: the example receipt's 14 rows are 33 segments.
    body = page.text if page is not None else ""
    n_lines = len([row for row in body.splitlines() if row.strip()])
    if n_lines:
        body = body.replace("\n", " / ")
        sentences.append(f"It has {n_lines} line{'s' if n_lines != 1 else ''} of text, beginning {_quote(body, 300)}.")
    if main:
        sentences.append("Dominant colours: " + _join([f"{c.name} ({round(100 * c.share)}%)" for c in main[:4]]) + ".")
    return " ".join(sentences)


def reads_as_text(line: Line, threshold: float = READABLE) -> bool:
    """Whether a line reads as text: at least two letters or digits, read at least
    ``threshold`` surely (a lone "0" read off a cat's fur is not)."""
    return line.confidence >= threshold and sum(ch.isalnum() for ch in line.text) >= 2


def legible(text: PageText) -> bool:
    """Whether anything on the page reads as text (:func:`reads_as_text`)."""
    return any(reads_as_text(line) for line in text.lines)


def describe(page: Page, text: PageText, detail: str = "short", classifier=None) -> CaptionRecord:
    """The caption record of one page from its pixels and what was read on it."""
    from ocromni.caption_model.classifier import load_classifier
    from ocromni.caption_model.features import page_features

    if detail not in DETAILS:
        raise UsageError(reason=f"--detail must be one of {', '.join(DETAILS)}, got {detail!r}")
    image = page.image
    height, width = image.shape[:2]
    readable = legible(text)
    if readable:
        classifier = classifier or load_classifier()
        kind, confidence = classifier.predict(page_features(text, image))
        layout = describe_layout(text, width, height)
        quoted = quoted_rows(prominent_lines(text, image), detail)
    else:
        kind, confidence, layout, quoted = NO_TEXT_KIND, 1.0, "no legible text", []
    colours = dominant_colours(image)
    caption_text = compose(kind, layout, quoted, colours, text if readable else None, detail)
    return CaptionRecord(
        **PageRecord.header_of(page), kind=kind, kind_confidence=confidence, layout=layout,
        prominent_text=quoted[0] if quoted else "", prominent_lines=quoted,
        colours=[c for c in colours if c.share >= MIN_COLOUR_SHARE][:4], text=caption_text,
    )


def caption_pages(
    engine: Engine,
    pages: Iterable[Page],
    *,
    detail: str = "short",
    batch_size: int = 8,
    ocr: str = "auto",
    rotate: bool = True,
) -> Iterator[tuple[Page, CaptionRecord]]:
    """Read each page in batches through the engine, then caption it."""
    from ocromni.tasks.recognize import recognize_pages

    if detail not in DETAILS:
        raise UsageError(reason=f"--detail must be one of {', '.join(DETAILS)}, got {detail!r}")
    for page, text in recognize_pages(engine, pages, ocr=ocr, rotate=rotate, batch_size=batch_size):
        yield page, describe(page, text, detail)


def iter_caption(
    inputs, *, detail: str = "short", pages: Optional[str] = None, dpi: int = 200, ocr: str = "auto",
    rotate: bool = True, batch_size: int = 8, recursive: bool = False, max_pixels: Optional[int] = None,
    model: Optional[str] = None, device: Optional[str] = None, on_error=None, stdin=None,
) -> Iterator[tuple[Page, CaptionRecord]]:
    """Yield ``(page, CaptionRecord)`` as each page is described; see :func:`caption`."""
    from ocromni.engine import get_engine
    from ocromni.io import sources

    if detail not in DETAILS:
        raise UsageError(reason=f"--detail must be one of {', '.join(DETAILS)}, got {detail!r}")
    page_stream = sources.iter_pages(inputs, pages=pages, dpi=dpi, recursive=recursive, max_pixels=max_pixels,
                                     on_error=on_error, stdin=stdin, text_layer=ocr != "always")
    engine = get_engine(model, device)
    return _released(caption_pages(engine, page_stream, detail=detail, batch_size=batch_size, ocr=ocr, rotate=rotate))


def _released(pairs):
    # Drop each page's pixels once the caller has had it, so long runs stay flat in memory.
    for page, record in pairs:
        yield page, record
        page.release()


def caption(inputs, **options) -> list[CaptionRecord]:
    """Describe every page, focusing on its text: kind, layout, most prominent text, colours.

    ``detail``: "short" (one to three sentences) or "long" (adds the other prominent
    lines, the start of the text and the colours' shares). Other options as on the
    command line.
    """
    return [record for _, record in iter_caption(inputs, **options)]
