"""edit: replace words or phrases in images, keeping the look of the text they replace.

Per page the recogniser reads the lines and their word polygons; each ``OLD`` is looked
up among the words of every line (whole words, or a phrase over consecutive words of one
line; case-insensitive unless ``match_case``; punctuation glued to a word, such as the
colon of ``Date:``, is kept and redrawn with it). An OLD found nowhere may stand for a
reading a letter or two off it (recognition misreads stylised text), named on stderr.
For every hit:

1. the hit's quadrilateral is rectified (a homography to an upright rectangle, the
   *frame*), so rotation, perspective and the tilt of the line drop out of what follows;
2. the old text's look is measured in the frame: its stroke pixels against the
   background (the erase stroke mask, then each pixel's coverage by the ink colour),
   their colour (a plane over the text, so lighting gradients carry over) and grain,
   the ink box and baseline, and the font, weight, slant, size, width and blur that
   best redraw the old text (analysis by synthesis: the recognised text is set in each
   shipped font, its weight matched by ink density, slanted by the ink's own slant
   less the face's, and fonts compared by the correlation of drawn and observed ink);
3. the old strokes are erased with the erase machinery (stroke mask + inpaint);
4. NEW is set in that style on the old baseline, aligned as the original was (from its
   neighbours: a column of prices aligns right, a label left, a lone sign centres),
   allowed to grow into free space a little and condensed beyond that, and warped back
   into the quadrilateral;
5. only pixels under the old strokes or the new ink change; every other pixel is the
   input's, bit for bit.
"""

from __future__ import annotations

import functools
import logging
import re
import string
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from ocromni.engine import Engine, batched, get_engine
from ocromni.errors import UsageError
from ocromni.types import Line, Page, PageText, Word

log = logging.getLogger("ocromni")

Replacements = Union[dict, Sequence[str], Sequence[tuple[str, str]], str]

# Word polygons come from the recogniser's character positions and may clip a word's
# outer strokes: widened by this share of the line's height before masking (as erase).
WORD_WIDEN = 0.15
# The frame around a hit, in hit heights: room above/below for ascenders, descenders and
# strokes the detector clipped; room at the sides for a longer NEW.
FRAME_PAD_Y = 0.6
FRAME_PAD_X = 1.5
# How far (hit heights) strokes are looked for outside the hit's quad when measuring.
MEASURE_REACH_Y, MEASURE_REACH_X = 0.3, 0.2
# Size at which candidate fonts are set for matching: large enough that the synthetic
# weights (pixels added to each side of a stroke at this size; negative ones erode, as
# the shipped faces have no Light) are distinct.
REFERENCE_SIZE = 64
WEIGHT_STROKES = (-1, 0, 1, 2, 3, 5)
# A longer NEW may grow past the old ink by this share of the old width, or by this many
# text heights if more, where no other text is in the way; beyond that it is condensed,
# down to MIN_CONDENSE of its natural width, and then made smaller as well.
GROW_SHARE, GROW_HEIGHTS = 0.3, 0.6
MIN_CONDENSE = 0.6
# Growth also stops at the first column (of the text's band) where fewer than this share
# of pixels look like the text's own background: a sign's border, a box's rule.
PLAIN_SHARE = 0.6
# Gap (text heights) kept to neighbouring words when growing.
NEIGHBOUR_GAP = 0.3
# Blurs (Gaussian sigma, pixels) tried to match the softness of the old strokes' edges.
BLUR_SIGMAS = (0.0, 0.5, 0.8, 1.2, 1.7, 2.4, 3.2)
# The grain added to the new ink is the old ink's, capped so a mis-measured one stays tame.
MAX_GRAIN = 20.0
# Gaps inside the stroke mask narrower than this share of the text height are closed
# before erasing: worn paint or a stroke's dark core must not survive as islands that
# the fill would then smear around.
MASK_CLOSING = 0.05
# Ink colour: k-means clusters of the pixels in and around the quad, and the least CIELAB
# distance from the background for a cluster to count as ink.
INK_CLUSTERS, MIN_INK_CONTRAST = 4, 12.0
MAX_CLUSTER_SAMPLES = 4000
# Colours tried as the ink's when several could be, and the font they are judged with.
MAX_INK_CANDIDATES, DEFAULT_MATCH_FONT = 3, "noto-sans"
# Ink taller than this many quad heights is something else (the quad's height is the
# detector's estimate of the text's).
MAX_INK_HEIGHT = 1.6
# Pixels further than this share of the ink-background distance off the line between
# the two colours are neither (see measure_style).
OFF_LINE = 0.25
MIN_OFF_LINE = 8.0  # CIELAB units: the sensor noise of a faint text's own pixels
# The ink's colour is that of its pixels deeper than this percentile (along the line
# from the background colour).
INK_DEPTH_PERCENTILE = 90
# Ink pixels deeper than this percentile give the ink's colour plane and grain.
CORE_PERCENTILE = 70
# Ink components smaller than this share of the text height squared are specks.
SPECK = 0.002
# Components smaller than this share of the largest one (background of the ink's colour:
# chrome glints, stitching) are stray when they lie wholly below the band of the large
# ones, or above it by more than STRAY_GAP of its height (i-dots and accents sit closer).
# On benchmarks/edit.py such specks stretched the ink box, and with it the size and font.
STRAY_SHARE, STRAY_GAP = 0.1, 0.25
# Slanted text: the ink's slant (x shift per pixel up) is the shear that best lines up
# its strokes' columns, tried over SLANT_RANGE; each font is also tried sheared by the
# observed slant less its own (an italic face leans already). On benchmarks/edit.py
# italics were otherwise matched to upright faces (monospace, serif) and redrawn upright,
# the commonest reason Tesseract could not read NEW. A shear smaller than MIN_SHEAR is
# noise; one must add SHEAR_GAIN of correlation over the same face upright to be taken.
SLANT_RANGE = (-0.5, 0.6, 0.02)
MIN_SHEAR, MAX_SHEAR = 0.06, 0.5
SHEAR_GAIN = 0.03
# Fonts are compared with both inks blurred by this share of the text height (pixels of
# misalignment between the measured and the drawn ink should cost little).
MATCH_TOLERANCE = 0.03
# The quad is turned to the ink's own axis when they differ by MIN_ to MAX_REFINE_ANGLE
# degrees and the word is at least MIN_REFINE_LENGTH text heights long; the new quad
# leaves QUAD_MARGIN of the ink's height around it, as detector quads do.
MIN_REFINE_ANGLE, MAX_REFINE_ANGLE, MIN_REFINE_LENGTH = 2.0, 25.0, 2.5
QUAD_MARGIN = 0.12
# An OLD not among the words read may match a reading this many edits per character
# away (letters and digits; see _closest_hits): one in 3-5 letters, two in 6-8.
FUZZY_EDITS = 1 / 3
_PUNCTUATION = string.punctuation + "\u2018\u2019\u201c\u201d"  # glued to a word, kept around NEW
# Lines within this many text heights of a hit take part in inferring its alignment.
ALIGN_NEIGHBOURHOOD = 10.0


