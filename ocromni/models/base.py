"""The small protocol every model backend implements.

Tasks (``ocromni/tasks``) talk only to this protocol, so a new backend serves every
command at once. A backend is built once per process by the engine and reused.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ocromni.types import Page, PageText


@runtime_checkable
class TextModel(Protocol):
    name: str
    device: str  # the device actually used, e.g. "cpu" or "cuda:0"

    def read(self, pages: list[Page], *, recognize: bool = True, rotate: bool = True) -> list[PageText]:
        """Detect (and, unless ``recognize`` is False, recognise) the text on each page.

        Returns one PageText per page, lines in reading order, coordinates in the original
        page's frame. With ``recognize=False`` lines carry the detector's polygon and
        confidence and empty text (no words).
        """
        ...
