"""edit: a thin command over ocromni.tasks.edit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ocromni.cli import options as opt
from ocromni.cli.batch import BatchRun


def edit(
    inputs: opt.Inputs,
    replace: Annotated[
        list[str],
        typer.Option("--replace", help="OLD=NEW: a word or phrase and what to put in its place; repeatable.",
                     show_default=False),
    ],
    match_case: Annotated[
        bool, typer.Option("--match-case", help="Match OLD with its case as given (default: any case).")
    ] = False,
    output: opt.Output = None,
    out_dir: opt.OutDir = None,
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
    """Replace text in images, keeping its colour, size, weight, font, alignment and perspective.

    OLD matches whole words, or a phrase over words of one line, in any case unless
    --match-case. Each OLD not found is named on stderr; pages where nothing was
    replaced are not written, and when nothing was replaced at all the exit code is 7.

    Examples:

      ocromni edit sign.jpg --replace OPEN=CLOSED -o sign-closed.jpg

      ocromni edit receipt.png --replace 20.05=42.50 --replace 14/03/2024=15/03/2024 -o fixed.png

      ocromni edit shots/ --replace 'Summer Sale=Winter Sale' --out-dir edited/
    """
    from ocromni.errors import ExitCode, OutputExistsError
    from ocromni.io.sinks import ImageOutputs
    from ocromni.tasks.edit import iter_edit, parse_replacements

    pairs = parse_replacements(replace)
    outputs = ImageOutputs(output, str(out_dir) if out_dir else None, overwrite=overwrite)
    if output and Path(output).exists() and not overwrite:  # fail before the model loads
        raise OutputExistsError(path=str(output))

    run = BatchRun(quiet, verbose)
    replaced = 0
    results = iter_edit(
        inputs, replace=pairs, match_case=match_case, pages=pages, dpi=dpi, batch_size=batch_size,
        recursive=recursive, max_pixels=max_pixels, model=model, device=device,
        on_error=run.on_error, stdin=sys.stdin,
    )
    for result in run.track(results):
        where = result.source if result.page.page_count == 1 else f"{result.source} (page {result.page_no})"
        for old in result.not_found:
            print(f"ocromni: {where}: {old!r} not found", file=sys.stderr, flush=True)
        if not result.replaced:
            continue  # nothing changed: no copy of the input is written
        replaced += len(result.replaced)
        run.save(lambda: outputs.save(result.page, result.image), into_folder=bool(out_dir))
    code = run.exit_code()
    if code == ExitCode.ok and run.pages_done and not replaced:
        print("ocromni: nothing was replaced; no output written", file=sys.stderr)
        code = ExitCode.nothing_replaced
    raise typer.Exit(code)
