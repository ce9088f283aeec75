"""caption benchmark: image-type accuracy and how often the caption quotes the largest line.

    python benchmarks/caption.py                 # every dev image (slow: OCR of ~400 images, cached)
    python benchmarks/caption.py --limit 25      # at most 25 images of each source

The labelled dev set is built by this script, never by hand-picking:

* SROIE receipts -> ``receipt``; largest line: the ``box/*.csv`` row with the tallest box.
* FUNSD forms -> ``form``; largest line: the tallest row of words within an entity.
* ICDAR 2015 end-to-end scenes -> ``scene``; largest line: the tallest word that is not ``###``.
* erase_pairs posters (``poster/N.png``) -> ``poster``; no text labels (type only).
* Signs and posters rendered here from the seed with the 80 fonts of ``fonts/latin`` on
  the backgrounds the classifier's training never uses (see
  ``ocromni.caption_model.train.HELD_OUT_BACKGROUNDS``) and on plain colours; their
  largest line is known by construction.

A caption "quotes" the largest line when it contains the line's text, compared
case-insensitively with whitespace normalised; a lenient figure compares letters and
digits only. OCR results are cached per image in ``--ocr-cache`` (the same cache and
names as benchmarks/ask.py). The table goes to stdout, JSON to ``--out``, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("OCROMNI_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "caption.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Item:
    key: str  # cache key and report name, e.g. "sroie_001"
    source: str  # dataset
    label: str  # expected kind
    largest: Optional[str]  # the largest line's text, None where unknown
    path: Optional[Path] = None
    image: Optional[np.ndarray] = None  # rendered items


# --- the labelled set ---------------------------------------------------------------------


def _quad_height(xs, ys) -> float:
    return max(ys) - min(ys)


def sroie_items(root: Path, limit: int) -> list[Item]:
    items = []
    for box in sorted((root / "sroie" / "box").glob("*.csv"))[:limit]:
        best = (0.0, "")
        for raw in box.read_text(encoding="utf-8-sig", errors="replace").splitlines():
            parts = raw.strip().split(",", 8)
            if len(parts) < 9 or not parts[8].strip():
                continue
            ys = [float(v) for v in parts[1:8:2]]
            height = max(ys) - min(ys)
            if height > best[0]:
                best = (height, parts[8].strip())
        image = root / "sroie" / "img" / f"{box.stem}.jpg"
        if image.is_file():
            items.append(Item(f"sroie_{box.stem}", "sroie", "receipt", best[1] or None, image))
    return items


def funsd_items(root: Path, limit: int) -> list[Item]:
    items = []
    for annotation in sorted((root / "funsd" / "annotations").glob("*.json"))[:limit]:
        data = json.loads(annotation.read_text(encoding="utf-8"))
        best = (0.0, "")
        for entity in data.get("form", []):
            words = [w for w in entity.get("words", []) if w.get("text", "").strip()]
            for row in _word_rows(words):
                height = max(w["box"][3] for w in row) - min(w["box"][1] for w in row)
                if height > best[0]:
                    best = (height, " ".join(w["text"] for w in row))
        image = root / "funsd" / "images" / f"{annotation.stem}.png"
        if image.is_file():
            items.append(Item(f"funsd_{annotation.stem}", "funsd", "form", best[1] or None, image))
    return items


def _word_rows(words: list[dict]) -> list[list[dict]]:
    """An entity's words grouped into rows (vertical centres within half a word height)."""
    rows: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (w["box"][1] + w["box"][3]) / 2):
        centre = (word["box"][1] + word["box"][3]) / 2
        h = word["box"][3] - word["box"][1]
        if rows and abs(centre - np.mean([(w["box"][1] + w["box"][3]) / 2 for w in rows[-1]])) < 0.5 * h:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [sorted(row, key=lambda w: w["box"][0]) for row in rows]


def icdar_items(root: Path, limit: int) -> list[Item]:
    items = []
    folder = root / "icdar2015" / "e2e"
    names = sorted((folder / "img").glob("*.jpg"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))[:limit]
    for image in names:
        gt = folder / "gt" / f"gt_{image.stem}.txt"
        best = (0.0, None)
        if gt.is_file():
            for raw in gt.read_text(encoding="utf-8-sig", errors="replace").splitlines():
                parts = raw.strip().split(",", 8)
                if len(parts) < 9 or parts[8].strip() in ("###", ""):
                    continue
                points = np.array([float(v) for v in parts[:8]]).reshape(4, 2)
                height = max(np.linalg.norm(points[3] - points[0]), np.linalg.norm(points[2] - points[1]))
                if height > best[0]:
                    best = (height, parts[8].strip())
        items.append(Item(f"icdar_{image.stem}", "icdar2015", "scene", best[1], image))
    return items


