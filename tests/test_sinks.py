"""Output writers: every format read back, schemas, atomic files and image naming."""

from __future__ import annotations

import csv
import errno
import io
import json
import pathlib
import xml.etree.ElementTree as ET

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageDraw

from ocromni.errors import OutputError, OutputExistsError, UsageError
from ocromni.io.sinks import (
    FORMATS,
    ImageOutputs,
    RecordWriter,
    atomic_output,
    format_from_path,
    safe_stem,
)
from ocromni.types import Line, Page, PageRegions, PageText, Region, Word

SCHEMAS = pathlib.Path(__file__).resolve().parents[1] / "ocromni" / "schemas"
TESSERACT_TSV_HEADER = [
    "level", "page_num", "block_num", "par_num", "line_num", "word_num",
    "left", "top", "width", "height", "conf", "text",
]
XHTML = "{http://www.w3.org/1999/xhtml}"


# --- building pages by hand -------------------------------------------------------------


def quad(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def make_line(words: list[tuple[str, tuple]], confidence=0.9) -> Line:
    """A line from (text, bbox) pairs; the line's box surrounds its words."""
    items = [Word(text, confidence + 0.05, quad(*box)) for text, box in words]
    x0 = min(b[0] for _, b in words)
    y0 = min(b[1] for _, b in words)
    x1 = max(b[2] for _, b in words)
    y1 = max(b[3] for _, b in words)
    return Line(" ".join(t for t, _ in words), confidence, quad(x0, y0, x1, y1), items)


def make_records() -> list[PageText]:
    page1 = PageText(
        "scans/receipt.png", 1, 400, 300, None,
        lines=[
            make_line([("TOTAL", (20, 20, 120, 50)), ("42.50", (140, 20, 230, 50))]),
            make_line([("Grüße", (20, 80, 130, 110)), ("<a&b>", (150, 80, 250, 110))]),
        ],
    )
    page2 = PageText(
        "book.pdf", 2, 600, 400, 150, text_source="pdf",
        lines=[
            make_line([("中文字", (30, 40, 180, 90))]),
            make_line([("tab\there", (30, 120, 200, 150))]),
            Line("", 0.5, quad(30, 200, 100, 230)),  # detection only: no text
            Line("whole line", 0.8, quad(30, 260, 300, 290)),  # text but no words
        ],
    )
    return [page1, page2]


def page_for(record: PageText) -> Page:
    """A page image with the record's words drawn in their boxes."""
    image = Image.new("RGB", (record.width, record.height), "white")
    draw = ImageDraw.Draw(image)
    for line in record.lines:
        for word in line.words:
            draw.rectangle(word.bbox, outline="gray")
            draw.text((word.bbox[0] + 2, word.bbox[1] + 2), word.text.encode("ascii", "replace").decode(), fill="black")
    return Page.from_array(np.asarray(image), record.source, record.page, dpi=record.dpi)


def write_all(fmt: str, path: pathlib.Path, records=None) -> pathlib.Path:
    records = records or make_records()
    with RecordWriter(fmt, str(path)) as writer:
        for record in records:
            writer.write(record, page_for(record))
    return path


# --- format choice ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, expected",
    [
        ("out.jsonl", "jsonl"), ("out.JSON", "json"), ("a/b.txt", "text"), ("x.tsv", "tsv"),
        ("x.hocr", "hocr"), ("x.html", "hocr"), ("x.pdf", "pdf"), ("x.unknown", "text"),
        (None, "text"), ("-", "text"),
    ],
)
def test_format_from_path(path, expected):
    assert format_from_path(path, "text") == expected


def test_unknown_format_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="xml"):
        RecordWriter("xml", str(tmp_path / "out.xml"))
    assert list(tmp_path.iterdir()) == []


# --- each format, written for two pages and read back -----------------------------------


def test_json_is_one_pretty_utf8_document(tmp_path):
    records = make_records()
    path = write_all("json", tmp_path / "out.json", records)
    raw = path.read_text(encoding="utf-8")
    expected = [r.to_dict() for r in records]
    assert json.loads(raw) == expected
    assert raw == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    assert "中文字" in raw and "Grüße" in raw


def test_json_with_no_records_is_an_empty_array(tmp_path):
    path = tmp_path / "empty.json"
    RecordWriter("json", str(path)).close()
    assert json.loads(path.read_text()) == []


