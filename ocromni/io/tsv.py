"""Tesseract 5's TSV layout, so tools written for ``tesseract img out tsv`` read ours.

One row per element, deepest level last: 1 page, 2 block, 3 paragraph, 4 line, 5 word.
Only words carry text and a confidence (0-100); the other rows have ``conf`` -1 and
empty text, as Tesseract writes them. ocromni finds lines, not blocks, so each page
holds one block with one paragraph around all its lines.
"""

from __future__ import annotations

import re

from ocromni.io.sinks import pixel_box, union_box, words_of
from ocromni.types import PageText

COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
           "left", "top", "width", "height", "conf", "text")
HEADER = "\t".join(COLUMNS) + "\n"

# Tabs and line breaks would split a row; Tesseract's own output never contains them.
_BREAKS = re.compile(r"[\t\n\r\f\v\x85\u2028\u2029]+")


def clean_text(text: str) -> str:
    """Text made safe for one TSV cell (no tabs or line breaks)."""
    return _BREAKS.sub(" ", text).strip()


def _row(level: int, page_num: int, block: int, par: int, line: int, word: int, box, conf: str, text: str = "") -> str:
    left, top, right, bottom = box
    fields = (level, page_num, block, par, line, word, left, top, right - left, bottom - top, conf, text)
    return "\t".join(str(f) for f in fields) + "\n"


def page_rows(record: PageText, page_num: int) -> str:
    """The rows of one page; ``page_num`` counts pages across the run from 1."""
    rows = [_row(1, page_num, 0, 0, 0, 0, (0, 0, int(record.width), int(record.height)), "-1")]
    lines = [(line, words) for line in record.lines if (words := words_of(line))]
    if not lines:
        return "".join(rows)
    line_boxes = [pixel_box(line.bbox) for line, _ in lines]
    area = union_box(line_boxes)
    rows.append(_row(2, page_num, 1, 0, 0, 0, area, "-1"))
    rows.append(_row(3, page_num, 1, 1, 0, 0, area, "-1"))
    for line_num, ((line, words), line_box) in enumerate(zip(lines, line_boxes), start=1):
        rows.append(_row(4, page_num, 1, 1, line_num, 0, line_box, "-1"))
        for word_num, word in enumerate(words, start=1):
            # std::to_string(float) in Tesseract 5 prints six decimals.
            conf = f"{min(max(float(word.confidence), 0.0), 1.0) * 100:.6f}"
            rows.append(_row(5, page_num, 1, 1, line_num, word_num, pixel_box(word.bbox), conf, clean_text(word.text)))
    return "".join(rows)
