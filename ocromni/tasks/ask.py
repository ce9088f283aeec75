"""ask: answer questions about documents, with confidence and evidence (page, box, text).

Each document (every page of a PDF together) is read once -- its PDF text layer where it
has one, else the engine's OCR -- and all questions about it go through the QA model in
one batch. The QA model is loaded on first use and kept for the life of the process,
one per engine, so a batch of documents (or several API calls) loads it once.
"""

from __future__ import annotations

import os
import threading
import weakref
from itertools import groupby
from typing import Iterable, Iterator, Optional, Sequence

from ocromni.engine import Engine
from ocromni.errors import ModelError, UsageError
from ocromni.qa.answer import Answer
from ocromni.types import Page, PageText

_readers: "weakref.WeakKeyDictionary[Engine, object]" = weakref.WeakKeyDictionary()
_readers_lock = threading.Lock()


def qa_reader(engine: Engine, weights: Optional[str] = None):
    """The engine's QA reader, loaded on first use (torch is imported only here)."""
    with _readers_lock:
        cached = _readers.get(engine)
        if cached is not None and cached[0] == weights:
            return cached[1]
        # Idle OpenMP threads spin by default and starve shared cores; only effective
        # when torch has not been imported yet.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import torch

            from ocromni.qa.reader import Reader
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ModelError(reason=f"ask needs torch and tokenizers ({exc})") from exc
        if engine.threads:
            torch.set_num_threads(engine.threads)
        device = "cpu"
        if engine.requested_device.startswith("cuda") and torch.cuda.is_available():
            device = engine.requested_device
        elif engine.requested_device == "auto" and torch.cuda.is_available():
            device = "cuda"
        reader = Reader.load(weights, device=device)
        _readers[engine] = (weights, reader)
        return reader


def check_questions(questions: Sequence[str]) -> list[str]:
    questions = [" ".join(q.split()) for q in questions]
    if not questions or not all(questions):
        raise UsageError(reason="ask needs at least one non-empty question")
    return questions


def group_documents(pairs: Iterable[tuple[Page, PageText]]) -> Iterator[tuple[str, list[PageText]]]:
    """Consecutive pages of the same source, as ``(source, [PageText, ...])``."""
    for source, group in groupby(pairs, key=lambda pair: pair[0].source):
        yield source, [record for _, record in group]


def ask_documents(
    engine: Engine,
    documents: Iterable[tuple[str, list[PageText]]],
    questions: Sequence[str],
    *,
    weights: Optional[str] = None,
) -> Iterator[Answer]:
    """One :class:`Answer` per (document, question), documents in order, questions in order.

    ``documents``: ``(source, page texts)`` pairs, e.g. from :func:`group_documents` over
    ``ocromni.api.iter_recognize(...)``.
    """
    from ocromni.qa.features import document_from_pages

    questions = check_questions(questions)
    reader = None
    for source, pages in documents:
        if reader is None:
            reader = qa_reader(engine, weights)
        document = document_from_pages(pages, source)
        yield from reader.answer(document, questions)


def ask_pages(
    engine: Engine,
    pairs: Iterable[tuple[Page, PageText]],
    questions: Sequence[str],
    *,
    weights: Optional[str] = None,
) -> Iterator[Answer]:
    """:func:`ask_documents` over the ``(page, PageText)`` stream of ``iter_recognize``."""
    return ask_documents(engine, group_documents(pairs), questions, weights=weights)
