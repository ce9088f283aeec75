"""erase and edit: thin commands over ocromni.api."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt


def erase(
    inputs: opt.Inputs,
    output: opt.Output = None,
    out_dir: opt.OutDir = None,
    overwrite: opt.Overwrite = False,
    device: opt.Device = None,
    model: opt.Model = None,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Remove the text from images, filling in the background.

    Examples:

      ocromni erase photo.jpg -o photo-clean.png

      ocromni erase scans/*.png --out-dir clean/
    """
    from ocromni import api

    api.erase(inputs, device=device, model=model)


def edit(
    inputs: opt.Inputs,
    replace: Annotated[
        list[str], typer.Option("--replace", help="OLD=NEW; repeatable.", show_default=False)
    ],
    output: opt.Output = None,
    out_dir: opt.OutDir = None,
    overwrite: opt.Overwrite = False,
    device: opt.Device = None,
    model: opt.Model = None,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Replace text in images, keeping the original's style.

    Examples:

      ocromni edit sign.jpg --replace OPEN=CLOSED -o sign-closed.jpg
    """
    from ocromni import api

    api.edit(inputs, replace=replace, device=device, model=model)
