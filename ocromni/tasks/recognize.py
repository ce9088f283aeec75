"""recognize: lines and words with text, boxes and confidence, in reading order."""

from __future__ import annotations

import inspect
from typing import Iterable, Iterator

from ocromni.engine import Engine, batched
from ocromni.errors import UsageError
from ocromni.types import Page, PageRecord, PageText

OCR_MODES = ("auto", "always", "never")
SINGLE_LINE_BATCH_FACTOR = 8


def _needs_ocr(page: Page, ocr: str) -> bool:
    if ocr == "always":
        return True
    if ocr == "never":
        return False
    return not page.text_layer


def _from_text_layer(page: Page) -> PageText:
    # "never" on a page without a text layer reports an empty page rather than guessing.
    source = "pdf" if page.text_layer else "none"
    return PageText(**PageRecord.header_of(page), text_source=source, lines=list(page.text_layer or []))


def recognize_pages(
    engine: Engine,
    pages: Iterable[Page],
    *,
    ocr: str = "auto",
    rotate: bool = True,
    batch_size: int = 8,
    single_line: bool = False,
) -> Iterator[tuple[Page, PageText]]:
    """Read each page: its PDF text layer where ``ocr`` allows, else the model, in batches.

    ``single_line``: every OCR'd page is one text line (a word or line crop), read without
    detection.
    """
    if ocr not in OCR_MODES:
        raise UsageError(reason=f"--ocr must be one of {', '.join(OCR_MODES)}, got {ocr!r}")
    options = {}
    if single_line:
        if "single_line" not in inspect.signature(engine.model.read).parameters:
            raise UsageError(reason=f"the {engine.model_name} model cannot read single-line crops; use the ppocr model")
        options["single_line"] = True
        # Crops are small; more of them per call lets the recogniser batch crops of like
        # width together instead of padding a few mixed ones.
        batch_size *= SINGLE_LINE_BATCH_FACTOR
    for batch in batched(pages, batch_size):
        to_read = [page for page in batch if _needs_ocr(page, ocr)]
        # One model call per batch, so recognition can batch line crops across pages.
        read = iter(engine.model.read(to_read, rotate=rotate, **options)) if to_read else iter(())
        for page in batch:
            yield page, (next(read) if _needs_ocr(page, ocr) else _from_text_layer(page))
