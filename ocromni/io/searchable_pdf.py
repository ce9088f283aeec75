"""Searchable PDF: each page image with an invisible, selectable text layer on top.

Page size is the image's physical size, ``pixels * 72 / dpi`` points, with the record's
dpi (PDF pages carry the dpi they were rendered at) or :data:`DEFAULT_DPI` for images,
whose resolution ocromni does not track. Each word is drawn in render mode 3
(invisible) on its bbox: the font size makes the glyphs' ascender-to-descender height
equal the box height, and a horizontal scale stretches the word to the box width, so
viewers select, and ``page.search_for`` finds, each word where it is on the image.
"""

from __future__ import annotations

import io
from typing import IO, Optional

import numpy as np
import pymupdf
from PIL import Image

from ocromni.errors import OutputError
from ocromni.io.sinks import words_of
from ocromni.types import PageText

# Images have no trustworthy dpi (phone photos say 72); 300 dpi gives scan-like page sizes.
DEFAULT_DPI = 300
JPEG_QUALITY = 85
# Below this many pixels the image is also tried as PNG, kept when smaller (clean
# renders, screenshots); above it encoding twice costs more than it usually saves.
PNG_TRIAL_PIXELS = 2_000_000

_LATIN = pymupdf.Font("helv")  # Base-14 Helvetica: no embedding needed
_CJK_NAME = "cjk"


def _encode_image(image: np.ndarray) -> bytes:
    """The image as JPEG, or as PNG when that is smaller."""
    picture = Image.fromarray(np.ascontiguousarray(image))
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    if image.ndim == 3 and np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]):
        picture = picture.convert("L")  # a gray scan: a third of the data
    jpeg = io.BytesIO()
    picture.save(jpeg, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    if picture.width * picture.height > PNG_TRIAL_PIXELS:
        return jpeg.getvalue()
    png = io.BytesIO()
    picture.save(png, format="PNG", optimize=False)
    return min(jpeg.getvalue(), png.getvalue(), key=len)


class SearchablePdf:
    """Collects pages in memory (images compressed) and writes one PDF."""

    def __init__(self):
        self.doc = pymupdf.open()
        self._cjk: Optional[pymupdf.Font] = None

    def add_page(self, record: PageText, image: np.ndarray) -> None:
        """Append a page showing ``image`` with ``record``'s words as invisible text."""
        scale = 72.0 / float(record.dpi or DEFAULT_DPI)
        page = self.doc.new_page(width=record.width * scale, height=record.height * scale)
        # Record coordinates are in the image's own pixels; filling the page keeps them aligned.
        page.insert_image(page.rect, stream=_encode_image(image), keep_proportion=False)
        cjk_on_page = False
        # One Shape for all words: page.insert_text re-reads the whole content stream on
        # every call, quadratic in the number of words.
        shape = page.new_shape()
        for line in record.lines:
            for word in words_of(line):
                text = " ".join(word.text.split())  # a tab or newline would be drawn as a glyph
                latin = all(ord(ch) < 256 for ch in text)
                if not latin and not cjk_on_page:
                    page.insert_font(fontname=_CJK_NAME, fontbuffer=self._cjk_font().buffer)
                    cjk_on_page = True
                x0, y0, x1, y1 = (float(v) * scale for v in word.bbox)
                self._place(shape, text, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), latin)
        shape.commit()

    def _cjk_font(self) -> pymupdf.Font:
        if self._cjk is None:
            self._cjk = pymupdf.Font("cjk")  # Droid Sans Fallback: CJK plus Greek, Cyrillic, €...
        return self._cjk

    def _place(self, shape: pymupdf.Shape, text: str, x0: float, y0: float, x1: float, y1: float, latin: bool) -> None:
        # helv only encodes Latin-1 through insert_text; everything else uses the CJK font
        # (scripts it lacks, e.g. Hebrew or Arabic, stay on the image but not in the text).
        font, fontname = (_LATIN, "helv") if latin else (self._cjk_font(), _CJK_NAME)
        height = y1 - y0
        if not text or height <= 0 or x1 <= x0:
            return
        fontsize = height / (font.ascender - font.descender)
        natural_width = font.text_length(text, fontsize=fontsize)
        if natural_width <= 0:
            return
        # The baseline sits |descender| above the box bottom, so ascender-to-descender
        # spans the box exactly; the morph stretches the word about its start.
        origin = pymupdf.Point(x0, y1 + font.descender * fontsize)
        shape.insert_text(
            origin,
            text,
            fontsize=fontsize,
            fontname=fontname,
            render_mode=3,
            morph=(origin, pymupdf.Matrix((x1 - x0) / natural_width, 1)),
        )

    @property
    def page_count(self) -> int:
        return self.doc.page_count

    def save(self, out: IO[bytes]) -> None:
        """Write the PDF to a binary file object (keeps only the CJK glyphs used)."""
        if self.doc.page_count == 0:
            raise OutputError(reason="no pages to write a PDF from")
        if self._cjk is not None:
            self.doc.subset_fonts()
        out.write(self.doc.tobytes(garbage=3, deflate=True))
        self.doc.close()
