"""PDF pages for ocromni.io.sources: open, measure, render one page at a time, read the text layer.

Everything here works in the rendered pixel frame: a page at ``dpi`` is
``page.rect * dpi/72`` pixels, with the page's ``/Rotate`` applied, so the text layer
lands on the same pixels the models see.
"""

from __future__ import annotations

import re
from typing import Optional

import numpy as np
import pymupdf

from ocromni.errors import CorruptPdfError, EncryptedPdfError
from ocromni.types import Line, Word

POINTS_PER_INCH = 72


def _scale(dpi: int) -> pymupdf.Matrix:
    return pymupdf.Matrix(dpi / POINTS_PER_INCH, dpi / POINTS_PER_INCH)


def _pixel_rect(page: pymupdf.Page, dpi: int) -> pymupdf.IRect:
    """The pixels ``page`` renders to at ``dpi``: the same rounding MuPDF uses for the
    pixmap (checked against get_pixmap in tests)."""
    return (page.rect * _scale(dpi)).irect


def _reason(exc: Exception) -> str:
    """A short reason for an error message: pymupdf's own text, or MuPDF's last warning."""
    text = str(exc).strip()
    if not text:
        warnings = pymupdf.TOOLS.mupdf_warnings(reset=False).strip().splitlines()
        text = warnings[-1] if warnings else type(exc).__name__
    return text


def _open_document(path: str, source: str) -> pymupdf.Document:
    """Open ``path`` as a PDF whatever its extension, or raise the matching InputError."""
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # pymupdf raises FileDataError, RuntimeError, ValueError, ...
        raise CorruptPdfError(path=source, reason=_reason(exc)) from None
    # needs_pass is true for a user password; an empty one is tried as PDF readers do
    # (owner-password-only files open without it and are fine to read).
    if doc.needs_pass and not doc.authenticate(""):
        doc.close()
        raise EncryptedPdfError(path=source)
    if doc.page_count < 1:
        doc.close()
        raise CorruptPdfError(path=source, reason="the document has no pages")
    return doc


class PdfFile:
    """One PDF whose pages are measured and rendered one at a time.

    The document stays open while a source stream walks its pages and is closed when the
    stream moves on; a page rendered after that (e.g. from a collected list) reopens the
    file just for that render, so no page pixels are ever cached here.
    """

    def __init__(self, path: str, source: Optional[str] = None):
        self.path = path
        self.source = source if source is not None else path
        self._doc: Optional[pymupdf.Document] = _open_document(path, self.source)
        self.page_count: int = self._doc.page_count

    def close(self) -> None:
        if self._doc is not None:
            self._doc.close()
            self._doc = None

    @property
    def is_open(self) -> bool:
        return self._doc is not None

    def __enter__(self) -> "PdfFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _load_page(self, doc: pymupdf.Document, index: int) -> pymupdf.Page:
        try:
            return doc.load_page(index)
        except Exception as exc:
            raise CorruptPdfError(path=self.source, reason=f"page {index + 1}: {_reason(exc)}") from None

    def page_size(self, index: int, dpi: int) -> tuple[int, int]:
        """Pixel ``(width, height)`` page ``index`` (0-based) renders to at ``dpi``, without rendering."""
        box = _pixel_rect(self._load_page(self._require_open(), index), dpi)
        return box.width, box.height

    def text_layer(self, index: int, dpi: int) -> Optional[list[Line]]:
        """The page's embedded text as lines of words in rendered pixels, or None if it has none."""
        page = self._load_page(self._require_open(), index)
        try:
            words = page.get_text("words")
            # get_text reports unrotated page space; the rotation matrix turns it into the
            # frame get_pixmap draws, then the dpi scale turns points into pixels.
            to_pixels = page.rotation_matrix * _scale(dpi)
        except Exception as exc:
            raise CorruptPdfError(path=self.source, reason=f"page {index + 1}: {_reason(exc)}") from None
        return _lines_from_words(words, to_pixels)

    def render(self, index: int, dpi: int) -> np.ndarray:
        """Page ``index`` (0-based) as an RGB uint8 array at ``dpi``."""
        if self._doc is not None:
            return self._render(self._doc, index, dpi)
        doc = _open_document(self.path, self.source)
        try:
            return self._render(doc, index, dpi)
        finally:
            doc.close()

    def _render(self, doc: pymupdf.Document, index: int, dpi: int) -> np.ndarray:
        page = self._load_page(doc, index)
        scan = _scanned_image(doc, page, dpi)
        if scan is not None:
            return scan
        try:
            pix = page.get_pixmap(matrix=_scale(dpi), colorspace=pymupdf.csRGB, alpha=False)
        except Exception as exc:
            raise CorruptPdfError(path=self.source, reason=f"page {index + 1}: {_reason(exc)}") from None
        # One copy out of MuPDF's buffer, so the array is writable and the pixmap can go.
        # MuPDF may pad rows, hence stride rather than width * 3.
        rows = np.frombuffer(pix.samples_mv, dtype=np.uint8).reshape(pix.height, pix.stride)
        image = rows[:, : pix.width * 3].reshape(pix.height, pix.width, 3).copy()
        del rows, pix
        # MuPDF caches decoded page resources (a scan's page image) in a store of up to
        # 256 MB; pages stream once, so the cache only makes long runs grow. Empty it.
        pymupdf.TOOLS.store_shrink(100)
        return image

    def _require_open(self) -> pymupdf.Document:
        if self._doc is None:
            raise ValueError(f"{self.source}: PDF is closed")
        return self._doc


