"""render-text: draw text into a new image, or into a box of an existing one.

By default no model is involved: the text is set with the shipped fonts (CJK through
pymupdf's built-in fallback), wrapped to the box and sized to fill it, so the result reads
back exactly under OCR (benchmarks/render_fonts.py measures that). With ``model`` (a
checkpoint written by ``ocromni train``) the harmony network's diffusion head draws the
glyphs instead, word by word, and they are placed, coloured and sized the same way.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Optional, Sequence, Union

from ocromni.errors import OutputExistsError, UsageError

log = logging.getLogger("ocromni")

DEFAULT_FONT_SIZE = 64  # px, for a canvas sized to the text (no --size, no --image)
DEFAULT_COLOR = "black"
DEFAULT_BACKGROUND = "white"

Size = Union[str, Sequence[int], None]
Box = Union[str, Sequence[float], None]


def parse_size(size: Size) -> Optional[tuple[int, int]]:
    """``"800x200"`` or ``(800, 200)`` as ``(width, height)``; None stays None."""
    if size is None:
        return None
    if isinstance(size, str):
        match = re.fullmatch(r"\s*(\d+)\s*[xX×,]\s*(\d+)\s*", size)
        if not match:
            raise UsageError(reason=f"bad size {size!r}; use WIDTHxHEIGHT in pixels, e.g. 800x200")
        width, height = int(match.group(1)), int(match.group(2))
    else:
        try:
            width, height = (int(v) for v in size)
        except (TypeError, ValueError):
            raise UsageError(reason=f"bad size {size!r}; give (width, height) in pixels") from None
    if not (0 < width <= 20000 and 0 < height <= 20000):
        raise UsageError(reason=f"size {width}x{height} is out of range; each side must be 1 to 20000 px")
    return width, height


def parse_box(box: Box) -> Optional[tuple[int, int, int, int]]:
    """``"x0,y0,x1,y1"`` or a sequence of four numbers as whole pixels; None stays None."""
    if box is None:
        return None
    parts = re.split(r"[,\s]+", box.strip()) if isinstance(box, str) else list(box)
    try:
        x0, y0, x1, y1 = (int(round(float(v))) for v in parts)
    except (TypeError, ValueError):
        raise UsageError(reason=f"bad box {box!r}; use x0,y0,x1,y1 in pixels, e.g. 10,20,300,80") from None
    if x1 <= x0 or y1 <= y0:
        raise UsageError(reason=f"box {x0},{y0},{x1},{y1} is empty; x1 must exceed x0 and y1 exceed y0")
    return x0, y0, x1, y1


def parse_color(color, what: str = "color") -> tuple[int, int, int]:
    """A colour name, ``#rgb``/``#rrggbb`` or an RGB triple, as RGB."""
    from PIL import ImageColor

    if isinstance(color, str):
        try:
            return ImageColor.getrgb(color.strip())[:3]
        except ValueError:
            raise UsageError(reason=f"bad {what} {color!r}; use a colour name (navy) or hex (#1a2b3c)") from None
    try:
        red, green, blue = (int(v) for v in list(color)[:3])
    except (TypeError, ValueError):
        raise UsageError(reason=f"bad {what} {color!r}; use a colour name, hex, or (r, g, b)") from None
    return red, green, blue


def _load_image(image):
    """An image path (first page of a PDF or TIFF), PIL image or RGB array as a new RGB PIL image.

    A bad file raises the InputError that names the reason.
    """
    from PIL import Image

    from ocromni.io import sources

    page = next(iter(sources.iter_pages([image], pages="1", text_layer=False)))
    return Image.fromarray(page.image)


def _is_color(value: str) -> bool:
    from PIL import ImageColor

    try:
        ImageColor.getrgb(value.strip())
        return True
    except ValueError:
        return False


def _cover(image, size: tuple[int, int]):
    """Scale ``image`` to cover ``size`` and crop the middle (a background keeps its aspect)."""
    from PIL import Image

    scale = max(size[0] / image.width, size[1] / image.height)
    scaled = image.resize((max(size[0], round(image.width * scale)), max(size[1], round(image.height * scale))),
                          Image.Resampling.LANCZOS)
    left, top = (scaled.width - size[0]) // 2, (scaled.height - size[1]) // 2
    return scaled.crop((left, top, left + size[0], top + size[1]))


