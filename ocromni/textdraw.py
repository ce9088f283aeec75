"""Text layout and drawing shared by ``render-text`` and ``edit``: wrap, fit, draw.

A :class:`TextFont` is a face at one pixel size; characters the face lacks (Chinese in a
Latin font) are drawn with the CJK fallback, run by run on a shared baseline (see
:func:`ocromni.fonts.font_for_text`). Sizes are pixels of the font's em square.

Extents are measured from the ink *and* the font's ascent/descent, so a block that
"fits" a box keeps every pixel of its ink inside the box, and lines of different
texts at one size share the same line height. Only numpy and PIL are used.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image, ImageDraw

from ocromni.fonts import FontFace, font_for_text, resolve_font

FontSpec = Union[str, Path, FontFace, None]  # a shipped font's name, a font file, a face, or None (default)

DEFAULT_LINE_SPACING = 1.15  # baseline-to-baseline distance in ems, as CSS's "normal" for most fonts
MIN_FONT_SIZE = 6  # below this neither people nor OCR read text

ALIGNS = ("left", "center", "right")
VALIGNS = ("top", "middle", "bottom")

# Line-breaking rules kept small on purpose (a subset of Unicode UAX #14 / Japanese
# kinsoku): no line starts with closing punctuation, none ends with opening punctuation.
_NO_BREAK_BEFORE = set("，。、；：！？）」』】》〉〕”’・…ー,.;:!?)]}%")
_NO_BREAK_AFTER = set("（「『【《〈〔“‘([{")


def normalise_text(text: str) -> str:
    """Line breaks as ``\\n``; the two characters backslash-n from a shell count as one."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\\n", "\n").replace("\t", "    ")


class TextFont:
    """A face at one pixel size, with the CJK fallback for characters the face lacks."""

    def __init__(self, face: FontSpec = None, size: int = 64):
        if int(size) < 1:
            raise ValueError(f"font size must be at least 1 px, got {size}")
        self.face = resolve_font(face)
        self.size = int(size)

    def __repr__(self) -> str:
        return f"TextFont({self.face.name!r}, {self.size})"

    def runs(self, text: str) -> list[tuple[str, "ImageFont.FreeTypeFont"]]:  # noqa: F821
        """``text`` as ``(run, PIL font)`` pairs, each run drawable in one font."""
        return [(run, face.pil(self.size)) for run, face in font_for_text(text, self.face)]

    def measure(self, text: str) -> "LineExtent":
        """Ink-and-metrics extent of one line, relative to its pen origin on the baseline."""
        primary = self.face.pil(self.size)
        ascent, descent = primary.getmetrics()
        left, top, bottom = 0.0, -float(ascent), float(descent)
        right = x = 0.0
        for run, pil in self.runs(text):
            run_ascent, run_descent = pil.getmetrics()
            top, bottom = min(top, -run_ascent), max(bottom, run_descent)
            if run.strip():
                x0, y0, x1, y1 = pil.getbbox(run, anchor="ls")
                left, right = min(left, x + x0), max(right, x + x1)
                top, bottom = min(top, y0), max(bottom, y1)
            x += pil.getlength(run)
        right = max(right, x)
        return LineExtent(math.floor(left), math.ceil(right), math.floor(top), math.ceil(bottom))

    def width(self, text: str) -> int:
        return self.measure(text).width


@dataclass(frozen=True)
class LineExtent:
    """Pixels a line occupies around its pen origin (x right, y down from the baseline)."""

    left: int
    right: int
    top: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left


