"""The fonts ocromni ships, looked up by name, and the CJK fallback for what they lack.

Every shipped font is OFL-1.1; its license text lies beside it (``OFL-*.txt``, see
README.md for where each came from). Chinese, Japanese and Korean come from pymupdf's
built-in Droid Sans Fallback (Apache-2.0), so the package carries no CJK font of its own.

    >>> from ocromni.fonts import resolve_font, font_for_text
    >>> face = resolve_font("serif")
    >>> [(run, f.name) for run, f in font_for_text("价格 Price", face)]
    [('价格', 'cjk'), (' Price', 'noto-serif')]

Nothing heavy is imported here: PIL, fontTools and pymupdf load on first use.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from ocromni.errors import UsageError

FONT_DIR = Path(__file__).resolve().parent
DEFAULT_FONT = "noto-sans"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


@dataclass(frozen=True)
class FontInfo:
    """One shipped font: its catalogue name, file, style tags and license."""

    name: str
    file: str
    styles: tuple[str, ...]
    license: str
    license_file: str
    description: str

    @property
    def path(self) -> Path:
        return FONT_DIR / self.file

    @property
    def license_path(self) -> Path:
        return FONT_DIR / self.license_file


# Chosen for OCR legibility first: benchmarks/render_fonts.py measures how often
# Tesseract and ocromni read each one back exactly; the default is the best of them.
_CATALOGUE = (
    FontInfo("noto-sans", "NotoSans-Regular.ttf", ("sans", "regular"), "OFL-1.1", "OFL-NotoSans.txt",
             "Noto Sans Regular: clean humanist sans (Latin, Greek, Cyrillic); the default"),
    FontInfo("noto-sans-bold", "NotoSans-Bold.ttf", ("sans", "bold"), "OFL-1.1", "OFL-NotoSans.txt",
             "Noto Sans Bold"),
    FontInfo("noto-sans-italic", "NotoSans-Italic.ttf", ("sans", "italic"), "OFL-1.1", "OFL-NotoSans.txt",
             "Noto Sans Italic"),
    FontInfo("noto-serif", "NotoSerif-Regular.otf", ("serif", "regular"), "OFL-1.1", "OFL-NotoSerif.txt",
             "Noto Serif Regular: book serif"),
    FontInfo("fira-mono", "FiraMono-Regular.otf", ("mono", "regular"), "OFL-1.1", "OFL-FiraMono.txt",
             "Fira Mono Regular: monospace for codes and numbers"),
    FontInfo("space-mono-bold", "SpaceMono-Bold.ttf", ("mono", "bold", "display"), "OFL-1.1", "OFL-SpaceMono.txt",
             "Space Mono Bold: geometric display monospace for signs and labels"),
)

# Generic names, so `--font serif` works without knowing the catalogue.
ALIASES = {
    "default": DEFAULT_FONT,
    "sans": "noto-sans",
    "bold": "noto-sans-bold",
    "italic": "noto-sans-italic",
    "serif": "noto-serif",
    "mono": "fira-mono",
    "monospace": "fira-mono",
    "display": "space-mono-bold",
}


def list_fonts() -> list[FontInfo]:
    """The shipped fonts, default first."""
    return list(_CATALOGUE)


def _normalise(name: str) -> str:
    # "Noto Sans", "noto_sans" and "NOTO-SANS" all name the same font.
    return "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


_BY_NAME = {info.name: info for info in _CATALOGUE}


def font_info(name: str) -> Optional[FontInfo]:
    """The shipped font called ``name`` (case-insensitive, aliases allowed), or None."""
    key = _normalise(name)
    return _BY_NAME.get(ALIASES.get(key, key))


class FontFace:
    """A typeface, unsized: where its data comes from and which characters it covers.

    Faces are shared (one per file per process, see :func:`resolve_font`), so the
    character map is read once and the PIL fonts of each size are built once.
    """

    def __init__(self, name: str, path: Optional[Path] = None, data: Optional[bytes] = None):
        if (path is None) == (data is None):
            raise ValueError("a FontFace needs exactly one of path or data")
        self.name = name
        self.path = path
        self.data = data

    def __repr__(self) -> str:
        return f"FontFace({self.name!r})"

    @functools.cached_property
    def codepoints(self) -> frozenset[int]:
        """Code points the font maps to a glyph (its cmap); empty if it has none we can read."""
        from fontTools.ttLib import TTFont  # lazily: the first lookup costs ~0.1 s per face

        source = self.path if self.path is not None else io.BytesIO(self.data)
        try:
            with TTFont(source, lazy=True, fontNumber=0) as font:
                cmap = font.getBestCmap() or {}
        except Exception as exc:  # fontTools raises TTLibError, struct.error, KeyError, ...
            raise UsageError(reason=f"font {self.name!r} cannot be read ({exc or type(exc).__name__})") from None
        return frozenset(cmap)

    def covers(self, char: str) -> bool:
        """Whether the font has a glyph for ``char``."""
        return ord(char) in self.codepoints

    @functools.lru_cache(maxsize=64)
    def pil(self, size: int):
        """This face as a PIL font of ``size`` pixels (em size)."""
        from PIL import ImageFont

        source = str(self.path) if self.path is not None else io.BytesIO(self.data)
        try:
            return ImageFont.truetype(source, int(size))
        except OSError as exc:
            raise UsageError(reason=f"font {self.name!r} cannot be loaded ({exc})") from None


@functools.lru_cache(maxsize=None)
def _face_for_path(path: Path, name: str) -> FontFace:
    return FontFace(name, path=path)


def _looks_like_path(text: str) -> bool:
    return text.lower().endswith(FONT_SUFFIXES) or "/" in text or "\\" in text


def resolve_font(name_or_path: Union[str, Path, FontFace, None] = None) -> FontFace:
    """The face for a shipped font's name (case-insensitive), an alias, or a font file path.

    ``None`` gives the default font. An unknown name or a missing file raises
    :class:`~ocromni.errors.UsageError` listing the shipped fonts.
    """
    if isinstance(name_or_path, FontFace):
        return name_or_path
    if name_or_path is None or (isinstance(name_or_path, str) and not name_or_path.strip()):
        name_or_path = DEFAULT_FONT
    if isinstance(name_or_path, str) and not _looks_like_path(name_or_path):
        info = font_info(name_or_path)
        if info is not None:
            return _face_for_path(info.path, info.name)
        if not Path(name_or_path).is_file():
            raise UsageError(reason=f"unknown font {name_or_path!r}; {_known_fonts_hint()}")
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise UsageError(reason=f"font file {str(path)!r} not found; {_known_fonts_hint()}")
    return _face_for_path(path.resolve(), path.name)


def _known_fonts_hint() -> str:
    names = ", ".join(info.name for info in _CATALOGUE)
    return f"shipped fonts: {names} (aliases: {', '.join(ALIASES)}), or give a .ttf/.otf file"


# --- CJK fallback ---------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def cjk_font() -> bytes:
    """pymupdf's built-in CJK font (Droid Sans Fallback, Apache-2.0) as font-file bytes.

    Usable by PIL: ``ImageFont.truetype(io.BytesIO(cjk_font()), size)``.
    """
    import pymupdf  # ~2 s to import: only texts that need the fallback pay for it

    return bytes(pymupdf.Font("cjk").buffer)


@functools.lru_cache(maxsize=1)
def cjk_face() -> FontFace:
    """The CJK fallback as a :class:`FontFace` named ``"cjk"``."""
    return FontFace("cjk", data=cjk_font())


def _needs_no_glyph(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def font_for_text(text: str, preferred: Union[str, Path, FontFace, None] = None) -> list[tuple[str, FontFace]]:
    """Split ``text`` into runs, each with the face to draw it in.

    Characters the preferred face lacks go to the CJK fallback when it has them; a
    character neither has stays with the preferred face (drawn as its missing-glyph box).
    """
    face = resolve_font(preferred)
    runs: list[tuple[str, FontFace]] = []
    for char in text:
        if _needs_no_glyph(char):
            # Spaces take the preferred face's width where it has one.
            chosen = face if face.covers(char) or not runs else runs[-1][1]
        elif face.covers(char):
            chosen = face
        else:
            fallback = cjk_face()
            chosen = fallback if fallback.covers(char) else face
        if runs and runs[-1][1] is chosen:
            runs[-1] = (runs[-1][0] + char, chosen)
        else:
            runs.append((char, chosen))
    return runs