def render_text(
    text: str,
    *,
    output: Optional[str] = None,
    size: Size = None,
    font=None,
    color="black",
    background=None,
    image=None,
    box: Box = None,
    align: str = "center",
    valign: str = "middle",
    font_size: Optional[int] = None,
    line_spacing: float = 1.15,
    padding: Optional[int] = None,
    overwrite: bool = False,
    model: Optional[str] = None,
    device: Optional[str] = None,
):
    """Draw ``text`` into a new image or into ``box`` of ``image``; returns the PIL image.

    text: ``\\n`` (or backslash-n typed in a shell) starts a new line; long lines wrap
        to the box width.
    size: canvas ``"WxH"`` or ``(w, h)``. Without it (and without ``image``) the canvas
        is sized to the text at ``font_size`` (default 64 px) plus ``padding``.
    font: a shipped font's name (see ``ocromni.fonts.list_fonts()``), an alias such as
        "serif", or a .ttf/.otf path; characters it lacks come from the CJK fallback.
    background: a colour, or an image file scaled to cover the canvas.
    image: draw into this existing image: a path, PIL image or RGB array (never modified).
    box: ``(x0, y0, x1, y1)`` or ``"x0,y0,x1,y1"``: only pixels inside it change.
    font_size: pixels; None fits the largest size whose wrapped block fits the box.
    padding: pixels kept clear inside the canvas (default: 5% of the shorter side for a
        sized canvas, a quarter of the font size for a text-sized one, 0 inside a box).
    output: write the image here (format from the suffix), atomically; an existing file
        raises :class:`~ocromni.errors.OutputExistsError` unless ``overwrite``.
    model: a harmony checkpoint folder: its network draws the glyphs (``font`` is then
        unused, lines break at ``\\n`` only); ``device`` as for the other commands.
    """
    from PIL import Image

    from ocromni import textdraw
    from ocromni.fonts import resolve_font

    outputs = _image_outputs(output, overwrite)
    text = textdraw.normalise_text(text)
    if not text.strip():
        raise UsageError(reason="no text to render; give a non-empty TEXT")
    if align not in textdraw.ALIGNS:
        raise UsageError(reason=f"bad align {align!r}; use one of {', '.join(textdraw.ALIGNS)}")
    if valign not in textdraw.VALIGNS:
        raise UsageError(reason=f"bad valign {valign!r}; use one of {', '.join(textdraw.VALIGNS)}")
    if font_size is not None and int(font_size) < 1:
        raise UsageError(reason=f"font size must be at least 1 px, got {font_size}")
    if line_spacing <= 0:
        raise UsageError(reason=f"line spacing must be positive, got {line_spacing}")
    if padding is not None and padding < 0:
        raise UsageError(reason=f"padding must not be negative, got {padding}")
    canvas_size = parse_size(size)
    box = parse_box(box)
    ink = parse_color(color)
    face = resolve_font(font)
    if image is not None and (canvas_size is not None or background is not None):
        raise UsageError(reason="--image draws into an existing image; it cannot be combined with --size or --background")

    if isinstance(image, (str, Path)) and output is not None and _same_file(image, output):
        raise UsageError(reason=f"output {output} is the input image; inputs are never modified, choose another -o")

    drawn_ink = None  # with a model: the network's glyphs as an ink coverage map
    if model is not None:
        if font is not None:
            log.warning("render-text: --font is unused with --model; the network draws its own glyphs")
        drawn_ink = _network_ink(text, model, device, line_spacing, align)

    text_sized = False  # a canvas made to fit the text at a fixed size
    if image is not None:
        canvas = _load_image(image)
    elif isinstance(background, str) and not _is_color(background):
        if not Path(background).is_file():
            raise UsageError(reason=f"bad background {background!r}: neither a colour nor an existing image file")
        backdrop = _load_image(background)
        canvas = _cover(backdrop, canvas_size) if canvas_size else backdrop
    else:
        fill = parse_color(DEFAULT_BACKGROUND if background is None else background, "background")
        if canvas_size is None:
            text_sized = True
            font_size = int(font_size or DEFAULT_FONT_SIZE)
            if drawn_ink is not None:
                pad = _default_padding(None, True, font_size) if padding is None else int(padding)
                scale = font_size / NETWORK_FONT_PX
                canvas_size = (round(drawn_ink.shape[1] * scale) + 2 * pad, round(drawn_ink.shape[0] * scale) + 2 * pad)
            else:
                canvas_size = _text_canvas_size(text, face, font_size, line_spacing, padding)
        canvas = Image.new("RGB", canvas_size, fill)

    if box is None:
        pad = int(padding) if padding is not None else _default_padding(canvas, text_sized, font_size)
        box = (pad, pad, canvas.width - pad, canvas.height - pad)
        if box[2] <= box[0] or box[3] <= box[1]:
            raise UsageError(reason=f"padding {pad} leaves no room on a {canvas.width}x{canvas.height} canvas")
    else:
        if box[0] < 0 or box[1] < 0 or box[2] > canvas.width or box[3] > canvas.height:
            raise UsageError(reason=f"box {','.join(map(str, box))} is not inside the {canvas.width}x{canvas.height} image")
        if padding:
            box = (box[0] + padding, box[1] + padding, box[2] - padding, box[3] - padding)
            if box[2] <= box[0] or box[3] <= box[1]:
                raise UsageError(reason=f"padding {padding} leaves no room inside the box")

    canvas = canvas.convert("RGB")
    if drawn_ink is not None:
        canvas = _paint_ink(canvas, drawn_ink, box, ink, font_size, align, valign)
        log.info("render-text: drawn by the network %s in box %s", model, box)
    else:
        block = textdraw.layout_text_block(text, box, face, font_size=font_size, align=align, valign=valign,
                                           line_spacing=line_spacing, wrap=not text_sized)
        if not block.fits:
            log.warning("render-text: the text does not fit %dx%d px at %d px; it is clipped (use a larger --size "
                        "or a smaller --font-size)", box[2] - box[0], box[3] - box[1], block.font.size)
        textdraw.draw_layout(canvas, block, ink)
        log.info("render-text: %s at %d px, %d line(s), in box %s", face.name, block.font.size, len(block.lines), box)

    if outputs is not None:
        from ocromni.types import Page

        page = Page(str(output), 1, canvas.width, canvas.height, lambda: None)
        path = outputs.save(page, canvas)
        log.info("wrote %s (%dx%d)", path, canvas.width, canvas.height)
    return canvas


