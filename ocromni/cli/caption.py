"""caption: a thin command over ocromni.tasks.caption."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt
from ocromni.cli.batch import BatchRun, choose_format, write_records

CAPTION_FORMATS = ("text", "json", "jsonl")
DETAILS = ("short", "long")


def caption(
    inputs: opt.Inputs,
    detail: Annotated[str, typer.Option("--detail", help="short: kind, layout, the one or two most prominent lines quoted, colours; long: up to three lines, the start of the text and the colours' shares.")] = "short",
    fmt: Annotated[
        Optional[str],
        typer.Option("--format", "-f", help="text (just the captions), json or jsonl (default: from -o's extension, else text)."),
    ] = None,
    output: opt.Output = None,
    pages: opt.Pages = None,
    dpi: opt.Dpi = 200,
    recursive: opt.Recursive = False,
    batch_size: opt.BatchSize = 8,
    max_pixels: opt.MaxPixels = None,
    device: opt.Device = None,
    model: opt.Model = None,
    overwrite: opt.Overwrite = False,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Describe images and PDF pages with a focus on their text: what the image is, its layout, the most prominent text (quoted as read) and the dominant colours.

    Examples:

      ocromni caption poster.png

      ocromni caption receipt.jpg --detail long

      ocromni caption photos/ --recursive --format jsonl -o captions.jsonl
    """
    from ocromni.tasks.caption import iter_caption

    if detail not in DETAILS:
        raise typer.BadParameter(f"{detail!r} is not one of {', '.join(DETAILS)}", param_hint="--detail")
    fmt = choose_format(fmt, output, "text", CAPTION_FORMATS)
    run = BatchRun(quiet, verbose)
    pairs = iter_caption(
        inputs, detail=detail, pages=pages, dpi=dpi, batch_size=batch_size, recursive=recursive,
        max_pixels=max_pixels, model=model, device=device, on_error=run.on_error, stdin=sys.stdin,
    )
    write_records(pairs, run, fmt, output, overwrite)
