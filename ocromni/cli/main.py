"""The ``ocromni`` command: seven subcommands and the one place errors become exit codes."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ocromni import __version__
from ocromni.cli import ask, caption, erase, generation, perception, render, train

app = typer.Typer(
    name="ocromni",
    help="Read, question and rewrite the text in documents and photos.\n\n"
    "One local model, loaded once per process, serves every command. "
    "Results go to stdout (or -o); messages and progress to stderr.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.command("detect")(perception.detect)
app.command("recognize")(perception.recognize)
app.command("ask")(ask.ask)
app.command("caption")(caption.caption)
app.command("render-text")(render.render_text)
app.command("erase")(erase.erase)
app.command("edit")(generation.edit)
app.command("train")(train.train)


def _show_version(value: bool) -> None:
    if value:
        print(f"ocromni {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Read, question and rewrite the text in documents and photos."""


def _click_exception_classes() -> tuple:
    # Recent Typer vendors Click (typer._click) and exposes its base as TyperException;
    # older Typer raises the separate click package's ClickException.
    classes = [cls for cls in (getattr(typer, "TyperException", None),) if cls is not None]
    try:
        import click

        classes.append(click.ClickException)
    except ImportError:
        pass
    return tuple(classes)


def run(argv: Optional[list[str]] = None) -> None:
    """Entry point: run the app and map every outcome to a documented exit code."""
    from ocromni.errors import ExitCode, OcromniError

    usage_errors = _click_exception_classes()

    try:
        code = app(args=argv, prog_name="ocromni", standalone_mode=False)
    except OcromniError as error:
        print(f"ocromni: error: {error}", file=sys.stderr)
        code = error.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print("ocromni: interrupted", file=sys.stderr)
        code = ExitCode.interrupted
    except usage_errors as error:
        error.show()
        code = getattr(error, "exit_code", ExitCode.usage_error)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours; silence the flush at exit.
        sys.stderr.close()
        code = ExitCode.ok
    sys.exit(int(code or 0))
