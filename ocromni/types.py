"""The typed results every command and the Python API share.

Coordinates are pixels of the page image as ocromni saw it: origin top-left, x right,
y down. Polygons run clockwise from the top-left corner; ``bbox`` is ``[x0, y0, x1, y1]``.
Field names here are the public JSON schema (``ocromni/schemas/page.schema.json``):
never rename one silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

Point = list  # [x, y]
Polygon = list  # [[x, y], ...] clockwise from top-left
BBox = list  # [x0, y0, x1, y1]


def bbox_of(polygon) -> list[float]:
    """Axis-aligned ``[x0, y0, x1, y1]`` around a polygon."""
    xs = [p[0] for p in polygon]
    ys = [p[1] for p in polygon]
    return [min(xs), min(ys), max(xs), max(ys)]


def _round_polygon(polygon) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in polygon]


def _round_bbox(bbox) -> list[float]:
    return [round(float(v), 1) for v in bbox]


class Page:
    """One page to process: an image file, a frame of a TIFF, or a page of a PDF.

    The pixels load on first access of ``image`` so a stream of pages never holds more
    than the pages being worked on; ``width``/``height`` are known without loading.
    """

    def __init__(
        self,
        source: str,
        page_no: int,
        width: int,
        height: int,
        load_image: Callable[[], np.ndarray],
        dpi: Optional[int] = None,
        text_layer: Optional[list["Line"]] = None,
        page_count: int = 1,
    ):
        self.source = source
        self.page_no = page_no  # 1-based
        self.width = width
        self.height = height
        self.dpi = dpi
        self.text_layer = text_layer  # embedded PDF text, if the page has any
        self.page_count = page_count  # pages in the source document
        self._load_image = load_image
        self._image: Optional[np.ndarray] = None

    @property
    def image(self) -> np.ndarray:
        """RGB ``uint8`` array of shape (height, width, 3)."""
        if self._image is None:
            self._image = self._load_image()
        return self._image

    def release(self) -> None:
        """Drop the pixels once the page is done (long runs stay flat in memory)."""
        self._image = None

    @classmethod
    def from_array(cls, image: np.ndarray, source: str = "<array>", page_no: int = 1, dpi=None) -> "Page":
        image = np.ascontiguousarray(image[..., :3]) if image.ndim == 3 else np.stack([image] * 3, -1)
        return cls(source, page_no, image.shape[1], image.shape[0], lambda: image, dpi=dpi)

    def __repr__(self) -> str:
        return f"Page({self.source!r}, page_no={self.page_no}, {self.width}x{self.height})"


@dataclass
class Word:
    text: str
    confidence: float
    polygon: Polygon
    bbox: BBox = None  # derived from the polygon when not given

    def __post_init__(self):
        if self.bbox is None:
            self.bbox = bbox_of(self.polygon)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "bbox": _round_bbox(self.bbox),
            "polygon": _round_polygon(self.polygon),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Word":
        return cls(data["text"], data["confidence"], data["polygon"], data.get("bbox"))


@dataclass
class Line:
    text: str
    confidence: float
    polygon: Polygon
    words: list[Word] = field(default_factory=list)
    bbox: BBox = None

    def __post_init__(self):
        if self.bbox is None:
            self.bbox = bbox_of(self.polygon)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "bbox": _round_bbox(self.bbox),
            "polygon": _round_polygon(self.polygon),
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Line":
        words = [Word.from_dict(w) for w in data.get("words", [])]
        return cls(data["text"], data["confidence"], data["polygon"], words, data.get("bbox"))


@dataclass
class PageRecord:
    """Fields every per-page record starts with (contract: page records)."""

    source: str
    page: int
    width: int
    height: int
    dpi: Optional[int] = None

    def _header(self) -> dict[str, Any]:
        header = {"source": self.source, "page": self.page, "width": self.width, "height": self.height}
        if self.dpi is not None:
            header["dpi"] = self.dpi
        return header

    @staticmethod
    def header_of(page: Page) -> dict[str, Any]:
        return dict(source=page.source, page=page.page_no, width=page.width, height=page.height, dpi=page.dpi)


@dataclass
class PageText(PageRecord):
    """What ``recognize`` finds on one page: lines in reading order, each with words."""

    text_source: str = "ocr"  # "ocr" or "pdf" (the page's embedded text layer)
    lines: list[Line] = field(default_factory=list)
    rotation: int = 0  # degrees the page was turned (clockwise) before reading

    @property
    def text(self) -> str:
        """The page's plain text in reading order.

        Consecutive lines on the same row (a receipt's item and its price, the cells of a
        table row) are joined by a space; other lines start a new line of text.
        """
        parts: list[str] = []
        previous = None
        for line in self.lines:
            if not line.text:
                continue
            if previous is not None:
                parts.append(" " if _same_row(previous, line, self.rotation) else "\n")
            parts.append(line.text)
            previous = line
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        record = self._header()
        record["text_source"] = self.text_source
        record["rotation"] = self.rotation
        record["lines"] = [line.to_dict() for line in self.lines]
        return record

    @classmethod
    def from_dict(cls, data: dict) -> "PageText":
        return cls(
            data["source"], data["page"], data["width"], data["height"], data.get("dpi"),
            data.get("text_source", "ocr"), [Line.from_dict(l) for l in data.get("lines", [])],
            data.get("rotation", 0),
        )


def _same_row(before: Line, after: Line, rotation: int) -> bool:
    """Whether ``after`` continues ``before``'s row, in the page's reading frame."""
    # Rows run along x on upright pages and along y on pages turned by 90/270 degrees.
    across, along = (1, 0) if rotation in (0, 180) else (0, 1)
    b0, b1 = before.bbox[across], before.bbox[across + 2]
    a0, a1 = after.bbox[across], after.bbox[across + 2]
    overlap = min(b1, a1) - max(b0, a0)
    if overlap < 0.5 * min(b1 - b0, a1 - a0):
        return False
    if rotation in (0, 90):
        return after.bbox[along] >= before.bbox[along + 2] - 0.5 * (b1 - b0)
    return after.bbox[along + 2] <= before.bbox[along] + 0.5 * (b1 - b0)


@dataclass
class Region:
    """A detected text region (a line, or a word with ``--level word``)."""

    polygon: Polygon
    confidence: float
    bbox: BBox = None

    def __post_init__(self):
        if self.bbox is None:
            self.bbox = bbox_of(self.polygon)

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": round(float(self.confidence), 4),
            "bbox": _round_bbox(self.bbox),
            "polygon": _round_polygon(self.polygon),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Region":
        return cls(data["polygon"], data["confidence"], data.get("bbox"))


@dataclass
class PageRegions(PageRecord):
    """What ``detect`` finds on one page."""

    level: str = "line"
    regions: list[Region] = field(default_factory=list)
    rotation: int = 0

    def to_dict(self) -> dict[str, Any]:
        record = self._header()
        record["level"] = self.level
        record["rotation"] = self.rotation
        record["regions"] = [r.to_dict() for r in self.regions]
        return record

    @classmethod
    def from_dict(cls, data: dict) -> "PageRegions":
        return cls(
            data["source"], data["page"], data["width"], data["height"], data.get("dpi"),
            data.get("level", "line"), [Region.from_dict(r) for r in data.get("regions", [])],
            data.get("rotation", 0),
        )
