"""PP-OCRv4 text detection: DBNet pre-processing, inference and box extraction."""

from __future__ import annotations

import cv2
import numpy as np
import pyclipper

from ocromni.layout import order_clockwise

# PaddleOCR's detection normalisation: ImageNet statistics, applied in this order to BGR
# channels (PaddleOCR reads images with cv2), so the RGB input is flipped after resizing.
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255

# DB post-processing: PaddleOCR's binarisation threshold (det_db_thresh) and 2x2 dilation
# (use_dilation, as RapidOCR). The box threshold is RapidOCR's 0.5 rather than PaddleOCR's
# 0.6 (on ICDAR 2015 it finds 6% more words; the recogniser's drop score removes the extra
# noise), and the unclip ratio is 1.3 rather than 1.5: 1.5 draws boxes about 20% taller
# than annotated lines and words (SROIE, ICDAR 2015: 2-4 points of detection F1), while
# 1.2 starts to clip the tops of capitals. Recognition adds its own margin (pipeline.py).
BINARY_THRESHOLD = 0.3
BOX_THRESHOLD = 0.5
UNCLIP_RATIO = 1.3
MAX_CANDIDATES = 1000
MIN_BOX_SIDE = 3  # pixels of the probability map; smaller specks are noise


# Detection resolution: the page is scaled so its longer side is LONG_SIDE pixels (enlarged
# at most MAX_UPSCALE times): small print on scans and small words in photos stay legible
# to DBNet, and time and memory stay bounded. Pages whose text then comes out huge
# (median box over MAX_BOX_HEIGHT px, e.g. a single line rendered large) are detected
# again at the scale that brings the median box to TARGET_BOX_HEIGHT: DBNet trains on
# 640x640 crops and splits very large lines at spaces.
LONG_SIDE = 1600
MAX_UPSCALE = 2.0
# Pages reduced for detection (large scans) are reduced further, to at most this many
# input pixels: their text is large, and DBNet's memory and time grow with the area
# (about 260 bytes per input pixel: 1600x1120 takes 460 MB). On SROIE, 1.0 MP loses 0.5
# points of detection F1 against 1.5 MP. Enlarged pages (photos, small scans) are enlarged
# only up to this many pixels too (never below their own size): a small, tall receipt
# (864x1213) enlarged to 1152x1600 put 450 MB into DBNet, the peak of a whole SROIE run;
# at 1.5 MP its read peaks at 566 MB instead of 659. ICDAR 2015 photos (1280x720, 1.44 MP
# enlarged) are untouched; on the 6 SROIE receipts it changes, detection F1 92.1 -> 92.2.
# FUNSD forms (762x1000, 1.95 MP enlarged) pay for it: page CER 17.4 -> 17.8 on the first 40.
MAX_PIXELS = 1_500_000
MAX_BOX_HEIGHT = 96
TARGET_BOX_HEIGHT = 48
MIN_SIDE = 64  # the input's longer side never shrinks below this


class DBDetector:
    """DBNet text detector over an onnxruntime session; inputs are RGB ``uint8`` images."""

    def __init__(
        self,
        session,
        long_side: int = LONG_SIDE,
        box_threshold: float = BOX_THRESHOLD,
        unclip_ratio: float = UNCLIP_RATIO,
    ):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.long_side = long_side
        self.box_threshold = box_threshold
        self.unclip_ratio = unclip_ratio

    def detect(self, image: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Text quadrilaterals (clockwise from top-left, image pixels) with their box scores."""
        scale = self.base_scale(image)
        boxes = self._detect_at(image, scale)
        better = self.text_scale(boxes, scale)
        return boxes if better is None else self._detect_at(image, better)

    def base_scale(self, image: np.ndarray) -> float:
        """Scale that brings the image's longer side to ``long_side``, within limits."""
        height, width = image.shape[:2]
        longest = max(height, width)
        scale = min(self.long_side / longest, MAX_UPSCALE)
        within_budget = (MAX_PIXELS / (height * width)) ** 0.5
        if scale < 1:
            scale = min(scale, within_budget)
        elif scale > 1:
            scale = min(scale, max(within_budget, 1.0))
        return max(scale, MIN_SIDE / longest)

    def text_scale(self, boxes, scale: float) -> float | None:
        """A smaller scale when the boxes found at ``scale`` are huge, else None."""
        if not boxes:
            return None
        heights = [min(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[3] - q[0])) for q, _ in boxes]
        box_height = float(np.median(heights)) * scale  # in detection-input pixels
        if box_height <= MAX_BOX_HEIGHT:
            return None
        return scale * TARGET_BOX_HEIGHT / box_height

    def probability_map(self, image: np.ndarray, scale: float | None = None, full_size: bool = False) -> np.ndarray:
        """DB text probability map, float32 in [0, 1], at the detection scale
        (chosen as in ``detect`` unless given), or at the image's size."""
        height, width = image.shape[:2]
        if scale is None:
            scale = self.base_scale(image)
            scale = self.text_scale(self._detect_at(image, scale), scale) or scale
        in_h, in_w = input_size(height, width, scale)
        resized = cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        prob = self.session.run(None, {self.input_name: _normalised_blob(resized)})[0][0, 0]
        if full_size:
            prob = cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR)
        return prob

    def _detect_at(self, image: np.ndarray, scale: float) -> list[tuple[np.ndarray, float]]:
        height, width = image.shape[:2]
        prob = self.probability_map(image, scale)
        return boxes_from_probability(
            prob, width, height, box_threshold=self.box_threshold, unclip_ratio=self.unclip_ratio
        )