def erase_poster_items(root: Path, limit: int) -> list[Item]:
    posters = sorted((root / "erase_pairs" / "poster").glob("*.png"))
    posters = [p for p in posters if not p.stem.endswith("_g")][:limit]
    return [Item(f"erase_poster_{p.stem}", "erase_pairs", "poster", None, p) for p in posters]


# Vocabulary of the rendered set, on purpose unlike the training generator's.
SIGN_TEXTS = ["FIRE EXIT", "WET FLOOR", "AUTHORISED PERSONNEL ONLY", "TAXI RANK", "CAR WASH", "FERRY TERMINAL",
              "NO SMOKING", "VISITOR PARKING", "LOADING ZONE", "BICYCLE LANE", "FRESH BREAD", "CITY CENTRE",
              "ICE CREAM", "BARBER", "LAUNDRY", "POST OFFICE", "HARBOUR VIEW", "SCHOOL ZONE", "TRAIN STATION",
              "GIFT SHOP", "Noodle Bar", "Open 24 Hours", "Rooms Available", "Pet Friendly", "Dead End"]
SIGN_SUBS = ["Since 1987", "Next left", "Please use other door", "Mon-Fri 9-5", "200 m", "Thank you", "CCTV in operation"]
POSTER_TEXTS = ["MIDNIGHT CINEMA", "STREET FOOD WEEK", "OPEN AIR THEATRE", "VINTAGE MARKET", "ROBOTICS EXPO",
                "PHOTO CONTEST", "CLEARANCE EVENT", "RIVER REGATTA", "POETRY SLAM", "CRAFT BEER DAYS",
                "CHESS TOURNAMENT", "GARDEN SHOW", "CITY MARATHON", "SCIENCE NIGHT", "WINTER GALA"]
POSTER_LINES = ["Saturday 14 June", "Doors open 7 pm", "Town Square", "Free admission", "All ages welcome",
                "Tickets at the door", "Harbour Hall", "Sunday 3 March", "Live DJ sets", "Family friendly"]
PLAIN = [(200, 30, 40), (20, 60, 140), (30, 120, 60), (250, 200, 30), (20, 20, 20), (240, 240, 235), (120, 40, 150), (240, 120, 30)]


def _font(path: Path, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(path), size)


def _fit(path: Path, text: str, size: int, max_width: float) -> int:
    while size > 10 and _font(path, size).getlength(text) > max_width:
        size = int(size * 0.9)
    return size


def _contrast(colour) -> tuple:
    luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    return (255, 255, 255) if luma < 140 else (15, 15, 15)


def _backdrop(rng: random.Random, photos: list, width: int, height: int):
    from PIL import Image

    if photos and rng.random() < 0.5:
        photo = rng.choice(photos)
        scale = max(width / photo.width, height / photo.height)
        photo = photo.resize((int(photo.width * scale) + 1, int(photo.height * scale) + 1))
        x, y = rng.randint(0, photo.width - width), rng.randint(0, photo.height - height)
        return photo.crop((x, y, x + width, y + height))
    return Image.new("RGB", (width, height), rng.choice(PLAIN))


def _mean(image, box) -> tuple:
    crop = np.asarray(image.crop(tuple(int(v) for v in box))).reshape(-1, 3)
    return tuple(int(v) for v in crop.mean(0))


