"""ask: a thin command over ocromni.api."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt


def ask(
    inputs: Annotated[list[str], typer.Argument(help="Documents, then the question (unless given with -q).", show_default=False)],
    question: Annotated[Optional[list[str]], typer.Option("--question", "-q", help="A question; repeatable.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, json or jsonl.")] = "text",
    output: opt.Output = None,
    device: opt.Device = None,
    model: opt.Model = None,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Answer a question about a document, with the page and box where the answer stands.

    Examples:

      ocromni ask scan.pdf "total amount?"

      ocromni ask receipt.jpg -q "date?" -q "total?" --format json
    """
    from ocromni import api

    api.ask(inputs, question=question, device=device, model=model)
