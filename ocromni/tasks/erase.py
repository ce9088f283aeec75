"""erase: remove text from images, all of it or only what a pattern, boxes or a mask select.

The pipeline per page: find the text (detector quads; recognised words when ``match`` is
given), narrow it to what the user selected, mask the strokes inside each selected
region (``ocromni.imaging.masks``), and fill the mask from the surroundings
(``ocromni.imaging.inpaint``). Then the detector looks at the result once more: what it
still finds over an erased region (an outline or shadow the stroke mask left) is filled
whole, and, when all text is being erased, text it finds elsewhere (faint or crowded
text the first look missed) is erased too. Pixels outside the mask never change.
"""

from __future__ import annotations

import re
from contextlib import contextmanager, nullcontext
from typing import Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from ocromni.engine import Engine, batched, get_engine
from ocromni.errors import UsageError
from ocromni.imaging.inpaint import inpaint
from ocromni.imaging.masks import polygon_mask, quad_size, stroke_mask
from ocromni.types import Line, Page

Box = Sequence[float]  # (x0, y0, x1, y1) in page pixels
MaskInput = Union[str, "np.ndarray", None]

# Word polygons come from the recogniser's character positions and may clip a word's
# outer strokes; they are widened by this share of the line's height before masking
# (the stroke mask only takes what stands out from the background).
WORD_WIDEN = 0.15
# The check after the fill: a detection on the erased image sharing at least this share of
# its area with an erased region is what the stroke mask left (outlines, shadows, glows);
# it is filled whole, grown by this share of its height. On benchmarks/erase.py this pass
# brought the text still detected after erasing from 15-23% to 2-4% of what was there,
# and raised PSNR inside the text by 0.2-0.9 dB; it costs a second detection.
LEFTOVER_OVERLAP = 0.3
LEFTOVER_GROW = 0.15
# Where words are read (erase --match, edit), the detector works with the page's long
# side at most this many pixels. The shared default, 1600, is for small print: it
# enlarges a 1024x768 photo 1.56x, and there costs 1.2 CPU-seconds against 0.49 at 1280.
# On benchmarks/edit.py 1280 made the same replacements as 1600 (22 of 24 read back);
# 1024 lost 2 more (lines merged or clipped, so OLD was misread). Detection alone keeps
# the default: erasing's look after the fill at 1024 or 1280 left 11-15% of the text on
# the posters of benchmarks/erase.py to a detector at 1600, against 3.8%.
READ_LONG_SIDE = 1280


def erase_pages(
    engine: Engine,
    pages: Iterable[Page],
    *,
    match: Optional[Union[str, re.Pattern]] = None,
    boxes: Optional[Sequence[Box]] = None,
    mask: MaskInput = None,
    batch_size: int = 8,
) -> Iterator[tuple[Page, np.ndarray, np.ndarray, int]]:
    """Yield ``(page, erased RGB image, mask used (uint8, 255 = filled), regions erased)``.

    match: a regular expression searched in each recognised line and in each word;
        only the words a match touches are erased. Without it all detected text is.
    boxes: ``(x0, y0, x1, y1)`` page regions; only pixels inside them change.
    mask: an image path or array, non-zero (or opaque) where erasing is allowed; only
        pixels inside it change, and parts of it holding no detected text are filled
        whole (so a hand-drawn mask over text the detector missed still works).
    """
    pattern = _compile(match)
    boxes = [_check_box(box) for box in boxes or []]
    user_mask = load_mask(mask) if mask is not None else None
    for batch in batched(pages, batch_size):
        readings = None
        if pattern is not None:
            with detection_size(engine.model, READ_LONG_SIDE):
                readings = engine.model.read(batch, recognize=True)
        for index, page in enumerate(batch):
            image = page.image
            if pattern is not None:
                lines = readings[index].lines
                targets, keep_out = _matching_words(lines, pattern, image.shape)
                occupied = polygon_mask(image.shape, [line.polygon for line in lines], grow=2)
            else:
                targets, keep_out, occupied = detect_text(engine.model, image), None, None
            allowed = _allowed_region(image.shape, boxes, user_mask, page)
            erased, used, count = erase_regions(image, targets, allowed=allowed, keep_out=keep_out, occupied=occupied)
            if count:
                erased, used, found = erase_leftovers(
                    engine.model, image, erased, used, targets,
                    allowed=allowed, keep_out=keep_out, new_text=pattern is None,
                )
                count += found
            if allowed is not None and user_mask is not None:
                erased, used, count = _fill_empty_mask_parts(erased, used, count, allowed)
            if count and hasattr(engine.model, "erase_words"):  # a backend that erases pictures itself
                erased = erase_with_network(engine.model, image, erased, used, targets)
            yield page, erased, used, count


