"""Erase benchmark: ocromni's erase against OpenCV Telea inpainting, same detections.

    python benchmarks/erase.py                 # 60 synthetic cases + erase_pairs
    python benchmarks/erase.py --synthetic 10  # quick run

Data (``../shared/data``):
- synthetic: words in the 80 Latin fonts, of varied size, colour, rotation, with and
  without an outline, drawn onto crops of the 16 background photos (1024x768, seeded),
  so the clean image is known exactly; the text regions are the drawn words' boxes;
- erase_pairs/scene: photos, their hand-erased versions and text masks (black = text);
- erase_pairs/poster: N.png and the text-free N_g.png; the text regions are the pixels
  that differ (the posters' hand erasure removes only some of their text).

Both systems erase the text the ocromni detector finds on the image (one detection per
image, shared: ``ocromni.tasks.erase.detect_text``, as ``erase`` runs it). The baseline
is cv2.inpaint (INPAINT_TELEA, radius 3) over the detected quads dilated by 3 px;
ocromni is what ``ocromni erase`` runs after detection: ``erase_regions`` (stroke masks
+ harmonic fill), then ``erase_leftovers`` (the detector
looks at the result again; leftovers over erased regions are filled whole, new text is
erased), so its time includes a second detection.
Scores: PSNR and SSIM (Gaussian window, sigma 1.5, mean over RGB; implemented here)
over the whole image and inside the text regions; residual text = detections on the
erased image / detections on the input (dataset totals); seconds per image, detection
included (the synthetic images are 1024x768; the erase_pairs ones 512 px wide, which the
detector scales up to 736 px). The table goes to stdout, JSON to --out, progress
to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # noqa: E402
from imagecases import background_crop, psnr  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "erase.json"
SIZE = (1024, 768)
WORDS = (
    "SALE OPEN Coffee Hotel 24h PARKING Street Market EXIT Welcome City Bank 2021 Station Pizza Fresh "
    "Books Garden Police TAXI Museum Cinema STOP Bakery Grand Plaza Avenue Hours 9:30 FREE River North "
    "Closed Dental Music Studio Pharmacy Theatre"
).split()
# Poster pixels whose channels differ by more than this between N.png and N_g.png are text.
POSTER_DIFF = 24
SYSTEMS = ("ocromni", "telea")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data ---------------------------------------------------------------------------------


def synthetic_case(seed: int, backgrounds: list, fonts: list) -> dict:
    """Text drawn onto a background crop: the image, the clean image and the text region."""
    rng = random.Random(seed)
    clean = background_crop(rng.choice(backgrounds), rng, SIZE)
    canvas = clean.astype(np.float32)
    width, height = SIZE
    region = np.zeros((height, width), np.uint8)
    for _ in range(rng.randint(2, 5)):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
        size = rng.randint(20, 90)
        font = ImageFont.truetype(str(rng.choice(fonts)), size)
        left, top, right, bottom = font.getbbox(text)
        box_w, box_h = right - left + 8, bottom - top + 8
        if box_w > width * 0.9:
            continue
        layer = Image.new("L", (box_w, box_h), 0)
        ImageDraw.Draw(layer).text((4 - left, 4 - top), text, font=font, fill=255)
        angle = rng.uniform(-30, 30) if rng.random() < 0.5 else 0.0
        layer = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
        x = rng.randint(0, max(0, width - layer.width))
        y = rng.randint(0, max(0, height - layer.height))
        corners = np.array([[0, 0], [box_w, 0], [box_w, box_h], [0, box_h]], float) - [box_w / 2, box_h / 2]
        turn = math.radians(-angle)
        rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
        quad = corners @ rotation.T + [x + layer.width / 2, y + layer.height / 2]
        alpha = np.zeros((height, width), np.float32)
        glyphs = np.asarray(layer, np.float32) / 255
        h, w = min(glyphs.shape[0], height - y), min(glyphs.shape[1], width - x)
        alpha[y : y + h, x : x + w] = glyphs[:h, :w]
        under = clean[alpha > 0.5]
        mean = under.mean(0) if len(under) else np.full(3, 128.0)
        colour = np.array([rng.randint(0, 255) for _ in range(3)], float)
        if np.abs(colour - mean).sum() < 150:  # keep the text legible
            colour = 255 - mean
        if rng.random() < 0.25:  # an outline in the opposite colour
            outline = cv2.dilate(alpha, np.ones((max(3, size // 15),) * 2, np.uint8))
            canvas = canvas * (1 - outline[..., None]) + (255 - colour) * outline[..., None]
        canvas = canvas * (1 - alpha[..., None]) + colour * alpha[..., None]
        cv2.fillPoly(region, [np.round(quad).astype(np.int32)], 1)
    image = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    return {"name": f"synthetic-{seed}", "image": image, "clean": clean, "region": region > 0}


def synthetic_cases(root: Path, count: int) -> list[dict]:
    backgrounds = sorted((root / "backgrounds").iterdir())
    fonts = sorted(p for p in (root / "fonts" / "latin").iterdir() if p.suffix.lower() in (".ttf", ".otf"))
    return [synthetic_case(seed, backgrounds, fonts) for seed in range(count)]


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def scene_cases(root: Path) -> list[dict]:
    folder = root / "erase_pairs" / "scene"
    cases = []
    for path in sorted((folder / "all_images").iterdir(), key=datasets._numeric_key):
        mask = np.asarray(Image.open(folder / "all_masks" / path.name).convert("L")) < 128
        cases.append({"name": f"scene-{path.stem}", "image": _rgb(path),
                      "clean": _rgb(folder / "all_labels" / path.name), "region": mask})
    return cases


def poster_cases(root: Path) -> list[dict]:
    folder = root / "erase_pairs" / "poster"
    cases = []
    for path in sorted(folder.glob("*_g.png"), key=lambda p: int(p.stem[:-2])):
        image, clean = _rgb(folder / f"{path.stem[:-2]}.png"), _rgb(path)
        changed = (np.abs(image.astype(int) - clean).max(-1) > POSTER_DIFF).astype(np.uint8)
        region = cv2.dilate(cv2.morphologyEx(changed, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)), np.ones((3, 3), np.uint8))
        cases.append({"name": f"poster-{path.stem[:-2]}", "image": image, "clean": clean, "region": region > 0})
    return cases


# --- metrics ------------------------------------------------------------------------------


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03), mean over channels."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return value.mean(-1) if value.ndim == 3 else value


# --- systems ------------------------------------------------------------------------------


def erase_ocromni(image: np.ndarray, quads: list, model, parts: dict) -> np.ndarray:
    """``ocromni erase``'s pipeline after detection: stroke masks + fill, then the check."""
    from ocromni.tasks.erase import erase_leftovers, erase_regions

    started = time.perf_counter()
    erased, mask, _ = erase_regions(image, quads)
    parts["mask_fill"] = time.perf_counter() - started
    started = time.perf_counter()
    if quads:
        erased, mask, _ = erase_leftovers(model, image, erased, mask, quads)
    parts["recheck"] = time.perf_counter() - started
    return erased