# --- results ------------------------------------------------------------------------------


@dataclass
class Replacement:
    """One replacement made on a page."""

    old: str  # what was asked for (OLD)
    found: str  # the words as read, whole (e.g. "Date:" for OLD "date")
    new: str  # what was drawn in their place
    polygon: list  # the replaced words' quadrilateral, page pixels, clockwise from top-left
    font: str = ""
    font_size: float = 0.0  # pixels of the em square
    color: tuple = (0, 0, 0)
    align: str = "left"

    def to_dict(self) -> dict:
        return {
            "old": self.old, "found": self.found, "new": self.new,
            "polygon": [[round(float(x), 1), round(float(y), 1)] for x, y in self.polygon],
            "font": self.font, "font_size": round(float(self.font_size), 1),
            "color": "#%02x%02x%02x" % tuple(int(c) for c in self.color), "align": self.align,
        }


@dataclass
class EditResult:
    """One page edited: the new image, what was replaced, and which OLDs were not found."""

    page: Page
    image: np.ndarray
    replaced: list[Replacement] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.page.source

    @property
    def page_no(self) -> int:
        return self.page.page_no

    def to_dict(self) -> dict:
        return {"source": self.page.source, "page": self.page.page_no,
                "replaced": [r.to_dict() for r in self.replaced], "not_found": list(self.not_found)}


# --- the API ------------------------------------------------------------------------------


def parse_replacements(replace: Replacements) -> list[tuple[str, str]]:
    """``{"OLD": "NEW"}``, ``["OLD=NEW", ...]`` or ``[(OLD, NEW), ...]`` as ``(OLD, NEW)`` pairs.

    In the ``OLD=NEW`` form the first ``=`` splits; NEW may be empty (the text is erased).
    """
    if replace is None:
        raise UsageError(reason="nothing to replace: give at least one OLD=NEW")
    if isinstance(replace, str):
        replace = [replace]
    items = list(replace.items()) if isinstance(replace, dict) else list(replace)
    pairs = []
    for item in items:
        if isinstance(item, str):
            if "=" not in item:
                raise UsageError(reason=f"bad replacement {item!r}; use OLD=NEW, e.g. OPEN=CLOSED")
            old, new = item.split("=", 1)
        else:
            try:
                old, new = item
            except (TypeError, ValueError):
                raise UsageError(reason=f"bad replacement {item!r}; give (OLD, NEW) or 'OLD=NEW'") from None
        old, new = str(old), str(new)
        if not old.strip():
            raise UsageError(reason=f"bad replacement {item!r}: OLD is empty")
        if "\n" in new:
            raise UsageError(reason=f"bad replacement {item!r}: NEW must be one line")
        pairs.append((old, new))
    if not pairs:
        raise UsageError(reason="nothing to replace: give at least one OLD=NEW")
    return pairs


def edit_pages(
    engine: Engine,
    pages: Iterable[Page],
    replace: Replacements,
    *,
    match_case: bool = False,
    batch_size: int = 8,
) -> Iterator[EditResult]:
    """Yield an :class:`EditResult` per page: the text read, matched and replaced."""
    from ocromni.tasks.erase import READ_LONG_SIDE, detection_size

    pairs = parse_replacements(replace)
    for batch in batched(pages, batch_size):
        with detection_size(engine.model, READ_LONG_SIDE):  # see erase.READ_LONG_SIDE
            readings = engine.model.read(batch, recognize=True)
        # A backend with its own fill prompt (--model PATH) draws NEW's ink; see _network_coverage.
        network = engine.model if hasattr(engine.model, "fill_words") else None
        for page, reading in zip(batch, readings):
            image, replaced, not_found = edit_image(page.image, reading, pairs, match_case=match_case, network=network)
            yield EditResult(page, image, replaced, not_found)


def iter_edit(
    inputs, *, replace: Replacements, match_case: bool = False, pages: Optional[str] = None, dpi: int = 200,
    batch_size: int = 8, recursive: bool = False, max_pixels: Optional[int] = None,
    model: Optional[str] = None, device: Optional[str] = None, on_error=None, stdin=None,
) -> Iterator[EditResult]:
    """Yield an :class:`EditResult` per page of ``inputs``; see :func:`edit`."""
    from ocromni.io import sources

    pairs = parse_replacements(replace)  # a bad OLD=NEW fails before any input is read
    page_stream = sources.iter_pages(
        inputs, pages=pages, dpi=dpi, recursive=recursive, text_layer=False,
        max_pixels=max_pixels, on_error=on_error, stdin=stdin,
    )
    engine = get_engine(model, device)
    for result in edit_pages(engine, page_stream, pairs, match_case=match_case, batch_size=batch_size):
        yield result
        result.page.release()


def edit(inputs, replace: Replacements, **options) -> list[EditResult]:
    """Replace text in images, keeping its style; one :class:`EditResult` per page.

    replace: ``{"OPEN": "CLOSED"}`` or ``["OPEN=CLOSED", ...]``; words or phrases (over
        words of one line), case-insensitive unless ``match_case=True``.
    Other options as for :func:`ocromni.recognize` (pages, dpi, device, on_error, ...).
    """
    return list(iter_edit(inputs, replace=replace, **options))


# --- finding the words --------------------------------------------------------------------


@dataclass
class _Hit:
    old: str
    new: str  # with the matched words' unmatched prefix and suffix
    found: str
    line_index: int
    first: int  # word indices in the line, inclusive
    last: int
    quad: np.ndarray  # (4, 2) page pixels, clockwise from top-left


def _line_words(line: Line) -> list[Word]:
    return line.words or [Word(line.text, line.confidence, line.polygon)]


def _phrase_pattern(old: str, match_case: bool) -> re.Pattern:
    # Whole words only: no letter or digit may touch the match on either side, so "OPEN"
    # does not hit "REOPENED" but does hit "OPEN!".
    body = r"\s+".join(re.escape(token) for token in old.split())
    return re.compile(r"(?<![^\W_])" + body + r"(?![^\W_])", 0 if match_case else re.IGNORECASE)


