"""edit: text replaced in the original's style, read back by OCR, and nothing else touched.

Real model, real images: the receipt and the sign shipped in examples/ (the sign is made
by examples/make_sign.py from a procedural photo and a shipped font).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ocromni
from ocromni.errors import ExitCode, UsageError
from ocromni.tasks.edit import find_hits, parse_replacements
from ocromni.types import Line, Word

from conftest import EXAMPLE_RECEIPT, REPO, run_cli

EXAMPLE_SIGN = REPO / "examples" / "sign.jpg"


def _far_from(shape, polygons, margin: float) -> np.ndarray:
    """Pixels more than ``margin`` pixels outside every polygon's bounding box."""
    far = np.ones(shape[:2], bool)
    for polygon in polygons:
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        x0, y0 = max(int(min(xs) - margin), 0), max(int(min(ys) - margin), 0)
        far[y0 : int(max(ys) + margin) + 1, x0 : int(max(xs) + margin) + 1] = False
    return far


@pytest.fixture(scope="module")
def receipt_edit():
    original = np.asarray(Image.open(EXAMPLE_RECEIPT).convert("RGB"))
    result = ocromni.edit(str(EXAMPLE_RECEIPT), replace={"20.05": "42.50"})[0]
    return original, result


@pytest.mark.slow
def test_receipt_total_is_replaced_and_reads_back(receipt_edit):
    _, result = receipt_edit
    # The total and the card payment both said 20.05.
    assert [r.found for r in result.replaced] == ["20.05", "20.05"]
    assert result.not_found == []
    words = [w.text for line in ocromni.recognize([result.image])[0].lines for w in line.words]
    assert words.count("42.50") == 2
    assert "20.05" not in words
    # The rest of the receipt still reads as before, next to the edits too.
    for word in ("TOTAL", "Card", "payment", "VAT", "included", "0.62", "2.40"):
        assert word in words


@pytest.mark.slow
def test_receipt_pixels_away_from_the_edit_are_untouched(receipt_edit):
    original, result = receipt_edit
    assert result.image.shape == original.shape
    polygons = [r.polygon for r in result.replaced]
    height = max(max(p[1] for p in poly) - min(p[1] for p in poly) for poly in polygons)
    far = _far_from(original.shape, polygons, margin=1.5 * height)
    assert np.array_equal(result.image[far], original[far])
    near = ~far
    assert (result.image[near] != original[near]).any()


@pytest.mark.slow
def test_receipt_new_text_keeps_the_old_style(receipt_edit):
    _, result = receipt_edit
    total, payment = result.replaced
    # Dark toner on paper, the size of the old text (Courier 10-11 pt at 200 dpi).
    for replacement in (total, payment):
        rgb = np.array([int(replacement.to_dict()["color"][i : i + 2], 16) for i in (1, 3, 5)])
        assert rgb.max() < 130
        assert 18 <= replacement.font_size <= 34
    assert total.align == payment.align or "right" in (total.align, payment.align)


@pytest.mark.slow
def test_sign_open_becomes_closed():
    result = ocromni.edit(str(EXAMPLE_SIGN), replace=["open=closed"])[0]
    (replacement,) = result.replaced
    assert replacement.found == "OPEN"
    assert replacement.new == "CLOSED"  # typed in lower case, drawn in the sign's capitals
    words = [w.text for line in ocromni.recognize([result.image])[0].lines for w in line.words]
    assert "CLOSED" in words
    assert "OPEN" not in words
    # Light letters on a dark board: the new ink is light.
    assert min(replacement.color) > 120


@pytest.mark.slow
def test_cli_replaces_and_writes_the_image(tmp_path):
    out = tmp_path / "receipt-edited.png"
    result = run_cli("edit", EXAMPLE_RECEIPT, "--replace", "total=SUM", "--replace", "Nowhere=Else", "-o", out)
    assert result.returncode == ExitCode.ok, result.stderr
    assert result.stdout == ""
    assert "'Nowhere' not found" in result.stderr
    edited = np.asarray(Image.open(out).convert("RGB"))
    assert "SUM" in ocromni.recognize([edited])[0].text


