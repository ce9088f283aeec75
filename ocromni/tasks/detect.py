"""detect: where the text is (lines or words), without reading it out."""

from __future__ import annotations

from typing import Iterable, Iterator

from ocromni.engine import Engine, batched
from ocromni.errors import UsageError
from ocromni.types import Page, PageRegions, Region

LEVELS = ("line", "word")


def detect_pages(
    engine: Engine,
    pages: Iterable[Page],
    *,
    level: str = "line",
    rotate: bool = True,
    batch_size: int = 8,
) -> Iterator[tuple[Page, PageRegions]]:
    """Text regions of each page, one record per page."""
    if level not in LEVELS:
        raise UsageError(reason=f"--level must be one of {', '.join(LEVELS)}, got {level!r}")
    # Word boxes come from the recogniser's character alignment, so word level reads too;
    # a backend that spots words itself (``spot``: the harmony network, --model PATH)
    # finds them with its own prompt, over the same line proposals.
    recognize = level == "word"
    for batch in batched(pages, batch_size):
        if recognize and hasattr(engine.model, "spot"):
            page_texts = engine.model.spot(batch, rotate=rotate)
        else:
            page_texts = engine.model.read(batch, recognize=recognize, rotate=rotate)
        for page, page_text in zip(batch, page_texts):
            if level == "line":
                regions = [Region(line.polygon, line.confidence) for line in page_text.lines]
            else:
                regions = [Region(word.polygon, word.confidence) for line in page_text.lines for word in line.words]
            yield page, PageRegions(
                page_text.source, page_text.page, page_text.width, page_text.height, page_text.dpi,
                level=level, regions=regions, rotation=page_text.rotation,
            )
