"""The PP-OCRv4 backend on real weights: rendered lines, turned pages, word boxes, order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocromni.errors import DeviceUnavailableError
from ocromni.models.ppocr import PPOCRModel, Recognition
from ocromni.models.ppocr.recognizer import CTCRecognizer
from ocromni.types import Page, PageText

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")


@pytest.fixture(scope="module")
def model():
    return PPOCRModel()


# --- rendering helpers -----------------------------------------------------------------------


def font(size: int = 40):
    # Pillow >= 10.1 ships a scalable default font, so the test needs no font files.
    return ImageFont.load_default(size=size)


def render(items, size=(900, 200)) -> np.ndarray:
    """White RGB canvas with each (x, y, text) drawn in black; returns the image."""
    canvas = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(canvas)
    for x, y, text in items:
        draw.text((x, y), text, fill="black", font=font())
    return np.array(canvas)


def ink_box(image: np.ndarray, x0=0, x1=None) -> list[int]:
    """[x0, y0, x1, y1] of the dark pixels in columns x0..x1."""
    dark = image[..., :3].min(axis=2) < 128
    dark[:, :x0] = False
    if x1 is not None:
        dark[:, x1:] = False
    ys, xs = np.nonzero(dark)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def render_cjk(text: str, fontsize: int = 40) -> np.ndarray:
    """A line rendered with PyMuPDF's built-in CJK font (Droid Sans Fallback)."""
    import pymupdf

    cjk = pymupdf.Font("cjk")
    width = cjk.text_length(text, fontsize=fontsize) + 80
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=fontsize * 3)
    writer = pymupdf.TextWriter(page.rect)
    writer.append((40, fontsize * 1.8), text, font=cjk, fontsize=fontsize)
    writer.write_text(page)
    pix = page.get_pixmap(alpha=False)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3).copy()


def covered_share(image: np.ndarray, polygons) -> float:
    """Share of the image's dark pixels that lie inside the union of the polygons."""
    dark = image[..., :3].min(axis=2) < 128
    mask = np.zeros(dark.shape, np.uint8)
    for polygon in polygons:
        cv2.fillPoly(mask, [np.round(np.asarray(polygon)).astype(np.int32)], 1)
    return float(mask[dark].mean())


def read_one(model, image, **options) -> PageText:
    (page_text,) = model.read([Page.from_array(image)], **options)
    return page_text


# --- tests ----------------------------------------------------------------------------------


def test_reads_an_english_line_exactly(model):
    image = render([(30, 70, "Invoice 2024-05 total 42.50")])
    page = read_one(model, image)
    assert page.text == "Invoice 2024-05 total 42.50"
    assert page.width == 900 and page.height == 200 and page.rotation == 0
    line = page.lines[0]
    assert [w.text for w in line.words] == ["Invoice", "2024-05", "total", "42.50"]
    assert 0.9 < line.confidence <= 1.0
    assert covered_share(image, [line.polygon]) > 0.95


def test_reads_chinese_and_mixed_lines_exactly(model):
    # Chinese sets Latin words without spaces around them; between Latin words they stay.
    for text in ("深度学习文字识别", "订单号ABC123 Total金额"):
        page = read_one(model, render_cjk(text))
        assert page.text == text


def test_chinese_without_spaces_is_one_word(model):
    page = read_one(model, render_cjk("欢迎光临本店"))
    assert [w.text for w in page.lines[0].words] == ["欢迎光临本店"]


def test_word_boxes_follow_the_ink_not_an_even_split(model):
    # Two spaces: an unusual gap, yet still one detected line (wider gaps split lines).
    image = render([(40, 70, "HELLO  WORLD")])
    hello, world = ink_box(image, 0, 178), ink_box(image, 178)
    assert hello[2] < 172 and world[0] > 185  # the split column falls inside the gap
    page = read_one(model, image)
    assert len(page.lines) == 1, page.text  # one line with a wide gap, as detected
    words = page.lines[0].words
    assert [w.text for w in words] == ["HELLO", "WORLD"]
    height = hello[3] - hello[1]
    for word, ink in zip(words, (hello, world)):
        x0, _, x1, _ = word.bbox
        # Encloses the ink, give or take the jitter of CTC frames (8 px at 48 px high) ...
        assert x0 <= ink[0] + height / 4 and x1 >= ink[2] - height / 4, (word.bbox, ink)
        # ... and hugs it: splitting the line evenly would put HELLO's right edge and
        # WORLD's left edge about a full text height into the gap.
        assert x0 >= ink[0] - height / 2 and x1 <= ink[2] + height / 2, (word.bbox, ink)