@pytest.mark.slow
def test_cli_match_case_is_strict_and_nothing_found_exits_7(tmp_path):
    out = tmp_path / "never.png"
    result = run_cli("edit", EXAMPLE_RECEIPT, "--replace", "total=SUM", "--match-case", "-o", out)
    assert result.returncode == ExitCode.nothing_replaced
    assert "'total' not found" in result.stderr
    assert "nothing was replaced" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_cli_bad_input_is_reported_and_the_rest_is_edited(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    result = run_cli("edit", broken, EXAMPLE_SIGN, "--replace", "OPEN=SHUT", "--out-dir", tmp_path / "out")
    assert result.returncode == ExitCode.partial_failure
    errors = [line for line in result.stderr.splitlines() if "broken.png" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert (tmp_path / "out" / "sign.png").exists()
    assert not (tmp_path / "out" / "broken.png").exists()


def test_cli_rejects_a_replacement_without_equals(tmp_path):
    result = run_cli("edit", EXAMPLE_RECEIPT, "--replace", "OPEN", "-o", tmp_path / "x.png")
    assert result.returncode == ExitCode.usage_error
    assert "OLD=NEW" in result.stderr


# --- matching, without the model ------------------------------------------------------


def _line(*texts: str, y: float = 0) -> Line:
    words, x = [], 0.0
    for text in texts:
        width = 10.0 * len(text)
        words.append(Word(text, 0.99, [[x, y], [x + width, y], [x + width, y + 20], [x, y + 20]]))
        x += width + 10
    return Line(" ".join(texts), 0.99, [[0, y], [x, y], [x, y + 20], [0, y + 20]], words)


def test_phrases_span_words_of_one_line_and_keep_glued_punctuation():
    lines = [_line("Date:", "14/03/2024", "Time:", "18:42"), _line("Summer", "Sale!", y=40)]
    hits, missing = find_hits(lines, [("date", "when"), ("summer sale", "winter sale"), ("Autumn", "x")])
    assert missing == ["Autumn"]
    date, sale = hits
    assert (date.found, date.new) == ("Date:", "When:")  # case follows the original, colon kept
    assert (sale.found, sale.new, sale.first, sale.last) == ("Summer Sale!", "Winter Sale!", 0, 1)
    assert sale.quad[0].tolist() == [0, 40] and sale.quad[1][0] == lines[1].words[1].polygon[1][0]


def test_whole_words_only_and_match_case():
    lines = [_line("REOPENED", "OPEN", "open")]
    hits, _ = find_hits(lines, [("open", "SHUT")])
    assert [(h.first, h.new) for h in hits] == [(1, "SHUT"), (2, "SHUT")]
    hits, missing = find_hits(lines, [("OPEN", "Shut")], match_case=True)
    assert [h.first for h in hits] == [1] and missing == []


def test_parse_replacements():
    assert parse_replacements(["a=b", "x==y", "gone="]) == [("a", "b"), ("x", "=y"), ("gone", "")]
    assert parse_replacements({"OPEN": "CLOSED"}) == [("OPEN", "CLOSED")]
    for bad in (["OPEN"], ["=x"], [], None):
        with pytest.raises(UsageError):
            parse_replacements(bad)


def test_an_old_misread_by_a_letter_or_two_is_replaced_and_named():
    # Stylised text is often read a letter off ("Ofce" for a ligatured "Office"): the
    # closest reading within a third of OLD's length stands in, never for other digits.
    lines = [_line("Ofce", "hours"), _line("TOTAL", "20.06", "Laundryas", y=40)]
    pairs = [("Office", "North"), ("20.05", "42.50"), ("Autumn", "x"), ("Laundry", "Studio")]
    hits, missing = find_hits(lines, pairs)
    assert [(h.found, h.new, h.first) for h in hits] == [("Ofce", "North", 0)]
    assert missing == ["20.05", "Autumn", "Laundry"]  # a longer reading is OLD run into more
    hits, missing = find_hits(lines, [("Office", "North")], match_case=True)  # strict: exact only
    assert hits == [] and missing == ["Office"]


def test_slant_is_measured_from_the_strokes():
    from ocromni.fonts import resolve_font
    from ocromni.tasks.edit import _ink_slant, shaped_coverage
    from ocromni.textdraw import TextFont

    font = TextFont(resolve_font("noto-sans"), 64)
    for shear in (0.0, 0.2, 0.35):
        drawn, _ = shaped_coverage("Laundry Market", font, 0, shear)
        assert abs(_ink_slant(drawn > 127) - shear) <= 0.03
    italic, _ = shaped_coverage("Laundry Market", TextFont(resolve_font("noto-sans-italic"), 64), 0, 0.0)
    assert 0.12 <= _ink_slant(italic > 127) <= 0.3


def test_stray_specks_below_the_text_do_not_count_as_its_ink():
    from ocromni.tasks.edit import _drop_strays

    ink = np.zeros((80, 200), bool)
    ink[20:50, 10:30] = ink[20:50, 40:60] = ink[30:50, 70:90] = True  # letters
    ink[14:18, 75:79] = True  # an i-dot just above the band: kept
    ink[62:66, 150:154] = True  # a glint below the text: dropped
    kept = _drop_strays(ink)
    assert kept[14:18, 75:79].all() and not kept[62:66, 150:154].any()
    assert kept[20:50].sum() == ink[20:50].sum()
