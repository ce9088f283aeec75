"""edit: a thin command over ocromni.api."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt


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
