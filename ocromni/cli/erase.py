"""erase: a thin command over ocromni.tasks.erase."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt
from ocromni.cli.batch import BatchRun


def _parse_box(text: str) -> tuple[float, float, float, float]:
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not x0,y0,x1,y1 (four numbers, page pixels)", param_hint="--box")
    if x1 <= x0 or y1 <= y0:
        raise typer.BadParameter(f"{text!r} is empty: x1 must exceed x0 and y1 exceed y0", param_hint="--box")
    return x0, y0, x1, y1


def _mask_page(page) -> SimpleNamespace:
    """A stand-in page whose derived output name is ``{stem}-mask`` (``-pN`` for PDF pages)."""
    from ocromni.io.sinks import safe_stem

    return SimpleNamespace(source=f"{safe_stem(page.source)}-mask.png", page_no=page.page_no, page_count=page.page_count)


def erase(
    inputs: opt.Inputs,
    output: opt.Output = None,
    out_dir: opt.OutDir = None,
    match: Annotated[
        Optional[str],
        typer.Option("--match", help="Erase only words this regular expression touches in the recognised text."),
    ] = None,
    box: Annotated[
        Optional[list[str]],
        typer.Option("--box", help="Only change pixels inside x0,y0,x1,y1 (page pixels); repeatable.", show_default=False),
    ] = None,
    mask: Annotated[
        Optional[Path],
        typer.Option("--mask", help="Image, white (or opaque) where erasing is allowed; parts with no text found are filled whole."),
    ] = None,
    save_mask: Annotated[
        Optional[Path],
        typer.Option(
            "--save-mask",
            help="Write the mask that was filled: to this file for one input; with --out-dir, "
            "this folder receives {stem}-mask.png (give the --out-dir folder to keep them beside the outputs).",
        ),
    ] = None,
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
    """Remove text from images: all of it, or only the words --match selects, inside --box or --mask.

    Examples:

      ocromni erase photo.jpg -o photo-clean.png

      ocromni erase poster.png --match '(?i)sale|50%' -o poster-clean.png --save-mask mask.png

      ocromni erase shots/ --box 0,0,640,120 --out-dir clean/
    """
    from ocromni.errors import ExitCode, OutputExistsError
    from ocromni.io.sinks import ImageOutputs
    from ocromni.tasks.erase import iter_erase, load_mask

    boxes = [_parse_box(b) for b in box or []]
    outputs = ImageOutputs(output, str(out_dir) if out_dir else None, overwrite=overwrite)
    mask_outputs = None
    if save_mask is not None:
        if out_dir is not None:
            mask_outputs = ImageOutputs(out_dir=str(save_mask), overwrite=overwrite)
        else:
            mask_outputs = ImageOutputs(output=str(save_mask), overwrite=overwrite)
    # Fail before the model loads when a single output is already there.
    for target in (output, None if out_dir else save_mask):
        if target and Path(target).exists() and not overwrite:
            raise OutputExistsError(path=str(target))
    user_mask = load_mask(str(mask)) if mask is not None else None

    run = BatchRun(quiet, verbose)
    erased_regions = 0
    results = iter_erase(
        inputs, match=match, boxes=boxes, mask=user_mask, pages=pages, dpi=dpi, batch_size=batch_size,
        recursive=recursive, max_pixels=max_pixels, model=model, device=device,
        on_error=run.on_error, stdin=sys.stdin,
    )
    for page, image, used_mask, count in run.track(results):
        erased_regions += count

        def write(page=page, image=image, used_mask=used_mask):
            outputs.save(page, image)
            if mask_outputs is not None:
                mask_outputs.save(_mask_page(page) if out_dir is not None else page, used_mask)

        run.save(write, into_folder=bool(out_dir))
    code = run.exit_code()
    if code == ExitCode.ok and match is not None and run.pages_done and not erased_regions:
        print(f"ocromni: no text matched {match!r}; nothing was erased", file=sys.stderr)
        code = ExitCode.nothing_replaced
    raise typer.Exit(code)
