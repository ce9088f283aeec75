"""hOCR 1.2 output (XHTML), following Tesseract's and hocr-tools' conventions.

Each page is a ``div.ocr_page`` holding one ``ocr_carea`` and one ``ocr_par`` around its
lines (ocromni finds lines, not blocks), then ``ocr_line`` and ``ocrx_word`` spans. Ids
follow hocr-tools: ``page_1``, ``block_1_1``, ``par_1_1``, ``line_1_3``, ``word_1_3_2``.
``bbox`` values are whole pixels of the page image; ``x_wconf`` is 0-100.
"""

from __future__ import annotations

import re
from html import escape

import ocromni
from ocromni.io.sinks import pixel_box, union_box, words_of
from ocromni.types import PageText

CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf"

# Characters XML 1.0 forbids outright; one of them would make the whole file unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(text: str) -> str:
    return escape(_NOT_XML.sub("", text), quote=True)


def _bbox(box) -> str:
    return "bbox {} {} {} {}".format(*box)


def document_head() -> str:
    """Everything before the first page."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
        '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
        " <head>\n"
        "  <title></title>\n"
        '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
        f'  <meta name="ocr-system" content="ocromni {ocromni.__version__}"/>\n'
        f'  <meta name="ocr-capabilities" content="{CAPABILITIES}"/>\n'
        " </head>\n"
        " <body>\n"
    )


def document_tail() -> str:
    """Everything after the last page."""
    return " </body>\n</html>\n"


def page_div(record: PageText, page_num: int) -> str:
    """One ``ocr_page``; ``page_num`` counts pages across the run from 1."""
    n = page_num
    # hOCR "delimited strings" are double-quoted with backslash escapes (as Tesseract writes them).
    image = record.source.replace("\\", "\\\\").replace('"', '\\"')
    title = f'image "{image}"; {_bbox((0, 0, int(record.width), int(record.height)))}; ppageno {n - 1}'
    if record.dpi:
        title += f"; scan_res {int(round(record.dpi))} {int(round(record.dpi))}"
    out = [f'  <div class="ocr_page" id="page_{n}" title="{_text(title)}">\n']
    lines = [(line, words) for line in record.lines if (words := words_of(line))]
    if lines:
        line_boxes = [pixel_box(line.bbox) for line, _ in lines]
        area = _bbox(union_box(line_boxes))
        out.append(f'   <div class="ocr_carea" id="block_{n}_1" title="{area}">\n')
        out.append(f'    <p class="ocr_par" id="par_{n}_1" title="{area}">\n')
        for line_num, ((line, words), line_box) in enumerate(zip(lines, line_boxes), start=1):
            out.append(f'     <span class="ocr_line" id="line_{n}_{line_num}" title="{_bbox(line_box)}">\n')
            for word_num, word in enumerate(words, start=1):
                conf = int(round(min(max(float(word.confidence), 0.0), 1.0) * 100))
                title = f"{_bbox(pixel_box(word.bbox))}; x_wconf {conf}"
                out.append(
                    f'      <span class="ocrx_word" id="word_{n}_{line_num}_{word_num}" title="{title}">'
                    f"{_text(word.text)}</span>\n"
                )
            out.append("     </span>\n")
        out.append("    </p>\n   </div>\n")
    out.append("  </div>\n")
    return "".join(out)
