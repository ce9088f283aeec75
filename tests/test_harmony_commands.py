"""``--model PATH`` on detect, erase and edit: the harmony network's own prompts behind them.

A tiny random network (its pictures and answers are noise) runs the real code paths on
the shipped examples in seconds: the contracts (records, written images, untouched
pixels, exit codes) must hold whatever the network answers. The pasting itself is
checked with stand-in backends that answer what a perfect network would.
"""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import EXAMPLE_RECEIPT, REPO, run_cli
from ocromni.models.harmony.config import HarmonyConfig
from ocromni.models.harmony.model import HarmonyNetwork
from ocromni.models.harmony.pixels import NetworkView, chunks, light_text, parse_spot, rectify, to_page

EXAMPLE_SIGN = REPO / "examples" / "sign.jpg"


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    config = HarmonyConfig(vision_hidden=32, vision_layers=1, vision_heads=2, vision_mlp=64, hidden=32, layers=1,
                           heads=2, kv_heads=2, intermediate=64, lora_rank=2, head_width=32, head_depth=1,
                           diffusion_sample_steps=2).validate()
    return HarmonyNetwork(config).save_pretrained(tmp_path_factory.mktemp("harmony") / "tiny")


def _rgb(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# --- geometry between crops and the network's picture -----------------------------------


def test_network_view_maps_boxes_both_ways_and_squeezes_only_long_crops():
    short = NetworkView.fit((64, 100))  # 64 px high: half scale, 50 of 128 columns used
    assert short.scale_x == short.scale_y == 0.5 and short.used == 50
    assert short.to_crop(short.to_network((10, 4, 60, 40))) == pytest.approx((10, 4, 60, 40))
    long = NetworkView.fit((32, 512))  # 16 heights long: squeezed into the 128 columns
    assert long.used == 128 and long.scale_x == pytest.approx(0.25) and long.scale_y == 1.0
    picture = long.picture(np.full((32, 512), 200.0))
    assert picture.shape == (1, 32, 128) and np.allclose(picture, 200 / 127.5 - 1)
    answer = np.full((32, 128), 90, np.uint8)
    assert long.answer(answer).shape == (32, 512)
    inverted = NetworkView.fit((32, 64), inverted=True)
    assert np.allclose(inverted.picture(np.full((32, 64), 55.0))[0, :, :64], 200 / 127.5 - 1)
    assert np.allclose(inverted.answer(np.full((32, 128, 3), 200, np.uint8)), 55.0)


def test_spot_answers_parse_only_as_a_box_and_a_word():
    assert parse_spot("3,6,50,29 cobalt") == ((3, 6, 50, 29), "cobalt")
    assert parse_spot("50,6,3,29 cobalt") is None  # an empty box
    assert parse_spot("3,6,50 cobalt") is None
    assert parse_spot("cobalt") is None
    assert parse_spot("3,6,50,29 ") is None


def test_polarity_crops_and_rectified_points():
    ground = np.full((40, 160), 60.0)
    ground[12:28, 20:60] = 235.0  # light strokes on a dark sign
    assert light_text(ground)
    assert not light_text(255.0 - ground)
    assert chunks(500, 50) == [(0, 167), (167, 333), (333, 500)]
    assert chunks(100, 50) == [(0, 100)]
    image = np.zeros((300, 400, 3), np.uint8)
    quad = [[100, 120], [300, 100], [304, 140], [104, 160]]  # a line turned by about -5.7 degrees
    crop, back = rectify(image, quad, pad=0.1)
    pad = 0.1 * crop.shape[0] / 1.2
    corners = to_page(back, (pad, pad, crop.shape[1] - pad, crop.shape[0] - pad))
    assert np.allclose(corners, quad, atol=1.0)


# --- erase ---------------------------------------------------------------------------------


class _CleanAnswer:
    """A stand-in backend whose erase prompt answers the true clean background."""

    def __init__(self, clean_grey, boxes):
        self.clean_grey, self.boxes = clean_grey, boxes

    def erase_words(self, crops):
        return [self.clean_grey[y0:y1, x0:x1] for x0, y0, x1, y1 in self.boxes]


def test_a_perfect_erase_answer_restores_the_background_inside_the_mask_only():
    from ocromni.imaging.inpaint import inpaint
    from ocromni.tasks.erase import NETWORK_CROP_GROW, erase_with_network

    ys, xs = np.mgrid[0:120, 0:300].astype(np.float32)
    stripes = 60 * np.sin(xs / 3.0) * np.cos(ys / 5.0)  # texture an interpolation cannot guess
    clean = np.clip(np.stack([120 + stripes, 100 + 0.5 * stripes, 80 + 0.2 * stripes], -1), 0, 255).astype(np.uint8)
    mask = np.zeros((120, 300), bool)
    mask[45:75, 60:240:12] = True  # vertical strokes of "text"
    mask[45:50, 60:240] = True
    image = clean.copy()
    image[mask] = (250, 250, 250)
    classical = inpaint(image, mask)
    polygon = [[60, 45], [240, 45], [240, 75], [60, 75]]
    grow = int(np.ceil(NETWORK_CROP_GROW * 30))
    box = (60 - grow, 45 - grow, 240 + grow, 75 + grow)
    luma = clean.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    result = erase_with_network(_CleanAnswer(luma, [box]), image, classical, mask.astype(np.uint8) * 255, [polygon])
    assert np.array_equal(result[~mask], classical[~mask])  # outside the mask: untouched
    # The answer gives the luminance (the colour stays the classical fill's): that is
    # restored, and the colour error falls with it.
    luma_error = lambda a: np.abs(a.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) - luma)[mask].mean()  # noqa: E731
    assert luma_error(result) < 0.25 * luma_error(classical)
    error = lambda a: np.abs(a.astype(float) - clean.astype(float))[mask].mean()  # noqa: E731
    assert error(result) < 0.7 * error(classical)