def _follow_case(new: str, found: str) -> str:
    """NEW in the case of the text it replaces, when the user typed NEW without capitals."""
    if new != new.lower() or not any(c.isalpha() for c in found):
        return new
    letters = [c for c in found if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return new.upper()
    words = [w for w in found.split() if any(c.isalpha() for c in w)]
    if all(w[0].isupper() and w[1:] == w[1:].lower() for w in words):
        if len(words) > 1:  # Title Case
            return " ".join(w[:1].upper() + w[1:] for w in new.split(" "))
        return new[:1].upper() + new[1:]
    return new


def find_hits(lines: list[Line], pairs: list[tuple[str, str]], match_case: bool = False) -> tuple[list[_Hit], list[str]]:
    """Where each OLD occurs among the words of ``lines``; also the OLDs found nowhere.

    A word takes part in one replacement at most (the first OLD that claims it).
    """
    claimed: set[tuple[int, int]] = set()
    hits, not_found = [], []
    for old, new in pairs:
        pattern = _phrase_pattern(old, match_case)
        found_any = False
        for line_index, line in enumerate(lines):
            words = _line_words(line)
            starts, cursor = [], 0
            for word in words:
                starts.append(cursor)
                cursor += len(word.text) + 1
            text = " ".join(word.text for word in words)
            for match in pattern.finditer(text):
                inside = [i for i, s in enumerate(starts) if s < match.end() and s + len(words[i].text) > match.start()]
                if not inside or any((line_index, i) in claimed for i in inside):
                    continue
                first, last = inside[0], inside[-1]
                found = " ".join(w.text for w in words[first : last + 1])
                prefix = words[first].text[: max(0, match.start() - starts[first])]
                suffix = words[last].text[match.end() - starts[last] :]
                drawn = prefix + (new if match_case else _follow_case(new, match.group())) + suffix
                quad = np.array([words[first].polygon[0], words[last].polygon[1],
                                 words[last].polygon[2], words[first].polygon[3]], np.float64)
                hits.append(_Hit(old, drawn, found, line_index, first, last, quad))
                claimed.update((line_index, i) for i in inside)
                found_any = True
        if not found_any and not match_case:
            found_any = _closest_hits(lines, old, new, claimed, hits)
        if not found_any:
            not_found.append(old)
    return hits, not_found


def _letters_and_digits(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _closest_hits(lines: list[Line], old: str, new: str, claimed: set, hits: list) -> bool:
    """When OLD is nowhere among the words read, take the closest reading of it, if close.

    Recognition misreads a letter or two of stylised text ("Ofce" for a ligatured
    "Office", "Tichets"); the words within FUZZY_EDITS of OLD (letters and digits,
    any case, no longer than OLD; digits must all agree, so an amount never stands in
    for another) that are nearest to it are replaced, each named on stderr.
    """
    from rapidfuzz.distance import Levenshtein

    target = _letters_and_digits(old)
    allowed = int(len(target) * FUZZY_EDITS)
    if allowed < 1:
        return False
    digits = [c for c in target if c.isdigit()]
    count = len(old.split())
    candidates = []
    for line_index, line in enumerate(lines):
        words = _line_words(line)
        for first in range(len(words) - count + 1):
            span = range(first, first + count)
            if any((line_index, i) in claimed for i in span):
                continue
            found = " ".join(words[i].text for i in span)
            reading = _letters_and_digits(found)
            # Longer than OLD is OLD run into something else ("Laundryas": a strap's
            # stitching read on), and the quad would reach past the word.
            if len(reading) > len(target) or [c for c in reading if c.isdigit()] != digits:
                continue
            distance = Levenshtein.distance(target, reading, score_cutoff=allowed)
            if distance <= allowed:
                candidates.append((distance, line_index, first, first + count - 1, found))
    if not candidates:
        return False
    nearest = min(c[0] for c in candidates)
    for distance, line_index, first, last, found in candidates:
        if distance != nearest:
            continue
        words = _line_words(lines[line_index])
        core = found.strip(_PUNCTUATION)
        start = found.index(core) if core else len(found)
        drawn = found[:start] + _follow_case(new, core) + found[start + len(core) :]
        quad = np.array([words[first].polygon[0], words[last].polygon[1],
                         words[last].polygon[2], words[first].polygon[3]], np.float64)
        hits.append(_Hit(old, drawn, found, line_index, first, last, quad))
        claimed.update((line_index, i) for i in range(first, last + 1))
        log.warning("%r not found as read; replacing the closest reading, %r", old, found)
    return True


# --- editing one image --------------------------------------------------------------------


def edit_image(
    image: np.ndarray, reading: PageText, pairs: list[tuple[str, str]], *, match_case: bool = False, network=None
) -> tuple[np.ndarray, list[Replacement], list[str]]:
    """``image`` with each OLD of ``pairs`` replaced where ``reading`` found it.

    Returns the edited RGB image (a new array), what was replaced and the OLDs not found.
    network: a backend with a fill prompt (``fill_words``): it draws NEW's ink instead of
    the matched font, in the same place, colour and grain.
    """
    from ocromni.imaging.inpaint import inpaint
    from ocromni.imaging.masks import polygon_mask, quad_size, stroke_mask

    image = np.ascontiguousarray(image[..., :3]) if image.ndim == 3 else np.stack([image] * 3, -1)
    lines = reading.lines
    hits, not_found = find_hits(lines, pairs, match_case)
    if not hits:
        return image.copy(), [], not_found

    occupied = polygon_mask(image.shape, [line.polygon for line in lines], grow=2)
    hit_words = {(h.line_index, i) for h in hits for i in range(h.first, h.last + 1)}
    others = [w.polygon for li, line in enumerate(lines) for wi, w in enumerate(_line_words(line)) if (li, wi) not in hit_words]
    keep_out = polygon_mask(image.shape, others) if others else None

    # The old strokes of every hit, erased together (one inpaint keeps the fill of
    # neighbouring hits consistent).
    strokes = []
    for hit in hits:
        height = min(quad_size(hit.quad))
        mask = stroke_mask(image, [_widen(hit.quad, WORD_WIDEN * height)], occupied=occupied)
        mask = _close(mask, max(1, int(round(MASK_CLOSING * height))))
        if keep_out is not None:
            mask &= ~keep_out
        strokes.append(mask)
    erase_mask = np.logical_or.reduce(strokes)
    erased = inpaint(image, erase_mask)

    result = erased
    replaced = []
    for index, (hit, mask) in enumerate(zip(hits, strokes)):
        style = measure_style(image, mask, hit)
        align = _alignment(hit, lines)
        free = _free_span(hit, lines, style.frame)
        if hit.new.strip():
            result = _draw(result, hit.new, style, align, free, seed=index, network=network)
        replaced.append(Replacement(hit.old, hit.found, hit.new, hit.quad.tolist(), style.font.face.name,
                                    style.font_size, tuple(int(round(c)) for c in style.color), align))
        log.info("replaced %r with %r (%s, %.0f px, %s, colour %s)", hit.found, hit.new, style.font.face.name,
                 style.font_size, align, replaced[-1].to_dict()["color"])
    # Belt and braces for the promise: pixels that are neither old strokes nor new ink
    # are the input's own (the fill and the drawing already keep to those, bar rounding).
    changed = erase_mask | np.any(result != erased, axis=-1)
    return np.where(changed[..., None], result, image), replaced, not_found


def _close(mask: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    padded = np.pad(mask.astype(np.uint8), radius + 1)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, disk)[radius + 1 : -radius - 1, radius + 1 : -radius - 1]
    return closed > 0


def _widen(quad: np.ndarray, amount: float) -> np.ndarray:
    """A quad stretched by ``amount`` pixels at its left and right ends."""
    q = np.asarray(quad, np.float64).copy()
    for left, right in ((0, 1), (3, 2)):
        direction = q[right] - q[left]
        length = float(np.linalg.norm(direction))
        if length > 0:
            q[left] -= direction / length * amount
            q[right] += direction / length * amount
    return q


# --- the frame: a hit's quad rectified ------------------------------------------------


class Frame:
    """An upright rectangle the hit's quad maps onto, with room around it."""

    def __init__(self, quad: np.ndarray, image_shape):
        import cv2

        from ocromni.imaging.masks import quad_size

        quad = np.asarray(quad, np.float64)
        self.text_width, self.text_height = (max(v, 2.0) for v in quad_size(quad))
        self.pad_x = FRAME_PAD_X * self.text_height + 4
        self.pad_y = FRAME_PAD_Y * self.text_height + 4
        w, h = self.text_width, self.text_height
        target = np.array([[self.pad_x, self.pad_y], [self.pad_x + w, self.pad_y],
                           [self.pad_x + w, self.pad_y + h], [self.pad_x, self.pad_y + h]], np.float32)
        self.to_frame = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
        self.from_frame = np.linalg.inv(self.to_frame)
        self.size = (int(np.ceil(w + 2 * self.pad_x)), int(np.ceil(h + 2 * self.pad_y)))
        corners = np.array([[0, 0], [self.size[0], 0], [self.size[0], self.size[1]], [0, self.size[1]]], np.float64)
        back = self.points_to_image(corners)
        height, width = image_shape[:2]
        self.window = (max(int(np.floor(back[:, 0].min())) - 1, 0), max(int(np.floor(back[:, 1].min())) - 1, 0),
                       min(int(np.ceil(back[:, 0].max())) + 2, width), min(int(np.ceil(back[:, 1].max())) + 2, height))

    @property
    def text_box(self) -> tuple[float, float, float, float]:
        """The hit's quad in the frame: ``(x0, y0, x1, y1)``."""
        return self.pad_x, self.pad_y, self.pad_x + self.text_width, self.pad_y + self.text_height

    def points_to_frame(self, points) -> np.ndarray:
        return _apply(self.to_frame, points)

    def points_to_image(self, points) -> np.ndarray:
        return _apply(self.from_frame, points)

    def warp(self, image: np.ndarray, nearest: bool = False) -> np.ndarray:
        """Image pixels resampled into the frame."""
        import cv2

        flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        return cv2.warpPerspective(image, self.to_frame, self.size, flags=flags, borderMode=cv2.BORDER_REPLICATE)

    def unwarp(self, values: np.ndarray) -> np.ndarray:
        """Frame values resampled onto the image window (zero outside the frame)."""
        import cv2

        x0, y0, x1, y1 = self.window
        shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
        return cv2.warpPerspective(values, shift @ self.from_frame, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _apply(matrix: np.ndarray, points) -> np.ndarray:
    points = np.asarray(points, np.float64).reshape(-1, 2)
    mapped = np.c_[points, np.ones(len(points))] @ matrix.T
    return mapped[:, :2] / np.where(np.abs(mapped[:, 2:]) < 1e-9, 1e-9, mapped[:, 2:])


# --- measuring the old text's style ---------------------------------------------------


@dataclass
class TextStyle:
    """How the old text looks, in its frame."""

    frame: Frame
    font: "TextFont"  # noqa: F821  (ocromni.textdraw; the size is REFERENCE_SIZE)
    stroke: int  # pixels added to (removed from, when negative) each side of a stroke at REFERENCE_SIZE
    shear: float  # x shift per pixel above the baseline (italic, slanted lettering)
    scale_y: float  # frame pixels per reference pixel, vertically
    width_ratio: float  # horizontal over vertical scale: < 1 condensed, > 1 wide
    baseline: float  # frame y of the baseline
    ink: tuple[float, float, float, float]  # old ink box in the frame
    plain: tuple[float, float]  # frame x-range around the ink where the background is plain
    color: np.ndarray  # RGB at the ink's centre
    color_plane: np.ndarray  # (3, 3): RGB = a + b * x + c * y over frame pixels
    color_range: tuple[np.ndarray, np.ndarray]
    grain: float  # standard deviation of the ink's own colour, RGB units
    blur: float  # Gaussian sigma, frame pixels

    @property
    def font_size(self) -> float:
        return REFERENCE_SIZE * self.scale_y


def measure_style(image: np.ndarray, stroke_pixels: np.ndarray, hit: _Hit, quad: Optional[np.ndarray] = None,
                  refine: bool = True) -> TextStyle:
    """The style of the text under ``hit``: font, weight, size, colour, grain and blur.

    quad: the text's quadrilateral, when known better than the hit's. refine: when the
    ink's own baseline runs at an angle to the quad's (detectors round the angle of
    rotated words), measure again in a quad turned to the ink.
    """
    import cv2

    frame = Frame(hit.quad if quad is None else quad, image.shape)
    pixels = frame.warp(image)
    mask = frame.warp(stroke_pixels.astype(np.uint8), nearest=True) > 0
    h = frame.text_height
    bx0, by0, bx1, by1 = frame.text_box
    region = np.zeros(mask.shape, bool)
    region[max(int(by0 - MEASURE_REACH_Y * h), 0) : int(by1 + MEASURE_REACH_Y * h) + 1,
           max(int(bx0 - MEASURE_REACH_X * h), 0) : int(bx1 + MEASURE_REACH_X * h) + 1] = True

    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB).astype(np.float32)
    halo = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    background = region & ~halo
    if background.sum() < 10:
        background = region
    paper = np.median(lab[background], axis=0)
    # The background under the text, as a plane over the frame: a gradient or uneven
    # light would otherwise read as faint ink on its darker side.
    local_paper = _robust_plane(lab, background)
    within = region & mask
    if within.sum() < 10:
        within = region
    offset = lab - local_paper

    def project(ink_lab):
        # Each pixel's coverage by ink: its colour projected onto the line from the
        # background colour there to the ink colour (anti-aliased edges land in between).
        # Pixels far off that line (a star behind pink text, a leaf) are neither: 0.
        axis = ink_lab - local_paper
        length = np.maximum(np.linalg.norm(axis, axis=-1), 1.0)
        along = (offset * axis).sum(-1) / length**2
        across = np.linalg.norm(offset - along[..., None] * axis, axis=-1)
        on_line = across < np.maximum(OFF_LINE * length, MIN_OFF_LINE)
        span = max(float(np.linalg.norm(ink_lab - paper)), 1.0)
        return np.where(on_line, along, 0.0).astype(np.float32) * region, span

    middle = np.zeros(mask.shape, bool)
    middle[int(by0 + 0.15 * h) : int(by1 - 0.15 * h) + 1, int(bx0) : int(bx1) + 1] = True
    quad_box = np.zeros(mask.shape, bool)
    quad_box[int(by0) : int(by1) + 1, int(bx0) : int(bx1) + 1] = True

    def ink_of(ink_lab):
        along, span = project(ink_lab)
        # The cluster's centre mixes strokes with their edges; thin or blurred strokes
        # reach their true colour only in their middles, the deepest pixels of the ink.
        first_ink = within & (along > 0.5)
        if first_ink.sum() >= 10:
            deepest = first_ink & (along >= np.percentile(along[first_ink], INK_DEPTH_PERCENTILE))
            along, span = project(np.median(lab[deepest], axis=0))
        ink = _drop_strays(_drop_specks(within & (along > 0.5), h))
        if ink.sum() < 4:  # nothing stands out: take the quad's middle as the ink
            ink = np.zeros_like(ink)
            ink[int(by0 + 0.2 * h) : int(by1 - 0.2 * h) + 1, int(bx0) : int(bx1) + 1] = True
        return along, span, ink

    candidates = [ink_of(c) for c in _ink_clusters(lab, middle, region & ~quad_box, paper)[:MAX_INK_CANDIDATES]]
    if len(candidates) > 1:
        # Several colours could be the text's (a grey fork behind cyan letters): the one
        # whose ink looks most like the recognised text set in the default font wins.
        fits = [_match_font(hit.found, ink, np.clip(along, 0, 1), _ink_bounds(ink, frame), slants=False,
                            font_names=(DEFAULT_MATCH_FONT,))[0] for along, _, ink in candidates]
        candidates = [candidates[int(np.argmax(fits))]]
    along, span, ink = candidates[0]
    coverage = np.clip(along, 0, 1)
    # The ink's own colour (plane and grain) is read from its deepest pixels: thin or
    # blurred strokes mix with the background everywhere else.
    core = ink & (along >= np.percentile(along[ink], CORE_PERCENTILE)) if ink.sum() >= 50 else ink
    ys, xs = np.nonzero(ink)
    if refine:
        turned = _ink_aligned_quad(xs, ys, h)
        if turned is not None:
            return measure_style(image, stroke_pixels, hit, frame.points_to_image(turned), refine=False)
    box = _ink_bounds(ink, frame)
    _, font, stroke, shear, scale_y, width_ratio, baseline, blur = _match_font(hit.found, ink, coverage, box)
    colour, plane, colour_range, grain = _ink_colour(pixels, core)
    plain = _plain_span(np.linalg.norm(offset, axis=-1) < 0.5 * span, box)
    return TextStyle(frame, font, stroke, shear, scale_y, width_ratio, baseline, box, plain, colour, plane,
                     colour_range, grain, blur)


def _robust_plane(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``values`` (H x W x C) fitted by a plane in x and y over the ``where`` pixels, outliers dropped."""
    ys, xs = np.nonzero(where)
    samples = values[where].astype(np.float64)
    if len(samples) < 30:
        return np.broadcast_to(np.median(samples, axis=0), values.shape).astype(np.float32)
    design = np.c_[np.ones(len(xs)), xs, ys]
    keep = np.ones(len(samples), bool)
    for _ in range(2):  # fit, drop what the plane does not explain (texture, stray text), fit again
        plane, *_ = np.linalg.lstsq(design[keep], samples[keep], rcond=None)
        error = np.linalg.norm(samples - design @ plane, axis=1)
        keep = error <= max(2.0 * float(np.median(error)), 2.0)
    grid_y, grid_x = np.mgrid[0 : values.shape[0], 0 : values.shape[1]].astype(np.float32)
    return (plane[0] + grid_x[..., None] * plane[1] + grid_y[..., None] * plane[2]).astype(np.float32)


def _ink_bounds(ink: np.ndarray, frame: Frame) -> tuple[float, float, float, float]:
    """The ink's box in the frame; the quad's middle when the ink is implausibly tall."""
    ys, xs = np.nonzero(ink)
    h = frame.text_height
    if len(xs) == 0 or np.ptp(ys) + 1 > MAX_INK_HEIGHT * h:  # not this text's ink
        bx0, by0, bx1, by1 = frame.text_box
        return bx0, by0 + 0.1 * h, bx1, by1 - 0.1 * h
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _ink_aligned_quad(xs: np.ndarray, ys: np.ndarray, text_height: float) -> Optional[np.ndarray]:
    """A frame quad around the ink along its principal axis, if that is turned from the frame's.

    Only for words long enough (several heights) for the axis to be the baseline's.
    """
    if len(xs) < 50 or np.ptp(xs) < MIN_REFINE_LENGTH * text_height:
        return None
    points = np.c_[xs, ys].astype(np.float64)
    centre = points.mean(0)
    covariance = np.cov((points - centre).T)
    angle = 0.5 * np.arctan2(2 * covariance[0, 1], covariance[0, 0] - covariance[1, 1])
    if not np.radians(MIN_REFINE_ANGLE) <= abs(angle) <= np.radians(MAX_REFINE_ANGLE):
        return None
    along = np.array([np.cos(angle), np.sin(angle)])
    across = np.array([-np.sin(angle), np.cos(angle)])
    u, v = (points - centre) @ along, (points - centre) @ across
    margin = QUAD_MARGIN * (np.ptp(v) + 1)
    u0, u1, v0, v1 = u.min() - margin, u.max() + 1 + margin, v.min() - margin, v.max() + 1 + margin
    return np.array([centre + along * a + across * b for a, b in ((u0, v0), (u1, v0), (u1, v1), (u0, v1))])


def _ink_clusters(lab: np.ndarray, inside: np.ndarray, around: np.ndarray, paper: np.ndarray) -> list[np.ndarray]:
    """Candidates for the text's colour (CIELAB), likeliest first.

    k-means splits the pixels of the quad and the band around it into a few colours; the
    text's is far enough from the background and fills more of the quad's middle than
    of the band around it (the background's colours are in both).
    """
    import cv2

    samples = lab[inside | around]
    if len(samples) < 40:
        return [samples[np.argmax(np.linalg.norm(samples - paper, axis=1))]]
    step = max(1, len(samples) // MAX_CLUSTER_SAMPLES)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(samples[::step].astype(np.float32), INK_CLUSTERS, None, criteria, 1, cv2.KMEANS_PP_CENTERS)

    def shares(pixels):
        nearest = np.argmin(((pixels[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        return np.bincount(nearest, minlength=len(centres)) / max(len(pixels), 1)

    excess = shares(lab[inside]) - shares(lab[around])
    distances = np.linalg.norm(centres - paper, axis=1)
    scores = excess * np.minimum(distances, 4 * MIN_INK_CONTRAST) * (distances > MIN_INK_CONTRAST)
    if scores.max() <= 0:
        return [centres[int(np.argmax(distances))]]
    order = np.argsort(-scores)
    return [centres[i] for i in order if scores[i] > 0]


def _drop_strays(ink: np.ndarray) -> np.ndarray:
    """``ink`` without small components off the band of its large ones (see STRAY_SHARE)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if count <= 2:
        return ink
    areas = stats[1:, cv2.CC_STAT_AREA]
    top, bottom = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_TOP] + stats[1:, cv2.CC_STAT_HEIGHT]
    large = areas >= STRAY_SHARE * areas.max()
    band_top, band_bottom = top[large].min(), bottom[large].max()
    gap = STRAY_GAP * (band_bottom - band_top)
    stray = ~large & ((top >= band_bottom) | (bottom < band_top - gap))
    if not stray.any():
        return ink
    return ink & ~np.isin(labels, 1 + np.flatnonzero(stray))


def _drop_specks(ink: np.ndarray, text_height: float) -> np.ndarray:
    """``ink`` without connected specks too small to be part of a glyph."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if count <= 2:
        return ink
    keep = stats[:, cv2.CC_STAT_AREA] >= max(3.0, SPECK * text_height**2)
    keep[0] = False
    return keep[labels]


def _plain_span(like_background: np.ndarray, box) -> tuple[float, float]:
    """Frame x-range, outward from the ink box, over which the text's band is plain background."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    share = like_background[y0:y1].mean(axis=0) if y1 > y0 else np.ones(like_background.shape[1])
    plain = share >= PLAIN_SHARE
    right = x1
    while right < len(plain) and plain[right]:
        right += 1
    left = x0
    while left > 0 and plain[left - 1]:
        left -= 1
    return float(left), float(right)


def _ink_colour(pixels: np.ndarray, core: np.ndarray):
    """The ink's colour: a plane over the frame (robust least squares) and its spread."""
    ys, xs = np.nonzero(core)
    values = pixels[core].astype(np.float64)
    design = np.c_[np.ones(len(xs)), xs, ys]
    plane = np.zeros((3, 3))
    plane[0] = np.median(values, axis=0)
    if len(values) >= 30 and np.ptp(xs) > 2:
        keep = np.ones(len(values), bool)
        for _ in range(2):  # fit, drop the outliers (specks, stray pixels), fit again
            plane, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
            error = np.linalg.norm(values - design @ plane, axis=1)
            keep = error <= max(2.5 * float(np.median(error)), 3.0)
    residual = values - design @ plane
    centre = np.array([1, xs.mean(), ys.mean()]) @ plane
    grain = float(min(np.median(np.abs(residual)) * 1.4826, MAX_GRAIN)) if len(values) >= 30 else 0.0
    low, high = np.percentile(values, 10, axis=0), np.percentile(values, 90, axis=0)
    return centre, plane, (low, high), grain


def _edge_share(coverage: np.ndarray) -> float:
    """Part-covered pixels per solidly covered one: grows with the blur of the edges."""
    solid = float((coverage > 0.5).sum())
    return float(((coverage > 0.15) & (coverage < 0.85)).sum()) / max(solid, 1.0)


def _ink_box(coverage: np.ndarray) -> Optional[tuple[int, int, int, int]]:
    ys, xs = np.nonzero(coverage > 127)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() + 1), int(ys.max() + 1)


@functools.lru_cache(maxsize=64)
def _text_coverage(text: str, font, stroke: int) -> tuple[np.ndarray, tuple[float, float]]:
    """:func:`ocromni.textdraw.text_coverage`, remembered: matching a font sets the same
    text at the same weight once upright and once slanted (callers never write to it)."""
    from ocromni.textdraw import text_coverage

    return text_coverage(text, font, stroke)


def shaped_coverage(text: str, font, stroke: int, shear: float) -> tuple[np.ndarray, tuple[float, float]]:
    """``text`` set in ``font`` (bolder by ``stroke``, slanted by ``shear``): coverage and pen origin."""
    import cv2

    drawn, origin = _text_coverage(text, font, max(stroke, 0))
    if stroke < 0:  # lighter than the face: every stroke eroded by -stroke pixels a side
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (1 - 2 * stroke, 1 - 2 * stroke))
        drawn = cv2.erode(drawn, disk)
    if not shear:
        return drawn, origin
    height, width = drawn.shape
    extra = int(np.ceil(abs(shear) * height)) + 1
    # x' = x + shear * (baseline - y): strokes lean right above the baseline for shear > 0.
    matrix = np.array([[1, -shear, shear * origin[1] + extra], [0, 1, 0]], np.float64)
    slanted = cv2.warpAffine(drawn, matrix, (width + 2 * extra, height), flags=cv2.INTER_LINEAR, borderValue=0)
    return slanted, (origin[0] + extra, origin[1])


def _ink_slant(ink: np.ndarray) -> float:
    """The slant of the strokes in a boolean ink image (x shift per pixel up; > 0 leans right).

    The shear that, undone, stacks the ink into the fewest, fullest columns: upright
    strokes project onto sharp peaks, slanted ones smear across columns.
    """
    ys, xs = np.nonzero(ink)
    if len(xs) < 30 or np.ptp(ys) < 4:
        return 0.0
    shears = np.arange(*SLANT_RANGE)
    scale = 40.0 / np.ptp(ys)  # the same resolution whatever the size, so scores compare
    xs, ys = xs * scale, ys * scale
    shifted = np.round(xs[None] - shears[:, None] * (ys.max() - ys[None])).astype(np.int64)
    shifted -= shifted.min()
    width = int(shifted.max()) + 1
    columns = np.bincount((np.arange(len(shears))[:, None] * width + shifted).ravel(), minlength=len(shears) * width)
    scores = (columns.reshape(len(shears), width).astype(np.float64) ** 2).sum(1)
    return float(shears[int(np.argmax(scores))])


def _match_font(text: str, ink: np.ndarray, coverage: np.ndarray, box, *, slants: bool = True,
                font_names: Optional[Sequence[str]] = None):
    """The shipped font, weight and slant that best redraw ``text`` over the observed ink.

    Each candidate is set at REFERENCE_SIZE and its ink box stretched onto the observed
    one. The weight is the one whose share of inked pixels matches the observed share
    (that needs no alignment, so thin strokes a pixel off still read as thin); fonts and
    slants are compared by the correlation of the two inks, both blurred a little so a
    pixel of misalignment costs little. The winner's scale gives the size, its stretch
    the width, and the blur that best matches the observed edges is chosen.

    Returns ``(score, font, stroke, shear, scale_y, width_ratio, baseline, blur)``.
    """
    import cv2

    from ocromni.fonts import list_fonts, resolve_font
    from ocromni.textdraw import TextFont

    x0, y0, x1, y1 = (int(round(v)) for v in box)
    width, height = max(x1 - x0, 1), max(y1 - y0, 1)
    observed = ink[y0:y1, x0:x1].astype(np.float32)
    density = float(observed.mean())
    tolerance = max(1.0, MATCH_TOLERANCE * height)
    smooth = lambda values: cv2.GaussianBlur(np.pad(values, 4), (0, 0), tolerance)  # noqa: E731
    target = smooth(observed)
    target = (target - target.mean()) / max(float(target.std()), 1e-6)

    def candidate(font, stroke, shear):
        drawn, origin = shaped_coverage(text, font, stroke, shear)
        ref_box = _ink_box(drawn)
        if ref_box is None:
            return None
        rx0, ry0, rx1, ry1 = ref_box
        predicted = cv2.resize(drawn[ry0:ry1, rx0:rx1].astype(np.float32) / 255, (width, height), interpolation=cv2.INTER_AREA)
        scale_y = height / (ry1 - ry0)
        width_ratio = (width / (rx1 - rx0)) / scale_y
        baseline = y0 + (origin[1] - ry0) * scale_y
        return [0.0, font, stroke, shear, scale_y, width_ratio, baseline, predicted]

    def correlation(found) -> float:
        soft = smooth((found[7] > 0.5).astype(np.float32))
        return float(((soft - soft.mean()) / max(float(soft.std()), 1e-6) * target).mean())

    def weighted(font, shear):
        """The font at the stroke whose ink share matches the observed, scored."""
        weights = [c for c in (candidate(font, stroke, shear) for stroke in WEIGHT_STROKES) if c is not None]
        if not weights:
            return None
        found = min(weights, key=lambda c: abs(float((c[7] > 0.5).mean()) - density))
        found[0] = correlation(found)
        return found

    observed_slant = _ink_slant(observed > 0.5) if slants else 0.0
    best = None
    for name in font_names or [info.name for info in list_fonts()]:
        font = TextFont(resolve_font(name), REFERENCE_SIZE)
        upright = weighted(font, 0.0)
        if upright is None:
            continue
        found = upright
        if slants and abs(observed_slant) >= MIN_SHEAR:  # upright text is matched upright
            drawn, _ = shaped_coverage(text, font, 0, 0.0)
            shear = float(np.clip(observed_slant - _ink_slant(drawn > 127), -MAX_SHEAR, MAX_SHEAR))
            if abs(shear) >= MIN_SHEAR:
                sheared = weighted(font, shear)
                # A slant must earn its place: noise alone moves the score a little.
                if sheared is not None and sheared[0] > upright[0] + SHEAR_GAIN:
                    found = sheared
        if best is None or found[0] > best[0]:
            best = found
    if best is None:  # nothing drawable (the text is all spaces or unknown glyphs)
        font = TextFont(resolve_font(None), REFERENCE_SIZE)
        scale_y = height / (0.72 * REFERENCE_SIZE)
        return -1.0, font, 0, 0.0, scale_y, 1.0, float(y1), 0.0
    score, font, stroke, shear, scale_y, width_ratio, baseline, predicted = best
    # Blur: the sigma whose share of part-covered (edge) pixels matches the observed
    # one; a share, not a pixelwise error, so a pixel of misalignment does not read as blur.
    observed_share = _edge_share(coverage[y0:y1, x0:x1])
    padded = np.pad(predicted, 4)
    errors = []
    for sigma in BLUR_SIGMAS:
        blurred = cv2.GaussianBlur(padded, (0, 0), sigma)[4:-4, 4:-4] if sigma > 0 else predicted
        errors.append(abs(_edge_share(blurred) - observed_share))
    blur = BLUR_SIGMAS[int(np.argmin(errors))]
    return score, font, stroke, shear, scale_y, width_ratio, baseline, blur


# --- placing and drawing NEW ------------------------------------------------------------


def _alignment(hit: _Hit, lines: list[Line]) -> str:
    """left, center or right: how the replaced words sit among their neighbours."""
    words = _line_words(lines[hit.line_index])
    before, after = hit.first > 0, hit.last < len(words) - 1
    if before and after:
        return "center"
    if before:
        return "left"  # the tail of a line: text flows on from what precedes it
    if after:
        return "right"
    # A whole line: which of its edges or its centre lines up with other lines nearby.
    frame_points = lambda polygon: _apply(_upright(hit.quad), polygon)  # noqa: E731
    own = frame_points(hit.quad)
    left, right = own[:, 0].min(), own[:, 0].max()
    top, bottom = own[:, 1].min(), own[:, 1].max()
    height = bottom - top
    votes = {"left": 0, "center": 0, "right": 0}
    for index, line in enumerate(lines):
        if index == hit.line_index:
            continue
        other = frame_points(line.polygon)
        other_height = other[:, 1].max() - other[:, 1].min()
        if not 0.5 * height <= other_height <= 2.0 * height:
            continue
        if abs(other[:, 1].mean() - (top + bottom) / 2) > ALIGN_NEIGHBOURHOOD * height:
            continue
        o_left, o_right = other[:, 0].min(), other[:, 0].max()
        tolerance = 0.5 * height
        votes["left"] += abs(o_left - left) < tolerance
        votes["right"] += abs(o_right - right) < tolerance
        votes["center"] += abs((o_left + o_right) - (left + right)) / 2 < tolerance
    best = max(votes.values())
    if best == 0:
        return "center"  # a lone line (a sign, a title): keep its middle
    for name in ("left", "right", "center"):
        if votes[name] == best:
            return name
    return "center"


def _upright(quad: np.ndarray) -> np.ndarray:
    """A similarity transform taking the quad's baseline direction to +x."""
    q = np.asarray(quad, np.float64)
    direction = (q[1] - q[0]) + (q[2] - q[3])
    angle = np.arctan2(direction[1], direction[0])
    c, s = np.cos(-angle), np.sin(-angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], np.float64)