def test_upside_down_line_reads_in_the_original_frame(model):
    image = cv2.rotate(render([(30, 70, "Upside down text 123")]), cv2.ROTATE_180)
    page = read_one(model, image)
    assert page.text == "Upside down text 123"
    assert covered_share(image, [page.lines[0].polygon]) > 0.95
    # The polygon starts at the text's own top-left: bottom-right of the image here.
    start = np.array(page.lines[0].polygon[0])
    assert start[0] > 600 and start[1] > 100


def paragraph_page() -> np.ndarray:
    lines = ["The quick brown fox jumps", "over the lazy dog while", "the cat sleeps in the sun"]
    return render([(40, 40 + 70 * i, text) for i, text in enumerate(lines)], size=(700, 260))


@pytest.mark.parametrize("turn, expected", [(cv2.ROTATE_90_CLOCKWISE, 270), (cv2.ROTATE_90_COUNTERCLOCKWISE, 90)])
def test_turned_page_reads_upright_with_original_coordinates(model, turn, expected):
    image = cv2.rotate(paragraph_page(), turn)
    page = read_one(model, image)
    assert page.rotation == expected
    assert page.text.splitlines() == ["The quick brown fox jumps", "over the lazy dog while", "the cat sleeps in the sun"]
    assert (page.width, page.height) == (image.shape[1], image.shape[0])
    assert covered_share(image, [line.polygon for line in page.lines]) > 0.95
    assert covered_share(image, [w.polygon for line in page.lines for w in line.words]) > 0.9


def test_a_tall_box_that_reads_as_nothing_does_not_turn_the_page(model):
    # Words stacked on a painted wall ("END / 25 / MILE / SPEED", ICDAR 2015 img_104) came
    # out of DBNet as one tall box; read turned either way it is garbage, and turning the
    # photo by a quarter lost every upright line on it.
    canvas = Image.new("RGB", (700, 600), "white")
    draw = ImageDraw.Draw(canvas)
    for i, word in enumerate(["END", "25", "MILE", "SPEED"]):
        draw.text((60, 40 + 90 * i), word, fill="black", font=font(70))
    draw.text((330, 520), "Car park", fill="black", font=font(30))
    stack = np.array([[50, 30], [300, 30], [300, 420], [50, 420]], dtype=np.float32)
    label = np.array([[320, 515], [470, 515], [470, 555], [320, 555]], dtype=np.float32)
    assert model._page_rotation(np.array(canvas), [(stack, 0.9), (label, 0.9)]) == 0
    # A page that is really turned still turns.
    image = cv2.rotate(paragraph_page(), cv2.ROTATE_90_CLOCKWISE)
    assert model._page_rotation(image, model.detector.detect(image)) == 270


def test_rotate_false_leaves_the_page_alone(model):
    image = cv2.rotate(paragraph_page(), cv2.ROTATE_90_CLOCKWISE)
    page = read_one(model, image, rotate=False)
    assert page.rotation == 0


def test_detection_only(model):
    image = render([(30, 70, "Detection only please")])
    page = read_one(model, image, recognize=False)
    assert len(page.lines) == 1
    line = page.lines[0]
    assert line.text == "" and line.words == [] and 0.5 < line.confidence <= 1.0
    assert covered_share(image, [line.polygon]) > 0.95


def test_two_columns_read_column_by_column(model):
    left = ["alpha bravo charlie delta", "echo foxtrot golf hotel", "india juliet kilo lima"]
    right = ["mike november oscar papa", "quebec romeo sierra tango", "uniform victor whiskey"]
    items = [(30, 40 + 60 * i, t) for i, t in enumerate(left)] + [(700, 40 + 60 * i, t) for i, t in enumerate(right)]
    page = read_one(model, render(items, size=(1300, 230)))
    assert page.text.splitlines() == left + right


def test_table_reads_row_by_row(model):
    rows = [("Item", "Qty", "Price"), ("Apple", "3", "1.50"), ("Pear", "12", "0.99")]
    items = [(40 + 300 * c, 30 + 60 * r, cell) for r, row in enumerate(rows) for c, cell in enumerate(row)]
    page = read_one(model, render(items, size=(900, 210)))
    assert [line.text for line in page.lines] == [cell for row in rows for cell in row]


