"""Turn what the user gave (paths, globs, folders, ``-``, arrays) into a lazy stream of pages.

Every command reads its inputs through :func:`iter_pages`. It opens one file at a time,
decodes an image as soon as the stream reaches it (so a broken file is reported in its
place in the batch; large JPEGs are only checked then and decoded when read) and renders
PDF pages only when their ``image`` is asked for. A bad
input becomes one :class:`~ocromni.errors.InputError` naming the path as the user wrote
it; the stream then goes on with the next input.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, TextIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ocromni.errors import (
    CorruptPdfError,
    EmptyFileError,
    ImageTooLargeError,
    InputError,
    MissingInputError,
    NoImagesError,
    NotAnImageError,
    PageRangeError,
    TruncatedImageError,
    UnsupportedFormatError,
    UsageError,
)
from ocromni.io.pdf import PdfFile
from ocromni.types import Page

IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
PDF_SUFFIX = ".pdf"
SUPPORTED_SUFFIXES: frozenset[str] = IMAGE_SUFFIXES | {PDF_SUFFIX}

# 100 megapixels: a 600 dpi A3 scan (7016 x 9921 = 70 MP) fits, a decompression bomb
# (tens of kilobytes on disk that decode to gigabytes) does not.
DEFAULT_MAX_PIXELS: int = 100_000_000

# The PIL plugins we accept, whatever the file is called (content decides, not the name).
# (PIL's JPEG opener also returns camera JPEGs carrying a preview image, as format "MPO".)
_PIL_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
# Only TIFF frames are pages; GIF/WebP/MPO frames are animation or previews.
_MULTIPAGE_FORMATS = frozenset({"TIFF"})

# JPEGs over this many pixels are not decoded when the stream reaches them but when their
# page is read: a batch is gathered before it is read, and SROIE's 35-megapixel receipt
# scans (100 MB each as RGB) held in a batch beside the page being detected made the peak
# of a 100-receipt run. They are still checked in place (_checked_jpeg), at an eighth of
# the full decode's 0.2 s.
DECODE_LATER_PIXELS = 8_000_000
ORIENTATION_TAG = 0x0112

# PIL's own bomb check uses one global limit and raises before we can name the file and
# the numbers; we check every image against max_pixels from its header instead.
Image.MAX_IMAGE_PIXELS = None

InMemoryImage = Union[np.ndarray, Image.Image]


# --- page ranges ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSelection:
    """Which pages (1-based) to take from each document; no ranges means all of them.

    ``ranges`` holds inclusive ``(first, last)`` pairs; ``last`` is None for an open end.
    """

    ranges: tuple[tuple[int, Optional[int]], ...] = ()

    @property
    def is_all(self) -> bool:
        return not self.ranges

    def __contains__(self, page_no: int) -> bool:
        if self.is_all:
            return True
        return any(first <= page_no and (last is None or page_no <= last) for first, last in self.ranges)

    def select(self, page_count: int) -> list[int]:
        """The selected page numbers of a ``page_count``-page document, in document order."""
        return [n for n in range(1, page_count + 1) if n in self]


_RANGE_ITEM = re.compile(r"(\d+)?\s*(-)?\s*(\d+)?", re.ASCII)


def parse_page_range(spec: Optional[str]) -> PageSelection:
    """Parse ``"1,3-5"``, ``"7-"`` (to the end) or ``"-3"`` (up to 3); None means every page."""
    if spec is None:
        return PageSelection()
    if not spec.strip():
        raise PageRangeError(spec=spec, reason="it is empty")
    ranges = []
    for item in spec.split(","):
        item = item.strip()
        match = _RANGE_ITEM.fullmatch(item)
        if not item or not match or not (match.group(1) or match.group(3)):
            reason = "an item is empty" if not item else f"{item!r} is not a page or a range"
            raise PageRangeError(spec=spec, reason=reason)
        first_text, dash, last_text = match.groups()
        first = int(first_text) if first_text else 1
        last = int(last_text) if last_text else (None if dash else first)
        if first < 1 or (last is not None and last < 1):
            raise PageRangeError(spec=spec, reason="pages are numbered from 1")
        if last is not None and last < first:
            raise PageRangeError(spec=spec, reason=f"{item!r} runs backwards")
        ranges.append((first, last))
    return PageSelection(tuple(ranges))


# --- inputs -> paths -------------------------------------------------------------------------


@dataclass(frozen=True)
class _InMemory:
    name: str
    image: InMemoryImage


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _supported(name: str) -> bool:
    return Path(name).suffix.lower() in SUPPORTED_SUFFIXES


def _scan_folder(folder: str, recursive: bool) -> list[str]:
    """Supported files under ``folder`` (hidden ones skipped), sorted, joined onto ``folder`` as given."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(d)) if recursive else []
        rel_root = os.path.relpath(root, folder)
        for name in files:
            if not _is_hidden(name) and _supported(name):
                found.append(os.path.normpath(os.path.join(rel_root, name)))
    # Sort by path components so a folder's files stay together in recursive listings.
    found.sort(key=lambda rel: Path(rel).parts)
    return [os.path.join(folder, rel) for rel in found]


