"""Page geometry shared by every backend: quadrilaterals, crops, page turns, reading order.

Coordinates follow the project contract: pixels, origin top-left, x right, y down;
quadrilaterals are ``(4, 2)`` float arrays running clockwise from their top-left corner.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

# --- quadrilaterals ----------------------------------------------------------------------


def order_clockwise(points) -> np.ndarray:
    """Four points as a ``(4, 2)`` float array, clockwise from the top-left corner.

    "Top-left" is the start of the edge that points most nearly along +x, so a box keeps
    a stable start corner under small rotations (unlike sorting by x, which flips at 45°).
    """
    quad = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = quad.mean(axis=0)
    # With y pointing down, increasing atan2 angle runs clockwise on screen.
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]
    edges = np.roll(quad, -1, axis=0) - quad
    lengths = np.maximum(np.linalg.norm(edges, axis=1), 1e-6)
    start = int(np.argmax(edges[:, 0] / lengths))
    return np.roll(quad, -start, axis=0)


def quad_size(quad) -> tuple[float, float]:
    """(width, height) of a quadrilateral: its longer top/bottom and left/right edges."""
    q = np.asarray(quad, dtype=np.float32)
    width = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
    height = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))
    return float(width), float(height)


def quad_angle(quad) -> float:
    """Angle in radians of the quadrilateral's baseline direction (top and bottom edges)."""
    q = np.asarray(quad, dtype=np.float32)
    direction = (q[1] - q[0]) + (q[2] - q[3])
    return float(np.arctan2(direction[1], direction[0]))


def expand_quad(quad, margin: float) -> np.ndarray:
    """The quadrilateral grown by ``margin`` pixels on every side, along its own axes."""
    q = np.asarray(quad, dtype=np.float32)
    along = (q[1] - q[0]) + (q[2] - q[3])
    across = (q[3] - q[0]) + (q[2] - q[1])
    along /= max(float(np.linalg.norm(along)), 1e-6)
    across /= max(float(np.linalg.norm(across)), 1e-6)
    signs_along = np.array([-1, 1, 1, -1], dtype=np.float32)[:, None]
    signs_across = np.array([-1, -1, 1, 1], dtype=np.float32)[:, None]
    return q + margin * (signs_along * along + signs_across * across)


def clip_quad(quad, width: int, height: int) -> np.ndarray:
    """The quadrilateral with its corners clamped inside a ``width`` x ``height`` image."""
    q = np.array(quad, dtype=np.float32)
    q[:, 0] = np.clip(q[:, 0], 0, width)
    q[:, 1] = np.clip(q[:, 1], 0, height)
    return q


def polygon_area(polygon) -> float:
    """Area of a simple polygon (shoelace formula)."""
    p = np.asarray(polygon, dtype=np.float64)
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def bbox_of_points(points) -> list[float]:
    """``[x0, y0, x1, y1]`` around an array of points."""
    p = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    return [float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())]


# --- crops ---------------------------------------------------------------------------------


def crop_quad(image: np.ndarray, quad, interpolation: int = cv2.INTER_CUBIC) -> tuple[np.ndarray, np.ndarray]:
    """Warp a quadrilateral of ``image`` to an upright rectangle.

    ``quad[0]`` lands on the crop's top-left corner, so rolling the quad's corners turns the
    crop by quarter turns. Returns the crop and the 3x3 homography from crop pixels back to
    image pixels (see ``map_points``).
    """
    q = np.asarray(quad, dtype=np.float32)
    width, height = quad_size(q)
    width, height = max(int(round(width)), 1), max(int(round(height)), 1)
    rect = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    to_crop = cv2.getPerspectiveTransform(q, rect)
    # Replicated borders keep the recogniser from reading a black frame as strokes.
    crop = cv2.warpPerspective(image, to_crop, (width, height), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)
    return crop, cv2.getPerspectiveTransform(rect, q)