def test_recognition_is_batched_across_pages(model):
    texts = ["First page here", "Second page here", "Third page here"]
    pages = [Page.from_array(render([(30, 70, t)]), page_no=i + 1) for i, t in enumerate(texts)]
    results = model.read(pages)
    assert [p.text for p in results] == texts
    assert [p.page for p in results] == [1, 2, 3]


def test_building_blocks(model):
    image = render([(30, 70, "Building blocks")])
    quads = model.detect_quads(image)
    assert len(quads) == 1 and quads[0][0].shape == (4, 2)
    prob = model.probability_map(image)
    assert prob.shape == image.shape[:2] and prob.dtype == np.float32
    x0, y0, x1, y1 = ink_box(image)
    assert prob[y0:y1, x0:x1].max() > 0.9 and prob[:20].max() < 0.3
    crop = image[60:130, 20:420]
    (reading,) = model.recognize_crops([crop])
    assert isinstance(reading, Recognition) and reading.text == "Building blocks"
    assert len(reading.char_x) == len(reading.text)
    assert all(a < b for a, b in zip(reading.char_x, reading.char_x[1:]))  # left to right
    assert 0 < reading.char_x[0] < reading.char_x[-1] < crop.shape[1]
    (up,), (down,) = model.classify_direction([crop]), model.classify_direction([crop[::-1, ::-1]])
    assert up[0] == 0 and down[0] == 180


def _ctc_frames(model, frames: list[str]) -> np.ndarray:
    """A (frames, classes) probability matrix whose greedy path reads ``frames``
    ("" = blank, "_" = blank with a space bump of 0.2)."""
    charset = model.recognizer.charset
    probs = np.full((len(frames), len(charset)), 1e-4, np.float32)
    for row, frame in enumerate(frames):
        if frame in ("", "_"):
            probs[row, 0] = 0.8
            probs[row, -1] = 0.2 if frame == "_" else 1e-4
        else:
            probs[row, charset.index(frame)] = 0.95
    return probs


def _big_line(text: str) -> np.ndarray:
    canvas = Image.new("RGB", (900, 220), "white")
    ImageDraw.Draw(canvas).text((60, 40), text, fill="black", font=font(110))
    return np.array(canvas)


@pytest.mark.parametrize("cut", [72, 55])  # past the D's ink, or through it (the sliver reads "b")
def test_a_large_line_cut_short_of_its_first_letter_is_completed(model, monkeypatch, cut):
    from ocromni.models.ppocr import pipeline

    image = _big_line("Dead End")
    (quad, score), = model.detector.detect(image)
    short = quad.copy()
    short[[0, 3], 0] += cut  # DBNet's box stopping inside the first letter, as over a busy photo
    monkeypatch.setattr(model.detector, "detect", lambda image: [(short, score)])
    (line,) = read_one(model, image).lines
    assert line.text == "Dead End"
    ink_left = ink_box(image)[0]
    assert abs(line.bbox[0] - ink_left) < 15 and abs(line.words[0].bbox[0] - ink_left) < 15
    assert [w.text for w in line.words] == ["Dead", "End"]
    # Without the second reading the line stays cut: the test sees the completion itself.
    monkeypatch.setattr(pipeline, "END_CHECK_MAX_LINES", 0)
    (cut_line,) = read_one(model, image).lines
    assert cut_line.text in ("ead End", "bead End") and cut_line.bbox[0] > ink_left + cut - 10


def test_line_ends_are_not_checked_on_body_text_or_pages_of_many_lines(model, monkeypatch):
    from ocromni.models.ppocr import pipeline

    checked = []
    complete = pipeline.PPOCRModel._complete_line_ends
    monkeypatch.setattr(pipeline.PPOCRModel, "_complete_line_ends",
                        lambda self, jobs, readings: checked.extend(j for j in jobs if j.lengthened) or complete(self, jobs, readings))
    body = render([(20, 20 + 40 * row, f"line {row} of the body text") for row in range(15)], size=(700, 640))
    assert len(read_one(model, body).lines) == 15
    assert checked == []  # small type on a page of many lines
    read_one(model, _big_line("Dead End"))
    assert len(checked) == 1


def _recognition(text: str, xs, confidences=None) -> Recognition:
    return Recognition(text, 0.95, list(map(float, xs)), confidences or [0.95] * len(text), 8.0)


