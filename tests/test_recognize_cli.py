"""recognize and detect end to end on real files with the bundled PP-OCRv4 weights."""

import json

import pytest

import awkward_files
from conftest import EXAMPLE_RECEIPT, run_cli

pytestmark = pytest.mark.slow


def test_quick_start_reads_the_example_receipt():
    result = run_cli("recognize", EXAMPLE_RECEIPT)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for expected in ["GREENLEAF MARKET", "Receipt No: 004817", "TOTAL 20.05", "Thank you for shopping with us!"]:
        assert expected in text, f"{expected!r} not in {text!r}"
    assert text.index("GREENLEAF") < text.index("TOTAL") < text.index("Thank you")


def test_json_record_follows_the_contract():
    record = json.loads(run_cli("recognize", EXAMPLE_RECEIPT, "--format", "json").stdout)[0]
    assert record["source"] == str(EXAMPLE_RECEIPT) and record["page"] == 1
    assert record["text_source"] == "ocr"
    assert record["width"] > 0 and record["height"] > 0
    line = next(l for l in record["lines"] if "GREENLEAF" in l["text"])
    x0, y0, x1, y1 = line["bbox"]
    assert 0 <= x0 < x1 <= record["width"] and 0 <= y0 < y1 <= record["height"] / 4
    assert [w["text"] for w in line["words"]] == ["GREENLEAF", "MARKET"]


def test_jsonl_from_stdin_paths_one_record_per_page(tmp_path):
    tiff = awkward_files.multipage_tiff(tmp_path)
    stdin = f"{EXAMPLE_RECEIPT}\n\n{tiff}\n"
    result = run_cli("recognize", "-", "--format", "jsonl", stdin=stdin)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["source"], r["page"]) for r in records][:2] == [(str(EXAMPLE_RECEIPT), 1), (str(tiff), 1)]
    assert len(records) >= 3


def test_pdf_text_layer_is_used_in_auto_and_ocr_forced_with_always(tmp_path):
    pdf = awkward_files.multipage_pdf(tmp_path, 2, with_text_layer=True)
    auto = [json.loads(l) for l in run_cli("recognize", pdf, "--format", "jsonl").stdout.splitlines()]
    assert [r["text_source"] for r in auto] == ["pdf", "pdf"]
    assert all(r["dpi"] == 200 for r in auto)
    forced = [json.loads(l) for l in run_cli("recognize", pdf, "--format", "jsonl", "--ocr", "always", "--pages", "2").stdout.splitlines()]
    assert [(r["page"], r["text_source"]) for r in forced] == [(2, "ocr")]
    assert forced[0]["lines"], "OCR found the rendered text"


def test_detect_regions_cover_the_receipt_lines():
    record = json.loads(run_cli("detect", EXAMPLE_RECEIPT).stdout)[0]
    assert record["level"] == "line"
    # 15 text rows; DBNet splits rows at wide gaps (item | qty | price), rules may count too.
    assert 15 <= len(record["regions"]) <= 45
    words = json.loads(run_cli("detect", EXAMPLE_RECEIPT, "--level", "word").stdout)[0]["regions"]
    assert len(words) > len(record["regions"])


def test_single_line_reads_each_image_as_one_line(tmp_path):
    from PIL import Image, ImageDraw, ImageFont

    typeface = ImageFont.truetype(str(EXAMPLE_RECEIPT.parents[1] / "ocromni" / "fonts" / "NotoSans-Bold.ttf"), 36)
    paths = []
    for name, text in [("exit.png", "EXIT"), ("open.png", "OPEN          LATE")]:
        x0, y0, x1, y1 = typeface.getbbox(text)
        crop = Image.new("RGB", (x1 - x0 + 4, y1 - y0 + 4), "white")
        ImageDraw.Draw(crop).text((2 - x0, 2 - y0), text, fill="black", font=typeface)
        crop.save(tmp_path / name)
        paths.append(tmp_path / name)
    result = run_cli("recognize", *paths, "--single-line", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [[line["text"] for line in r["lines"]] for r in records] == [["EXIT"], ["OPEN LATE"]]
    assert [w["text"] for w in records[1]["lines"][0]["words"]] == ["OPEN", "LATE"]
