"""Text masks: which pixels of a detected text region are the text itself.

A detector gives quadrilaterals around lines or words; erasing a whole quad throws away
the real background between the strokes and leaves the fill to invent it. So within each
quad the strokes are told from the background by colour: the background's colours are
learned from a ring just outside the quad (k-means in CIELAB; a ring colour far more
common inside the quad than around it is the text's own and is dropped), and a pixel is
text when it lies far from all of them. Strong text pixels (above both the ring's 95th percentile
distance and Otsu's split of the quad) seed a hysteresis region that takes in weaker,
connected pixels (anti-aliased edges, outlines, shadows) a little beyond the quad, and
the result is dilated to cover halos (on a flat background, after taking in every
pixel near the strokes that is unlike it). Where the strokes cannot be separated (almost the
whole quad or almost none of it stands out, more than a few per cent of the quad still
stands out once the strokes are masked, or the quad is too small to hold strokes), the
whole quad, slightly grown, is used instead (with, where only the leftovers were the
trouble, the strokes found reaching past the quad).
"""

from __future__ import annotations

from typing import Iterable, Optional

import cv2
import numpy as np

# Background colours learned from the ring around a quad.
BACKGROUND_CLUSTERS = 4
# A pixel is surely text when further from the background colours than this percentile
# of the ring's own distances (the ring holds ~5% stray pixels: neighbours' edges, noise).
RING_PERCENTILE = 95
# Hysteresis: pixels connected to sure text and at least this share of its threshold away
# from the background are text too.
WEAK_SHARE = 0.7
# Strokes count as not separated when more than this share of the quad still stands out
# from the background outside the stroke mask (glows, gradients, 3-D lettering).
MAX_LEFTOVER = 0.05
# As shares of the quad's text height: how far strokes may reach past the quad (detector
# quads clip ascenders and tilted ends), the ring's width, and the halo dilation.
REACH, RING, HALO = 0.2, 0.2, 0.06
MIN_RING, MIN_HALO = 3, 2
# Where the ring is flat (its RING_PERCENTILE distance under FLAT_RING CIELAB units), the
# pixels within FRINGE of the text height of the strokes that stand out from it join them.
# On benchmarks/erase.py: posters +0.12 dB inside the text (white dots of anti-aliasing
# left on a pink bar, which the fill smeared into a ghost), scene photos and residual
# text unchanged; taken on textured rings too it cost one poster 3.4 dB.
FRINGE, FLAT_RING = 0.15, 10.0
# Share of a quad's pixels standing out, outside which strokes count as not separated.
MIN_TEXT_SHARE, MAX_TEXT_SHARE = 0.01, 0.75
# Quads thinner than this (pixels) are masked whole: too few pixels per stroke.
MIN_TEXT_HEIGHT = 6
# Pixels the detector rates this likely to be text are kept out of background rings.
TEXT_PROBABILITY = 0.3
# A ring colour covering at least this share of the quad and this many times its share
# of the ring is the text's colour, not the background's. On benchmarks/erase.py a white
# bar beside white lettering otherwise made the letters' insides "background" (cracked
# masks, text ghosts after the fill). 3x: +1.3 dB inside text on scene photos, +2.0 dB on
# posters, synthetic unchanged (one pass, no re-check); 1.5-2x lost 0.4-2.7 dB on posters.
TEXT_COLOUR_ENRICHMENT = 3.0
TEXT_COLOUR_MIN_SHARE = 0.1


def polygon_mask(shape, polygons: Iterable, grow: int = 0) -> np.ndarray:
    """Boolean (height, width) mask of the filled polygons, dilated by ``grow`` pixels."""
    mask = np.zeros(shape[:2], np.uint8)
    for polygon in polygons:
        cv2.fillPoly(mask, [np.round(np.asarray(polygon, np.float64)).astype(np.int32)], 1)
    if grow > 0:
        mask = cv2.dilate(mask, _disk(grow))
    return mask.astype(bool)


def quad_size(quad) -> tuple[float, float]:
    """(width, height) of a quad clockwise from its top-left corner: mean opposite sides."""
    q = np.asarray(quad, np.float64)
    width = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    height = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(width), float(height)