def test_jsonl_file_is_flushed_per_record_and_renamed_on_close(tmp_path):
    records = make_records()
    target = tmp_path / "out.jsonl"
    writer = RecordWriter("jsonl", str(target))
    writer.write(records[0])
    # Mid-run: the first page is already on disk in the temporary, the target not yet.
    assert not target.exists()
    assert writer.temp_path.parent == tmp_path
    assert writer.temp_path.read_text(encoding="utf-8").count("\n") == 1
    writer.write(records[1])
    assert writer.temp_path.read_text(encoding="utf-8").count("\n") == 2
    writer.close()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in records]
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_jsonl_stream_sees_each_record_at_once():
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self):
            self.flushes += 1
            super().flush()

    stream = Recorder()
    records = make_records()
    with RecordWriter("jsonl", None, stream=stream) as writer:
        writer.write(records[0])
        assert stream.getvalue().count("\n") == 1 and stream.flushes >= 1
        writer.write(records[1])
        assert stream.getvalue().count("\n") == 2
    assert json.loads(stream.getvalue().splitlines()[1])["page"] == 2


def test_stdout_is_the_default_stream(capsys):
    with RecordWriter("jsonl", "-") as writer:
        writer.write(make_records()[0])
    assert json.loads(capsys.readouterr().out)["source"] == "scans/receipt.png"


def test_text_separates_pages_with_form_feed(tmp_path):
    records = make_records()
    raw = write_all("text", tmp_path / "out.txt", records).read_text(encoding="utf-8")
    assert raw == records[0].text + "\n\f" + records[1].text + "\n"
    assert raw.split("\f")[0].splitlines() == ["TOTAL 42.50", "Grüße <a&b>"]


def test_text_of_other_records_uses_their_text_field():
    class Answer:
        def to_dict(self):
            return {"question": "total?", "text": "42.50", "confidence": 0.9}

    regions = PageRegions("a.png", 1, 10, 10, regions=[Region(quad(1, 1, 5, 5), 0.5)])
    stream = io.StringIO()
    with RecordWriter("text", stream=stream) as writer:
        writer.write(Answer())
        writer.write(regions)
    first, second = stream.getvalue().splitlines()
    assert first == "42.50"
    assert json.loads(second) == regions.to_dict() and ": " not in second  # compact JSON
    assert stream.getvalue().endswith("\n")