def _subfolders_have_images(folder: str) -> bool:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not _is_hidden(d)]
        if root != folder and any(not _is_hidden(f) and _supported(f) for f in files):
            return True
    return False


def _expand_folder(folder: str, recursive: bool) -> Iterator[Union[str, InputError]]:
    if not os.access(folder, os.R_OK | os.X_OK):
        yield NoImagesError(path=folder, hint=" (it cannot be listed: permission denied)")
        return
    files = _scan_folder(folder, recursive)
    if not files:
        hint = ""
        if not recursive and _subfolders_have_images(folder):
            hint = "; its subfolders have some: add --recursive to include them"
        yield NoImagesError(path=folder, hint=hint)
        return
    yield from files


_GLOB_MAGIC = re.compile(r"[*?[]")


def _expand_path(item: str, recursive: bool) -> Iterator[Union[str, InputError]]:
    """One path, folder or glob, as the user wrote it."""
    if os.path.isdir(item):
        yield from _expand_folder(item, recursive)
    elif os.path.lexists(item):
        yield item  # a file: its content decides later whether it is usable
    elif _GLOB_MAGIC.search(item):
        matches = sorted(glob.glob(item, recursive=True))
        if not matches:
            yield MissingInputError(path=item)
        # Matches are treated like the arguments a shell would have expanded them into.
        for match in matches:
            yield from _expand_folder(match, recursive) if os.path.isdir(match) else iter([match])
    else:
        yield MissingInputError(path=item)


def _stdin_lines(stdin: Optional[Union[TextIO, Iterable]]) -> Iterator[str]:
    stream = sys.stdin if stdin is None else stdin
    for line in stream:
        if isinstance(line, bytes):
            line = os.fsdecode(line)
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def _expand(inputs, recursive: bool, stdin) -> Iterator[Union[str, InputError, _InMemory]]:
    if isinstance(inputs, (str, os.PathLike, np.ndarray, Image.Image)):
        inputs = [inputs]  # a lone path would otherwise be iterated character by character
    for index, item in enumerate(inputs):
        if isinstance(item, (np.ndarray, Image.Image)):
            yield _InMemory(f"<array {index}>", item)
        elif isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            if path == "-":
                for line in _stdin_lines(stdin):
                    yield from _expand_path(line, recursive)
            else:
                yield from _expand_path(path, recursive)
        else:
            raise TypeError(f"unsupported input {item!r}: expected a path, a numpy array or a PIL image")


def expand_inputs(
    inputs: list, *, recursive: bool = False, stdin: Optional[TextIO] = None
) -> Iterator[Union[str, InputError, InMemoryImage]]:
    """Resolve paths, globs, folders and ``-`` (paths on ``stdin``) into file paths, lazily.

    Inputs that resolve to nothing come back as InputError objects in their place (not
    raised). numpy arrays and PIL images pass through unchanged.
    """
    for item in _expand(inputs, recursive, stdin):
        yield item.image if isinstance(item, _InMemory) else item


# --- pixels ----------------------------------------------------------------------------------