def erase_regions(
    image: np.ndarray,
    polygons: list,
    *,
    allowed: Optional[np.ndarray] = None,
    keep_out: Optional[np.ndarray] = None,
    occupied: Optional[np.ndarray] = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Erase the text inside ``polygons`` of an RGB image: ``(image, mask uint8, regions)``.

    allowed: only these pixels may change (boxes, a user mask). keep_out: pixels that
    must not change (text the user did not select). occupied: other text, kept out of
    the background samples.
    """
    polygons = [np.asarray(p, np.float32) for p in polygons]
    if allowed is not None:
        polygons = [p for p in polygons if polygon_mask(image.shape, [p])[allowed].any()]
    mask = np.zeros(image.shape[:2], bool)
    count = 0
    if polygons:
        mask = stroke_mask(image, polygons, occupied=occupied)
        if keep_out is not None:
            mask &= ~keep_out
        if allowed is not None:
            mask &= allowed
        count = sum(1 for p in polygons if mask[polygon_mask(image.shape, [p])].any())
    erased = inpaint(image, mask) if mask.any() else image.copy()
    return erased, mask.astype(np.uint8) * 255, count


def erase_leftovers(
    model,
    image: np.ndarray,
    erased: np.ndarray,
    mask: np.ndarray,
    polygons: list,
    *,
    allowed: Optional[np.ndarray] = None,
    keep_out: Optional[np.ndarray] = None,
    new_text: bool = True,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Detect text on ``erased`` and erase what is still there: ``(image, mask uint8, new regions)``.

    image: the input before erasing; mask: the mask ``erased`` was filled in (255 = filled);
    polygons: the regions erased. A detection over an erased region is filled whole (grown
    by LEFTOVER_GROW of its height); one elsewhere is new text, erased by its strokes when
    ``new_text`` and left alone otherwise (``match`` erases only the words it selects).
    allowed / keep_out restrict the pixels that may change, as in :func:`erase_regions`.
    """
    found = detect_text(model, erased)
    if not found:
        return erased, mask, 0
    erased_regions = polygon_mask(image.shape, polygons, grow=2)
    extra = np.zeros(image.shape[:2], bool)
    fresh = []
    for quad in found:
        area = polygon_mask(image.shape, [quad])
        if (area & erased_regions).sum() >= LEFTOVER_OVERLAP * max(int(area.sum()), 1):
            grow = max(2, int(round(LEFTOVER_GROW * min(quad_size(quad)))))
            leftover = polygon_mask(image.shape, [quad], grow=grow)
            if not new_text:
                # Only the selected words may go: a detection that joins a leftover to
                # the kept words beside it is cut back to the selected regions.
                leftover &= polygon_mask(image.shape, polygons, grow=grow)
            extra |= leftover
        elif new_text:
            fresh.append(np.asarray(quad, np.float32))
    if fresh:
        extra |= stroke_mask(image, fresh, occupied=erased_regions)
    if keep_out is not None:
        extra &= ~keep_out
    if allowed is not None:
        extra &= allowed
    if not extra.any():
        return erased, mask, 0
    count = sum(1 for quad in fresh if extra[polygon_mask(image.shape, [quad])].any())
    # The whole leftover area is filled again, first fill included: that fill drew on the
    # outline or shadow left around it. Its boundary is input or first-fill pixels.
    return inpaint(erased, extra), np.where(extra, 255, mask).astype(np.uint8), count


# --- erasing through the model's own erase prompt (--model PATH) ---------------------------

# The region a text polygon's erase crop takes: its upright box grown by this share of its
# height, so that leftover fills around the strokes (grown by LEFTOVER_GROW) fall inside.
NETWORK_CROP_GROW = 0.2


def erase_with_network(model, image: np.ndarray, erased: np.ndarray, mask: np.ndarray, polygons: list) -> np.ndarray:
    """``erased`` with the fill inside ``mask`` redone by the backend's erase prompt (``model.erase_words``).

    Each region's upright box (grown by NETWORK_CROP_GROW of its height) goes through the
    network as a crop of the input. The network answers in grey, so its answer gives the
    luminance and the colour stays the classical fill's (YCrCb, Y replaced). The answer
    is pasted by seamless cloning (Poisson blending): inside the mask, luminance = the
    classical fill's + (answer - the membrane interpolation of the answer from the
    mask's edge). The classical fill being the membrane interpolation of the input, that
    is the answer plus the interpolated (input - answer): a brightness or contrast the
    network got wrong leaves no seam, while what it drew inside (texture, or its
    mistakes) shows. Only pixels inside ``mask`` change; mask pixels outside every
    region keep the classical fill.
    """
    import logging

    import cv2

    from ocromni.imaging.inpaint import harmonic_fill

    inside = mask > 0
    height, width = inside.shape
    boxes = []
    for polygon in polygons:
        q = np.asarray(polygon, np.float64)
        grow = NETWORK_CROP_GROW * min(quad_size(q)) if len(q) == 4 else 2.0
        x0, y0 = np.floor(q.min(0) - grow).astype(int)
        x1, y1 = np.ceil(q.max(0) + grow).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 - x0 >= 2 and y1 - y0 >= 2 and inside[y0:y1, x0:x1].any():
            boxes.append((x0, y0, x1, y1))
    if not boxes:
        return erased
    answers = model.erase_words([image[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes])
    ycrcb = cv2.cvtColor(np.ascontiguousarray(erased[..., :3]), cv2.COLOR_RGB2YCrCb).astype(np.float32)
    taken = np.zeros_like(inside)
    for (x0, y0, x1, y1), answer in zip(boxes, answers):
        region = inside[y0:y1, x0:x1] & ~taken[y0:y1, x0:x1]  # overlapping boxes: the first one fills
        if not region.any() or region.all():
            continue
        answer = answer.astype(np.float32)
        predicted = harmonic_fill(answer[..., None], region)[..., 0]  # the answer's own edge, interpolated
        luma = ycrcb[y0:y1, x0:x1, 0]
        luma[region] = np.clip(luma[region] + answer[region] - predicted[region], 0, 255)
        taken[y0:y1, x0:x1] |= region
    recoloured = cv2.cvtColor(np.round(ycrcb).astype(np.uint8), cv2.COLOR_YCrCb2RGB)
    result = erased.copy()
    result[taken] = recoloured[taken]
    logging.getLogger("ocromni").info("erase: %d region(s) filled through the model's erase prompt", len(boxes))
    return result


def load_mask(mask: MaskInput) -> np.ndarray:
    """A user mask as a boolean array: non-zero pixels, or opaque ones of a transparent image."""
    from PIL import Image

    if isinstance(mask, np.ndarray):
        array = mask
        if array.ndim == 3:
            array = array.max(axis=2)
        return array > (127 if array.dtype == np.uint8 and array.max() > 1 else 0)
    try:
        with Image.open(mask) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                alpha = np.asarray(image.convert("RGBA"))[..., 3]
                if alpha.min() < 255:
                    return alpha > 127
            return np.asarray(image.convert("L")) > 127
    except (OSError, ValueError) as exc:
        raise UsageError(reason=f"cannot read mask {mask}: {exc}") from exc


def iter_erase(
    inputs, *, match: Optional[str] = None, boxes: Optional[Sequence[Box]] = None, mask: MaskInput = None,
    pages: Optional[str] = None, dpi: int = 200, batch_size: int = 8, recursive: bool = False,
    max_pixels: Optional[int] = None, model: Optional[str] = None, device: Optional[str] = None,
    on_error=None, stdin=None,
) -> Iterator[tuple[Page, np.ndarray, np.ndarray, int]]:
    """Yield ``(page, erased image, mask, regions erased)`` per page of ``inputs``."""
    from ocromni.io import sources

    _compile(match)  # a bad pattern fails before any input is read
    page_stream = sources.iter_pages(
        inputs, pages=pages, dpi=dpi, recursive=recursive, text_layer=False,
        max_pixels=max_pixels, on_error=on_error, stdin=stdin,
    )
    engine = get_engine(model, device)
    for page, erased, used, count in erase_pages(
        engine, page_stream, match=match, boxes=boxes, mask=mask, batch_size=batch_size
    ):
        yield page, erased, used, count
        page.release()


def erase(inputs, **options) -> list[np.ndarray]:
    """Images with their text removed (RGB ``uint8``), one per page of ``inputs``.

    Options: ``match`` (regex: only words it touches), ``boxes`` (list of
    ``(x0, y0, x1, y1)``), ``mask`` (path or array), and those of :func:`iter_erase`.
    """
    return [erased for _, erased, _, _ in iter_erase(inputs, **options)]


# --- selection ----------------------------------------------------------------------------


def _compile(match) -> Optional[re.Pattern]:
    if match is None or isinstance(match, re.Pattern):
        return match
    try:
        return re.compile(match)
    except re.error as exc:
        raise UsageError(reason=f"bad --match pattern {match!r}: {exc}") from exc


def _check_box(box: Box) -> tuple[float, float, float, float]:
    if len(box) != 4:
        raise UsageError(reason=f"a box is x0,y0,x1,y1; got {box!r}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise UsageError(reason=f"box {x0:g},{y0:g},{x1:g},{y1:g} is empty: x1 must exceed x0 and y1 exceed y0")
    return x0, y0, x1, y1


@contextmanager
def detection_size(model, long_side: int):
    """Within the block, ``model``'s detector (if it has the knob) works at most ``long_side`` px.

    The backend's calls take no size, so the shared detector's own setting is lowered
    and restored; the engine serves one call at a time.
    """
    detector = getattr(model, "detector", None)
    if detector is None or not isinstance(getattr(detector, "long_side", None), int):
        yield
        return
    saved = detector.long_side
    detector.long_side = min(saved, long_side)
    try:
        yield
    finally:
        detector.long_side = saved


def detect_text(model, image: np.ndarray, long_side: Optional[int] = None) -> list:
    """Text line quads of an image: the detector alone where the backend offers it, its
    long side at most ``long_side`` px if given."""
    with detection_size(model, long_side) if long_side else nullcontext():
        if hasattr(model, "detect_quads"):
            return [quad for quad, _ in model.detect_quads(image)]
        page_text = model.read([Page.from_array(image)], recognize=False)[0]
    return [line.polygon for line in page_text.lines]


def _matching_words(lines: list[Line], pattern: re.Pattern, shape) -> tuple[list, Optional[np.ndarray]]:
    """Polygons of the words a match touches, and a mask of the words it does not."""
    targets, others = [], []
    for line in lines:
        spans = [m.span() for m in pattern.finditer(line.text) if m.end() > m.start()]
        if not line.words:
            (targets if spans else others).append(line.polygon)
            continue
        line_height = min(_quad_sides(line.polygon))
        cursor = 0
        for word in line.words:
            start = line.text.find(word.text, cursor)
            start = cursor if start < 0 else start
            end = cursor = start + len(word.text)
            if any(s < end and e > start for s, e in spans) or _matches(pattern, word.text):
                targets.append(_widen(word.polygon, WORD_WIDEN * line_height))
            else:
                others.append(word.polygon)
    if not targets:
        return [], None
    return targets, polygon_mask(shape, others) if others else None


def _matches(pattern: re.Pattern, text: str) -> bool:
    found = pattern.search(text)
    return found is not None and found.end() > found.start()


def _quad_sides(polygon) -> tuple[float, float]:
    q = np.asarray(polygon, np.float64)
    if len(q) != 4:
        x0, y0 = q.min(0)
        x1, y1 = q.max(0)
        return float(x1 - x0), float(y1 - y0)
    return (
        float(np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2,
        float(np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2,
    )


def _widen(polygon, amount: float) -> np.ndarray:
    """A 4-point polygon stretched by ``amount`` pixels at its left and right ends."""
    q = np.asarray(polygon, np.float32).copy()
    if len(q) != 4:
        return q
    for left, right in ((0, 1), (3, 2)):
        direction = q[right] - q[left]
        length = float(np.linalg.norm(direction))
        if length > 0:
            step = direction / length * amount
            q[left] -= step
            q[right] += step
    return q


def _allowed_region(shape, boxes: list, user_mask: Optional[np.ndarray], page: Page) -> Optional[np.ndarray]:
    """Pixels the user allows to change, or None when there is no restriction."""
    if not boxes and user_mask is None:
        return None
    height, width = shape[:2]
    allowed = np.zeros((height, width), bool) if boxes else np.ones((height, width), bool)
    for x0, y0, x1, y1 in boxes:
        # Pixel (x, y) covers [x, x+1): a box takes the pixels whose centres it holds.
        c0, r0 = max(int(np.floor(x0 + 0.5)), 0), max(int(np.floor(y0 + 0.5)), 0)
        c1, r1 = min(int(np.floor(x1 + 0.5)), width), min(int(np.floor(y1 + 0.5)), height)
        allowed[r0:r1, c0:c1] = True
    if user_mask is not None:
        if user_mask.shape != (height, width):
            raise UsageError(
                reason=f"the mask is {user_mask.shape[1]}x{user_mask.shape[0]} but {page.source} "
                f"(page {page.page_no}) is {width}x{height}; the mask must match the image"
            )
        allowed &= user_mask
    return allowed


def _fill_empty_mask_parts(image: np.ndarray, used: np.ndarray, count: int, allowed: np.ndarray):
    """Fill whole the parts of the user's mask where no text was found."""
    import cv2

    parts, labels = cv2.connectedComponents(allowed.astype(np.uint8), connectivity=8)
    touched = np.unique(labels[used > 0])
    empty = np.setdiff1d(np.arange(1, parts), touched)
    if empty.size == 0:
        return image, used, count
    fill = np.isin(labels, empty)
    return inpaint(image, fill), np.where(fill, 255, used).astype(np.uint8), count + int(empty.size)