def _free_span(hit: _Hit, lines: list[Line], frame: Frame) -> tuple[float, float]:
    """Frame x-range the new text may use: up to the nearest other words on the hit's band."""
    bx0, by0, bx1, by1 = frame.text_box
    h = frame.text_height
    low, high = 0.0, float(frame.size[0])
    for line_index, line in enumerate(lines):
        for word_index, word in enumerate(_line_words(line)):
            if line_index == hit.line_index and hit.first <= word_index <= hit.last:
                continue  # the hit's own words
            points = frame.points_to_frame(word.polygon)
            overlap = min(points[:, 1].max(), by1) - max(points[:, 1].min(), by0)
            if overlap < 0.3 * h:
                continue
            if points[:, 0].max() <= (bx0 + bx1) / 2:
                low = max(low, points[:, 0].max() + NEIGHBOUR_GAP * h)
            else:
                high = min(high, points[:, 0].min() - NEIGHBOUR_GAP * h)
    return low, high


def _draw(canvas: np.ndarray, text: str, style: TextStyle, align: str, free: tuple[float, float], seed: int,
          network=None) -> np.ndarray:
    """``canvas`` with ``text`` drawn in ``style`` into the style's frame (by ``network``'s fill prompt if given)."""
    import cv2

    from ocromni.textdraw import TextFont

    frame = style.frame
    render_size = max(REFERENCE_SIZE, int(round(style.font_size)))
    font = TextFont(style.font.face, render_size)
    drawn, origin = shaped_coverage(text, font, int(round(style.stroke * render_size / REFERENCE_SIZE)), style.shear)
    ref_box = _ink_box(drawn)
    if ref_box is None:
        return canvas
    rx0, ry0, rx1, ry1 = ref_box
    per_render_px = style.font_size / render_size  # frame pixels per rendered pixel, vertically
    natural = (rx1 - rx0) * per_render_px * style.width_ratio

    x0, _, x1, _ = style.ink
    old_width = x1 - x0
    grow = max(GROW_SHARE * old_width, GROW_HEIGHTS * frame.text_height)
    free_low, free_high = max(free[0], style.plain[0]), min(free[1], style.plain[1])
    if align == "left":
        room = min(free_high, x1 + grow) - x0
    elif align == "right":
        room = x1 - max(free_low, x0 - grow)
    else:
        side = min(x0 - max(free_low, x0 - grow / 2), min(free_high, x1 + grow / 2) - x1)
        room = old_width + 2 * max(side, 0.0)
    room = max(room, old_width)
    squeeze = min(1.0, room / max(natural, 1e-6))
    shrink = min(1.0, squeeze / MIN_CONDENSE)  # condensing alone would go too far: smaller too
    scale_x = per_render_px * style.width_ratio * squeeze
    scale_v = per_render_px * shrink
    width = natural * squeeze

    if align == "left":
        left = x0
    elif align == "right":
        left = x1 - width
    else:
        left = (x0 + x1) / 2 - width / 2
    # Keep the baseline: the rendered origin's row maps onto the measured baseline.
    top = style.baseline - (origin[1] - ry0) * scale_v

    # An affine map from rendered pixels to frame pixels, then the frame to the image.
    place = np.array([[scale_x, 0, left - rx0 * scale_x], [0, scale_v, top - ry0 * scale_v]], np.float64)
    coverage = cv2.warpAffine(drawn.astype(np.float32) / 255, place, frame.size, flags=cv2.INTER_AREA
                              if min(scale_x, scale_v) < 1 else cv2.INTER_LINEAR, borderValue=0)
    if style.blur > 0:
        coverage = cv2.GaussianBlur(coverage, (0, 0), style.blur)
    if network is not None:
        coverage = _network_coverage(network, canvas, text, style, coverage)
    ys, xs = np.mgrid[0 : frame.size[1], 0 : frame.size[0]].astype(np.float32)
    colour = np.stack([style.color_plane[0, c] + style.color_plane[1, c] * xs + style.color_plane[2, c] * ys
                       for c in range(3)], -1)
    low, high = style.color_range
    colour = np.clip(colour, low, high).astype(np.float32)
    if style.grain > 0:
        rng = np.random.default_rng(seed)
        colour += rng.normal(0, style.grain, colour.shape[:2]).astype(np.float32)[..., None]

    alpha = frame.unwarp(coverage)
    paint = frame.unwarp(colour)
    wx0, wy0, wx1, wy1 = frame.window
    result = canvas.copy()
    under = result[wy0:wy1, wx0:wx1].astype(np.float32)
    touched = alpha > 1 / 512
    blended = under * (1 - alpha[..., None]) + paint * alpha[..., None]
    window = result[wy0:wy1, wx0:wx1]
    window[touched] = np.clip(blended[touched] + 0.5, 0, 255).astype(np.uint8)
    return result


