"""caption: kind, layout, the most prominent text and colours, on images drawn here."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocromni.fonts import resolve_font
from ocromni.types import Page

RECEIPT_HEAD = "GOLDEN LOTUS CAFE"
SIGN_WORD = "WELCOME"
ITEMS = [("NASI LEMAK", "8.50"), ("TEH TARIK", "2.80"), ("ROTI CANAI", "1.60"), ("MEE GORENG", "7.90"),
         ("KOPI O", "2.20"), ("CHICKEN RICE", "9.00"), ("ICE LEMON TEA", "3.50")]


def _font(name: str, size: int):
    return resolve_font(name).pil(size)


def receipt_image() -> np.ndarray:
    """A till receipt: a large shop name, address, items with prices flush right, totals."""
    width, height = 460, 900
    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    mono, body = _font("mono", 17), _font("mono", 17)
    draw.text((width / 2, 40), RECEIPT_HEAD, font=_font("bold", 30), fill="black", anchor="mt")
    y = 95
    for line in ["NO 12, JALAN AMPANG", "50450 KUALA LUMPUR", "TEL: 03-2161 5533", "TAX INVOICE"]:
        draw.text((width / 2, y), line, font=mono, fill="black", anchor="mt")
        y += 27
    y += 10
    for line in ["Date: 12/03/2019 13:45", "Cashier: AMIR", "-" * 38]:
        draw.text((20, y), line, font=body, fill="black")
        y += 27
    for name, price in ITEMS:
        draw.text((20, y), name, font=body, fill="black")
        draw.text((width - 20, y), price, font=body, fill="black", anchor="ra")
        y += 27
    draw.text((20, y), "-" * 38, font=body, fill="black")
    y += 27
    for label, value in [("SUBTOTAL", "35.50"), ("GST 6%", "2.13"), ("TOTAL", "37.63"), ("CASH", "50.00"), ("CHANGE", "12.37")]:
        draw.text((20, y), label, font=body, fill="black")
        draw.text((width - 20, y), value, font=body, fill="black", anchor="ra")
        y += 27
    draw.text((width / 2, y + 20), "THANK YOU", font=mono, fill="black", anchor="mt")
    return np.asarray(image)


def sign_image() -> np.ndarray:
    """One big word on a red, photo-like (grainy, shaded) background."""
    rng = np.random.default_rng(3)
    height, width = 360, 720
    shade = np.linspace(0.85, 1.1, width)[None, :, None]
    base = np.array([200, 30, 35], float)[None, None, :] * shade + rng.normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.text((width / 2, height / 2), SIGN_WORD, font=_font("bold", 120), fill="white", anchor="mm")
    return np.asarray(image)


@pytest.fixture(scope="module")
def read_pages():
    """Each test image read once by the engine: ``{name: (page, PageText)}``."""
    from ocromni.engine import get_engine
    from ocromni.tasks.recognize import recognize_pages

    pages = [Page.from_array(receipt_image(), source="receipt.png"), Page.from_array(sign_image(), source="sign.png")]
    return {page.source: (page, text) for page, text in recognize_pages(get_engine(), pages, batch_size=2)}


def _caption(read_pages, name, detail="short"):
    from ocromni.tasks.caption import describe

    page, text = read_pages[name]
    return describe(page, text, detail)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def test_receipt_is_a_receipt_and_quotes_its_largest_line(read_pages):
    record = _caption(read_pages, "receipt.png")
    assert record.kind == "receipt", record.text
    assert _norm(RECEIPT_HEAD) in _norm(record.prominent_text)
    assert _norm(RECEIPT_HEAD) in _norm(record.text)
    assert "item and price" in record.layout
    assert "white" in [c.name for c in record.colours]


def test_sign_is_a_sign_quotes_the_word_and_names_its_colour(read_pages):
    record = _caption(read_pages, "sign.png")
    assert record.kind == "sign", record.text
    assert _norm(record.prominent_text) == _norm(SIGN_WORD)
    assert f"\u201c{SIGN_WORD}\u201d" in record.text
    assert record.colours[0].name == "red"
    assert "red" in record.text


def test_long_detail_is_longer_and_quotes_more_text(read_pages):
    short = _caption(read_pages, "receipt.png", "short")
    long = _caption(read_pages, "receipt.png", "long")
    assert len(long.text) > len(short.text)
    assert long.text.split(". ")[0] == short.text.split(". ")[0]  # the same kind and layout
    assert 1 <= len(short.prominent_lines) <= 2 and 1 <= len(long.prominent_lines) <= 3
    assert long.prominent_lines[: len(short.prominent_lines)] == short.prominent_lines
    for line in long.prominent_lines:
        assert f"\u201c{line}\u201d" in long.text
    # The long caption quotes lines the short one leaves out.
    assert "TOTAL" in long.text and "TOTAL" not in short.text
    assert "THANK YOU" not in short.text


def test_long_detail_counts_rows_as_printed(read_pages):
    # An item and its price are one row, not the detector's two segments.
    long = _caption(read_pages, "receipt.png", "long")
    printed = 1 + 4 + 3 + len(ITEMS) + 1 + 5 + 1  # head, address, date to rule, items, rule, totals, thanks
    count = int(re.search(r"It has (\d+) lines", long.text).group(1))
    assert printed - 2 <= count <= printed  # the two dashed rules may go unread


def test_record_fields(read_pages):
    record = _caption(read_pages, "sign.png").to_dict()
    for key in ("source", "page", "width", "height", "kind", "kind_confidence", "layout", "prominent_text", "colours", "text"):
        assert key in record
    assert "dpi" not in record  # only PDF pages carry one
    assert (record["source"], record["page"], record["width"], record["height"]) == ("sign.png", 1, 720, 360)
    assert 0 < record["kind_confidence"] <= 1
    assert {"name", "share", "hex"} <= set(record["colours"][0])
    json.dumps(record)


def test_unknown_detail_is_a_usage_error(read_pages):
    from ocromni.errors import UsageError

    with pytest.raises(UsageError):
        _caption(read_pages, "sign.png", "medium")


def test_dominant_colours_of_flat_images():
    from ocromni.tasks.caption import dominant_colours

    image = np.zeros((60, 100, 3), np.uint8)
    image[:, :70] = (20, 85, 200)
    image[:, 70:] = (250, 250, 250)
    colours = dominant_colours(image)
    assert [c.name for c in colours[:2]] == ["blue", "white"]
    assert colours[0].share == pytest.approx(0.7, abs=0.02)


def test_classifier_weights_are_small_and_match_the_features():
    from ocromni.caption_model.classifier import WEIGHTS, load_classifier
    from ocromni.caption_model.features import FEATURE_NAMES

    assert WEIGHTS.stat().st_size < 1_000_000
    classifier = load_classifier()
    assert classifier.w1.shape[0] == len(FEATURE_NAMES)
    p = classifier.probabilities(np.zeros(len(FEATURE_NAMES)))
    assert p.shape == (1, len(classifier.kinds)) and p.sum() == pytest.approx(1.0)


def test_cli_writes_json_records(tmp_path):
    import typer
    from typer.testing import CliRunner

    from ocromni.cli.caption import caption

    path = tmp_path / "sign.png"
    Image.fromarray(sign_image()).save(path)
    app = typer.Typer()
    app.command()(caption)
    app.command("other")(lambda: None)  # two commands, so Typer keeps the command name
    result = CliRunner().invoke(app, ["caption", str(path), "--format", "json", "--detail", "long"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == 1 and records[0]["kind"] and records[0]["text"]
    assert records[0]["source"] == str(path)


# --- prominence: letters measured in the pixels ---------------------------------------------


def _word_line(text: str, quad) -> "Line":
    from ocromni.types import Line

    return Line(text=text, confidence=0.99, polygon=[[float(x), float(y)] for x, y in quad])


def _cap_height(size: int) -> int:
    """Pixel height of capitals drawn at ``size`` with the bold font (measured, not assumed)."""
    font = _font("bold", size)
    x0, y0, x1, y1 = font.getbbox("HEX")
    return y1 - y0


def test_glyph_height_measures_letters_not_the_box_around_them():
    from ocromni.tasks.caption import _grey, glyph_height

    image = Image.new("RGB", (600, 300), "white")
    ImageDraw.Draw(image).text((50, 100), "HEX", font=_font("bold", 60), fill="black")
    grey = _grey(np.asarray(image))
    cap = _cap_height(60)
    snug = glyph_height(grey, _word_line("HEX", [(40, 95), (230, 95), (230, 175), (40, 175)]), 80)
    loose = glyph_height(grey, _word_line("HEX", [(30, 40), (260, 40), (260, 250), (30, 250)]), 210)
    assert snug == pytest.approx(cap, rel=0.1)
    assert loose == pytest.approx(cap, rel=0.1)  # a box three times too tall changes nothing


def test_glyph_height_of_rotated_and_vertical_text():
    from ocromni.tasks.caption import _grey, glyph_height

    text, size = "HEX", 60
    tile = Image.new("L", (260, 120), 255)
    ImageDraw.Draw(tile).text((20, 20), text, font=_font("bold", size), fill=0)
    cap = _cap_height(size)
    for angle in (30, 90):
        turned = tile.rotate(angle, expand=True, fillcolor=255)
        w, h = tile.size
        # Where the tile's corners went: rotate them about the centre the way PIL did.
        theta = np.deg2rad(angle)
        centre = np.array([w / 2, h / 2])
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float) - centre
        rotation = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
        quad = corners @ rotation.T + np.array(turned.size) / 2
        canvas = np.asarray(turned.convert("RGB"))
        measured = glyph_height(_grey(canvas), _word_line(text, quad), float(h))
        assert measured == pytest.approx(cap, rel=0.15), angle


def test_prominent_lines_rank_by_letters_and_join_split_segments():
    from ocromni.tasks.caption import prominent_lines
    from ocromni.types import PageText

    image = Image.new("RGB", (900, 400), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    draw.text((60, 60), "NOODLE", font=_font("bold", 70), fill="black")
    draw.text((420, 60), "BAR", font=_font("bold", 70), fill="black")
    draw.text((60, 260), "Qty", font=_font("bold", 30), fill="black")
    lines = [
        _word_line("NOODLE", [(50, 50), (380, 50), (380, 140), (50, 140)]),
        _word_line("BAR", [(410, 52), (580, 52), (580, 141), (410, 141)]),
        # A small word whose detector box runs between two rules, taller than the headline's.
        _word_line("Qty", [(50, 230), (190, 230), (190, 340), (50, 340)]),
    ]
    page = PageText(source="noodle.png", page=1, width=900, height=400, lines=lines)
    rows = prominent_lines(page, np.asarray(image))
    assert rows[0][1] == "NOODLE BAR"
    assert rows[1][1] == "Qty"
    # From the boxes alone, the padded small word would have come first.
    assert prominent_lines(page)[0][1] == "Qty"


def test_glyph_height_is_not_lifted_by_descenders():
    from ocromni.tasks.caption import _grey, glyph_height

    image = Image.new("RGB", (700, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 50), "QTY", font=_font("bold", 60), fill="black")
    draw.text((400, 50), "Qty", font=_font("bold", 60), fill="black")
    grey = _grey(np.asarray(image))
    upper = glyph_height(grey, _word_line("QTY", [(30, 40), (300, 40), (300, 150), (30, 150)]), 110)
    mixed = glyph_height(grey, _word_line("Qty", [(390, 40), (620, 40), (620, 150), (390, 150)]), 110)
    assert mixed == pytest.approx(upper, rel=0.1)  # the y's tail does not make "Qty" larger type
    assert upper == pytest.approx(_cap_height(60), rel=0.1)


def test_text_size_caps_a_box_around_two_stacked_lines():
    from ocromni.tasks.caption import MAX_HEIGHT_PER_ADVANCE, text_size

    # A receipt's column header "AMOUNT" over "(RM)", boxed and read as one line: the box
    # is two lines tall, but its ten characters share the width of six.
    stacked = _word_line("AMOUNT (RM)", [(0, 0), (180, 0), (180, 90), (0, 90)])
    headline = _word_line("HELLO", [(0, 200), (400, 200), (400, 260), (0, 260)])
    assert text_size(stacked, 90) == pytest.approx(text_size(headline, 60) * MAX_HEIGHT_PER_ADVANCE * 18 / 60)
    assert text_size(stacked, 90) < text_size(headline, 60)


def test_a_doubtful_reading_does_not_outrank_a_clear_headline():
    from ocromni.tasks.caption import prominent_lines
    from ocromni.types import Line, PageText

    image = Image.new("RGB", (900, 400), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    draw.text((60, 40), "NOODLE BAR", font=_font("bold", 50), fill="black")
    draw.text((60, 200), "Jmwq", font=_font("bold", 110), fill="black")  # a scribble read as letters
    headline = Line("NOODLE BAR", 0.97, [[50.0, 35.0], [420.0, 35.0], [420.0, 100.0], [50.0, 100.0]])
    scribble = Line("Jmwq", 0.62, [[50.0, 190.0], [360.0, 190.0], [360.0, 330.0], [50.0, 330.0]])
    page = PageText(source="doubt.png", page=1, width=900, height=400, lines=[headline, scribble])
    rows = prominent_lines(page, np.asarray(image))
    assert rows[0][1] == "NOODLE BAR"
    # Read as surely as the headline, the larger text comes first.
    scribble.confidence = 0.97
    assert prominent_lines(page, np.asarray(image))[0][1] == "Jmwq"


def test_a_page_with_nothing_legible_is_an_image_not_a_sign():
    # Without text the classifier called every page a sign (a cat photo, a brick wall, a
    # blank sheet, 86-96 % sure); a page where nothing legible is read is "an image".
    from ocromni.engine import get_engine
    from ocromni.tasks.caption import describe
    from ocromni.tasks.recognize import recognize_pages
    from ocromni.types import Line, PageText

    rng = np.random.default_rng(0)
    texture = np.clip(rng.normal(120, 25, (300, 400, 1)) + np.linspace(0, 80, 400)[None, :, None], 0, 255)
    pixels = np.repeat(texture, 3, axis=2).astype(np.uint8)
    pixels[..., 0] = np.clip(pixels[..., 0].astype(int) + 60, 0, 255)  # reddish
    page = Page.from_array(pixels, source="texture.png")
    (_, text), = recognize_pages(get_engine(), [page], batch_size=1)
    for detail in ("short", "long"):
        record = describe(page, text, detail)
        assert record.kind == "image" and record.layout == "no legible text", record.text
        assert record.text.startswith("An image with no legible text.") and "\u201c" not in record.text
        assert record.prominent_lines == [] and record.colours
    # A lone character read off the texture is not legible text either.
    speck = Line("0", 0.9, [[100.0, 100.0], [120.0, 100.0], [120.0, 130.0], [100.0, 130.0]])
    lone = PageText(source="texture.png", page=1, width=400, height=300, lines=[speck])
    assert describe(page, lone).kind == "image"
    # One readable word is enough for the classifier to be asked.
    word = Line("OPEN", 0.95, [[100.0, 100.0], [220.0, 100.0], [220.0, 140.0], [100.0, 140.0]])
    readable = PageText(source="texture.png", page=1, width=400, height=300, lines=[word])
    assert describe(page, readable).kind != "image"