@pytest.mark.parametrize("longer, expected", [
    ("Dead End", "Dead End"),  # the cut letter, read whole
    ("Dead End T", "Dead End"),  # ... and a neighbour's letter, a word of its own: dropped
    ("Dead Fnd", None),  # the longer reading disagrees inside the line: no completion
    ("Dead End:2", None),  # ":2" is no letter completing "End"
    ("D ead End", None),  # a letter joined as a word of its own is a neighbour's, not the cut one
])
def test_completed_reading_accepts_only_a_cut_word_completed(longer, expected):
    from ocromni.models.ppocr.pipeline import _completed_reading

    first = _recognition("ead End", [140 + 30 * i for i in range(7)])
    start, end = 130.0, 350.0  # the detected line's ends in the lengthened crop
    xs = {"Dead End": [100] + first.char_x, "Dead End T": [100] + first.char_x + [360, 390],
          "Dead Fnd": [100] + first.char_x, "Dead End:2": [100] + first.char_x + [355, 370],
          "D ead End": [100, 120] + first.char_x}[longer]
    result = _completed_reading(first, _recognition(longer, xs), start, end)
    assert (result.text if result else None) == expected
    if result:
        assert result.char_x[0] == 100 and len(result.char_x) == len(result.text)


def test_completed_reading_wants_the_added_letter_read_surely():
    from ocromni.models.ppocr.pipeline import END_CHECK_ADDED_CONFIDENCE, _completed_reading

    first = _recognition("ffice", [140 + 30 * i for i in range(5)])
    xs = [100] + first.char_x
    unsure = _recognition("Office", xs, [END_CHECK_ADDED_CONFIDENCE - 0.3] + [0.99] * 5)
    sure = _recognition("Office", xs, [0.97] + [0.99] * 5)
    assert _completed_reading(first, unsure, 130.0, 300.0) is None
    assert _completed_reading(first, sure, 130.0, 300.0).text == "Office"
    # A character read again inside the detected ends adds nothing: no completion.
    assert _completed_reading(first, _recognition("fficer", first.char_x + [280]), 130.0, 300.0) is None


def test_lengthened_quad_stops_at_the_page_edge():
    from ocromni.models.ppocr.pipeline import _lengthened_quad

    quad = np.array([[10, 50], [200, 50], [200, 90], [10, 90]], dtype=np.float32)
    grown = _lengthened_quad(quad, 40, 220, 150)
    # 40 px fits on neither side; half of it (20) on the right, a quarter (10) on the left.
    assert np.allclose(grown[:, 0], [0, 220, 220, 0])
    assert _lengthened_quad(np.array([[0, 5], [220, 5], [220, 40], [0, 40]], np.float32), 40, 220, 150) is None


def test_decoder_drops_a_space_read_inside_a_price(model):
    decode = model.recognizer.decode
    assert decode(_ctc_frames(model, ["7", "", "3", ".", " ", "0", "", "0"]), 8.0).text == "73.00"
    # a numbered item keeps its space: "1. 2012"
    assert decode(_ctc_frames(model, ["1", ".", " ", "2", "", "0", "1", "", "2"]), 8.0).text == "1. 2012"


def test_decoder_needs_two_blank_frames_for_a_skipped_space(model):
    decode = model.recognizer.decode
    # the space bump in the single blank frame between two letters is not a word break ...
    assert decode(_ctc_frames(model, ["i", "_", "o", "", "n"]), 8.0).text == "ion"
    # ... across two blank frames it is
    assert decode(_ctc_frames(model, ["a", "_", "_", "b"]), 8.0).text == "a b"


def _hesitant_frames(model, frames: list) -> np.ndarray:
    """Like _ctc_frames, but a frame may be a dict {char: probability} (the rest is blank)."""
    charset = model.recognizer.charset
    probs = _ctc_frames(model, [f if isinstance(f, str) else "" for f in frames])
    for row, frame in enumerate(frames):
        if isinstance(frame, dict):
            probs[row, 0] = 1.0 - sum(frame.values())
            for char, p in frame.items():
                probs[row, charset.index(char)] = p
    return probs


