"""Where results go: atomic files, per-format record writers and image output names.

Every file is written to a temporary file in the target's folder and renamed into place
only when complete (contract: files), so a crash or Ctrl-C never leaves a half-written
output, and an existing file is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import re
import sys
import tempfile
import textwrap
from typing import IO, Any, Optional

from ocromni.errors import OutputError, OutputExistsError, UsageError
from ocromni.types import Line, PageText, Word

FORMATS = ("json", "jsonl", "text", "tsv", "hocr", "pdf")

_FORMAT_BY_SUFFIX = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "text",
    ".text": "text",
    ".tsv": "tsv",
    ".hocr": "hocr",
    ".html": "hocr",
    ".xhtml": "hocr",
    ".pdf": "pdf",
}


def format_from_path(path: Optional[str], default: str) -> str:
    """The record format an output file name implies, or ``default`` (stdout, unknown suffix)."""
    if not path or path == "-":
        return default
    return _FORMAT_BY_SUFFIX.get(pathlib.PurePath(path).suffix.lower(), default)


# --- atomic files -----------------------------------------------------------------------


@functools.cache
def _default_file_mode() -> int:
    # mkstemp creates 0600 files; a finished output should get the mode a plain open()
    # would give it. os.umask can only be read by setting it, so set it straight back.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _check_target(path: pathlib.Path, overwrite: bool) -> None:
    """Fail before any work when ``path`` cannot become an output file."""
    if path.is_dir():
        raise OutputError(path=str(path), reason="is a directory; give a file name")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputExistsError(path=str(path))
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(path=str(path), reason=f"folder {str(parent)!r} does not exist; create it first")


class AtomicFile:
    """A temporary file beside ``path`` that becomes ``path`` on :meth:`commit`.

    The temporary lives in the same folder so the final rename never crosses file
    systems (``os.replace`` is atomic only within one).
    """

    def __init__(self, path, *, overwrite: bool = False, binary: bool = True):
        self.path = pathlib.Path(path)
        self.overwrite = overwrite
        _check_target(self.path, overwrite)
        try:
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        self.temp_path: Optional[pathlib.Path] = pathlib.Path(temp)
        # newline="" keeps "\n" as is on every platform: TSV and JSONL consumers expect it.
        self.file: IO = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")

    def commit(self) -> pathlib.Path:
        """Close the temporary and move it onto the target."""
        temp, self.temp_path = self.temp_path, None
        if temp is None:
            raise ValueError(f"{self.path}: output already committed or discarded")
        try:
            self.file.close()  # may still fail: buffered data meets a full disk here
            os.chmod(temp, _default_file_mode())
            if self.overwrite:
                os.replace(temp, self.path)
            else:
                self._place_without_clobbering(temp)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise write_error(self.path, exc) from exc
            raise
        return self.path

    def _place_without_clobbering(self, temp: pathlib.Path) -> None:
        # The target may have appeared while we worked; a hard link fails instead of
        # replacing it, which os.replace cannot do.
        try:
            os.link(temp, self.path)
        except FileExistsError:
            raise OutputExistsError(path=str(self.path)) from None
        except OSError:
            # File systems without hard links: check, then rename (a small race remains).
            if self.path.exists() or self.path.is_symlink():
                raise OutputExistsError(path=str(self.path)) from None
            os.replace(temp, self.path)
            return
        temp.unlink()

    def discard(self) -> None:
        """Close and delete the temporary; the target is left as it was."""
        temp, self.temp_path = self.temp_path, None
        try:
            self.file.close()
        except OSError:
            pass  # we are throwing the data away; the error that brought us here matters more
        if temp is not None:
            temp.unlink(missing_ok=True)


def write_error(path, exc: OSError) -> OutputError:
    """An OSError met while writing ``path`` as the user-facing OutputError."""
    return OutputError(path=str(path), reason=f"cannot write ({exc.strerror or exc})")


class atomic_output:
    """Context manager yielding a file that replaces ``path`` only if the block succeeds.

    The target is checked when this object is created, before any work: an existing
    file without ``overwrite`` raises :class:`OutputExistsError`, a missing folder
    :class:`OutputError`. On an exception the temporary is removed and the target is
    untouched.

        with atomic_output("out.png") as f:
            image.save(f, format="PNG")
    """

    def __init__(self, path, *, overwrite: bool = False, binary: bool = True):
        self.path = pathlib.Path(path)
        self.overwrite = overwrite
        self.binary = binary
        self._atomic: Optional[AtomicFile] = None
        _check_target(self.path, overwrite)

    def __enter__(self) -> IO:
        self._atomic = AtomicFile(self.path, overwrite=self.overwrite, binary=self.binary)
        return self._atomic.file

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._atomic.commit()
        else:
            self._atomic.discard()


# --- record writers ---------------------------------------------------------------------


def words_of(line: Line) -> list[Word]:
    """A line's words, or the whole line as one word when the model gave no words.

    Formats built on words (TSV, hOCR, the PDF text layer) would otherwise drop the text
    of such lines; lines with neither words nor text (detection only) give nothing.
    """
    if line.words:
        return [w for w in line.words if w.text.strip()]
    if line.text.strip():
        return [Word(line.text, line.confidence, line.polygon, line.bbox)]
    return []


def pixel_box(bbox) -> tuple[int, int, int, int]:
    """``[x0, y0, x1, y1]`` as whole pixels (left, top, right, bottom), never inverted."""
    x0, y0, x1, y1 = (int(round(float(v))) for v in bbox)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def union_box(boxes) -> tuple[int, int, int, int]:
    """The smallest box around ``(left, top, right, bottom)`` boxes."""
    boxes = list(boxes)
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


class _JsonArray:
    """One pretty JSON document: ``[record, ...]``, streamed record by record."""

    def __init__(self, out: IO):
        self.out = out
        self.count = 0

    def write(self, record, page) -> None:
        text = json.dumps(record.to_dict(), indent=2, ensure_ascii=False)
        # Indenting each record by two spaces gives the same bytes as json.dumps(list,
        # indent=2) without holding every page in memory; JSON strings never span lines.
        self.out.write(("[\n" if self.count == 0 else ",\n") + textwrap.indent(text, "  "))
        self.count += 1

    def close(self) -> None:
        self.out.write("\n]\n" if self.count else "[]\n")


class _JsonLines:
    """One compact JSON record per line, flushed as each page finishes."""

    def __init__(self, out: IO):
        self.out = out

    def write(self, record, page) -> None:
        self.out.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        self.out.flush()

    def close(self) -> None:
        pass


class _PlainText:
    """Plain text; pages are separated by a form feed, as Tesseract separates them."""

    def __init__(self, out: IO):
        self.out = out
        self.previous_was_page = False

    def write(self, record, page) -> None:
        if isinstance(record, PageText):
            if self.previous_was_page:
                self.out.write("\f")
            self.out.write(record.text + "\n")
            self.previous_was_page = True
            return
        data = record.to_dict()
        text = data["text"] if isinstance(data.get("text"), str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.previous_was_page = False

    def close(self) -> None:
        pass


def _record_page_text(record, fmt: str) -> PageText:
    if not isinstance(record, PageText):
        raise UsageError(reason=f"--format {fmt} needs recognized text (lines and words); use json or jsonl for this command")
    return record


class _Tsv:
    def __init__(self, out: IO):
        from ocromni.io import tsv

        self.out = out
        self.tsv = tsv
        self.page_num = 0
        out.write(tsv.HEADER)

    def write(self, record, page) -> None:
        self.page_num += 1
        self.out.write(self.tsv.page_rows(_record_page_text(record, "tsv"), self.page_num))

    def close(self) -> None:
        pass


class _Hocr:
    def __init__(self, out: IO):
        from ocromni.io import hocr

        self.out = out
        self.hocr = hocr
        self.page_num = 0
        out.write(hocr.document_head())

    def write(self, record, page) -> None:
        self.page_num += 1
        self.out.write(self.hocr.page_div(_record_page_text(record, "hocr"), self.page_num))

    def close(self) -> None:
        self.out.write(self.hocr.document_tail())


class _Pdf:
    """Searchable PDF; built in memory (pages hold compressed images) and saved at close."""

    def __init__(self, out: IO):
        from ocromni.io.searchable_pdf import SearchablePdf

        self.out = out
        self.pdf = SearchablePdf()

    def write(self, record, page) -> None:
        if page is None:
            raise ValueError("the pdf format needs the page image: call write(record, page)")
        self.pdf.add_page(_record_page_text(record, "pdf"), page.image)

    def close(self) -> None:
        self.pdf.save(self.out)


_WRITERS = {"json": _JsonArray, "jsonl": _JsonLines, "text": _PlainText, "tsv": _Tsv, "hocr": _Hocr, "pdf": _Pdf}


class RecordWriter:
    """Writes page records (anything with ``to_dict()``) in one format to a file or stdout.

    ``output`` None or ``"-"`` writes to ``stream`` (default ``sys.stdout``); a path is
    written atomically: a temporary file beside it becomes the output on :meth:`close`
    and is removed on :meth:`abort` or an exception inside ``with``.

        with RecordWriter("jsonl", "out.jsonl") as writer:
            for page, record in results:
                writer.write(record, page)
    """

    def __init__(self, fmt: str, output: Optional[str] = None, *, overwrite: bool = False, stream: Optional[IO] = None):
        if fmt not in FORMATS:
            raise UsageError(reason=f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.output = None if output in (None, "-") else str(output)
        self._atomic: Optional[AtomicFile] = None
        binary = fmt == "pdf"
        if self.output is None:
            stream = stream if stream is not None else sys.stdout
            if binary:
                if getattr(stream, "isatty", lambda: False)():
                    raise UsageError(reason="refusing to write a PDF to a terminal; use -o FILE.pdf or redirect stdout")
                if hasattr(stream, "buffer"):  # a text stream such as sys.stdout: write bytes beneath it
                    stream.flush()  # text already written must come before our bytes
                    stream = stream.buffer
            out = stream
        else:
            self._atomic = AtomicFile(self.output, overwrite=overwrite, binary=binary)
            out = self._atomic.file
        self._out = out
        self._closed = False
        try:
            self._format = _WRITERS[fmt](out)
        except BaseException:
            self.abort()
            raise

    @property
    def temp_path(self) -> Optional[pathlib.Path]:
        """The temporary file being written (None for streams and once closed)."""
        return self._atomic.temp_path if self._atomic else None

    def write(self, record: Any, page=None) -> None:
        """Add one record; ``page`` (an :class:`ocromni.types.Page`) is needed for pdf."""
        if self._closed:
            raise ValueError("write() on a closed RecordWriter")
        try:
            self._format.write(record, page)
        except OSError as exc:
            if self._atomic is None:
                raise  # a stream's errors (e.g. BrokenPipeError) are the caller's to handle
            self.abort()
            raise write_error(self.output, exc) from exc
        if self._atomic is None and not isinstance(self._format, _JsonLines):
            self._out.flush()  # a reader on the other end of a pipe sees each page at once

    def close(self) -> None:
        """Finish the document and, for a file, move it into place. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._format.close()
        except BaseException as exc:
            if self._atomic is None:
                raise
            self._atomic.discard()
            if isinstance(exc, OSError):
                raise write_error(self.output, exc) from exc
            raise
        if self._atomic is not None:
            self._atomic.commit()
        else:
            self._out.flush()

    def abort(self) -> None:
        """Stop without an output: a file's temporary is removed (a stream keeps what it got)."""
        if self._closed:
            return
        self._closed = True
        if self._atomic is not None:
            self._atomic.discard()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# --- image outputs ----------------------------------------------------------------------

