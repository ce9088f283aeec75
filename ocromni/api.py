"""The Python API: one function per command, each a few lines over ``ocromni.tasks``.

    >>> import ocromni
    >>> for page in ocromni.recognize(["scan.pdf"], pages="1-2"):
    ...     print(page.source, page.page, page.text)

Inputs may be paths, globs, folders, ``"-"`` (paths on stdin), numpy RGB arrays or PIL
images. Bad inputs raise ``ocromni.errors.InputError`` unless ``on_error`` is given, in
which case it is called with the error and the rest of the batch goes on.
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional

from ocromni.engine import get_engine
from ocromni.tasks.caption import caption, iter_caption
from ocromni.tasks.erase import erase, iter_erase
from ocromni.tasks.render import render_text
from ocromni.errors import InputError
from ocromni.types import Page, PageRegions, PageText

__all__ = ["detect", "recognize", "iter_detect", "iter_recognize", "iter_erase", "iter_caption", "ask", "caption", "render_text", "erase", "edit", "get_engine"]

ErrorHandler = Optional[Callable[[InputError], None]]


def _pages(inputs, *, pages, dpi, recursive, max_pixels, on_error, stdin, text_layer=True) -> Iterator[Page]:
    from ocromni.io import sources

    return sources.iter_pages(
        inputs, pages=pages, dpi=dpi, recursive=recursive, text_layer=text_layer,
        max_pixels=max_pixels, on_error=on_error, stdin=stdin,
    )


def _released(pairs):
    # Drop each page's pixels once the caller has had it, so long runs stay flat in memory.
    for page, record in pairs:
        yield page, record
        page.release()


def iter_recognize(
    inputs, *, pages: Optional[str] = None, dpi: int = 200, ocr: str = "auto", rotate: bool = True,
    batch_size: int = 8, recursive: bool = False, max_pixels: Optional[int] = None, single_line: bool = False,
    model: Optional[str] = None, device: Optional[str] = None, on_error: ErrorHandler = None, stdin=None,
) -> Iterator[tuple[Page, PageText]]:
    """Yield ``(page, PageText)`` as each page is read; see :func:`recognize`."""
    from ocromni.tasks.recognize import recognize_pages

    page_stream = _pages(inputs, pages=pages, dpi=dpi, recursive=recursive, max_pixels=max_pixels,
                         on_error=on_error, stdin=stdin, text_layer=ocr != "always")
    engine = get_engine(model, device)
    return _released(
        recognize_pages(engine, page_stream, ocr=ocr, rotate=rotate, batch_size=batch_size, single_line=single_line)
    )


def recognize(inputs, **options) -> list[PageText]:
    """Read the text of every page: lines and words with boxes and confidence.

    ``ocr``: "auto" uses a PDF page's embedded text when it has one, "always" OCRs every
    page, "never" only takes embedded text. ``single_line=True`` reads each image as one
    text line (word or line crops: no detection). Other options as on the command line.
    """
    return [record for _, record in iter_recognize(inputs, **options)]


def iter_detect(
    inputs, *, level: str = "line", pages: Optional[str] = None, dpi: int = 200, rotate: bool = True,
    batch_size: int = 8, recursive: bool = False, max_pixels: Optional[int] = None,
    model: Optional[str] = None, device: Optional[str] = None, on_error: ErrorHandler = None, stdin=None,
) -> Iterator[tuple[Page, PageRegions]]:
    """Yield ``(page, PageRegions)`` as each page is done; see :func:`detect`."""
    from ocromni.tasks.detect import detect_pages

    page_stream = _pages(inputs, pages=pages, dpi=dpi, recursive=recursive, max_pixels=max_pixels,
                         on_error=on_error, stdin=stdin, text_layer=False)
    engine = get_engine(model, device)
    return _released(detect_pages(engine, page_stream, level=level, rotate=rotate, batch_size=batch_size))


def detect(inputs, **options) -> list[PageRegions]:
    """Find the text regions (``level="line"`` or ``"word"``) of every page."""
    return [record for _, record in iter_detect(inputs, **options)]


def ask(inputs, questions, **options):
    """Answer each question about each document (all pages of a PDF together).

    Returns one ``Answer`` per (document, question) with the answer, a confidence in
    [0, 1], ``found`` and evidence (page, box, supporting text). Options as for recognize.
    """
    from ocromni.tasks.ask import ask_pages

    questions = [questions] if isinstance(questions, str) else list(questions)
    engine = get_engine(options.get("model"), options.get("device"))
    return list(ask_pages(engine, iter_recognize(inputs, **options), questions))


def edit(inputs, replace, **options):
    """Replace text in images, keeping the original's colour, size, weight, font and perspective.

    replace: ``{"OPEN": "CLOSED"}`` or ``["OPEN=CLOSED", ...]``: words or phrases (over
    words of one line), case-insensitive unless ``match_case=True``. Returns one
    ``EditResult`` per page (``.image``, ``.replaced``, ``.not_found``). Other options
    as for recognize.
    """
    from ocromni.tasks.edit import edit as edit_task

    return edit_task(inputs, replace, **options)