def test_tsv_matches_tesseract_layout(tmp_path):
    raw = write_all("tsv", tmp_path / "out.tsv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(raw), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == TESSERACT_TSV_HEADER
    assert all(len(row) == 12 for row in rows)
    table = [dict(zip(rows[0], row)) for row in rows[1:]]

    pages = [r for r in table if r["level"] == "1"]
    assert [(p["page_num"], p["width"], p["height"], p["conf"], p["text"]) for p in pages] == [
        ("1", "400", "300", "-1", ""), ("2", "600", "400", "-1", ""),
    ]
    assert {r["level"] for r in table} == {"1", "2", "3", "4", "5"}
    assert all(r["conf"] == "-1" and r["text"] == "" for r in table if r["level"] != "5")

    words = [r for r in table if r["level"] == "5"]
    total = words[0]
    assert (total["page_num"], total["block_num"], total["par_num"], total["line_num"], total["word_num"]) == (
        "1", "1", "1", "1", "1",
    )
    assert (total["left"], total["top"], total["width"], total["height"], total["text"]) == ("20", "20", "100", "30", "TOTAL")
    assert float(total["conf"]) == pytest.approx(95.0)
    assert words[1]["word_num"] == "2" and words[1]["text"] == "42.50"
    page2_words = [w["text"] for w in words if w["page_num"] == "2"]
    # Tabs become spaces; a detection-only line vanishes; a word-less line is one word.
    assert page2_words == ["中文字", "tab here", "whole line"]
    assert [r["line_num"] for r in table if r["level"] == "4" and r["page_num"] == "2"] == ["1", "2", "3"]


def test_hocr_parses_as_xml_with_boxes_and_ids(tmp_path):
    path = write_all("hocr", tmp_path / "out.hocr")
    root = ET.parse(path).getroot()
    assert root.tag == XHTML + "html"
    metas = {m.get("name"): m.get("content") for m in root.iter(XHTML + "meta") if m.get("name")}
    assert metas["ocr-system"].startswith("ocromni")
    assert {"ocr_page", "ocr_carea", "ocr_par", "ocr_line", "ocrx_word"} <= set(metas["ocr-capabilities"].split())

    pages = [e for e in root.iter() if e.get("class") == "ocr_page"]
    assert [p.get("id") for p in pages] == ["page_1", "page_2"]
    assert pages[0].get("title") == 'image "scans/receipt.png"; bbox 0 0 400 300; ppageno 0'
    assert pages[1].get("title") == 'image "book.pdf"; bbox 0 0 600 400; ppageno 1; scan_res 150 150'

    lines = [e for e in pages[0].iter() if e.get("class") == "ocr_line"]
    assert [l.get("id") for l in lines] == ["line_1_1", "line_1_2"]
    assert lines[0].get("title") == "bbox 20 20 230 50"
    words = {w.get("id"): w for w in pages[0].iter() if w.get("class") == "ocrx_word"}
    assert words["word_1_1_1"].text == "TOTAL"
    assert words["word_1_1_1"].get("title") == "bbox 20 20 120 50; x_wconf 95"
    assert words["word_1_2_2"].text == "<a&b>"  # escaped in the file, intact when parsed
    assert "&lt;a&amp;b&gt;" in path.read_text(encoding="utf-8")
    page2_words = [w.text for w in pages[1].iter() if w.get("class") == "ocrx_word"]
    assert page2_words == ["中文字", "tab\there", "whole line"]
    assert [e.get("class") for e in pages[1]] == ["ocr_carea"]
    assert pages[1][0][0].get("class") == "ocr_par"


def _pixel_rect(rect: pymupdf.Rect, dpi: float) -> list[float]:
    scale = dpi / 72
    return [rect.x0 * scale, rect.y0 * scale, rect.x1 * scale, rect.y1 * scale]


def test_searchable_pdf_places_words_on_their_boxes(tmp_path):
    records = make_records()
    path = write_all("pdf", tmp_path / "out.pdf", records)
    with pymupdf.open(path) as doc:
        assert doc.page_count == 2
        # Physical size: pixels * 72 / dpi, 300 dpi when the record has none.
        assert doc[0].rect.width == pytest.approx(400 * 72 / 300)
        assert doc[1].rect.height == pytest.approx(400 * 72 / 150)
        assert doc[0].get_images() and doc[1].get_images()

        text = doc[0].get_text()
        for word in ("TOTAL", "42.50", "Grüße", "<a&b>"):
            assert word in text
        assert "中文字" in doc[1].get_text() and "whole line" in doc[1].get_text()
        assert len(doc[0].search_for("TOTAL 42.50")) == 1  # words of a line read as one line

        for page_no, dpi, word in ((0, 300, records[0].lines[0].words[1]), (1, 150, records[1].lines[0].words[0])):
            hits = doc[page_no].search_for(word.text)
            assert len(hits) == 1, word.text
            assert _pixel_rect(hits[0], dpi) == pytest.approx(word.bbox, abs=3)

        extracted = {w[4]: _pixel_rect(pymupdf.Rect(w[:4]), 300) for w in doc[0].get_text("words")}
        assert extracted["TOTAL"] == pytest.approx([20, 20, 120, 50], abs=3)
        # The text layer is invisible: the page renders the same as its image alone.
        assert "3 Tr" in doc[0].read_contents().decode("latin-1")


def test_pdf_to_stdout_writes_bytes():
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="utf-8")
    record = make_records()[0]
    with RecordWriter("pdf", "-", stream=stream) as writer:
        writer.write(record, page_for(record))
    with pymupdf.open(stream=buffer.getvalue(), filetype="pdf") as doc:
        assert "TOTAL" in doc[0].get_text()


def test_pdf_is_not_written_to_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    with pytest.raises(UsageError, match="terminal"):
        RecordWriter("pdf", None, stream=Terminal())


def test_pdf_needs_the_page_image(tmp_path):
    with pytest.raises(ValueError, match="page"):
        with RecordWriter("pdf", str(tmp_path / "out.pdf")) as writer:
            writer.write(make_records()[0])
    assert list(tmp_path.iterdir()) == []


def test_word_formats_refuse_region_records(tmp_path):
    regions = PageRegions("a.png", 1, 10, 10)
    with pytest.raises(UsageError, match="json"):
        with RecordWriter("tsv", str(tmp_path / "out.tsv")) as writer:
            writer.write(regions)
    assert list(tmp_path.iterdir()) == []