def map_points(homography: np.ndarray, points) -> np.ndarray:
    """Apply a 3x3 homography to ``(N, 2)`` points."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mapped = np.hstack([p, np.ones((len(p), 1))]) @ np.asarray(homography, dtype=np.float64).T
    return (mapped[:, :2] / mapped[:, 2:3]).astype(np.float32)


# --- page turns ----------------------------------------------------------------------------


def turn_image(image: np.ndarray, degrees: int) -> np.ndarray:
    """The image turned clockwise by 0, 90, 180 or 270 degrees."""
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return image if degrees % 360 == 0 else cv2.rotate(image, codes[degrees % 360])


def unturn_points(points, degrees: int, width: int, height: int) -> np.ndarray:
    """Map points of an image turned clockwise by ``degrees`` back to the original frame.

    ``width`` and ``height`` are the original image's size.
    """
    p = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    degrees %= 360
    if degrees == 90:  # turned (x', y') = (height - y, x)
        return np.stack([y, height - x], axis=1)
    if degrees == 180:
        return np.stack([width - x, height - y], axis=1)
    if degrees == 270:  # turned (x', y') = (y, width - x)
        return np.stack([width - y, x], axis=1)
    return p.copy()


# --- reading order -------------------------------------------------------------------------

# A column gutter is at least this many median text heights wide.
COLUMN_GAP = 1.2
# Lines of running text are long: width/height of about 8 characters or more. Table cells,
# prices and labels are shorter, so a gutter between them reads row by row instead.
COLUMN_LINE_ASPECT = 6.0
# Lines share a row when their vertical overlap is at least this share of the lower one.
ROW_OVERLAP = 0.5


def reading_order(quads: Sequence) -> list[int]:
    """Indices of text lines in the order a person reads them.

    Columns of running text are read one after another (top to bottom, left to right);
    everything else -- tables, receipts, forms -- is read row by row, left to right. The
    page is cut recursively (an XY-cut): a vertical gutter splits columns only when both
    sides hold lines of running text; otherwise horizontal bands are read in turn.
    Slightly skewed pages are levelled first by the median baseline angle.
    """
    if len(quads) == 0:
        return []
    quads = [np.asarray(q, dtype=np.float32).reshape(-1, 2) for q in quads]
    angles = [quad_angle(q) for q in quads if len(q) == 4]
    skew = float(np.median(angles)) if angles else 0.0
    if abs(skew) > np.radians(30):  # not a skew but vertical text; leave the frame alone
        skew = 0.0
    cos, sin = np.cos(-skew), np.sin(-skew)
    boxes = []
    for q in quads:
        x = q[:, 0] * cos - q[:, 1] * sin
        y = q[:, 0] * sin + q[:, 1] * cos
        boxes.append((float(x.min()), float(y.min()), float(x.max()), float(y.max())))
    boxes = np.array(boxes, dtype=np.float64)
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    widths = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    text_height = float(np.median(np.minimum(heights, widths)))
    return _order_region(boxes, list(range(len(boxes))), text_height)


def _order_region(boxes: np.ndarray, members: list[int], text_height: float) -> list[int]:
    if len(members) <= 1:
        return list(members)
    cut = _column_cut(boxes, members, text_height)
    if cut is not None:
        left = [i for i in members if boxes[i, 2] <= cut]
        right = [i for i in members if boxes[i, 0] >= cut]
        return _order_region(boxes, left, text_height) + _order_region(boxes, right, text_height)
    bands = _horizontal_bands(boxes, members)
    if len(bands) == 1:
        return read_rows(boxes, members)
    ordered: list[int] = []
    start = 0
    while start < len(bands):
        # Gather the run of bands below that a gutter crosses from top to bottom (adding a
        # band only fills gutters in, so the run ends where the last one closes). Columns
        # split the run if the gutter has running text on both sides; otherwise the whole
        # run reads row by row. Each band joins one run: linear in the bands.
        covered = _merge_spans([], [(boxes[i, 0], boxes[i, 2]) for i in bands[start]])
        end = start
        while end + 1 < len(bands):
            grown = _merge_spans(covered, [(boxes[i, 0], boxes[i, 2]) for i in bands[end + 1]])
            if not _span_gaps(grown, COLUMN_GAP * text_height):
                break
            covered, end = grown, end + 1
        run = [i for band in bands[start : end + 1] for i in band]
        if end > start and _column_cut(boxes, run, text_height) is not None:
            ordered += _order_region(boxes, run, text_height)
        else:
            ordered += read_rows(boxes, run) if end > start else read_rows(boxes, bands[start])
        start = end + 1
    return ordered


def _merge_spans(spans: list[tuple[float, float]], new: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of x intervals, as sorted disjoint intervals."""
    merged: list[tuple[float, float]] = []
    for x0, x1 in sorted(list(spans) + list(new)):
        if merged and x0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], x1))
        else:
            merged.append((x0, x1))
    return merged