def stroke_mask(
    image: np.ndarray,
    quads: list,
    *,
    occupied: Optional[np.ndarray] = None,
    probability: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Boolean mask of the text strokes (with halo) inside ``quads`` of an RGB image.

    occupied: pixels known to hold other text (e.g. every detected line), kept out of
        the background rings; the quads themselves are always kept out.
    probability: the detector's text probability at image resolution, if at hand; likely
        text is kept out of the rings as well.
    """
    height, width = image.shape[:2]
    mask = np.zeros((height, width), bool)
    if not len(quads):
        return mask
    rgb = np.ascontiguousarray(image[..., :3]) if image.ndim == 3 else np.stack([image] * 3, -1)
    not_background = polygon_mask(image.shape, quads, grow=2)
    if occupied is not None:
        not_background |= occupied
    if probability is not None:
        not_background |= probability > TEXT_PROBABILITY
    for quad in quads:
        x0, y0, local = quad_stroke_mask(rgb, quad, not_background)
        mask[y0 : y0 + local.shape[0], x0 : x0 + local.shape[1]] |= local
    return mask


def quad_stroke_mask(rgb: np.ndarray, quad, not_background: np.ndarray) -> tuple[int, int, np.ndarray]:
    """The text pixels around one quad of an RGB image: ``(x0, y0, mask)``, ``mask`` a local window."""
    height, width = rgb.shape[:2]
    quad = np.asarray(quad, np.float32)
    text_height = min(quad_size(quad))
    reach = max(2, int(round(REACH * text_height)))
    ring_width = max(MIN_RING, int(round(RING * text_height)))
    pad = reach + ring_width + 2
    x0, y0 = np.floor(quad.min(0)).astype(int) - pad
    x1, y1 = np.ceil(quad.max(0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round(quad - [x0, y0]).astype(np.int32)], 1)
    reachable = cv2.dilate(inside, _disk(reach))
    ring = (cv2.dilate(reachable, _disk(ring_width)) > 0) & (reachable == 0) & ~not_background[y0:y1, x0:x1]
    inside, reachable = inside > 0, reachable > 0
    whole = cv2.dilate(inside.astype(np.uint8), _disk(MIN_HALO)) > 0
    if text_height < MIN_TEXT_HEIGHT or ring.sum() < 20 or inside.sum() < 20:
        return x0, y0, whole

    window = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32)
    distance = _background_distance(window, window[ring], inside)
    ring_distance, inside_distance = distance[ring], distance[inside]
    ring_threshold = float(np.percentile(ring_distance, RING_PERCENTILE))
    threshold = max(ring_threshold, _otsu(inside_distance))
    sure = (distance > threshold) & inside
    share = sure.sum() / inside.sum()
    if not MIN_TEXT_SHARE <= share <= MAX_TEXT_SHARE:
        return x0, y0, whole
    candidate = ((distance > WEAK_SHARE * threshold) & reachable) | sure
    count, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[sure])] = True
    keep[0] = False
    text = keep[labels].astype(np.uint8)
    halo = max(MIN_HALO, int(round(HALO * text_height)))
    grown = cv2.dilate(text, _disk(halo)) > 0
    leftover = (distance > ring_threshold) & inside & ~grown
    if leftover.sum() > MAX_LEFTOVER * inside.sum():
        # Whole, but the strokes found past the quad's edge (tops of letters the detector
        # clipped) go too: left, the fill smears them into dots of the text's colour. On
        # benchmarks/erase.py: posters +0.24 dB inside the text (one +1.0 dB), scene photos
        # and the first 24 synthetic cases unchanged, residual text unchanged.
        return x0, y0, whole | grown
    if ring_threshold < FLAT_RING:
        # On a flat background whatever near the strokes is unlike it is the text's fringe
        # (anti-aliasing, compression ringing, a thin outline): left out, it would be the
        # fill's boundary and smear into a ghost of the text.
        fringe = max(MIN_HALO, int(round(FRINGE * text_height)))
        text |= ((cv2.dilate(text, _disk(fringe)) > 0) & (distance > ring_threshold)).astype(np.uint8)
        grown = cv2.dilate(text, _disk(halo)) > 0
    return x0, y0, grown


def _background_distance(window: np.ndarray, background: np.ndarray, inside: Optional[np.ndarray] = None) -> np.ndarray:
    """Per pixel of ``window``, the CIELAB distance to the nearest background colour.

    inside: the quad's pixels; a ring colour that is far more common inside the quad than
    in the ring is the text's own colour (a neighbouring label or bar of the same paint
    reached the ring) and is not counted as background.
    """
    clusters = min(BACKGROUND_CLUSTERS, len(background) // 10)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(0)  # k-means++ seeding: the same image always gets the same mask
    _, labels, centres = cv2.kmeans(background.astype(np.float32), clusters, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    squared = ((window[..., None, :] - centres) ** 2).sum(-1)
    if inside is not None and len(centres) > 1:
        ring_share = np.bincount(labels.ravel(), minlength=len(centres)) / len(labels)
        inside_share = np.bincount(squared[inside].argmin(-1), minlength=len(centres)) / max(int(inside.sum()), 1)
        text_colour = (inside_share > TEXT_COLOUR_ENRICHMENT * ring_share) & (inside_share > TEXT_COLOUR_MIN_SHARE)
        if text_colour.any() and not text_colour.all():
            squared = squared[..., ~text_colour]
    return np.sqrt(squared.min(-1))


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of non-negative values."""
    top = max(float(values.max()), 1e-6)
    scaled = np.clip(values / top * 255, 0, 255).astype(np.uint8).reshape(-1, 1)
    threshold, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return threshold / 255 * top


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
