"""caption: kind, layout, the most prominent text and colours, on images drawn here."""

from __future__ import annotations

import json

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
    assert long.text.startswith(short.text.split(" Dominant colours")[0])
    # The long caption quotes lines the short one leaves out.
    assert "TOTAL" in long.text and "TOTAL" not in short.text
    assert "THANK YOU" not in short.text


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