def _span_gaps(merged: list[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    return [(a[1], b[0]) for a, b in zip(merged, merged[1:]) if b[0] - a[1] >= min_gap]


def _vertical_gaps(boxes: np.ndarray, members: list[int], min_gap: float) -> list[tuple[float, float]]:
    """Empty vertical strips at least ``min_gap`` wide between the members' x extents."""
    return _span_gaps(_merge_spans([], [(boxes[i, 0], boxes[i, 2]) for i in members]), min_gap)


def _column_cut(boxes: np.ndarray, members: list[int], text_height: float) -> float | None:
    """The x of a gutter with running text on both sides, or None."""
    gaps = _vertical_gaps(boxes, members, COLUMN_GAP * text_height)
    for x0, x1 in sorted(gaps, key=lambda g: g[0] - g[1]):  # widest gutter first
        cut = (x0 + x1) / 2
        sides = ([i for i in members if boxes[i, 2] <= cut], [i for i in members if boxes[i, 0] >= cut])
        if all(_is_running_text(boxes, side) for side in sides):
            return cut
    return None


def _is_running_text(boxes: np.ndarray, members: list[int]) -> bool:
    if len(members) < 2:
        return False
    b = boxes[members]
    aspects = (b[:, 2] - b[:, 0]) / np.maximum(b[:, 3] - b[:, 1], 1.0)
    return float(np.median(aspects)) >= COLUMN_LINE_ASPECT


def _horizontal_bands(boxes: np.ndarray, members: list[int]) -> list[list[int]]:
    """Members split at horizontal strips no line crosses, top to bottom."""
    ordered = sorted(members, key=lambda i: boxes[i, 1])
    bands, reach = [[ordered[0]]], boxes[ordered[0], 3]
    for i in ordered[1:]:
        # A sliver of overlap (descenders, generous detector boxes) does not join bands.
        if boxes[i, 1] >= reach - 0.25 * (boxes[i, 3] - boxes[i, 1]):
            bands.append([i])
            reach = boxes[i, 3]
        else:
            bands[-1].append(i)
            reach = max(reach, boxes[i, 3])
    return bands


def group_rows(boxes, members: Sequence[int] | None = None) -> list[list[int]]:
    """Group axis-aligned ``[x0, y0, x1, y1]`` boxes into rows by vertical overlap.

    Rows come top to bottom, each left to right.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    members = list(range(len(boxes))) if members is None else list(members)
    rows: list[list[int]] = []
    spans: list[list[float]] = []  # y extent of each row's first line, the row's anchor
    for i in sorted(members, key=lambda i: (boxes[i, 1] + boxes[i, 3]) / 2):
        y0, y1 = boxes[i, 1], boxes[i, 3]
        # Lines come in order of their centres, so only the latest rows can still overlap.
        for row, (r0, r1) in zip(rows[-4:], spans[-4:]):
            overlap = min(y1, r1) - max(y0, r0)
            if overlap >= ROW_OVERLAP * min(y1 - y0, r1 - r0):
                row.append(i)
                break
        else:
            rows.append([i])
            spans.append([y0, y1])
    rows.sort(key=lambda row: float(np.mean([(boxes[i, 1] + boxes[i, 3]) / 2 for i in row])))
    return [sorted(row, key=lambda i: boxes[i, 0]) for row in rows]


def read_rows(boxes, members: Sequence[int]) -> list[int]:
    """Members read row by row, each row left to right."""
    return [i for row in group_rows(boxes, members) for i in row]