def test_language_model_settles_a_hesitant_letter(model):
    # The recogniser leans to "n" (0.55 against 0.4 for "m"): greedy reads "Anount".
    frames = ["A", "", {"n": 0.55, "m": 0.4}, "", "o", "", "u", "", "n", "", "t"]
    probs = _hesitant_frames(model, frames)
    greedy = CTCRecognizer(model.recognizer.session, model.recognizer.charset)
    assert greedy.decode(probs, 8.0).text == "Anount"
    reading = model.recognizer.decode(probs, 8.0)
    assert reading.text == "Amount"
    # The chosen "m" stands where its frame is, from the alignment of the chosen text.
    assert reading.char_x == [(i + 0.5) * 8.0 for i in range(0, 11, 2)]
    assert reading.char_confidence[1] == pytest.approx(0.4)


def test_language_model_does_not_overrule_a_sure_reading(model):
    # A code the model finds unlikely, read without hesitation, stays as read.
    probs = _hesitant_frames(model, ["X", "", "q", "", "z", "", "7", "", "k"])
    probs[probs == np.float32(0.95)] = 0.999
    assert model.recognizer.decode(probs, 8.0).text == "Xqz7k"
    # ... and so does one read with some hesitation, where the model has no strong view.
    probs = _hesitant_frames(model, ["X", "", {"q": 0.7, "g": 0.25}, "", "z", "", "7", "", "k"])
    assert model.recognizer.decode(probs, 8.0).text == "Xqz7k"


def test_alignment_of_the_greedy_text_is_the_greedy_path():
    from ocromni.models.ppocr import ctc_search

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(6, 0.3), size=40).astype(np.float32)
    best = probs.argmax(axis=1)
    change = np.flatnonzero(np.diff(best, prepend=-1, append=-1))
    runs = [(int(best[a]), int(a), int(b)) for a, b in zip(change[:-1], change[1:]) if best[a] != 0]
    # The greedy path is the most likely path of all, so it is also the best one spelling its text.
    assert ctc_search.align(probs, [c for c, _, _ in runs]) == runs


def test_character_model_knows_document_words_and_round_trips(tmp_path):
    from ocromni.models.ppocr import charlm

    shipped = charlm.CharLanguageModel.load()

    def log_prob(model, text):
        symbols = [charlm.symbol(c) for c in text] + [charlm.END]
        return sum(model.log_prob("".join(symbols[:i]), s) for i, s in enumerate(symbols))

    for right, wrong in [("Total Amount", "Totai Arnount"), ("GST Summary", "GST Sunmary"), ("RM 8.20", "RH B.2O")]:
        assert log_prob(shipped, right) > log_prob(shipped, wrong) + 3
    assert np.exp(shipped.next_log_probs("amou").astype(np.float64)).sum() == pytest.approx(1.0, abs=0.01)

    small = charlm.CharLanguageModel.train(["total 12.50", "total 7.00", "subtotal 3.10"], order=3, min_context_count=1)
    small.save(tmp_path / "lm.npz")
    loaded = charlm.CharLanguageModel.load(tmp_path / "lm.npz")
    assert loaded.order == 3 and loaded.rows == small.rows
    assert np.array_equal(loaded.next_log_probs("to"), small.next_log_probs("to"))
    assert small.log_prob("to", "t") > small.log_prob("to", "q")


def test_cuda_without_provider_is_an_error_not_a_fallback():
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(DeviceUnavailableError, match="onnxruntime-gpu"):
        PPOCRModel(device="cuda:0")


def test_cpu_runtimes_and_precisions_read_the_shipped_receipt_alike(model, monkeypatch):
    # OpenVINO in fp32 runs the same networks as onnxruntime: the same lines in the same
    # places. bfloat16, the default where the CPU has it, may change a character or a box
    # edge here and there, no more.
    from ocromni.io.sources import iter_pages

    def read(ppocr):
        return ppocr.read(list(iter_pages([str(EXAMPLES / "receipt.png")])))[0].lines

    monkeypatch.setenv("OCROMNI_CPU_PRECISION", "f32")
    openvino_f32 = PPOCRModel()
    monkeypatch.setenv("OCROMNI_CPU_RUNTIME", "onnxruntime")
    onnx = PPOCRModel()
    assert (model.runtime, openvino_f32.runtime, onnx.runtime) == ("openvino", "openvino", "onnxruntime")
    assert openvino_f32.precision == "f32" and onnx.recognizer.charset == openvino_f32.recognizer.charset
    exact, f32, default = read(onnx), read(openvino_f32), read(model)
    assert len(exact) > 20
    assert [line.text for line in f32] == [line.text for line in exact]
    assert np.allclose([line.polygon for line in f32], [line.polygon for line in exact], atol=0.5)
    assert abs(len(default) - len(exact)) <= 1
    same = Counter(line.text for line in default) & Counter(line.text for line in exact)
    assert sum(same.values()) >= 0.9 * len(exact)