# A scanner's page: one image drawn over the whole page and nothing else, e.g.
# "q 612 0 0 792 0 0 cm /Im0 Do Q". The six numbers are the image's placement matrix.
_NUMBER = rb"([-+]?(?:\d+\.?\d*|\.\d+))"
_WHOLE_PAGE_IMAGE = re.compile(
    rb"^\s*(?:q\s+)?" + rb"\s+".join([_NUMBER] * 6) + rb"\s+cm\s*/([^\s/\[\]()<>{}%]+)\s*Do\s*(?:Q\s*)?$"
)
# How far (in points) the image may miss the page's edges and still count as covering it.
PLACEMENT_TOLERANCE = 0.5


def _scanned_image(doc: pymupdf.Document, page: pymupdf.Page, dpi: int) -> Optional[np.ndarray]:
    """The page's pixels straight from its JPEG when the page is a plain scan, else None.

    A scanned PDF page is usually one JPEG stretched over the page. Decoding that JPEG
    with OpenCV, and reducing it where it has more pixels than the page takes at ``dpi``,
    gives the picture MuPDF would draw (the same decoded pixels; a reduction by another
    filter) in about a third of the time: the 10 receipt pages of benchmarks/ask.py in
    0.05-0.13 s against 0.32-0.36 s, a saving of 3 % of the CPU time of reading them.
    Anything else (vector or text content, annotations, a rotated or offset page, masks,
    decode arrays, CMYK, an image smaller than the page at ``dpi``, which MuPDF would
    enlarge its own way) is left to MuPDF.
    """
    if page.rotation or page.first_annot is not None or page.first_widget is not None:
        return None
    box = page.mediabox
    if box.x0 != 0 or box.y0 != 0 or page.cropbox != box:
        return None
    images = page.get_images(full=True)
    if len(images) != 1 or page.get_fonts():
        return None
    xref, smask, _, _, bpc, _, _, name, image_filter, _ = images[0]
    if smask or bpc != 8 or image_filter != "DCTDecode":
        return None
    match = _WHOLE_PAGE_IMAGE.match(page.read_contents())
    if match is None or match.group(7).decode("latin-1") != name:
        return None
    a, b, c, d, e, f = (float(v) for v in match.groups()[:6])
    if b or c or max(abs(a - box.width), abs(d - box.height), abs(e), abs(f)) > PLACEMENT_TOLERANCE:
        return None
    if any(doc.xref_get_key(xref, key)[0] != "null" for key in ("Decode", "Mask", "ImageMask")):
        return None
    jpeg = doc.extract_image(xref)  # a DCT image comes out as its stream, not re-encoded
    if jpeg.get("ext") != "jpeg" or jpeg.get("colorspace") not in (1, 3):
        return None
    import cv2

    size = _pixel_rect(page, dpi)
    if jpeg["width"] < size.width or jpeg["height"] < size.height:
        return None
    # A scan with several times the pixels the page needs is decoded already reduced, by
    # the JPEG decoder's own 1/2, 1/4 or 1/8 scaling (as MuPDF does): a 600 dpi A4 scan
    # read at 200 dpi then never stands in memory at full size (35 MP, 100 MB).
    reduction = min(jpeg["width"] / size.width, jpeg["height"] / size.height)
    reductions = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))
    flags = next((flag for factor, flag in reductions if reduction >= factor), cv2.IMREAD_COLOR)
    # PDF viewers ignore a JPEG's EXIF orientation; OpenCV would apply it.
    decoded = cv2.imdecode(np.frombuffer(jpeg["image"], dtype=np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if decoded is None or decoded.shape[1] < size.width or decoded.shape[0] < size.height:
        return None
    if decoded.shape[:2] != (size.height, size.width):
        decoded = cv2.resize(decoded, (size.width, size.height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB, dst=decoded)  # in place: no second page in memory


def _rect_polygon(rect: pymupdf.Rect) -> list[list[float]]:
    """Clockwise from top-left, as the coordinates contract asks."""
    return [[rect.x0, rect.y0], [rect.x1, rect.y0], [rect.x1, rect.y1], [rect.x0, rect.y1]]


def _lines_from_words(words: list[tuple], to_pixels: pymupdf.Matrix) -> Optional[list[Line]]:
    """Group pymupdf ``("words")`` tuples by (block, line), keeping pymupdf's order."""
    grouped: dict[tuple[int, int], list[Word]] = {}
    for x0, y0, x1, y1, text, block_no, line_no, _word_no in words:
        if not text.strip():
            continue
        # Page rotations are multiples of 90 degrees, so the transformed rect stays
        # axis-aligned and its corners are the word's box in the rendered image.
        rect = pymupdf.Rect(x0, y0, x1, y1) * to_pixels
        grouped.setdefault((block_no, line_no), []).append(Word(text, 1.0, _rect_polygon(rect)))
    lines = []
    for line_words in grouped.values():
        box = pymupdf.Rect(line_words[0].bbox)
        for word in line_words[1:]:
            box |= pymupdf.Rect(word.bbox)
        text = " ".join(word.text for word in line_words)
        lines.append(Line(text, 1.0, _rect_polygon(box), line_words))
    return lines or None
