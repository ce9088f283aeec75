"""render-text: a thin command over ocromni.api.render_text."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt


def _list_fonts(value: bool) -> None:
    if not value:
        return
    from ocromni.fonts import ALIASES, DEFAULT_FONT, list_fonts

    fonts = list_fonts()
    width = max(len(info.name) for info in fonts)
    for info in fonts:
        default = "  (default)" if info.name == DEFAULT_FONT else ""
        print(f"{info.name:<{width}}  {','.join(info.styles):<18}  {info.license:<10}  {info.file}{default}")
    print(f"{'cjk':<{width}}  {'sans,fallback':<18}  {'Apache-2.0':<10}  built into pymupdf; used for characters a font lacks")
    aliases = ", ".join(f"{alias}={name}" for alias, name in ALIASES.items())
    print(f"aliases: {aliases}")
    raise typer.Exit()


def render_text(
    text: Annotated[
        str, typer.Argument(help="The text to draw; a newline or \\n starts a new line.", show_default=False)
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Image to write (PNG, JPEG, WebP, TIFF or BMP, from the suffix).",
                          show_default=False)
    ],
    size: Annotated[
        Optional[str], typer.Option("--size", help="Canvas size WxH, e.g. 800x200 (default: just fits the text).")
    ] = None,
    font: Annotated[
        Optional[str], typer.Option("--font", help="Font name (see --list-fonts), alias (serif, mono, ...) or .ttf/.otf path.")
    ] = None,
    list_fonts: Annotated[
        bool, typer.Option("--list-fonts", callback=_list_fonts, is_eager=True, help="List the shipped fonts and exit.")
    ] = False,
    color: Annotated[str, typer.Option("--color", help="Text colour: a name or #rrggbb.")] = "black",
    background: Annotated[
        Optional[str], typer.Option("--background", help="Background colour or image file (default: white).")
    ] = None,
    image: Annotated[
        Optional[str], typer.Option("--image", help="Draw into this existing image (it is not modified; see -o).")
    ] = None,
    box: Annotated[
        Optional[str], typer.Option("--box", help="Draw only inside x0,y0,x1,y1 (pixels); nothing outside changes.")
    ] = None,
    align: Annotated[str, typer.Option("--align", help="left, center or right.")] = "center",
    font_size: Annotated[
        Optional[int],
        typer.Option("--font-size", min=1,
                     help="Font size in pixels (default: the largest that fits the box; 64 for a canvas sized to the text)."),
    ] = None,
    model: opt.Model = None,
    device: opt.Device = None,
    overwrite: opt.Overwrite = False,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Draw text into a new image or into a box of an existing one.

    Long text wraps to the box and the size is chosen to fill it; Chinese, Japanese and
    Korean characters are drawn with a built-in CJK font.

    Examples:

      ocromni render-text "OPEN 24/7" --size 800x200 -o open.png

      ocromni render-text 'Total\\n42.50 EUR' --font serif --color '#1a237e' -o total.png

      ocromni render-text "价格 Price 42" --image shelf.jpg --box 40,300,420,380 -o shelf-new.jpg

      ocromni render-text "harmony" --model runs/harmony/final -o drawn.png   # glyphs drawn by a trained network
    """
    from ocromni import api
    from ocromni.cli.batch import configure_logging

    configure_logging(quiet, verbose)
    api.render_text(
        text, output=output, size=size, font=font, color=color, background=background, image=image,
        box=box, align=align, font_size=font_size, overwrite=overwrite, model=model, device=device,
    )