def erase_telea(image: np.ndarray, quads: list, model, parts: dict) -> np.ndarray:
    from ocromni.imaging.masks import polygon_mask

    started = time.perf_counter()
    mask = polygon_mask(image.shape, quads, grow=3).astype(np.uint8) * 255
    erased = cv2.inpaint(image, mask, 3, cv2.INPAINT_TELEA)
    parts["mask_fill"] = time.perf_counter() - started
    return erased


ERASERS = {"ocromni": erase_ocromni, "telea": erase_telea}


def run(cases: list[dict], model) -> dict:
    """Scores per dataset and system."""
    from ocromni.tasks.erase import detect_text

    rows = {system: [] for system in SYSTEMS}
    before_total = 0
    after_total = {system: 0 for system in SYSTEMS}
    for case in cases:
        image, clean, region = case["image"], case["clean"], case["region"]
        started, cpu_started = time.perf_counter(), time.process_time()
        quads = detect_text(model, image)
        detect_seconds = time.perf_counter() - started
        detect_cpu = time.process_time() - cpu_started
        before_total += len(quads)
        for system in SYSTEMS:
            parts = {"detect": detect_seconds}
            started, cpu_started = time.perf_counter(), time.process_time()
            erased = ERASERS[system](image, quads, model, parts)
            seconds = time.perf_counter() - started + detect_seconds
            cpu_seconds = time.process_time() - cpu_started + detect_cpu
            after = len(model.detect_quads(erased))
            after_total[system] += after
            ssim = ssim_map(erased, clean)
            rows[system].append({
                "name": case["name"], "psnr": psnr(erased, clean), "psnr_text": psnr(erased, clean, region),
                "ssim": float(ssim.mean()), "ssim_text": float(ssim[region].mean()),
                "detections_before": len(quads), "detections_after": after, "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                **{f"seconds_{part}": value for part, value in parts.items()},
            })
        log(f"  {case['name']}: " + "  ".join(
            f"{s} {rows[s][-1]['psnr_text']:.2f} dB" for s in SYSTEMS))
    summary = {}
    for system in SYSTEMS:
        values = rows[system]
        summary[system] = {
            "images": len(values),
            "psnr": _mean(values, "psnr"), "psnr_text": _mean(values, "psnr_text"),
            "ssim": _mean(values, "ssim"), "ssim_text": _mean(values, "ssim_text"),
            "residual_text": after_total[system] / before_total if before_total else 0.0,
            "seconds_per_image": _mean(values, "seconds"),
            "cpu_seconds_per_image": _mean(values, "cpu_seconds"),
            "seconds_by_part": {
                key[len("seconds_"):]: _mean(values, key) for key in values[0] if key.startswith("seconds_")
            } if values else {},
            "per_image": values,
        }
    return summary