def _image_outputs(output: Optional[str], overwrite: bool):
    """Check ``output`` before any work: a supported suffix and, without overwrite, not there yet."""
    if output is None:
        return None
    from ocromni.io.sinks import ImageOutputs

    if str(output) == "-":
        raise UsageError(reason="images cannot be written to stdout; use -o FILE.png")
    outputs = ImageOutputs(str(output), overwrite=overwrite)
    path = Path(output)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise OutputExistsError(path=str(path))
    return outputs


def _same_file(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _default_padding(canvas, text_sized: bool, font_size: Optional[int]) -> int:
    if text_sized:
        return round((font_size or DEFAULT_FONT_SIZE) / 4)
    return round(0.05 * min(canvas.width, canvas.height))


def _text_canvas_size(text, face, font_size: int, line_spacing: float, padding: Optional[int]) -> tuple[int, int]:
    """Just large enough for ``text`` (lines break at ``\\n`` only) plus padding all round."""
    from ocromni import textdraw

    sized = textdraw.TextFont(face, font_size)
    width, height = textdraw.block_size(textdraw.wrap_lines(text, sized), sized, line_spacing)
    pad = _default_padding(None, True, font_size) if padding is None else int(padding)
    return max(width, 1) + 2 * pad, max(height, 1) + 2 * pad


# --- drawing with the harmony network (--model) ------------------------------------------

# The network draws 32-px-high word pictures with its letters at about 20 px (see
# ocromni/models/harmony/data.py), and its training words are at most 9 letters long, so
# longer words are drawn in pieces of that length and joined.
NETWORK_FONT_PX = 20
NETWORK_WORD_CHARS = 9
INK_COLUMN = 0.3  # a column with this much ink or more belongs to the drawn word


def _network_ink(text: str, model: str, device: Optional[str], line_spacing: float, align: str):
    """The text as drawn by the network: a float ink map (1 = ink) at the network's scale,
    its lines stacked and aligned within the block."""
    import numpy as np

    from ocromni.engine import get_engine
    from ocromni.models import model_class

    backend_class = model_class(model)
    if not hasattr(getattr(backend_class, "func", backend_class), "render_words"):  # checked before it loads
        raise UsageError(reason=f"model {model!r} cannot draw text; --model takes a checkpoint written by 'ocromni train'")
    backend = get_engine(model, device).model
    lines = [line.split() for line in text.split("\n")]
    pieces = [word[i:i + NETWORK_WORD_CHARS] for words in lines for word in words
              for i in range(0, len(word), NETWORK_WORD_CHARS)]
    pictures = iter(backend.render_words(pieces)) if pieces else iter(())
    rows = []
    for words in lines:
        row = []
        for word in words:
            parts = [_ink_of(next(pictures)) for _ in range(0, len(word), NETWORK_WORD_CHARS)]
            if row:
                row.append(np.zeros((parts[0].shape[0], round(0.35 * parts[0].shape[0])), np.float32))  # a space
            row.extend(parts)
        rows.append(np.concatenate(row, axis=1) if row else None)
    height = next(row.shape[0] for row in rows if row is not None)
    rows = [np.zeros((height, 1), np.float32) if row is None else row for row in rows]  # blank lines keep their place
    pitch = max(height, round(height * line_spacing))
    block = np.zeros((pitch * (len(rows) - 1) + height, max(r.shape[1] for r in rows)), np.float32)
    for k, row in enumerate(rows):
        left = {"left": 0, "center": (block.shape[1] - row.shape[1]) // 2, "right": block.shape[1] - row.shape[1]}[align]
        block[k * pitch:k * pitch + height, left:left + row.shape[1]] = row
    return block


def _ink_of(picture):
    """Ink coverage of one drawn word picture (dark text on light ground), trimmed to its ink."""
    import numpy as np

    grey = picture.astype(np.float32).mean(axis=2) if picture.ndim == 3 else picture.astype(np.float32)
    ground = float(np.percentile(grey, 90))
    ink = np.clip((ground - grey) / max(ground - float(grey.min()), 32.0), 0.0, 1.0)
    columns = np.flatnonzero(ink.max(axis=0) >= INK_COLUMN)
    if columns.size == 0:
        return np.zeros((grey.shape[0], 2), np.float32)
    return ink[:, max(columns[0] - 1, 0):columns[-1] + 2]


def _paint_ink(canvas, ink_map, box, color, font_size: Optional[int], align: str, valign: str):
    """Scale the ink map into ``box`` (to ``font_size`` or as large as fits), place it by
    ``align``/``valign`` and blend ``color`` over the canvas by its coverage."""
    import numpy as np
    from PIL import Image

    box_w, box_h = box[2] - box[0], box[3] - box[1]
    fit = min(box_w / ink_map.shape[1], box_h / ink_map.shape[0])
    scale = fit if font_size is None else font_size / NETWORK_FONT_PX
    if round(ink_map.shape[1] * scale) > box_w or round(ink_map.shape[0] * scale) > box_h:
        log.warning("render-text: the text does not fit %dx%d px at %d px; it is scaled down to fit", box_w, box_h,
                    font_size)
        scale = fit
    width, height = max(1, round(ink_map.shape[1] * scale)), max(1, round(ink_map.shape[0] * scale))
    coverage = np.asarray(Image.fromarray(ink_map).resize((width, height), Image.Resampling.BILINEAR), np.float32)
    left = box[0] + {"left": 0, "center": (box_w - width) // 2, "right": box_w - width}[align]
    top = box[1] + {"top": 0, "middle": (box_h - height) // 2, "bottom": box_h - height}[valign]
    pixels = np.asarray(canvas, dtype=np.float32).copy()
    region = pixels[top:top + height, left:left + width]
    alpha = np.clip(coverage[:region.shape[0], :region.shape[1], None], 0.0, 1.0)
    region[:] = region * (1 - alpha) + np.asarray(color, np.float32) * alpha
    return Image.fromarray(np.round(pixels).astype(np.uint8))