# --- schemas ----------------------------------------------------------------------------


def _validator(name: str):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema), jsonschema.ValidationError


def _undocumented(node, where="") -> list[str]:
    """Paths of schema properties without a description (directly or via their $ref)."""
    missing = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub and "$ref" not in sub:
                missing.append(f"{where}/{name}")
        for key, sub in node.items():
            missing += _undocumented(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            missing += _undocumented(sub, f"{where}/{i}")
    return missing


@pytest.mark.parametrize("name", ["page.schema.json", "regions.schema.json"])
def test_schemas_document_every_field(name):
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert _undocumented(schema) == []
    assert all("description" in d for d in schema["$defs"].values())
    assert "top-left" in schema["description"] and "[x0, y0, x1, y1]" in schema["description"]


def test_page_schema_accepts_real_records_and_rejects_broken_ones():
    validator, error = _validator("page.schema.json")
    for record in make_records():
        data = json.loads(json.dumps(record.to_dict(), ensure_ascii=False))
        validator.validate(data)
    data = make_records()[0].to_dict()
    del data["width"]
    with pytest.raises(error, match="width"):
        validator.validate(data)
    renamed = make_records()[0].to_dict()
    renamed["lines"][0]["conf"] = renamed["lines"][0].pop("confidence")
    assert not validator.is_valid(renamed)


def test_regions_schema_accepts_real_records_and_rejects_broken_ones():
    validator, error = _validator("regions.schema.json")
    record = PageRegions("doc.pdf", 3, 800, 600, 200, level="word",
                         regions=[Region(quad(10, 10, 50, 30), 0.87), Region([[5, 5], [9, 6], [8, 9]], 0.4)])
    validator.validate(json.loads(json.dumps(record.to_dict())))
    validator.validate(PageRegions("a.png", 1, 10, 10).to_dict())
    data = record.to_dict()
    del data["width"]
    with pytest.raises(error, match="width"):
        validator.validate(data)


# --- atomic files -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_exception_mid_write_leaves_nothing(tmp_path, fmt):
    records = make_records()
    with pytest.raises(RuntimeError):
        with RecordWriter(fmt, str(tmp_path / f"out.{fmt}")) as writer:
            writer.write(records[0], page_for(records[0]))
            raise RuntimeError("model crashed")
    assert list(tmp_path.iterdir()) == []


def test_abort_leaves_nothing_and_close_after_abort_is_harmless(tmp_path):
    with RecordWriter("json", str(tmp_path / "out.json")) as writer:
        writer.write(make_records()[0])
        writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_removes_temp_on_error(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as f:
            f.write(b"partial")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target, binary=False) as f:
        f.write("done\n")
    assert target.read_text() == "done\n"
    assert target.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode


def test_existing_output_is_refused_before_any_work(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("precious")
    with pytest.raises(OutputExistsError) as caught:
        RecordWriter("json", str(target))
    assert caught.value.path == str(target) and "--overwrite" in str(caught.value)
    with pytest.raises(OutputExistsError):
        atomic_output(target)  # raised on creation, before the block runs
    assert target.read_text() == "precious"
    assert list(tmp_path.iterdir()) == [target]

    with RecordWriter("json", str(target), overwrite=True) as writer:
        writer.write(make_records()[0])
    assert json.loads(target.read_text())[0]["page"] == 1


def test_output_appearing_during_the_run_is_not_clobbered(tmp_path):
    target = tmp_path / "out.jsonl"
    writer = RecordWriter("jsonl", str(target))
    writer.write(make_records()[0])
    target.write_text("someone else's")
    with pytest.raises(OutputExistsError):
        writer.close()
    assert target.read_text() == "someone else's"
    assert list(tmp_path.iterdir()) == [target]


def test_full_disk_is_an_output_error_and_leaves_nothing(tmp_path):
    class FullDisk(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    writer = RecordWriter("jsonl", str(tmp_path / "out.jsonl"))
    writer._format.out = FullDisk()  # fault injection: the next write hits a full disk
    with pytest.raises(OutputError, match="No space left"):
        with writer:
            writer.write(make_records()[0])
    assert list(tmp_path.iterdir()) == []


def test_missing_output_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        RecordWriter("json", str(tmp_path / "nope" / "out.json"))
    with pytest.raises(OutputError, match="directory"):
        RecordWriter("json", str(tmp_path))


# --- image outputs ----------------------------------------------------------------------


def _page(source: str, page_no: int = 1, page_count: int = 1) -> Page:
    page = Page.from_array(np.zeros((4, 6, 3), np.uint8), source, page_no)
    page.page_count = page_count
    return page


def test_out_dir_names_follow_the_input(tmp_path):
    outputs = ImageOutputs(out_dir=str(tmp_path))
    assert outputs.path_for(_page("in/photo.jpg")) == tmp_path / "photo.png"
    assert outputs.path_for(_page("doc.pdf", 3, page_count=5)) == tmp_path / "doc-p3.png"
    assert outputs.path_for(_page("<array 2>")) == tmp_path / "array-2.png"
    assert outputs.path_for(_page("in/photo.jpg")) == tmp_path / "photo.png"  # same page, same name
    assert ImageOutputs(out_dir=str(tmp_path), default_suffix=".jpg").path_for(_page("a.png")) == tmp_path / "a.jpg"


@pytest.mark.parametrize(
    "source",
    ["../../etc/x.png", "..", "../..", ".hidden", "..\\..\\win\\x.png", "a/../../b..c.png", "/etc/passwd", "x/\x00y.png", "...png", "a..png", "-rf.png", "x" * 400 + "..png", "收" * 200 + ".png"],
)
def test_derived_names_stay_inside_the_folder(tmp_path, source):
    outputs = ImageOutputs(out_dir=str(tmp_path / "out"))
    path = outputs.path_for(_page(source))
    assert path.parent == tmp_path / "out"
    assert path.resolve().parent == (tmp_path / "out").resolve()
    assert not path.name.startswith((".", "-")) and ".." not in path.name and len(path.name.encode()) < 200
    assert safe_stem(source) and "/" not in safe_stem(source) and "\\" not in safe_stem(source)


def test_two_inputs_with_one_name_are_an_output_error(tmp_path):
    outputs = ImageOutputs(out_dir=str(tmp_path))
    outputs.path_for(_page("a/scan.png"))
    with pytest.raises(OutputError) as caught:
        outputs.path_for(_page("b/scan.jpg"))
    assert "a/scan.png" in str(caught.value) and "b/scan.jpg" in str(caught.value)


def test_single_output_file_takes_one_page(tmp_path):
    outputs = ImageOutputs(str(tmp_path / "out.png"))
    assert outputs.path_for(_page("a.png")) == tmp_path / "out.png"
    assert outputs.path_for(_page("a.png")) == tmp_path / "out.png"
    with pytest.raises(UsageError, match="--out-dir"):
        outputs.path_for(_page("b.png"))


def test_image_outputs_need_a_destination():
    with pytest.raises(UsageError):
        ImageOutputs()
    with pytest.raises(UsageError):
        ImageOutputs("a.png", "dir")
    with pytest.raises(UsageError, match="unsupported image type"):
        ImageOutputs("a.gif")
    with pytest.raises(OutputError, match="does not exist"):
        ImageOutputs("no/such/folder/a.png")


@pytest.mark.parametrize("suffix, pil_format", [(".png", "PNG"), (".jpg", "JPEG"), (".webp", "WEBP"), (".tiff", "TIFF"), (".bmp", "BMP")])
def test_save_writes_the_format_of_the_suffix(tmp_path, suffix, pil_format):
    out_dir = tmp_path / "new" / "dir"
    outputs = ImageOutputs(out_dir=str(out_dir), default_suffix=suffix)
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, :15] = (255, 0, 0)
    path = outputs.save(_page("x.png"), image)
    assert path == out_dir / f"x{suffix}"
    with Image.open(path) as saved:
        assert saved.format == pil_format and saved.size == (30, 20)
        assert saved.convert("RGB").getpixel((2, 2))[0] > 200
    assert sorted(p.name for p in out_dir.iterdir()) == [f"x{suffix}"]


def test_save_refuses_to_overwrite(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError):
        ImageOutputs(str(target))  # refused up front, before any work
    outputs = ImageOutputs(out_dir=str(tmp_path))
    with pytest.raises(OutputExistsError):
        outputs.save(_page("in/out.jpg"), Image.new("RGB", (3, 3)))
    assert target.read_bytes() == b"precious"
    ImageOutputs(str(target), overwrite=True).save(_page("a.png"), Image.new("RGBA", (3, 3)))
    with Image.open(target) as saved:
        assert saved.size == (3, 3)