@pytest.mark.parametrize("variable", ["OCROMNI_CPU_RUNTIME", "OCROMNI_CPU_PRECISION"])
def test_unknown_cpu_runtime_or_precision_is_a_usage_error(monkeypatch, variable):
    from ocromni.errors import UsageError

    monkeypatch.setenv(variable, "tensorflow")
    with pytest.raises(UsageError, match=variable):
        PPOCRModel()


def test_recognition_streams_return_every_batch_to_its_own_tag():
    # Two streams finish batches in any order; each output must reach its own tag, equal
    # to a plain run of the same input, and an error in the handler must reach the caller.
    pytest.importorskip("openvino")
    from ocromni.models.ppocr.openvino_session import OpenVINOSession
    from ocromni.models.ppocr.weights import weight_path

    session = OpenVINOSession(weight_path("rec"), threads=2, precision="f32", streams=2)
    rng = np.random.default_rng(0)
    blobs = [rng.standard_normal((n, 3, 48, width)).astype(np.float32) for n, width in [(1, 160), (4, 320), (2, 640), (3, 192)]]
    outputs = {}
    session.run_each(((blob, k) for k, blob in enumerate(blobs)), lambda output, k: outputs.setdefault(k, output.copy()))
    assert sorted(outputs) == [0, 1, 2, 3]
    for k, blob in enumerate(blobs):
        (plain,) = session.run(None, {"x": blob})
        assert outputs[k].shape == plain.shape and np.allclose(outputs[k], plain, atol=1e-5)

    def fails(output, k):
        raise ValueError(f"bad batch {k}")

    with pytest.raises(ValueError, match="bad batch"):
        session.run_each(((blob, k) for k, blob in enumerate(blobs)), fails)


def test_detector_input_is_the_plain_normalisation_exactly():
    from ocromni.models.ppocr.detector import MEAN, STD, _normalised_blob

    rgb = np.random.default_rng(0).integers(0, 256, (96, 160, 3), dtype=np.uint8)
    plain = ((rgb[..., ::-1].astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None]
    blob = _normalised_blob(rgb)
    assert blob.shape == (1, 3, 96, 160) and blob.flags["C_CONTIGUOUS"]
    assert np.array_equal(blob, plain)  # bit for bit: fp32 runs still match onnxruntime's


def test_empty_page(model):
    page = read_one(model, np.full((120, 300, 3), 255, np.uint8))
    assert page.lines == [] and page.text == ""


def test_large_page_is_detected_without_its_pixels_and_reads_the_same(model, monkeypatch):
    from ocromni.io.sources import iter_pages
    from ocromni.models.ppocr import pipeline

    receipt = str(EXAMPLES / "receipt.png")
    events = []
    session = model.detector.session
    if hasattr(session, "release_memory"):  # OpenVINO: DBNet's buffers never stand beside a large decode
        release = session.release_memory
        monkeypatch.setattr(session, "release_memory", lambda: events.append("free") or release())
    (page,) = iter_pages([receipt])
    expected = model.read([page])[0]
    assert events == []  # an ordinary page: the buffers are kept for the next one
    monkeypatch.setattr(pipeline, "LARGE_PAGE_PIXELS", 0)  # every page counts as large
    (page,) = iter_pages([receipt])
    load = page._load_image
    page._load_image = lambda: events.append("decode") or load()
    got = model.read([page])[0]
    # Released for detection, decoded again for the crops.
    assert [e for e in events if e == "decode"] == ["decode", "decode"]
    if hasattr(session, "release_memory"):
        assert events == ["free", "decode", "free", "decode"]
    assert [line.text for line in got.lines] == [line.text for line in expected.lines]
    assert np.allclose([line.polygon for line in got.lines], [line.polygon for line in expected.lines], atol=0.01)
    assert len(got.lines) > 20


@needs_data
def test_reads_a_real_receipt(model):
    image = cv2.imread(str(SHARED_DATA / "sroie" / "img" / "002.jpg"))[..., ::-1]
    page = read_one(model, np.ascontiguousarray(image))
    assert page.rotation == 0
    assert any("TOTAL" in line.text for line in page.lines)
    assert len(page.lines) > 30
    # The header (shop name) comes before the totals.
    texts = [line.text for line in page.lines]
    assert texts.index(next(t for t in texts if "JOHOR" in t)) < texts.index(next(t for t in texts if "TOTAL" in t))


@needs_data
def test_reads_real_word_crops(model):
    tags = (SHARED_DATA / "iiit5k" / "train.tags").read_text().splitlines()[:20]
    crops, truth = [], []
    for tag in tags:
        name, text = tag.split(" ", 1)
        crops.append(cv2.imread(str(SHARED_DATA / "iiit5k" / name))[..., ::-1])
        truth.append(text.lower())
    readings = model.recognize_crops(crops)
    correct = sum(r.text.lower() == t for r, t in zip(readings, truth))
    assert correct >= 17


# --- single-line mode (word and line crops) --------------------------------------------------

FONTS = Path(__file__).resolve().parents[1] / "ocromni" / "fonts"


def word_crop(text: str, font_file: str = "NotoSans-Bold.ttf", size: int = 40, pad: int = 2) -> np.ndarray:
    """A tight crop of ``text`` in one of the shipped fonts, as a word-crop dataset has them."""
    typeface = ImageFont.truetype(str(FONTS / font_file), size)
    x0, y0, x1, y1 = typeface.getbbox(text)
    canvas = Image.new("RGB", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), "white")
    ImageDraw.Draw(canvas).text((pad - x0, pad - y0), text, fill="black", font=typeface)
    return np.array(canvas)