def _mean(rows: list[dict], key: str) -> float:
    return float(np.mean([row[key] for row in rows])) if rows else float("nan")


def render_table(results: dict) -> str:
    header = f"{'dataset':<11} {'system':<8} {'n':>3} {'PSNR':>6} {'PSNR-text':>9} {'SSIM':>6} {'SSIM-text':>9} {'residual':>8} {'s/img':>6} {'cpu s':>6}"
    lines = [header, "-" * len(header)]
    for dataset, summary in results.items():
        for system in SYSTEMS:
            s = summary[system]
            lines.append(
                f"{dataset:<11} {system:<8} {s['images']:>3} {s['psnr']:>6.2f} {s['psnr_text']:>9.2f} {s['ssim']:>6.3f} "
                f"{s['ssim_text']:>9.3f} {s['residual_text']:>7.1%} {s['seconds_per_image']:>6.2f} {s['cpu_seconds_per_image']:>6.2f}"
            )
        gain = summary["ocromni"]["psnr_text"] - summary["telea"]["psnr_text"]
        lines.append(f"{'':<11} ocromni - telea, PSNR inside text regions: {gain:+.2f} dB")
        parts = summary["ocromni"]["seconds_by_part"]
        lines.append(f"{'':<11} ocromni seconds per image: " + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()))
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=datasets.default_data_root(), help="shared data folder")
    parser.add_argument("--synthetic", type=int, default=60, help="number of synthetic cases (0: none)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--per-image", action="store_true", help="keep per-image scores in the JSON")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.data.is_dir():
        log(f"data folder {args.data} not found; pass --data or set OCROMNI_DATA")
        return 2
    import ocromni

    model = ocromni.get_engine(device="cpu").model
    model.detect_quads(np.zeros((64, 64, 3), np.uint8))  # warm up outside the timings
    datasets_to_run = {
        "synthetic": lambda: synthetic_cases(args.data, args.synthetic),
        "scene": lambda: scene_cases(args.data),
        "poster": lambda: poster_cases(args.data),
    }
    results = {}
    for name, load in datasets_to_run.items():
        if name == "synthetic" and args.synthetic <= 0:
            continue
        log(f"=== {name}")
        results[name] = run(load(), model)
    print(render_table(results))
    print("s/img: wall seconds per image with detection; cpu s: CPU seconds of the process (all threads),"
          " less sensitive to other jobs on the machine; synthetic images are 1024x768.")
    report = {
        "benchmark": "erase",
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpu": platform.processor()},
        "baseline": "cv2.inpaint INPAINT_TELEA radius 3 on detected quads dilated by 3 px",
        "command": "python benchmarks/erase.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "load_average": os.getloadavg(),
        "results": {
            dataset: {system: {k: v for k, v in s.items() if args.per_image or k != "per_image"} for system, s in summary.items()}
            for dataset, summary in results.items()
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