def rendered_items(root: Path, limit: int, seed: int) -> list[Item]:
    """Signs and posters drawn from ``seed`` with fonts/latin on held-out backgrounds."""
    from PIL import Image, ImageDraw

    from ocromni.caption_model.train import HELD_OUT_BACKGROUNDS

    fonts = sorted((root / "fonts" / "latin").glob("*.[ot]tf"))
    photos = []
    for name in HELD_OUT_BACKGROUNDS:
        path = root / "backgrounds" / name
        if path.is_file():
            with Image.open(path) as image:
                photos.append(image.convert("RGB"))
    items = []
    for i in range(limit):
        rng = random.Random(f"{seed}-sign-{i}")  # one generator per image: --rendered N keeps the first ones
        # A sign: one big line (sometimes a small second one), on a panel or straight on the backdrop.
        width = rng.randint(560, 900)
        height = int(width * rng.uniform(0.4, 0.8))
        image = _backdrop(rng, photos, width, height)
        draw = ImageDraw.Draw(image)
        font = rng.choice(fonts)
        text = rng.choice(SIGN_TEXTS)
        x0, y0, x1, y1 = 0, 0, width, height
        if rng.random() < 0.5:
            x0, y0 = width * rng.uniform(0.03, 0.15), height * rng.uniform(0.05, 0.2)
            x1, y1 = width - width * rng.uniform(0.03, 0.15), height - height * rng.uniform(0.05, 0.2)
            draw.rectangle((x0, y0, x1, y1), fill=rng.choice(PLAIN))
        colour = _contrast(_mean(image, (x0, y0, x1, y1)))
        size = _fit(font, text, int((y1 - y0) * rng.uniform(0.25, 0.4)), (x1 - x0) * 0.9)
        big = _font(font, size)
        draw.text(((x0 + x1) / 2, (y0 + y1) / 2 - size * 0.3), text, font=big, fill=colour, anchor="mm")
        if rng.random() < 0.5:
            sub = rng.choice(SIGN_SUBS)
            small = _font(font, max(int(size * 0.35), 12))
            draw.text(((x0 + x1) / 2, (y0 + y1) / 2 + size * 0.7), sub, font=small, fill=colour, anchor="mm")
        items.append(Item(f"rendered_sign_{i:03d}", "rendered", "sign", text, image=np.asarray(image)))
    for i in range(limit):
        rng = random.Random(f"{seed}-poster-{i}")
        # A poster: portrait, a headline (the largest line), a subtitle and small details.
        width = rng.randint(500, 700)
        height = int(width * rng.uniform(1.3, 1.5))
        image = _backdrop(rng, photos, width, height)
        draw = ImageDraw.Draw(image)
        font = rng.choice(fonts)
        head = rng.choice(POSTER_TEXTS)
        top = height * rng.uniform(0.06, 0.2)
        colour = _contrast(_mean(image, (0, top, width, top + height * 0.2)))
        size = _fit(font, head, int(width * rng.uniform(0.09, 0.14)), width * 0.9)
        draw.text((width / 2, top), head, font=_font(font, size), fill=colour, anchor="mt")
        y = top + size * 1.8
        for line in rng.sample(POSTER_LINES, rng.randint(2, 4)):
            small = _fit(font, line, max(int(size * rng.uniform(0.3, 0.45)), 12), width * 0.9)
            draw.text((width / 2, y), line, font=_font(font, small), fill=colour, anchor="mt")
            y += small * 1.6
        items.append(Item(f"rendered_poster_{i:03d}", "rendered", "poster", head, image=np.asarray(image)))
    return items


# --- reading and scoring -------------------------------------------------------------------


def page_of(item: Item):
    from ocromni.io import sources
    from ocromni.types import Page

    if item.image is not None:
        return Page.from_array(item.image, source=item.key)
    return next(iter(sources.iter_pages([str(item.path)])))


