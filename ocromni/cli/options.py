"""Options shared by several commands, defined once so their names and help agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Inputs = Annotated[
    list[str],
    typer.Argument(
        help="Images, PDFs, folders or globs; '-' reads newline-separated paths from stdin.",
        show_default=False,
    ),
]
Pages = Annotated[Optional[str], typer.Option("--pages", help="Pages of multi-page inputs, e.g. 1,3-5 or 7- (from 1).")]
Dpi = Annotated[int, typer.Option("--dpi", min=30, max=1200, help="Resolution for rendering PDF pages.")]
Recursive = Annotated[bool, typer.Option("--recursive", "-r", help="Descend into sub-folders of folder inputs.")]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="Pages sent through the model together.")]
Device = Annotated[
    Optional[str],
    typer.Option("--device", help="auto, cpu, cuda or cuda:N (default: $OCROMNI_DEVICE or auto)", show_default=False),
]
Model = Annotated[Optional[str], typer.Option("--model", help="Model backend name or checkpoint path (default: ppocr).")]
MaxPixels = Annotated[
    Optional[int],
    typer.Option("--max-pixels", min=1, help="Refuse pages above this many pixels (decompression bombs) (default: 100M)."),
]
Rotate = Annotated[bool, typer.Option("--rotate/--no-rotate", help="Detect and undo page rotation by 90/180/270 degrees.")]
Output = Annotated[Optional[str], typer.Option("--output", "-o", help="Write results to this file ('-' = stdout).")]
OutDir = Annotated[Optional[Path], typer.Option("--out-dir", help="Folder for output images when there are several inputs.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace output files that already exist.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr; no progress.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr (device used, timings).")]
