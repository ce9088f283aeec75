"""Loaders for the evaluation data in ``../shared/data`` (see its README for provenance).

Each loader returns plain records — image path plus ground truth in pixel coordinates —
so any benchmark (perception today, ask/erase later) can share them. Loaders read labels
only; images are opened by whoever runs a model on them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from metrics import reading_order_text

DONT_CARE = "###"


@dataclass
class TextRegion:
    """One ground-truth word or line: polygon ``[[x, y], ...]``, transcript, don't-care flag."""

    polygon: list
    text: str
    dont_care: bool = False


@dataclass
class PageSample:
    """A full image with its regions and, where the order is meaningful, its page text."""

    name: str
    image: str  # path
    regions: list[TextRegion] = field(default_factory=list)
    text: Optional[str] = None  # ground-truth page text in reading order


@dataclass
class CropSample:
    """A cropped word image and its transcript."""

    name: str
    image: str
    text: str


def default_data_root() -> Path:
    """``$OCROMNI_DATA`` if set, else ``shared/data`` beside the project checkout."""
    if os.environ.get("OCROMNI_DATA"):
        return Path(os.environ["OCROMNI_DATA"])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _limited(items: list, limit: Optional[int]) -> list:
    return items[:limit] if limit else items


def _quad(values: list[str]) -> list[list[float]]:
    coords = [float(v) for v in values[:8]]
    return [[coords[i], coords[i + 1]] for i in range(0, 8, 2)]


def _read_quad_lines(path: Path) -> list[tuple[list, str]]:
    """Rows of ``x1,y1,...,x4,y4,TEXT`` (TEXT may hold commas); BOM and blank lines tolerated."""
    rows = []
    for line in path.read_text(encoding="utf-8-sig", errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = line.split(",", 8)
        if len(parts) < 8:
            continue
        rows.append((_quad(parts), parts[8] if len(parts) > 8 else ""))
    return rows


def _numeric_key(path: Path):
    digits = "".join(c for c in path.stem if c.isdigit())
    return (int(digits) if digits else -1, path.name)


def load_icdar2015_e2e(root: Path, limit: Optional[int] = None) -> list[PageSample]:
    """ICDAR 2015 incidental scene text: word quadrilaterals, ``###`` = don't care."""
    base = Path(root) / "icdar2015" / "e2e"
    samples = []
    for image in sorted((base / "img").glob("img_*.*"), key=_numeric_key):
        gt = base / "gt" / f"gt_{image.stem}.txt"
        regions = [
            TextRegion(polygon, text, dont_care=text.strip() == DONT_CARE)
            for polygon, text in (_read_quad_lines(gt) if gt.exists() else [])
        ]
        samples.append(PageSample(image.stem, str(image), regions))
    return _limited(samples, limit)


def load_sroie(root: Path, limit: Optional[int] = None) -> list[PageSample]:
    """SROIE receipts: text-line quadrilaterals; page text = the lines in file order."""
    base = Path(root) / "sroie"
    samples = []
    for image in sorted((base / "img").glob("*.jpg")):
        gt = base / "box" / f"{image.stem}.csv"
        if not gt.exists():
            continue
        regions = [TextRegion(polygon, text) for polygon, text in _read_quad_lines(gt)]
        page_text = "\n".join(r.text for r in regions)
        samples.append(PageSample(image.stem, str(image), regions, page_text))
    return _limited(samples, limit)


def load_funsd(root: Path, limit: Optional[int] = None) -> list[PageSample]:
    """FUNSD forms: one region per annotated word; page text built in row order.

    FUNSD lists entities in annotation order, not reading order, so the page text is
    rebuilt from the word boxes: rows top to bottom (words whose vertical extents
    overlap by half the smaller height share a row), each row left to right
    (:func:`metrics.reading_order_text`).
    """
    base = Path(root) / "funsd"
    samples = []
    for annotation in sorted((base / "annotations").glob("*.json")):
        image = base / "images" / f"{annotation.stem}.png"
        form = json.loads(annotation.read_text(encoding="utf-8"))["form"]
        regions = []
        for entity in form:
            for word in entity.get("words", []):
                text = word.get("text", "").strip()
                if not text:
                    continue
                x0, y0, x1, y1 = (float(v) for v in word["box"])
                regions.append(TextRegion([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], text))
        page_text = reading_order_text([((r.polygon[0][0], r.polygon[0][1], r.polygon[2][0], r.polygon[2][1]), r.text) for r in regions])
        samples.append(PageSample(annotation.stem, str(image), regions, page_text))
    return _limited(samples, limit)


def load_icdar2015_words(root: Path, limit: Optional[int] = None) -> list[CropSample]:
    """ICDAR 2015 word crops: ``word_N.png, "TEXT"`` per line (quotes inside are kept)."""
    base = Path(root) / "icdar2015" / "words"
    samples = []
    for line in (base / "gt.txt").read_text(encoding="utf-8-sig").splitlines():
        if not line.strip():
            continue
        name, _, text = line.partition(",")
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
        samples.append(CropSample(name.strip(), str(base / name.strip()), text))
    return _limited(samples, limit)


def load_iiit5k(root: Path, limit: Optional[int] = None) -> list[CropSample]:
    """IIIT5K train crops: ``train/NAME.png TEXT`` per line."""
    base = Path(root) / "iiit5k"
    samples = []
    for line in (base / "train.tags").read_text(encoding="utf-8-sig").splitlines():
        if not line.strip():
            continue
        name, _, text = line.strip().partition(" ")
        samples.append(CropSample(name, str(base / name), text.strip()))
    return _limited(samples, limit)


PAGE_DATASETS = {"sroie": load_sroie, "icdar2015_e2e": load_icdar2015_e2e, "funsd": load_funsd}
CROP_DATASETS = {"iiit5k": load_iiit5k, "icdar2015_words": load_icdar2015_words}
