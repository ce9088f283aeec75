"""Makers of real input files, awkward and good, for tests that feed ocromni actual files.

Plain functions (not fixtures) so any test can call them with ``tmp_path``; each writes
one file (or folder) into ``directory`` and returns its path.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Union

import numpy as np
import pymupdf
from PIL import Image, ImageDraw, ImageFont

PathLike = Union[str, Path]

ENCRYPTED_PDF_PASSWORD = "secret"


def _noise_image(width: int = 240, height: int = 160, seed: int = 0) -> Image.Image:
    """Random pixels: they do not compress, so cutting the file really loses image data."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


# --- awkward inputs --------------------------------------------------------------------------


def missing_file(directory: PathLike) -> Path:
    """A path to an image that does not exist."""
    return Path(directory) / "missing.png"


def empty_dir(directory: PathLike) -> Path:
    """A folder holding only a .txt file: nothing to process."""
    folder = Path(directory) / "empty"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("no images here\n")
    return folder


def not_an_image(directory: PathLike) -> Path:
    """Text bytes in a file named .png."""
    path = Path(directory) / "not_an_image.png"
    path.write_bytes(b"This is plain text, not a PNG.\n" * 4)
    return path


def truncated_image(directory: PathLike, fmt: str = "png") -> Path:
    """A real PNG (or JPEG with ``fmt="jpeg"``) cut in half: the header reads, the pixels do not."""
    suffix = {"png": ".png", "jpeg": ".jpg"}[fmt]
    buffer = io.BytesIO()
    _noise_image().save(buffer, format=fmt.upper())
    data = buffer.getvalue()
    path = Path(directory) / f"truncated{suffix}"
    path.write_bytes(data[: len(data) // 2])
    return path


def zero_byte_file(directory: PathLike) -> Path:
    """An empty file named .png."""
    path = Path(directory) / "zero.png"
    path.write_bytes(b"")
    return path


def corrupt_pdf(directory: PathLike) -> Path:
    """A PDF header followed by garbage: no objects, no xref, nothing pymupdf can repair."""
    path = Path(directory) / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"\x00\x13garbage \xff\xfe" * 64)
    return path


def encrypted_pdf(directory: PathLike) -> Path:
    """A real AES-256 encrypted PDF with a user password (``ENCRYPTED_PDF_PASSWORD``)."""
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=200)
    page.insert_text((40, 100), "Secret page", fontsize=20)
    path = Path(directory) / "encrypted.pdf"
    doc.save(
        path,
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw=ENCRYPTED_PDF_PASSWORD,
        owner_pw=ENCRYPTED_PDF_PASSWORD + "-owner",
    )
    doc.close()
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.lru_cache(maxsize=4)
def _black_bitmap_idat(width: int, height: int) -> bytes:
    """Deflated rows of a 1-bit black image (cached: compressing 100+ MB of zeros takes a moment)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    return b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()


def decompression_bomb(directory: PathLike, width: int = 30_000, height: int = 30_000) -> Path:
    """A valid ~110 KB PNG (1-bit, all black) whose header declares ``width`` x ``height`` pixels."""
    idat = _black_bitmap_idat(width, height)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    path = Path(directory) / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    )
    return path


def unsupported_extension(directory: PathLike) -> Path:
    """A minimal .docx (a zip): a real file of a type ocromni does not read."""
    path = Path(directory) / "letter.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><document/>')
    return path


# --- good inputs -----------------------------------------------------------------------------


def text_image(
    directory: PathLike,
    text: str = "HELLO 42",
    name: str = "text.png",
    size: tuple[int, int] = (400, 100),
) -> Path:
    """Black ``text`` on white, drawn with PIL's bundled font, saved as ``name`` (format from its suffix)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, int(size[1] * 0.45)))
    draw.text((size[0] * 0.05, size[1] * 0.2), text, fill="black", font=font)
    path = Path(directory) / name
    image.save(path)
    return path


def multipage_tiff(directory: PathLike, sizes=((200, 100), (150, 120), (100, 80))) -> Path:
    """A TIFF with one frame per entry of ``sizes`` (width, height), each reading "Page N"."""
    frames = []
    for number, size in enumerate(sizes, start=1):
        frame = Image.new("RGB", size, "white")
        ImageDraw.Draw(frame).text((10, 10), f"Page {number}", fill="black")
        frames.append(frame)
    path = Path(directory) / "multipage.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


def multipage_pdf(
    directory: PathLike,
    n_pages: int = 3,
    with_text_layer: bool = True,
    name: str | None = None,
    page_size: tuple[float, float] = (300, 200),
) -> Path:
    """An ``n_pages`` PDF; page N reads "Page N" as real text, or as a filled shape when
    ``with_text_layer`` is False (so the page has ink but no embedded text)."""
    doc = pymupdf.open()
    for number in range(1, n_pages + 1):
        page = doc.new_page(width=page_size[0], height=page_size[1])
        if with_text_layer:
            page.insert_text((30, page_size[1] / 2), f"Page {number}", fontsize=24)
        else:
            page.draw_rect(pymupdf.Rect(30, 30, 130, 80), color=(0, 0, 0), fill=(0, 0, 0))
    path = Path(directory) / (name or f"{n_pages}pages{'' if with_text_layer else '_notext'}.pdf")
    doc.save(path)
    doc.close()
    return path


def exif_rotated_jpeg(directory: PathLike) -> Path:
    """A JPEG stored 200x100 (landscape) with EXIF Orientation 6, so it displays 100x200.

    The stored top-left 40x40 corner is red; displayed upright (rotated 90 degrees
    clockwise) that red block sits at the top-right corner.
    """
    stored = Image.new("RGB", (200, 100), "white")
    ImageDraw.Draw(stored).rectangle((0, 0, 39, 39), fill=(255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    path = Path(directory) / "rotated.jpg"
    stored.save(path, exif=exif, quality=95)
    return path