def test_erase_with_model_runs_the_network_and_keeps_far_pixels(tmp_path, tiny_checkpoint):
    out, mask_file, classical = tmp_path / "erased.png", tmp_path / "mask.png", tmp_path / "classical.png"
    result = run_cli("erase", EXAMPLE_SIGN, "--model", tiny_checkpoint, "-o", out, "--save-mask", mask_file, "--verbose")
    assert result.returncode == 0, result.stderr
    assert "through the model's erase prompt" in result.stderr
    assert run_cli("erase", EXAMPLE_SIGN, "-o", classical).returncode == 0
    source, erased, default = _rgb(EXAMPLE_SIGN), _rgb(out), _rgb(classical)
    mask = np.asarray(Image.open(mask_file).convert("L")) > 0
    assert mask.any() and erased.shape == source.shape
    assert np.array_equal(erased[~mask], source[~mask])  # bit-identical outside the stroke mask
    assert (erased[mask] != default[mask]).any()  # the network's answer, not the classical fill


# --- edit ----------------------------------------------------------------------------------


def test_edit_draws_new_with_the_network_in_the_old_place_only(tiny_checkpoint):
    from ocromni.models.harmony.backend import HarmonyModel
    from ocromni.models.ppocr import PPOCRModel
    from ocromni.tasks.edit import edit_image
    from ocromni.types import Page

    image = _rgb(EXAMPLE_SIGN)
    (reading,) = PPOCRModel(device="cpu").read([Page.from_array(image)])
    network = HarmonyModel(checkpoint=str(tiny_checkpoint))
    drawn, replaced, not_found = edit_image(image, reading, [("OPEN", "CLOSED")], network=network)
    classical, _, _ = edit_image(image, reading, [("OPEN", "CLOSED")])
    assert [r.new for r in replaced] == ["CLOSED"] and not_found == []
    changed = (drawn != image).any(-1)
    assert changed.any() and (drawn != classical).any()
    # Every changed pixel lies near the old word (the frame the new word is drawn in).
    x0, y0, x1, y1 = np.array(replaced[0].polygon).min(0).tolist() + np.array(replaced[0].polygon).max(0).tolist()
    height = y1 - y0
    near = np.zeros(changed.shape, bool)
    near[max(int(y0 - height), 0):int(y1 + height), max(int(x0 - 2 * height), 0):int(x1 + 2 * height)] = True
    assert not (changed & ~near).any()


class _FontFill:
    """A stand-in fill prompt that draws the word in the box in a shipped font, as a network
    that has learnt the task would, contrasting with the crop's ground."""

    def fill_words(self, crops, boxes, words):
        from ocromni.textdraw import draw_layout, layout_text_block

        answers = []
        for crop, box, word in zip(crops, boxes, words):
            grey = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            ground = float(np.median(grey))
            canvas = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
            block = layout_text_block(word, box, "noto-sans-bold", align="center")
            draw_layout(canvas, block, 240 if ground < 128 else 20)
            answers.append(np.asarray(canvas, np.float32))
        return answers


def test_edit_paints_what_the_fill_prompt_draws_so_it_reads_back():
    from ocromni.models.ppocr import PPOCRModel
    from ocromni.tasks.edit import edit_image
    from ocromni.types import Page

    image = _rgb(EXAMPLE_SIGN)
    reader = PPOCRModel(device="cpu")
    (reading,) = reader.read([Page.from_array(image)])
    edited, replaced, _ = edit_image(image, reading, [("OPEN", "CLOSED")], network=_FontFill())
    assert [r.new for r in replaced] == ["CLOSED"]
    # The drawn word's ink, placed where the font would go and painted in the sign's cream,
    # reads back: the coverage is taken on the ink's side (lighter than the green here).
    (again,) = reader.read([Page.from_array(edited)])
    assert "CLOSED" in again.text.upper()
    cream = np.asarray(replaced[0].color, float)
    assert cream.mean() > 150  # the measured colour of the old letters, not the fill's