_IMAGE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}

_ARRAY_SOURCE = re.compile(r"<array\s*(\d*)>")
_MAX_STEM_BYTES = 150  # keeps "{stem}-p{N}.webp" well under the usual 255-byte name limit


def safe_stem(source: str) -> str:
    """A file-name stem for ``source`` that cannot leave the output folder.

    Only the final path component is used (either separator), characters outside letters,
    digits, ``._-`` become ``_``, runs of dots collapse and leading dots go, so the
    result is never ``..``, hidden, an option-like ``-name``, or a path.
    """
    array = _ARRAY_SOURCE.fullmatch(source.strip())
    if array:
        return f"array-{array.group(1)}" if array.group(1) else "array"
    name = re.split(r"[\\/]", source)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = re.sub(r"[^\w.\-]+", "_", stem)
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = stem.encode("utf-8")[:_MAX_STEM_BYTES].decode("utf-8", errors="ignore")
    # No leading dot (hidden, or ".."), no trailing dot ("a." + ".png" has ".."), and no
    # leading dash that a later shell command would read as an option.
    return stem.strip("._-") or "image"


class ImageOutputs:
    """Names and writes the image outputs of one run (``erase``, ``edit``, ``render-text``).

    ``output`` (``-o FILE``) takes exactly one page; ``out_dir`` (``--out-dir DIR``)
    takes any number, named ``{stem}.png`` or ``{stem}-p{N}.png`` for pages of a
    multi-page source, with ``default_suffix`` deciding the format.
    """

    def __init__(
        self,
        output: Optional[str] = None,
        out_dir: Optional[str] = None,
        *,
        overwrite: bool = False,
        default_suffix: str = ".png",
    ):
        if output and out_dir:
            raise UsageError(reason="give either -o FILE or --out-dir DIR, not both")
        if not output and not out_dir:
            raise UsageError(reason="no output given: use -o FILE for one image or --out-dir DIR for several")
        if output == "-":
            raise UsageError(reason="images cannot be written to stdout; use -o FILE or --out-dir DIR")
        self.output = pathlib.Path(output) if output else None
        self.out_dir = pathlib.Path(out_dir) if out_dir else None
        self.overwrite = overwrite
        self.suffix = default_suffix if default_suffix.startswith(".") else "." + default_suffix
        for suffix in (self.output.suffix if self.output else None, self.suffix):
            if suffix is not None and suffix.lower() not in _IMAGE_FORMATS:  # "" too: no extension
                raise UsageError(
                    reason=f"unsupported image type {suffix!r}; use one of {', '.join(_IMAGE_FORMATS)}"
                )
        # Fail before any work, as RecordWriter does; save() checks again when writing.
        if self.output is not None:
            _check_target(self.output, overwrite)
        elif self.out_dir.exists() and not self.out_dir.is_dir():
            raise OutputError(path=str(self.out_dir), reason="exists and is not a folder")
        self._claimed: dict[str, tuple[str, int]] = {}  # case-folded name -> (source, page_no)

    def path_for(self, page) -> pathlib.Path:
        """The output path for ``page``; the same page always gets the same path."""
        key = (page.source, page.page_no)
        if self.output is not None:
            first = next(iter(self._claimed.values()), None)
            if first is not None and first != key:
                raise UsageError(reason=f"-o {self.output} takes one image but there are several pages; use --out-dir DIR")
            self._claimed[str(self.output)] = key
            return self.output
        stem = safe_stem(page.source)
        name = f"{stem}-p{page.page_no}{self.suffix}" if page.page_count > 1 else f"{stem}{self.suffix}"
        path = self.out_dir / name
        # Belt and braces for the contract: a derived name never leaves the folder.
        if path.parent != self.out_dir or name in (".", "..") or os.sep in name:
            raise OutputError(path=str(path), reason="derived output name would leave the output folder")
        # Case-folded so X.png and x.png also clash on case-insensitive file systems.
        owner = self._claimed.setdefault(name.casefold(), key)
        if owner != key:
            raise OutputError(
                path=str(path),
                reason=f"both {_describe(owner)} and {_describe(key)} would be written here; rename one input or run them separately",
            )
        return path

    def save(self, page, image) -> pathlib.Path:
        """Write ``image`` (RGB ``uint8`` array or PIL image) for ``page`` atomically."""
        from PIL import Image

        path = self.path_for(page)
        if self.out_dir is not None:
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(path=str(self.out_dir), reason=f"cannot create folder ({exc.strerror})") from exc
        if not isinstance(image, Image.Image):
            image = Image.fromarray(image)
        fmt = _IMAGE_FORMATS[path.suffix.lower()]
        options: dict[str, Any] = {}
        if fmt == "JPEG":
            image = image.convert("RGB") if image.mode not in ("RGB", "L") else image
            options = {"quality": 95}
        elif fmt == "WEBP":
            options = {"quality": 95}
        elif fmt == "TIFF":
            options = {"compression": "tiff_lzw"}
        with atomic_output(path, overwrite=self.overwrite) as f:
            image.save(f, format=fmt, **options)
        return path


def _describe(key: tuple[str, int]) -> str:
    source, page_no = key
    return f"{source} (page {page_no})" if page_no != 1 else source