def _normalised_blob(rgb: np.ndarray) -> np.ndarray:
    """DBNet's input (1, 3, H, W) float32: BGR channel planes, normalised with MEAN and STD.

    Written plane by plane into one array: the same values as NumPy's whole-image
    expression (flip, cast, subtract, divide, transpose, copy), at a tenth of its time and
    without its four full-size temporaries (50-80 ms for a 1.5 MP page otherwise).
    """
    blob = np.empty((1, 3, *rgb.shape[:2]), dtype=np.float32)
    for plane, channel in enumerate((2, 1, 0)):
        np.subtract(rgb[..., channel], MEAN[plane], out=blob[0, plane], dtype=np.float32)
        np.divide(blob[0, plane], STD[plane], out=blob[0, plane])
    return blob


def input_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """Detection input (height, width): the image scaled, in multiples of 32 as DBNet's
    strides need."""
    return (
        max(32, int(round(height * scale / 32)) * 32),
        max(32, int(round(width * scale / 32)) * 32),
    )


def boxes_from_probability(
    prob: np.ndarray,
    width: int,
    height: int,
    box_threshold: float = BOX_THRESHOLD,
    unclip_ratio: float = UNCLIP_RATIO,
    binary_threshold: float = BINARY_THRESHOLD,
) -> list[tuple[np.ndarray, float]]:
    """DB post-processing: binarise, take contours, score, unclip, fit min-area boxes.

    Returns quads scaled to a ``width`` x ``height`` image.
    """
    map_h, map_w = prob.shape
    mask = (prob > binary_threshold).astype(np.uint8)
    # A 2x2 dilation joins characters the threshold split (PaddleOCR's use_dilation).
    mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    scale = np.array([width / map_w, height / map_h], dtype=np.float32)
    results = []
    for contour in contours[:MAX_CANDIDATES]:
        if len(contour) < 3:  # 1-2 point contours come from single-pixel specks
            continue
        rect = cv2.minAreaRect(contour)
        if min(rect[1]) < MIN_BOX_SIDE:
            continue
        box = cv2.boxPoints(rect)
        score = box_score(prob, box)
        if score < box_threshold:
            continue
        expanded = unclip(box, unclip_ratio)
        if expanded is None:
            continue
        rect = cv2.minAreaRect(expanded)
        if min(rect[1]) < MIN_BOX_SIDE + 2:
            continue
        quad = order_clockwise(cv2.boxPoints(rect)) * scale
        quad[:, 0] = np.clip(quad[:, 0], 0, width)
        quad[:, 1] = np.clip(quad[:, 1], 0, height)
        results.append((quad, float(score)))
    return results


def box_score(prob: np.ndarray, box: np.ndarray) -> float:
    """Mean probability inside a box (PaddleOCR's "fast" score mode)."""
    map_h, map_w = prob.shape
    x0 = int(np.clip(np.floor(box[:, 0].min()), 0, map_w - 1))
    x1 = int(np.clip(np.ceil(box[:, 0].max()), 0, map_w - 1))
    y0 = int(np.clip(np.floor(box[:, 1].min()), 0, map_h - 1))
    y1 = int(np.clip(np.ceil(box[:, 1].max()), 0, map_h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    cv2.fillPoly(mask, [(box - [x0, y0]).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def unclip(box: np.ndarray, ratio: float) -> np.ndarray | None:
    """Grow a shrunk text kernel back to the full text region (DBNet's offset D = A*r/L)."""
    area = cv2.contourArea(box.astype(np.float32))
    length = cv2.arcLength(box.astype(np.float32), True)
    if length == 0:
        return None
    offset = pyclipper.PyclipperOffset()
    offset.AddPath([tuple(p) for p in box.astype(np.float64)], pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    expanded = offset.Execute(area * ratio / length)
    if len(expanded) != 1:  # a degenerate box can split or vanish
        return None
    return np.array(expanded[0], dtype=np.float32).reshape(-1, 1, 2)
