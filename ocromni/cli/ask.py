"""ask: a thin command over ocromni.api.iter_recognize and ocromni.tasks.ask."""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ocromni.cli import options as opt
from ocromni.cli.batch import BatchRun, choose_format

ASK_FORMATS = ("text", "json", "jsonl")

# -q is --question here, so --quiet has no short form on this command.
Quiet = Annotated[bool, typer.Option("--quiet", help="Only errors on stderr; no progress.")]


class _AnswerText:
    """The text format prints just the answer (an empty line when none was found)."""

    def __init__(self, answer):
        self.answer = answer

    def to_dict(self) -> dict:
        return {"text": self.answer.answer}


def read_questions(inputs: list[str], question: Optional[list[str]], questions_file: Optional[Path]) -> tuple[list[str], list[str]]:
    """Split the arguments into documents and questions: the trailing arguments that end
    in "?" and name no file, else the last argument unless -q or --questions-file give
    the questions."""
    questions = list(question or [])
    if questions_file is not None:
        try:
            lines = questions_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {questions_file}: {exc.strerror}", param_hint="--questions-file")
        questions += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    documents = list(inputs)
    # `ocromni ask r.jpg "total?" "date?" -q "who?"`: the documented last-argument question,
    # and any just before it, with more given by -q. Only trailing arguments that are no
    # path, no glob and end in "?" are taken so; anything else stays an input (and a
    # missing one an error line). The first argument is always a document.
    trailing = []
    while len(documents) >= 2 and _reads_as_question(documents[-1]):
        trailing.insert(0, documents.pop())
    questions = trailing + questions
    if not questions:
        if len(documents) < 2:
            raise typer.BadParameter("give the documents, then the question (or use -q/--question)", param_hint="INPUTS")
        if os.path.exists(documents[-1]):
            raise typer.BadParameter(f"the last argument {documents[-1]!r} is a file; put the question last or use -q", param_hint="INPUTS")
        questions = [documents.pop()]
    if not documents:
        raise typer.BadParameter("no documents given", param_hint="INPUTS")
    if not all(q.strip() for q in questions):
        raise typer.BadParameter("questions must not be empty", param_hint="--question")
    return documents, questions


def _reads_as_question(argument: str) -> bool:
    """Ends in "?" and names no file, not even as a glob ("page?.png" does not end so,
    but "scans/page?" might; glob also finds a file named as the argument)."""
    return argument.rstrip().endswith("?") and not any(ch in argument for ch in "*[") and not glob.glob(argument)


def ask(
    inputs: Annotated[list[str], typer.Argument(help="Documents (images, PDFs, folders, globs, '-'), then the question(s): trailing arguments ending in '?' that name no file are questions (with -q too).", show_default=False)],
    question: Annotated[Optional[list[str]], typer.Option("--question", "-q", help="A question; repeatable.")] = None,
    questions_file: Annotated[Optional[Path], typer.Option("--questions-file", help="A file with one question per line ('#' starts a comment).")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="text (just the answers), json or jsonl (default: from -o's extension, else text).")] = None,
    output: opt.Output = None,
    ocr: Annotated[str, typer.Option("--ocr", help="PDFs: auto uses a page's text layer when it has one; always; never.")] = "auto",
    pages: opt.Pages = None,
    dpi: opt.Dpi = 200,
    recursive: opt.Recursive = False,
    rotate: opt.Rotate = True,
    batch_size: opt.BatchSize = 8,
    max_pixels: opt.MaxPixels = None,
    device: opt.Device = None,
    model: opt.Model = None,
    overwrite: opt.Overwrite = False,
    quiet: Quiet = False,
    verbose: opt.Verbose = False,
) -> None:
    """Answer questions about documents, with confidence and the page and box of the evidence.

    All pages of a PDF are one document. An answer the document does not hold comes back empty, with "found" false.

    Examples:

      ocromni ask receipt.jpg "What is the total?"

      ocromni ask receipt.jpg "total?" "when?" "who issued it?"

      total=$(ocromni ask receipt.jpg "total?")

      ocromni ask receipt.jpg -q "Who issued it?" -q "How much were the eggs?"

      ocromni ask receipt.jpg -q "What's the shop's phone number?" -q "receipt number?" -q "How much change?"

      ocromni ask invoices/*.pdf -q "invoice number?" -q "due date?" --format jsonl

      ocromni ask form.png --questions-file questions.txt --format json -o answers.json
    """
    from ocromni import api
    from ocromni.io.sinks import RecordWriter
    from ocromni.tasks.ask import ask_pages

    documents, questions = read_questions(inputs, question, questions_file)
    fmt = choose_format(fmt, output, "text", ASK_FORMATS)
    run = BatchRun(quiet, verbose)
    pairs = api.iter_recognize(
        documents, pages=pages, dpi=dpi, ocr=ocr, rotate=rotate, batch_size=batch_size, recursive=recursive,
        max_pixels=max_pixels, model=model, device=device, on_error=run.on_error, stdin=sys.stdin,
    )
    answers = ask_pages(api.get_engine(model, device), run.track(pairs), questions)
    with RecordWriter(fmt, output, overwrite=overwrite) as writer:
        for answer in answers:
            writer.write(_AnswerText(answer) if fmt == "text" else answer)
        if run.failures and not run.pages_done:
            writer.abort()  # every input failed: leave no empty output file behind
    raise typer.Exit(run.exit_code())