@dataclass
class PlacedLine:
    text: str
    origin: tuple[int, int]  # pen position on the baseline, canvas pixels
    extent: LineExtent

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` the line may cover on the canvas."""
        x, y = self.origin
        return x + self.extent.left, y + self.extent.top, x + self.extent.right, y + self.extent.bottom


@dataclass
class TextBlock:
    """Lines laid out in a box: what :func:`draw_text_block` draws."""

    font: TextFont
    box: tuple[int, int, int, int]
    lines: list[PlacedLine] = field(default_factory=list)
    fits: bool = True  # False when even the smallest size overflows the box (drawing clips)

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """The union of the lines' boxes, canvas pixels."""
        boxes = [line.bbox for line in self.lines] or [(self.box[0], self.box[1], self.box[0], self.box[1])]
        return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


# --- wrapping ---------------------------------------------------------------------------


def _is_wide(char: str) -> bool:
    # Wide and full-width characters (CJK ideographs, kana, hangul, full-width punctuation)
    # may break before or after any one of them; Latin words break at spaces only.
    return unicodedata.east_asian_width(char) in ("W", "F")


def _pieces(chunk: str) -> list[str]:
    """A run of non-space characters cut where a line may break inside it."""
    pieces: list[str] = []
    for char in chunk:
        if not pieces:
            pieces.append(char)
        elif char in _NO_BREAK_BEFORE or pieces[-1][-1] in _NO_BREAK_AFTER:
            pieces[-1] += char
        elif _is_wide(char) or _is_wide(pieces[-1][-1]):
            pieces.append(char)
        else:
            pieces[-1] += char
    return pieces


def _tokens(paragraph: str) -> list[tuple[str, str]]:
    """``(separator, piece)`` pairs: the spaces before each breakable piece."""
    tokens: list[tuple[str, str]] = []
    separator = ""
    for match in re.finditer(r"\s+|\S+", paragraph):
        chunk = match.group()
        if chunk.isspace():
            separator = chunk
            continue
        for i, piece in enumerate(_pieces(chunk)):
            tokens.append((separator if i == 0 else "", piece))
        separator = ""
    return tokens


class _WordTooWide(Exception):
    pass


def _break_piece(piece: str, font: TextFont, max_width: float) -> list[str]:
    """Cut a piece wider than the line into character runs that fit (at least one char each)."""
    parts, current = [], ""
    for char in piece:
        if current and font.width(current + char) > max_width:
            parts.append(current)
            current = char
        else:
            current += char
    return parts + [current]


def _wrap_paragraph(paragraph: str, font: TextFont, max_width: float, break_words: bool) -> list[str]:
    lines: list[str] = []
    line = ""
    for separator, piece in _tokens(paragraph):
        candidate = line + separator + piece if line else piece
        if font.width(candidate) <= max_width:
            line = candidate
            continue
        if line:
            lines.append(line)
        if font.width(piece) <= max_width:
            line = piece
        elif not break_words:
            raise _WordTooWide(piece)
        else:
            *full, line = _break_piece(piece, font, max_width)
            lines.extend(full)
    lines.append(line)
    return lines


def wrap_lines(text: str, font: TextFont, max_width: Optional[float] = None, *, break_words: bool = True) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width`` pixels.

    ``\\n`` always breaks. Latin text breaks at spaces; CJK text between any two
    characters (never before closing punctuation). A word wider than the line is cut
    between characters (``break_words``); ``max_width=None`` only breaks at ``\\n``.
    """
    paragraphs = normalise_text(text).split("\n")
    if max_width is None:
        return paragraphs
    lines: list[str] = []
    for paragraph in paragraphs:
        lines.extend(_wrap_paragraph(paragraph, font, max_width, break_words))
    return lines


# --- layout -----------------------------------------------------------------------------


def _line_pitch(font: TextFont, line_spacing: float) -> int:
    return max(1, round(font.size * line_spacing))


def block_size(lines: Sequence[str], font: TextFont, line_spacing: float = DEFAULT_LINE_SPACING) -> tuple[int, int]:
    """``(width, height)`` in pixels of ``lines`` set one under the other."""
    extents = [font.measure(line) for line in lines]
    if not extents:
        return 0, 0
    pitch = _line_pitch(font, line_spacing)
    width = max(e.right for e in extents) - min(e.left for e in extents)
    top = min(e.top + i * pitch for i, e in enumerate(extents))
    bottom = max(e.bottom + i * pitch for i, e in enumerate(extents))
    return width, bottom - top


def _fitting_lines(text, font, box_w, box_h, line_spacing, wrap, break_words) -> Optional[list[str]]:
    try:
        lines = wrap_lines(text, font, box_w if wrap else None, break_words=break_words)
    except _WordTooWide:
        return None
    width, height = block_size(lines, font, line_spacing)
    return lines if width <= box_w and height <= box_h else None


def fit_font_size(
    text: str,
    font: FontSpec,
    box_w: float,
    box_h: float,
    *,
    line_spacing: float = DEFAULT_LINE_SPACING,
    wrap: bool = True,
    min_size: int = MIN_FONT_SIZE,
    max_size: Optional[int] = None,
) -> int:
    """The largest pixel size at which ``text``, wrapped to ``box_w``, fits ``box_w`` x ``box_h``.

    Sizes that would cut a word in two lose to smaller ones that do not; when nothing
    fits, ``min_size`` comes back (the caller decides whether to clip).
    """
    face = font.face if isinstance(font, TextFont) else resolve_font(font)
    high = max(min_size, int(max_size if max_size is not None else box_h))
    for break_words in (False, True):
        low, best = min_size, None
        top = high
        while low <= top:
            size = (low + top) // 2
            if _fitting_lines(text, TextFont(face, size), box_w, box_h, line_spacing, wrap, break_words) is not None:
                best, low = size, size + 1
            else:
                top = size - 1
        if best is not None:
            return best
    return min_size


def layout_text_block(
    text: str,
    box: Sequence[float],
    font: Union[FontSpec, TextFont] = None,
    *,
    font_size: Optional[int] = None,
    align: str = "left",
    valign: str = "middle",
    line_spacing: float = DEFAULT_LINE_SPACING,
    wrap: bool = True,
) -> TextBlock:
    """Lay ``text`` out inside ``box`` ``(x0, y0, x1, y1)``: the lines and where each goes.

    ``font`` is a :class:`TextFont` (its size is used) or a face/name/path, in which case
    ``font_size`` is used or, when None, the largest size that fits (:func:`fit_font_size`).
    """
    if align not in ALIGNS:
        raise ValueError(f"align must be one of {', '.join(ALIGNS)}, got {align!r}")
    if valign not in VALIGNS:
        raise ValueError(f"valign must be one of {', '.join(VALIGNS)}, got {valign!r}")
    x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    box_w, box_h = x1 - x0, y1 - y0
    if box_w <= 0 or box_h <= 0:
        raise ValueError(f"box {tuple(box)} has no area")
    if isinstance(font, TextFont) and font_size is None:
        sized = font
    else:
        face = font.face if isinstance(font, TextFont) else resolve_font(font)
        if font_size is None:
            font_size = fit_font_size(text, face, box_w, box_h, line_spacing=line_spacing, wrap=wrap)
        sized = TextFont(face, font_size)

    lines = wrap_lines(text, sized, box_w if wrap else None)
    extents = [sized.measure(line) for line in lines]
    pitch = _line_pitch(sized, line_spacing)
    top = min(e.top + i * pitch for i, e in enumerate(extents))
    bottom = max(e.bottom + i * pitch for i, e in enumerate(extents))
    block_h = bottom - top
    spare_h = box_h - block_h
    first_baseline = y0 - top + {"top": 0, "middle": spare_h // 2, "bottom": spare_h}[valign]

    block = TextBlock(sized, (x0, y0, x1, y1))
    widest = 0
    for i, (line, extent) in enumerate(zip(lines, extents)):
        spare_w = box_w - extent.width
        widest = max(widest, extent.width)
        offset = {"left": 0, "center": spare_w // 2, "right": spare_w}[align]
        origin = (x0 + offset - extent.left, first_baseline + i * pitch)
        block.lines.append(PlacedLine(line, origin, extent))
    block.fits = widest <= box_w and block_h <= box_h
    return block


# --- drawing ----------------------------------------------------------------------------


def draw_layout(canvas: Image.Image, block: TextBlock, color) -> None:
    """Draw a laid-out block on a PIL image in place."""
    # Draw into a crop of the box and paste it back: pixels outside the box cannot change,
    # whatever a glyph's overhang, which is what edit and --box promise.
    x0, y0, x1, y1 = block.box
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x1, canvas.width), min(y1, canvas.height)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    region = canvas.crop((cx0, cy0, cx1, cy1))
    draw = ImageDraw.Draw(region)
    for line in block.lines:
        x, y = line.origin[0] - cx0, line.origin[1] - cy0
        for run, pil in block.font.runs(line.text):
            if run.strip():
                draw.text((x, y), run, font=pil, fill=color, anchor="ls")
            x += pil.getlength(run)
    canvas.paste(region, (cx0, cy0))


def draw_text_block(
    canvas: Union[Image.Image, np.ndarray],
    text: str,
    box: Sequence[float],
    font: Union[FontSpec, TextFont] = None,
    color="black",
    *,
    font_size: Optional[int] = None,
    align: str = "left",
    valign: str = "middle",
    line_spacing: float = DEFAULT_LINE_SPACING,
    wrap: bool = True,
):
    """Draw ``text`` inside ``box`` of ``canvas``; only pixels inside the box change.

    A PIL image is drawn on in place and returned; a numpy array is left as it is and a
    new array comes back. Sizing as in :func:`layout_text_block`; ``color`` is anything
    PIL accepts ("black", "#c00", (255, 0, 0)).
    """
    block = layout_text_block(text, box, font, font_size=font_size, align=align, valign=valign,
                              line_spacing=line_spacing, wrap=wrap)
    if isinstance(canvas, np.ndarray):
        image = Image.fromarray(canvas)
        draw_layout(image, block, color)
        return np.asarray(image).copy()
    draw_layout(canvas, block, color)
    return canvas


def render_text_image(
    text: str,
    font: FontSpec = None,
    size_px: int = 64,
    color="black",
    background="white",
    padding: Optional[int] = None,
    *,
    align: str = "left",
    line_spacing: float = DEFAULT_LINE_SPACING,
    mode: str = "RGB",
) -> Image.Image:
    """A new image just large enough for ``text`` at ``size_px`` plus ``padding`` all round.

    Lines break only at ``\\n``; ``padding`` defaults to a quarter of the size.
    """
    sized = TextFont(font, size_px)
    padding = round(size_px / 4) if padding is None else int(padding)
    width, height = block_size(wrap_lines(text, sized), sized, line_spacing)
    canvas = Image.new(mode, (max(width, 1) + 2 * padding, max(height, 1) + 2 * padding), background)
    box = (padding, padding, padding + max(width, 1), padding + max(height, 1))
    block = layout_text_block(text, box, sized, align=align, line_spacing=line_spacing, wrap=False)
    draw_layout(canvas, block, color)
    return canvas


def text_coverage(text: str, font: TextFont, stroke_width: int = 0) -> tuple[np.ndarray, tuple[int, int]]:
    """One line of ``text`` as an ink coverage map (``uint8``, 255 = ink) and its pen origin.

    The map is just large enough for the line's ink and metrics; the origin is where
    the baseline starts, in the map's pixels. ``stroke_width`` thickens every stroke by
    that many pixels on each side (a synthetic bolder weight), as edit needs to match
    a heavier original with the fonts at hand.
    """
    extent = font.measure(text)
    pad = int(stroke_width) + 1
    width = max(extent.width, 1) + 2 * pad
    height = max(extent.bottom - extent.top, 1) + 2 * pad
    origin = (pad - extent.left, pad - extent.top)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    x = float(origin[0])
    for run, pil in font.runs(text):
        if run.strip():
            draw.text((x, origin[1]), run, font=pil, fill=255, anchor="ls",
                      stroke_width=int(stroke_width), stroke_fill=255)
        x += pil.getlength(run)
    return np.asarray(canvas).copy(), origin
