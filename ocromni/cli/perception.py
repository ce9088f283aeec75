"""detect and recognize: thin commands over ocromni.api."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt
from ocromni.cli.batch import BatchRun, choose_format, write_records


RECOGNIZE_FORMATS = ("text", "json", "jsonl", "tsv", "hocr", "pdf")
DETECT_FORMATS = ("json", "jsonl")


def recognize(
    inputs: opt.Inputs,
    fmt: Annotated[
        Optional[str],
        typer.Option("--format", "-f", help="text, json, jsonl, tsv, hocr or pdf (default: from -o's extension, else text)."),
    ] = None,
    output: opt.Output = None,
    ocr: Annotated[str, typer.Option("--ocr", help="PDFs: auto uses a page's text layer when it has one; always; never.")] = "auto",
    single_line: Annotated[
        bool,
        typer.Option(
            "--single-line",
            help="Each image is one text line (cropped words or lines): no detection, one line per image.",
        ),
    ] = False,
    pages: opt.Pages = None,
    dpi: opt.Dpi = 200,
    recursive: opt.Recursive = False,
    rotate: opt.Rotate = True,
    batch_size: opt.BatchSize = 8,
    max_pixels: opt.MaxPixels = None,
    device: opt.Device = None,
    model: opt.Model = None,
    overwrite: opt.Overwrite = False,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Read the text of images and PDF pages: lines and words with boxes and confidence.

    Examples:

      ocromni recognize examples/receipt.png

      ocromni recognize scan.pdf --pages 1-3 --format json -o scan.json

      find scans -name '*.png' | ocromni recognize - --format jsonl > text.jsonl

      ocromni recognize scan.pdf -o searchable.pdf

      ocromni recognize crops/*.png --single-line --format tsv
    """
    from ocromni import api

    fmt = choose_format(fmt, output, "text", RECOGNIZE_FORMATS)
    run = BatchRun(quiet, verbose)
    pairs = api.iter_recognize(
        inputs, pages=pages, dpi=dpi, ocr=ocr, rotate=rotate, batch_size=batch_size, recursive=recursive,
        max_pixels=max_pixels, single_line=single_line, model=model, device=device, on_error=run.on_error,
        stdin=sys.stdin,
    )
    write_records(pairs, run, fmt, output, overwrite)


def detect(
    inputs: opt.Inputs,
    level: Annotated[str, typer.Option("--level", help="line or word regions.")] = "line",
    fmt: Annotated[
        Optional[str], typer.Option("--format", "-f", help="json or jsonl (default: from -o's extension, else json).")
    ] = None,
    output: opt.Output = None,
    pages: opt.Pages = None,
    dpi: opt.Dpi = 200,
    recursive: opt.Recursive = False,
    rotate: opt.Rotate = True,
    batch_size: opt.BatchSize = 8,
    max_pixels: opt.MaxPixels = None,
    device: opt.Device = None,
    model: opt.Model = None,
    overwrite: opt.Overwrite = False,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Find text regions (polygons, boxes, confidence) in images and PDF pages.

    Examples:

      ocromni detect photo.jpg

      ocromni detect scans/ --recursive --level word --format jsonl -o regions.jsonl
    """
    from ocromni import api

    fmt = choose_format(fmt, output, "json", DETECT_FORMATS)
    run = BatchRun(quiet, verbose)
    pairs = api.iter_detect(
        inputs, level=level, pages=pages, dpi=dpi, rotate=rotate, batch_size=batch_size, recursive=recursive,
        max_pixels=max_pixels, model=model, device=device, on_error=run.on_error, stdin=sys.stdin,
    )
    write_records(pairs, run, fmt, output, overwrite)