def test_single_line_keeps_a_wide_gap_in_one_line_with_word_boxes(model):
    crop = word_crop("TOTAL          42.50", "FiraMono-Regular.otf")
    # Read as a page, the gap splits the row into two lines (fields, as on receipts) ...
    assert [line.text for line in read_one(model, crop).lines] == ["TOTAL", "42.50"]
    # ... read as one line, it stays one line whose words are boxed from the alignment.
    page = read_one(model, crop, single_line=True)
    assert [line.text for line in page.lines] == ["TOTAL 42.50"]
    (line,) = page.lines
    assert line.polygon == [[0, 0], [crop.shape[1], 0], [crop.shape[1], crop.shape[0]], [0, crop.shape[0]]]
    total, amount = (w.bbox for w in line.words)
    gap_start = ink_box(crop, 0, crop.shape[1] // 2)[2]
    gap_end = ink_box(crop, crop.shape[1] // 2)[0]
    assert total[0] < 10 and gap_start - 10 < total[2] < gap_end and gap_start < amount[0] < gap_end + 10
    assert amount[2] > crop.shape[1] - 10


def test_single_line_turns_an_upside_down_crop(model):
    crop = word_crop("Harbour")[::-1, ::-1]
    page = read_one(model, np.ascontiguousarray(crop), single_line=True)
    assert page.text == "Harbour"
    # The text's own top-left corner is the crop's bottom-right.
    assert page.lines[0].polygon[0] == [crop.shape[1], crop.shape[0]]


def test_single_line_reports_an_unsure_reading_rather_than_nothing(model):
    noise = np.random.default_rng(0).integers(0, 256, (32, 120, 3), dtype=np.uint8)
    assert read_one(model, noise).lines == []  # as a page: nothing confident enough
    page = read_one(model, noise, single_line=True)
    assert len(page.lines) <= 1 and all(line.confidence < 0.9 for line in page.lines)


@needs_data
def test_single_line_reads_real_word_crops():
    import ocromni

    tags = (SHARED_DATA / "iiit5k" / "train.tags").read_text().splitlines()[:100]
    paths = [str(SHARED_DATA / "iiit5k" / tag.split(" ", 1)[0]) for tag in tags]
    truth = [tag.split(" ", 1)[1] for tag in tags]
    pages = ocromni.recognize(paths, single_line=True)
    assert [page.source for page in pages] == paths
    assert all(len(page.lines) <= 1 for page in pages)

    def letters_and_digits(text: str) -> str:  # the field's word-accuracy protocol
        return "".join(ch for ch in text.lower() if ch.isalnum())

    correct = sum(letters_and_digits(page.text) == letters_and_digits(t) for page, t in zip(pages, truth))
    # RapidOCR's pipeline reads 91.7% of IIIT5K; ocromni's single-line mode 97.5%.
    assert correct >= 93, correct