def read(item: Item, page, cache: Path):
    """The page's OCR, from the cache or the engine (then cached)."""
    from ocromni.engine import get_engine
    from ocromni.tasks.recognize import recognize_pages
    from ocromni.types import PageText

    cached = cache / f"{item.key}.json"
    if cached.is_file():
        return PageText.from_dict(json.loads(cached.read_text(encoding="utf-8")))
    _, text = next(recognize_pages(get_engine(), [page], batch_size=1))
    cache.mkdir(parents=True, exist_ok=True)
    temp = cached.with_suffix(".tmp")
    temp.write_text(json.dumps(text.to_dict()), encoding="utf-8")
    os.replace(temp, cached)
    return text


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def alnum(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def quotes(caption: str, largest: str) -> bool:
    return normalise(largest) in normalise(caption)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=10 ** 6, help="at most this many images of each source")
    parser.add_argument("--rendered", type=int, default=30, help="rendered signs, and as many posters")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--ocr-cache", type=Path, default=Path("/tmp/ocr_cache"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--ocr-only", action="store_true", help="only fill the OCR cache")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        log(f"no data at {args.data}; set OCROMNI_DATA or --data")
        return 2

    from ocromni.caption_model.classifier import load_classifier
    from ocromni.tasks.caption import describe

    items = (sroie_items(args.data, args.limit) + funsd_items(args.data, args.limit) + icdar_items(args.data, args.limit)
             + erase_poster_items(args.data, args.limit) + rendered_items(args.data, min(args.rendered, args.limit), args.seed))
    log(f"{len(items)} images: " + ", ".join(f"{k} {v}" for k, v in Counter(i.label for i in items).items()))
    if args.ocr_only:
        for n, item in enumerate(items, 1):
            page = page_of(item)
            read(item, page, args.ocr_cache)
            page.release()
            if n % 10 == 0:
                log(f"{n}/{len(items)} read")
        return 0
    classifier = load_classifier()
    kinds = classifier.kinds
    rows = []
    started = time.perf_counter()
    for n, item in enumerate(items, 1):
        page = page_of(item)
        text = read(item, page, args.ocr_cache)
        t0 = time.perf_counter()
        short = describe(page, text, "short", classifier)
        long = describe(page, text, "long", classifier)
        describe_s = time.perf_counter() - t0
        row = {
            "key": item.key, "source": item.source, "label": item.label, "kind": short.kind,
            "kind_confidence": round(short.kind_confidence, 3), "largest": item.largest,
            "prominent_text": short.prominent_text, "caption": short.text, "describe_s": round(describe_s / 2, 4),
        }
        if item.largest:
            row["quoted"] = quotes(short.text, item.largest)
            row["quoted_lenient"] = alnum(item.largest) in alnum(short.text)
            row["quoted_long"] = quotes(long.text, item.largest)
        rows.append(row)
        page.release()
        if n % 10 == 0:
            log(f"{n}/{len(items)} ({time.perf_counter() - started:.0f} s)")

    labels = sorted({r["label"] for r in rows})
    per_label = {}
    for label in labels:
        mine = [r for r in rows if r["label"] == label]
        quoted = [r for r in mine if "quoted" in r]
        per_label[label] = {
            "images": len(mine), "kind_accuracy": _share(r["kind"] == label for r in mine),
            "with_largest_line": len(quoted),
            "quote_rate": _share(r["quoted"] for r in quoted) if quoted else None,
            "quote_rate_lenient": _share(r["quoted_lenient"] for r in quoted) if quoted else None,
            "quote_rate_long": _share(r["quoted_long"] for r in quoted) if quoted else None,
        }
    scored = [r for r in rows if "quoted" in r]
    summary = {
        "images": len(rows), "kind_accuracy": _share(r["kind"] == r["label"] for r in rows),
        "with_largest_line": len(scored),
        "quote_rate": _share(r["quoted"] for r in scored),
        "quote_rate_lenient": _share(r["quoted_lenient"] for r in scored),
        "quote_rate_long": _share(r["quoted_long"] for r in scored),
        "describe_ms_mean": round(1000 * float(np.mean([r["describe_s"] for r in rows])), 1),
    }
    confusion = defaultdict(Counter)
    for r in rows:
        confusion[r["label"]][r["kind"]] += 1
    print_table(summary, per_label, confusion, kinds)
    result = {
        "benchmark": "caption", "command": "python benchmarks/caption.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
        "classifier": json.loads((Path(__file__).resolve().parents[1] / "ocromni" / "weights" / "caption" / "classifier.json").read_text()).get("training", {}),
        "summary": summary, "per_label": per_label,
        "confusion": {label: dict(counts) for label, counts in confusion.items()}, "items": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 4) if flags else 0.0


def _pct(value) -> str:
    return "  -  " if value is None else f"{100 * value:5.1f}"


def print_table(summary: dict, per_label: dict, confusion: dict, kinds: list) -> None:
    print(f"{'type':<10} {'images':>6} {'type acc %':>10} {'largest':>7} {'quoted %':>8} {'lenient %':>9} {'long %':>6}")
    for label, m in per_label.items():
        print(f"{label:<10} {m['images']:>6} {_pct(m['kind_accuracy']):>10} {m['with_largest_line']:>7} "
              f"{_pct(m['quote_rate']):>8} {_pct(m['quote_rate_lenient']):>9} {_pct(m['quote_rate_long']):>6}")
    s = summary
    print(f"{'all':<10} {s['images']:>6} {_pct(s['kind_accuracy']):>10} {s['with_largest_line']:>7} "
          f"{_pct(s['quote_rate']):>8} {_pct(s['quote_rate_lenient']):>9} {_pct(s['quote_rate_long']):>6}")
    print()
    used = [k for k in kinds if any(confusion[label][k] for label in confusion)]
    print("confusion (rows: label, columns: predicted)")
    print(f"{'':<10} " + " ".join(f"{k[:8]:>8}" for k in used))
    for label in per_label:
        print(f"{label:<10} " + " ".join(f"{confusion[label][k]:>8}" for k in used))


if __name__ == "__main__":
    sys.exit(main())