# --- NEW drawn by the model's own fill prompt (--model PATH) -------------------------------

# The fill crop around NEW's box, as in the network's training pictures (see
# ocromni/models/harmony/data.py): the box fills most of the crop's height, the word
# starts a few pixels (of 32) from the left edge, the crop is four heights wide.
FILL_MARGIN_Y = 0.12  # of the box's height, above and below
FILL_MARGIN_X = 4 / 32  # of the crop's height, left of the box
FILL_ASPECT = 4.0
# A network answer's ink is measured against the span from its ground to its inkiest
# pixels, at least this many grey levels (a blank answer then stays blank).
MIN_INK_SPAN = 32.0
# The answer's ground in a column: this percentile of its values (ink covers less than
# the rest of a column in most letters), smoothed over this many columns.
GROUND_PERCENTILE, GROUND_SMOOTH = 30, 9


def _network_coverage(network, canvas: np.ndarray, text: str, style: TextStyle, font_coverage: np.ndarray) -> np.ndarray:
    """NEW's ink coverage in the frame, drawn by ``network.fill_words`` where the font would have put it.

    The box is the font layout's ink columns over the old quad's rows; the crop around it
    (of the canvas, old text already erased) goes to the network with the box masked and
    NEW as the prompt. Its answer's pixels inside the box that depart from the answer's
    own ground towards the ink's side (darker or lighter than the background, as the
    measured colour says) are the coverage; the colour, grain and blending stay those of
    the measured style.
    """
    frame = style.frame
    columns = np.flatnonzero(font_coverage.max(axis=0) > 0.25)
    if columns.size == 0:
        return font_coverage
    _, ty0, _, ty1 = frame.text_box
    margin = FILL_MARGIN_Y * (ty1 - ty0)
    frame_w, frame_h = frame.size
    cy0, cy1 = max(int(np.floor(ty0 - margin)), 0), min(int(np.ceil(ty1 + margin)), frame_h)
    crop_h = cy1 - cy0
    bx0, bx1 = int(columns[0]), int(columns[-1]) + 1
    cx0 = max(int(round(bx0 - FILL_MARGIN_X * crop_h)), 0)
    cx1 = min(max(int(round(cx0 + FILL_ASPECT * crop_h)), bx1 + 1), frame_w)
    by0, by1 = int(np.floor(ty0)), int(np.ceil(ty1))
    crop = frame.warp(canvas)[cy0:cy1, cx0:cx1]
    box = (bx0 - cx0, by0 - cy0, bx1 - cx0, by1 - cy0)
    (answer,) = network.fill_words([crop], [box], [text])
    from ocromni.models.harmony.pixels import to_grey as luma

    outside = np.ones(crop.shape[:2], bool)
    outside[box[1]:box[3], box[0]:box[2]] = False
    ground_luma = float(np.median(luma(crop)[outside])) if outside.any() else float(np.median(luma(crop)))
    ink_side = 1.0 if float(luma(style.color)) > ground_luma else -1.0
    inside = answer[box[1]:box[3], box[0]:box[2]] * ink_side
    # The answer's ground drifts across the box (the network draws it too): each column's
    # least inky rows, smoothed along the word, are the ground there.
    ground = np.percentile(inside, GROUND_PERCENTILE, axis=0)
    ground = np.convolve(np.pad(ground, GROUND_SMOOTH // 2, mode="edge"), np.ones(GROUND_SMOOTH) / GROUND_SMOOTH, "valid")
    ground = ground[: inside.shape[1]][None]
    span = max(float(np.percentile(inside - ground, 99)), MIN_INK_SPAN)
    coverage = np.zeros_like(font_coverage)
    coverage[by0:by1, bx0:bx1] = np.clip((inside - ground) / span, 0.0, 1.0)
    return coverage
