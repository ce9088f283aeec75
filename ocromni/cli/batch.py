"""One batch run as the CLI sees it: logging, progress, bad inputs, and the exit code."""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager

from typing import Optional

from ocromni.errors import ExitCode, InputError, OutputError

log = logging.getLogger("ocromni")


def configure_logging(quiet: bool, verbose: bool) -> None:
    """Logs go to stderr, never stdout (stdout carries results only)."""
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("ocromni: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


class BatchRun:
    """Counts pages done and inputs failed; reports each failure on one stderr line."""

    def __init__(self, quiet: bool = False, verbose: bool = False):
        configure_logging(quiet, verbose)
        self.quiet = quiet
        self.pages_done = 0
        self.failures = 0
        self.output_failures = 0
        self.started = time.perf_counter()

    def on_error(self, error: InputError) -> None:
        self.failures += 1
        print(f"ocromni: error: {error}", file=sys.stderr, flush=True)

    def track(self, pairs, description: str = "pages"):
        """Count pages as they pass; show a progress line only when stderr is a terminal."""
        show = not self.quiet and sys.stderr.isatty()
        with _progress(show, description) as advance:
            for pair in pairs:
                yield pair
                self.pages_done += 1
                advance()
        elapsed = time.perf_counter() - self.started
        log.info("%d page(s) in %.1f s, %d input(s) failed", self.pages_done, elapsed, self.failures)

    def save(self, write, *, into_folder: bool) -> None:
        """Run ``write()``; when writing into a folder, an output that fails is reported
        on one stderr line and the batch goes on (a single ``-o`` file just fails)."""
        try:
            write()
        except OutputError as error:
            if not into_folder:
                raise
            self.output_failures += 1
            print(f"ocromni: error: {error}", file=sys.stderr, flush=True)

    def exit_code(self) -> ExitCode:
        if self.output_failures:
            return ExitCode.output_error
        if not self.failures:
            return ExitCode.ok
        return ExitCode.partial_failure if self.pages_done else ExitCode.input_error


@contextmanager
def _progress(show: bool, description: str):
    if not show:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    # The total is unknown: inputs stream lazily (a folder or a PDF is not counted up front).
    with Progress(SpinnerColumn(), TextColumn(description), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=None)
        yield lambda: progress.advance(task)


def choose_format(fmt: Optional[str], output: Optional[str], default: str, allowed: tuple) -> str:
    """--format if given, else the one -o's extension implies, else ``default``."""
    import typer

    from ocromni.io.sinks import format_from_path

    chosen = fmt or format_from_path(output, default)
    if chosen not in allowed:
        raise typer.BadParameter(f"{chosen!r} is not one of {', '.join(allowed)}", param_hint="--format")
    return chosen


def write_records(pairs, run: BatchRun, fmt: str, output: Optional[str], overwrite: bool) -> None:
    """Write each (page, record) as it comes, then exit with the run's code."""
    import typer

    from ocromni.io.sinks import RecordWriter

    with RecordWriter(fmt, output, overwrite=overwrite) as writer:
        for page, record in run.track(pairs):
            writer.write(record, page)
        if run.failures and not run.pages_done:
            writer.abort()  # every input failed: leave no empty output file behind
    raise typer.Exit(run.exit_code())