def test_edit_with_model_names_what_the_network_did_not_read_and_exits_7(tmp_path, tiny_checkpoint):
    out = tmp_path / "edited.png"
    result = run_cli("edit", EXAMPLE_SIGN, "--replace", "OPEN=CLOSED", "--model", tiny_checkpoint, "-o", out)
    # A random network reads no OPEN: the edit contract for an OLD not found holds.
    assert result.returncode == 7, result.stderr
    assert "'OPEN' not found" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


# --- detect --------------------------------------------------------------------------------


def test_detect_words_with_model_come_from_spotting_inside_the_lines(tiny_checkpoint):
    jsonschema = pytest.importorskip("jsonschema")
    words = run_cli("detect", EXAMPLE_RECEIPT, "--level", "word", "--model", tiny_checkpoint, "--format", "jsonl")
    lines = run_cli("detect", EXAMPLE_RECEIPT, "--level", "line", "--model", tiny_checkpoint, "--format", "jsonl")
    assert words.returncode == 0 and lines.returncode == 0, words.stderr + lines.stderr
    word_record, line_record = json.loads(words.stdout), json.loads(lines.stdout)
    schema = json.loads((REPO / "ocromni" / "schemas" / "regions.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(word_record, schema)
    assert word_record["level"] == "word" and word_record["width"] == 737
    assert len(word_record["regions"]) >= len(line_record["regions"]) > 5
    boxes = [r["bbox"] for r in line_record["regions"]]
    for region in word_record["regions"]:
        x0, y0, x1, y1 = region["bbox"]
        # Each word lies within a line proposal (its rectified crop pads the line a little).
        assert any(x0 >= b[0] - 8 and y0 >= b[1] - 8 and x1 <= b[2] + 8 and y1 <= b[3] + 8 for b in boxes)


def _ink_spotter(crops):
    """A stand-in spot prompt: the first run of dark columns (gaps under 0.3 heights) in each crop."""
    answers = []
    for crop in crops:
        grey = crop.astype(np.float32).mean(-1)
        dark = grey < np.median(grey) - 40
        columns = np.flatnonzero(dark.any(axis=0))
        if columns.size == 0:
            answers.append(None)
            continue
        start = end = columns[0]
        for column in columns:
            if column - end > 0.3 * grey.shape[0]:
                break
            end = column
        rows = np.flatnonzero(dark[:, start:end + 1].any(axis=1))
        answers.append(((float(start), float(rows[0]), float(end + 1), float(rows[-1] + 1)), "w"))
    return answers


def _iou(a, b) -> float:
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_spotting_walks_each_line_and_maps_words_back_to_the_page(tiny_checkpoint):
    from ocromni.models.harmony.backend import HarmonyModel
    from ocromni.models.ppocr import PPOCRModel
    from ocromni.types import Page

    image = _rgb(EXAMPLE_RECEIPT)
    model = HarmonyModel(checkpoint=str(tiny_checkpoint))
    model.spot_crops = _ink_spotter  # what a network that spots perfectly by ink would answer
    (spotted,) = model.spot([Page.from_array(image)])
    (default,) = PPOCRModel(device="cpu").read([Page.from_array(image)])
    found = [word.bbox for line in spotted.lines for word in line.words]
    expected = [word.bbox for line in default.lines for word in line.words]
    matched = [max(_iou(e, f) for f in found) >= 0.5 for e in expected]
    # The windows, the cursor, the joins across window edges and the rectification back to
    # page pixels put the words where the default recogniser finds them (85% measured).
    assert np.mean(matched) >= 0.75
    title = next(line for line in spotted.lines if line.bbox[1] < 100)
    assert len(title.words) == 2  # GREENLEAF MARKET: each longer than a window, joined whole


def test_a_line_with_no_usable_spot_answer_keeps_its_line_box(tiny_checkpoint):
    from ocromni.models.harmony.backend import HarmonyModel
    from ocromni.types import Page

    model = HarmonyModel(checkpoint=str(tiny_checkpoint))
    model.spot_crops = lambda crops: [None] * len(crops)  # answers that do not parse
    (spotted,) = model.spot([Page.from_array(_rgb(EXAMPLE_SIGN))])
    assert spotted.lines
    for line in spotted.lines:
        (word,) = line.words
        assert np.allclose(word.polygon, line.polygon, atol=1.5)
        assert word.text and line.text == word.text