def _on_white(image: Image.Image) -> Image.Image:
    """Composite an image with alpha onto white (transparent scans are white paper)."""
    rgba = image.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, (255, 255, 255))
    canvas.paste(rgba, mask=rgba.getchannel("A"))
    return canvas


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Any PIL mode as an RGB uint8 array of shape (H, W, 3)."""
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        # PIL's convert("L") clips 16-bit and float values instead of scaling them.
        values = np.asarray(image)
        if mode.startswith("I;16") or (mode == "I" and values.max(initial=0) > 255):
            gray = (np.clip(values, 0, 65535).astype(np.uint32) >> 8).astype(np.uint8)
        elif mode == "F" and values.max(initial=0) <= 1.0:
            gray = (np.clip(values, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        else:
            gray = np.clip(values, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        image = _on_white(image)
    elif mode not in ("RGB", "L"):  # _rgb_pixels spreads grey into RGB itself
        image = image.convert("RGB")  # CMYK, P, 1, YCbCr, ...
    return _rgb_pixels(image)


STRIP_ROWS = 256


def _rgb_pixels(image: Image.Image) -> np.ndarray:
    """Copy an RGB or grey ("L") image into a new RGB array strip by strip.

    ``np.array(image)`` goes through ``tobytes()``, so a large scan briefly exists three
    times (image, bytes, array); strips keep that to the image, the array and one strip.
    Grey strips are spread into the three channels as they are copied: ``convert("RGB")``
    would first build a whole RGB image inside PIL, 104 MB more at the decode's peak for
    SROIE's grey 35-megapixel scans (263 -> 135 MB).
    """
    width, height = image.size
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, STRIP_ROWS):
        bottom = min(top + STRIP_ROWS, height)
        strip = np.asarray(image.crop((0, top, width, bottom)))
        pixels[top:bottom] = strip if strip.ndim == 3 else strip[:, :, None]
    return pixels


def _decode(image: Image.Image) -> np.ndarray:
    """Fully decode the current frame, turn it upright per EXIF, return RGB pixels."""
    image.load()  # raises on truncated data (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
    # In place: a copy of a 5000x7000 scan is another 100 MB at the decode's peak.
    ImageOps.exif_transpose(image, in_place=True)
    return _to_rgb_array(image)


def _array_image(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))):
        raise NotAnImageError(
            path=name, reason=f"expected a uint8 array of shape HxW or HxWx3, got {array.dtype} {array.shape}"
        )
    if array.ndim == 2 or array.shape[2] == 1:
        return np.repeat(array.reshape(array.shape[0], array.shape[1], 1), 3, axis=2)
    if array.shape[2] == 4:
        return _to_rgb_array(Image.fromarray(array, "RGBA"))
    return np.ascontiguousarray(array)


class _DecodedOnce:
    """Page loader that hands over the pixels decoded up front once, then decodes again.

    Images are decoded when the stream reaches them (to report broken files in place);
    keeping that array inside the loader after the first hand-over would defeat
    ``Page.release()``, so later accesses re-read the file.
    """

    def __init__(self, pixels: np.ndarray, reload: Callable[[], np.ndarray]):
        self._pixels: Optional[np.ndarray] = pixels
        self._reload = reload

    def __call__(self) -> np.ndarray:
        pixels, self._pixels = self._pixels, None
        return pixels if pixels is not None else self._reload()


def _check_pixels(size: tuple[int, int], max_pixels: int, source: str, **details) -> None:
    pixels = size[0] * size[1]
    if pixels > max_pixels:
        raise ImageTooLargeError(path=source, pixels=pixels, limit=max_pixels, **details)


def _decode_frame(
    image: Image.Image, source: str, max_pixels: int, page_no: int, page_count: int = 1
) -> np.ndarray:
    """Size check from the header, then the full decode; any decoder failure is an InputError."""
    _check_pixels(image.size, max_pixels, source, page=page_no)
    try:
        return _decode(image)
    except (MemoryError, InputError):
        raise
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, struct.error, ...
        reason = str(exc) or type(exc).__name__
        if page_count > 1:
            reason = f"page {page_no}: {reason}"
        raise TruncatedImageError(path=source, reason=reason) from None


def _open_image(path: str, source: str) -> Image.Image:
    """Open (header only) or raise the InputError that fits what the file really is."""
    try:
        return Image.open(path, formats=_PIL_FORMATS)
    except UnidentifiedImageError:
        pass
    except OSError as exc:
        raise NotAnImageError(path=source, reason=exc.strerror or str(exc)) from None
    except Exception as exc:  # a plugin choking on a damaged header
        raise TruncatedImageError(path=source, reason=str(exc) or type(exc).__name__) from None
    suffix = Path(path).suffix.lower()
    if suffix == PDF_SUFFIX:
        raise CorruptPdfError(path=source, reason="no %PDF header")
    if suffix in IMAGE_SUFFIXES:
        reason = f"the content is not a {suffix[1:].upper()} or any other supported image"
        raise NotAnImageError(path=source, reason=reason)
    raise UnsupportedFormatError(path=source, suffix=suffix or "(no extension)")


def _decoded_later(image: Image.Image) -> bool:
    """Whether this frame is a JPEG large enough to be checked now and decoded only when read."""
    return image.format in ("JPEG", "MPO") and image.width * image.height > DECODE_LATER_PIXELS


def _checked_jpeg(image: Image.Image, source: str, max_pixels: int) -> tuple[int, int]:
    """A large JPEG's upright (width, height), once its whole stream has decoded at 1/8 scale.

    The reduced decode reads every byte of the entropy-coded data, so a truncated or
    corrupt file fails here, in its place in the stream, as the full decode would.
    """
    _check_pixels(image.size, max_pixels, source, page=1)
    width, height = image.size
    # EXIF orientations 5-8 turn the picture a quarter (ImageOps.exif_transpose on decode).
    if image.getexif().get(ORIENTATION_TAG, 1) in (5, 6, 7, 8):
        width, height = height, width
    try:
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    except (MemoryError, InputError):
        raise
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, struct.error, ...
        raise TruncatedImageError(path=source, reason=str(exc) or type(exc).__name__) from None
    return width, height


def _reload_frame(path: str, source: str, frame: int, max_pixels: int) -> np.ndarray:
    with _open_image(path, source) as image:
        image.seek(frame)
        return _decode_frame(image, source, max_pixels, frame + 1)


# --- files -> pages --------------------------------------------------------------------------


def _image_pages(
    path: str, selection: PageSelection, max_pixels: int
) -> Iterator[Union[Page, InputError]]:
    try:
        image = _open_image(path, path)
    except InputError as err:
        yield err
        return
    with image:
        page_count = getattr(image, "n_frames", 1) if image.format in _MULTIPAGE_FORMATS else 1
        for page_no in selection.select(page_count):
            try:
                image.seek(page_no - 1)
            except Exception as exc:  # a broken IFD chain: later frames are unreachable too
                yield TruncatedImageError(path=path, reason=f"page {page_no}: {exc or type(exc).__name__}")
                return
            reload = lambda frame=page_no - 1: _reload_frame(path, path, frame, max_pixels)  # noqa: E731
            if _decoded_later(image):
                try:
                    width, height = _checked_jpeg(image, path, max_pixels)
                except InputError as err:
                    yield err
                    continue
                yield Page(path, page_no, width, height, reload, page_count=page_count)
                continue
            try:
                pixels = _decode_frame(image, path, max_pixels, page_no, page_count)
            except InputError as err:
                yield err
                continue
            height, width = pixels.shape[:2]
            yield Page(path, page_no, width, height, _DecodedOnce(pixels, reload), page_count=page_count)
            del pixels


def _pdf_pages(
    path: str, selection: PageSelection, dpi: int, max_pixels: int, text_layer: bool
) -> Iterator[Union[Page, InputError]]:
    try:
        pdf = PdfFile(path)
    except InputError as err:
        yield err
        return
    with pdf:  # closed as soon as the stream moves past this document (or is abandoned)
        for page_no in selection.select(pdf.page_count):
            index = page_no - 1
            try:
                width, height = pdf.page_size(index, dpi)
                _check_pixels((width, height), max_pixels, path, page=page_no)
                lines = pdf.text_layer(index, dpi) if text_layer else None
            except InputError as err:
                yield err
                continue
            render = lambda index=index: pdf.render(index, dpi)  # noqa: E731
            yield Page(
                path, page_no, width, height, render, dpi=dpi, text_layer=lines, page_count=pdf.page_count
            )


def _file_pages(
    path: str, selection: PageSelection, dpi: int, max_pixels: int, text_layer: bool
) -> Iterator[Union[Page, InputError]]:
    """Pages of one file, with a bad file or page yielded as an InputError in its place."""
    try:
        if not os.path.exists(path):  # e.g. a dangling symlink, or gone since it was listed
            yield MissingInputError(path=path)
            return
        if os.path.getsize(path) == 0:
            yield EmptyFileError(path=path)
            return
        with open(path, "rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        yield NotAnImageError(path=path, reason=exc.strerror or str(exc))
        return
    # The PDF spec lets the header start anywhere in the first 1024 bytes.
    if b"%PDF-" in head:
        yield from _pdf_pages(path, selection, dpi, max_pixels, text_layer)
    else:
        yield from _image_pages(path, selection, max_pixels)


def _memory_page(item: _InMemory, max_pixels: int) -> Page:
    if isinstance(item.image, Image.Image):
        pixels = _decode_frame(item.image, item.name, max_pixels, 1)
    else:
        pixels = _array_image(item.image, item.name)
    return Page(item.name, 1, pixels.shape[1], pixels.shape[0], lambda: pixels)


def iter_pages(
    inputs,
    *,
    pages: Optional[str] = None,
    dpi: int = 200,
    recursive: bool = False,
    max_pixels: Optional[int] = None,
    text_layer: bool = True,
    on_error: Optional[Callable[[InputError], None]] = None,
    stdin: Optional[TextIO] = None,
) -> Iterator[Page]:
    """Stream the pages of every input, one file open at a time.

    inputs: a list of paths, folders, globs, "-" (stdin), arrays or PIL images, or one of
        them on its own.
    pages: a page range (see :func:`parse_page_range`) applied to every document; a
        single image is page 1 of 1.
    dpi: resolution PDF pages are rendered at (images keep their own pixels).
    max_pixels: a page larger than this is an ImageTooLargeError, checked before decoding
        (default DEFAULT_MAX_PIXELS).
    text_layer: read embedded PDF text into ``Page.text_layer``.
    on_error: called with each bad input's InputError, after which the stream goes on;
        without it the first one is raised.

    Bad options (page range, dpi) raise at once, not on the first ``next()``.
    """
    selection = parse_page_range(pages)
    if max_pixels is None:
        max_pixels = DEFAULT_MAX_PIXELS
    if dpi <= 0:
        raise UsageError(reason=f"dpi must be positive, got {dpi}")
    if max_pixels <= 0:
        raise UsageError(reason=f"max_pixels must be positive, got {max_pixels}")
    return _stream(_as_list(inputs), selection, dpi, recursive, max_pixels, text_layer, on_error, stdin)


def _as_list(inputs) -> list:
    single = isinstance(inputs, (str, bytes, os.PathLike)) or hasattr(inputs, "shape") or not hasattr(inputs, "__iter__")
    return [inputs] if single else list(inputs)


def _stream(inputs, selection, dpi, recursive, max_pixels, text_layer, on_error, stdin) -> Iterator[Page]:
    def report(err: InputError) -> None:
        if on_error is None:
            raise err
        on_error(err)

    for item in _expand(inputs, recursive, stdin):
        if isinstance(item, InputError):
            report(item)
        elif isinstance(item, _InMemory):
            if 1 not in selection:
                continue
            try:
                page = _memory_page(item, max_pixels)
            except InputError as err:
                report(err)
                continue
            yield page
        else:
            for result in _file_pages(item, selection, dpi, max_pixels, text_layer):
                if isinstance(result, InputError):
                    report(result)
                else:
                    yield result
