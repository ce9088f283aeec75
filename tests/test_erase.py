"""erase: text removed on a textured background, and only where the user says.

The images are made here: words in Pillow's built-in font on a procedural brick wall
(mortar lines, per-brick colour, a gradient and grain), so the clean image is known
exactly and the tests need nothing from ../shared.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocromni import get_engine
from ocromni.errors import ExitCode, UsageError
from ocromni.imaging.inpaint import inpaint
from ocromni.imaging.masks import polygon_mask, stroke_mask
from ocromni.tasks.erase import erase, erase_leftovers, erase_pages, iter_erase
from ocromni.types import Page

# Two lines, far enough apart that each is its own detection. The bottom line's two
# spaces keep its words apart whatever the recogniser makes of a narrow gap (white on
# brick, one space was once read "OPEN'DAILY").
TOP = ("HELLO WORLD", (40, 60), (20, 30, 160))
BOTTOM = ("OPEN  DAILY", (60, 200), (250, 250, 250))


def brick_wall(width: int = 640, height: int = 320, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    gradient = np.stack([150 + 40 * xx / width, 80 + 30 * yy / height, 60 + 20 * (xx + yy) / (width + height)], -1)
    brick_h, brick_w, mortar = 24, 56, 3
    row = (yy // brick_h).astype(int)
    shifted = xx + (row % 2) * brick_w / 2
    col = (shifted // brick_w).astype(int)
    tint = rng.normal(0, 12, (row.max() + 2, col.max() + 2, 3)).astype(np.float32)
    image = gradient + tint[row, col]
    image[((yy % brick_h) < mortar) | ((shifted % brick_w) < mortar)] = [200, 195, 185]
    image += rng.normal(0, 6, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def with_text(background: np.ndarray, *items) -> tuple[np.ndarray, list]:
    """The background with each ``(text, (x, y), colour)`` drawn; also the text boxes."""
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    boxes = []
    for text, origin, colour in items:
        draw.text(origin, text, font=font, fill=colour)
        boxes.append(draw.textbbox(origin, text, font=font))
    return np.asarray(image).copy(), boxes


def box_region(shape, boxes) -> np.ndarray:
    region = np.zeros(shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        region[y0:y1, x0:x1] = True
    return region


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2)[where].mean()
    return 10 * np.log10(255**2 / max(mse, 1e-10))


def read_text(image: np.ndarray) -> str:
    return " ".join(line.text for line in get_engine().model.read([Page.from_array(image)])[0].lines)


@pytest.fixture(scope="module")
def scene():
    clean = brick_wall()
    image, boxes = with_text(clean, TOP, BOTTOM)
    return clean, image, boxes


# --- the pieces -------------------------------------------------------------------------


def test_inpaint_changes_only_masked_pixels_and_continues_a_gradient():
    yy, xx = np.mgrid[0:80, 0:200]
    image = np.stack([xx, yy * 2, np.full_like(xx, 90)], -1).astype(np.uint8)
    mask = np.zeros((80, 200), bool)
    mask[20:60, 30:170] = True
    damaged = image.copy()
    damaged[mask] = (255, 0, 255)
    filled = inpaint(damaged, mask)
    assert np.array_equal(filled[~mask], damaged[~mask])
    assert np.abs(filled.astype(int) - image)[mask].max() <= 3  # a linear ramp is harmonic


def test_stroke_mask_follows_the_strokes_not_the_box():
    clean = np.full((120, 400, 3), 200, np.uint8)
    image, boxes = with_text(clean, ("STROKES", (20, 30), (10, 10, 10)))
    x0, y0, x1, y1 = boxes[0]
    quad = [[x0 - 6, y0 - 6], [x1 + 6, y0 - 6], [x1 + 6, y1 + 6], [x0 - 6, y1 + 6]]
    mask = stroke_mask(image, [quad])
    ink = np.abs(image.astype(int) - clean).max(-1) > 20
    assert mask[ink].all()
    assert mask.sum() < 0.7 * polygon_mask(image.shape, [quad]).sum()


def test_whole_quad_mask_still_takes_the_strokes_the_quad_clips():
    # A drop shadow stands out from the background but is no stroke, so the quad is
    # masked whole; the letters' tops above the detector's too-low quad must go too, or
    # the fill smears them into a ghost (white dots on the posters of benchmarks/erase.py).
    clean = np.full((120, 400, 3), 200, np.uint8)
    shadowed, _ = with_text(clean, ("TOPS CUT", (24, 34), (170, 170, 170)))
    image, boxes = with_text(shadowed, ("TOPS CUT", (20, 30), (10, 10, 10)))
    x0, y0, x1, y1 = boxes[0]
    top = y0 + 5
    quad = [[x0 - 6, top], [x1 + 6, top], [x1 + 6, y1 + 6], [x0 - 6, y1 + 6]]
    mask = stroke_mask(image, [quad])
    ink = np.abs(image.astype(int) - clean).max(-1) > 60
    assert mask[polygon_mask(image.shape, [quad])].all()  # whole: the shadow goes as well
    clipped = ink.copy()
    clipped[top:] = False
    assert clipped.sum() > 100 and mask[clipped].all()


def test_leftovers_over_erased_regions_are_filled_whole_and_new_text_only_on_request(scene):
    _, image, _ = scene
    quads = [quad for quad, _ in get_engine().model.detect_quads(image)]
    top = [q for q in quads if np.asarray(q)[:, 1].mean() < 150]
    assert top and len(top) < len(quads)
    nothing_filled = np.zeros(image.shape[:2], np.uint8)

    # As if the first fill had left the top line untouched: the check fills it whole.
    erased, mask, new = erase_leftovers(get_engine().model, image, image, nothing_filled, top, new_text=False)
    text = read_text(erased)
    assert new == 0 and "HELLO" not in text and "OPEN" in text
    assert np.array_equal(erased[mask == 0], image[mask == 0])
    assert mask[polygon_mask(image.shape, top)].all()  # whole, not strokes

    erased, mask, new = erase_leftovers(get_engine().model, image, image, nothing_filled, top, new_text=True)
    assert new >= 1 and read_text(erased) == ""


# --- the task ---------------------------------------------------------------------------


def test_erase_removes_text_from_a_textured_background(scene):
    clean, image, boxes = scene
    assert "HELLO" in read_text(image) and "OPEN" in read_text(image)
    [erased] = erase(image)
    region = box_region(image.shape, boxes)
    assert read_text(erased) == ""
    assert psnr(erased, clean, region) > 17.0
    assert psnr(erased, clean, region) > psnr(image, clean, region) + 5


def test_match_erases_only_the_matching_words(scene):
    _, image, _ = scene
    [(_, erased, mask, count)] = list(iter_erase(image, match=r"(?i)\bopen\b|world"))
    text = read_text(erased)
    assert count == 2
    assert "HELLO" in text and "DAILY" in text
    assert "WORLD" not in text and "OPEN" not in text
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}


def test_match_that_finds_nothing_changes_nothing(scene):
    _, image, _ = scene
    [(_, erased, mask, count)] = list(iter_erase(image, match="no such words"))
    assert count == 0 and not mask.any()
    assert np.array_equal(erased, image)


def test_box_leaves_pixels_outside_it_bit_identical(scene):
    clean, image, boxes = scene
    box = (0, 150, 640, 320)  # the bottom line only
    [(_, erased, _, count)] = list(iter_erase(image, boxes=[box]))
    outside = np.ones(image.shape[:2], bool)
    outside[150:320, 0:640] = False
    assert count == 1
    assert np.array_equal(erased[outside], image[outside])
    text = read_text(erased)
    assert "HELLO" in text and "OPEN" not in text


def test_mask_restricts_and_fills_parts_without_text(scene):
    _, image, boxes = scene
    user_mask = np.zeros(image.shape[:2], np.uint8)
    x0, y0, x1, y1 = boxes[0]
    user_mask[y0 - 12 : y1 + 12, x0 - 12 : x1 + 12] = 255  # around the top line
    user_mask[280:300, 500:560] = 255  # a patch of bare wall
    [(_, erased, used, count)] = list(iter_erase(image, mask=user_mask))
    assert count == 2  # the top line, and the bare patch filled whole
    assert np.array_equal(erased[user_mask == 0], image[user_mask == 0])
    assert (used[280:300, 500:560] == 255).all()
    assert not (used[user_mask == 0]).any()
    text = read_text(erased)
    assert "HELLO" not in text and "OPEN" in text


def test_mask_of_another_size_is_a_usage_error(scene):
    _, image, _ = scene
    with pytest.raises(UsageError, match="must match"):
        list(erase_pages(get_engine(), [Page.from_array(image)], mask=np.ones((10, 10), np.uint8)))


def test_bad_pattern_and_box_are_usage_errors(scene):
    _, image, _ = scene
    with pytest.raises(UsageError, match="--match"):
        erase(image, match="(unclosed")
    with pytest.raises(UsageError, match="empty"):
        erase(image, boxes=[(10, 10, 5, 20)])


def test_erase_pairs_scene_photo_gets_closer_to_the_hand_erased_one(shared_data):
    folder = shared_data / "erase_pairs" / "scene"
    image = np.asarray(Image.open(folder / "all_images" / "5.jpg").convert("RGB"))
    label = np.asarray(Image.open(folder / "all_labels" / "5.jpg").convert("RGB"))
    region = np.asarray(Image.open(folder / "all_masks" / "5.jpg").convert("L")) < 128
    [erased] = erase(image)
    assert psnr(erased, label, region) > psnr(image, label, region) + 1


def test_erase_pairs_poster_text_on_flat_colour_leaves_no_ghost(shared_data):
    # White lettering on a flat pink bar: the anti-aliased fringe the stroke mask once
    # left behind was smeared by the fill into a ghost of the text (Telea, filling the
    # whole grown box, did better there). Scored as benchmarks/erase.py scores posters.
    import cv2

    folder = shared_data / "erase_pairs" / "poster"
    image = np.asarray(Image.open(folder / "1.png").convert("RGB"))
    clean = np.asarray(Image.open(folder / "1_g.png").convert("RGB"))
    changed = (np.abs(image.astype(int) - clean).max(-1) > 24).astype(np.uint8)
    region = cv2.dilate(cv2.morphologyEx(changed, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)), np.ones((3, 3), np.uint8)) > 0
    [erased] = erase(image)
    quads = [quad for quad, _ in get_engine().model.detect_quads(image)]
    telea = cv2.inpaint(image, polygon_mask(image.shape, quads, grow=3).astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    assert psnr(erased, clean, region) > psnr(telea, clean, region) + 2


# --- the command ------------------------------------------------------------------------

# Runs `ocromni erase` with this module's command registered, whether or not cli/main.py
# has registered it yet.
RUNNER = (
    "import sys; from ocromni.cli import main; from ocromni.cli.erase import erase; "
    "main.app.registered_commands = [c for c in main.app.registered_commands if c.name != 'erase']; "
    "main.app.command('erase')(erase); main.run(['erase', *sys.argv[1:]])"
)


def run_erase(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUNNER, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_cli_writes_image_and_mask_and_keeps_existing_output(scene, tmp_path):
    _, image, _ = scene
    source = tmp_path / "wall.png"
    Image.fromarray(image).save(source)
    output, mask_path = tmp_path / "clean.png", tmp_path / "mask.png"

    result = run_erase(source, "-o", output, "--save-mask", mask_path, "--match", "(?i)daily")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    erased = np.asarray(Image.open(output))
    mask = np.asarray(Image.open(mask_path))
    assert erased.shape == image.shape and mask.shape == image.shape[:2]
    assert mask.max() == 255 and np.array_equal(erased[mask == 0], image[mask == 0])

    before = output.read_bytes()
    result = run_erase(source, "-o", output)
    assert result.returncode == ExitCode.output_error
    assert "--overwrite" in result.stderr and "Traceback" not in result.stderr
    assert output.read_bytes() == before


def test_cli_out_dir_masks_nothing_matched_and_bad_box(scene, tmp_path):
    _, image, _ = scene
    for name in ("a", "b"):
        Image.fromarray(image).save(tmp_path / f"{name}.png")
    out = tmp_path / "out"
    result = run_erase(tmp_path / "a.png", tmp_path / "b.png", "--out-dir", out, "--save-mask", out, "--match", "zzz")
    assert result.returncode == ExitCode.nothing_replaced
    assert "no text matched" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a-mask.png", "a.png", "b-mask.png", "b.png"]

    result = run_erase(tmp_path / "a.png", "--box", "1,2,3", "-o", tmp_path / "x.png")
    assert result.returncode == ExitCode.usage_error
    assert not (tmp_path / "x.png").exists()


def test_detection_size_is_lowered_only_inside_the_block(scene):
    from ocromni.tasks.erase import READ_LONG_SIDE, detect_text, detection_size

    model = get_engine().model
    before = model.detector.long_side
    with detection_size(model, READ_LONG_SIDE):
        assert model.detector.long_side == min(before, READ_LONG_SIDE)
    assert model.detector.long_side == before
    _, image, _ = scene
    assert len(detect_text(model, image, READ_LONG_SIDE)) >= 2 and model.detector.long_side == before
