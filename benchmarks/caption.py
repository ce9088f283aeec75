"""caption benchmark: image-type accuracy and how often the caption quotes the largest line.

    python benchmarks/caption.py                 # every dev image (slow: OCR of ~400 images, cached)
    python benchmarks/caption.py --limit 25      # at most 25 images of each source

The labelled dev set is built by this script from the ground truth, never by hand-picking:

* SROIE receipts -> ``receipt``; lines: the rows of ``box/*.csv``.
* FUNSD forms -> ``form``; lines: the rows of words within each entity (a row's size is the
  median of its words' sizes).
* ICDAR 2015 end-to-end scenes -> ``scene``; lines: the words that are not ``###``.
* erase_pairs posters (``poster/N.png``) -> ``poster``; no text labels (type only).
* Signs and posters rendered here from the seed with the 80 fonts of ``fonts/latin`` on
  the backgrounds the classifier's training never uses (see
  ``ocromni.caption_model.train.HELD_OUT_BACKGROUNDS``) and on plain colours; their
  largest line (the sign's text, the poster's headline) is known by construction.

The largest line is the ground-truth line with the largest text size, where a line's size
is its box's side across the baseline, capped at ``CHAR_ASPECT`` (2.5) times its mean
character advance (see ``text_size``: a box around two stacked lines, a logo or a word set
vertically is not large text). Lines with fewer than two letters or digits are not
candidates. Lines within ``TIE`` (95 %) of the largest's size count as equally largest.
A page has a *clear* largest line when every other text is below ``CLEAR`` (90 %) of its
size; most receipts have none, so the figures are also given on clear pages alone.

A caption "quotes" the largest line when one of the texts it puts in quotation marks
contains the line's text, compared case-insensitively with all whitespace removed (the
long caption's run of body text, "beginning “...”", does not count). "near" also accepts
an OCR-level slip: an edit distance of at most ``NEAR_CER`` (0.1) times the line's length,
so lines under ten characters must still match exactly. "OCR read" is how often the OCR
read the line at all (near, anywhere on the page): the ceiling for any caption made from
that reading. OCR results are cached per image in ``--ocr-cache`` (the same names as
benchmarks/ask.py; clear the cache after the OCR changes). The table goes to stdout, JSON
to ``--out``, progress to stderr.
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
    largest: Optional[list[str]]  # the largest line's text, then lines as large (see TIE); None where unknown
    clear: bool  # whether the largest line stands out (see CLEAR)
    path: Optional[Path] = None
    image: Optional[np.ndarray] = None  # rendered items


# --- the labelled set ---------------------------------------------------------------------

# A line's text size, from its ground-truth box: the box's side across the baseline, but at
# most CHAR_ASPECT times its mean character advance (the side along the baseline over the
# characters). The cap is there because a box is not always one line of text: SROIE boxes
# some two-line table headers ("AMOUNT" over "(RM)") as one line and FUNSD boxes logos and
# emblems whole, and neither is large text. Printed and handwritten lines, tight or loosely
# boxed, stay under 2.5 (FUNSD word boxes are about 1.5, SROIE's loose boxes up to ~2.3).
CHAR_ASPECT = 2.5
# Lines whose size is within this share of the largest are equally "the largest": box
# annotations vary by a few pixels, so a caption quoting any of them counts.
TIE = 0.95
MIN_ALNUM = 2  # a "line" of one character ("3", ")") is not a line worth quoting


def text_size(across: float, along: float, text: str) -> float:
    characters = max(len("".join(text.split())), 1)
    return min(across, CHAR_ASPECT * along / characters)


def quad_sides(points: np.ndarray) -> tuple[float, float]:
    """(across, along) the baseline of a quadrilateral listed clockwise from the text's top-left."""
    across = (np.linalg.norm(points[3] - points[0]) + np.linalg.norm(points[2] - points[1])) / 2
    along = (np.linalg.norm(points[1] - points[0]) + np.linalg.norm(points[2] - points[3])) / 2
    return float(across), float(along)


# A page has a clear largest line when every other text is below this share of its size;
# most receipts and forms have none (their lines are all about one size, and which box an
# annotator drew tallest is chance), so the quote rate is also reported on clear pages.
CLEAR = 0.9


def largest_lines(sized: list[tuple[float, str]]) -> tuple[Optional[list[str]], bool]:
    """The largest line's text first, then any others within ``TIE`` of its size; and
    whether the page has a clear largest line (see ``CLEAR``)."""
    sized = [(size, text) for size, text in sized if sum(ch.isalnum() for ch in text) >= MIN_ALNUM]
    if not sized:
        return None, False
    sized.sort(key=lambda st: -st[0])
    largest = sized[0]
    others = [size for size, text in sized[1:] if squeeze(text) != squeeze(largest[1])]
    clear = not others or others[0] < CLEAR * largest[0]
    return [text for size, text in sized if size >= TIE * largest[0]], clear


def sroie_items(root: Path, limit: int) -> list[Item]:
    items = []
    for box in sorted((root / "sroie" / "box").glob("*.csv"))[:limit]:
        sized = []
        for raw in box.read_text(encoding="utf-8-sig", errors="replace").splitlines():
            parts = raw.strip().split(",", 8)
            if len(parts) < 9 or not parts[8].strip():
                continue
            across, along = quad_sides(np.array([float(v) for v in parts[:8]]).reshape(4, 2))
            sized.append((text_size(across, along, parts[8].strip()), parts[8].strip()))
        image = root / "sroie" / "img" / f"{box.stem}.jpg"
        if image.is_file():
            items.append(Item(f"sroie_{box.stem}", "sroie", "receipt", *largest_lines(sized), image))
    return items


def funsd_items(root: Path, limit: int) -> list[Item]:
    items = []
    for annotation in sorted((root / "funsd" / "annotations").glob("*.json"))[:limit]:
        data = json.loads(annotation.read_text(encoding="utf-8"))
        sized = []
        for entity in data.get("form", []):
            words = [w for w in entity.get("words", []) if w.get("text", "").strip()]
            for row in _word_rows(words):
                sizes = [_word_size(w) for w in row]
                sized.append((float(np.median(sizes)), " ".join(w["text"].strip() for w in row)))
        image = root / "funsd" / "images" / f"{annotation.stem}.png"
        if image.is_file():
            items.append(Item(f"funsd_{annotation.stem}", "funsd", "form", *largest_lines(sized), image))
    return items


def _word_size(word: dict) -> float:
    """A FUNSD word's text size; its box is upright, so a word set vertically (the Bates
    numbers along the margin) is taller than wide and its size is the box's width."""
    x0, y0, x1, y1 = word["box"]
    text = word["text"].strip()
    width, height = x1 - x0, y1 - y0
    across, along = (min(width, height), max(width, height)) if len(text) >= 2 else (height, width)
    return text_size(across, along, text)


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
        sized = []
        if gt.is_file():
            for raw in gt.read_text(encoding="utf-8-sig", errors="replace").splitlines():
                parts = raw.strip().split(",", 8)
                if len(parts) < 9 or parts[8].strip() in ("###", ""):
                    continue
                across, along = quad_sides(np.array([float(v) for v in parts[:8]]).reshape(4, 2))
                sized.append((text_size(across, along, parts[8].strip()), parts[8].strip()))
        items.append(Item(f"icdar_{image.stem}", "icdar2015", "scene", *largest_lines(sized), image))
    return items


def erase_poster_items(root: Path, limit: int) -> list[Item]:
    posters = sorted((root / "erase_pairs" / "poster").glob("*.png"))
    posters = [p for p in posters if not p.stem.endswith("_g")][:limit]
    return [Item(f"erase_poster_{p.stem}", "erase_pairs", "poster", None, False, p) for p in posters]


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
        items.append(Item(f"rendered_sign_{i:03d}", "rendered", "sign", [text], True, image=np.asarray(image)))
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
        items.append(Item(f"rendered_poster_{i:03d}", "rendered", "poster", [head], True, image=np.asarray(image)))
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


# How close a quote must be to count as "near": an edit distance of at most this share of
# the line's characters (whitespace dropped), i.e. a character error rate of 0.1 -- what one
# OCR slip in a ten-letter headline costs. Lines under ten characters must match exactly.
NEAR_CER = 0.1


def squeeze(text: str) -> str:
    """Case-folded, every whitespace run dropped: "LEVEL 2" and "Level2" read the same."""
    return "".join(text.casefold().split())


def caption_quotes(caption: str) -> list[str]:
    """The texts the caption quotes, without the long caption's run of body text
    ("beginning “...”"), which would quote nearly anything on a short page."""
    return re.findall(r"(?<!beginning )\u201c(.*?)\u201d", caption)


def substring_distance(needle: str, haystack: str) -> int:
    """Fewest edits turning ``needle`` into some substring of ``haystack``."""
    previous = [0] * (len(haystack) + 1)  # a match may start anywhere in the haystack
    for i, a in enumerate(needle, 1):
        current = [i] + [0] * len(haystack)
        for j, b in enumerate(haystack, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
        previous = current
    return min(previous)


def quotes(caption: str, lines: list[str], near: bool = False) -> bool:
    """Whether the caption quotes one of ``lines``: a line's text stands inside one of its
    quotes (case and whitespace aside), or with ``near`` within ``NEAR_CER`` of it."""
    spans = [squeeze(span) for span in caption_quotes(caption)]
    for line in lines:
        target = squeeze(line)
        if any(target in span for span in spans):
            return True
        if near and any(substring_distance(target, span) <= int(NEAR_CER * len(target)) for span in spans):
            return True
    return False


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
    from ocromni.tasks.caption import NO_TEXT_KIND, describe

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
    kinds = classifier.kinds + [NO_TEXT_KIND]  # the kind of pages with nothing legible
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
            "kind_confidence": round(short.kind_confidence, 3),
            "largest": item.largest[0] if item.largest else None, "equally_large": (item.largest or [])[1:],
            "prominent_text": short.prominent_text, "caption": short.text, "describe_s": round(describe_s / 2, 4),
        }
        if item.largest:
            row["quoted"] = quotes(short.text, item.largest)
            row["quoted_near"] = quotes(short.text, item.largest, near=True)
            row["quoted_long"] = quotes(long.text, item.largest)
            row["quoted_long_near"] = quotes(long.text, item.largest, near=True)
            row["clear"] = item.clear
            row["caption_long"] = long.text
            # Whether the OCR read the line at all (near, on any row of the page): the
            # ceiling for any caption built from this reading.
            row["ocr_read_it"] = quotes("".join(f"\u201c{row_text}\u201d" for row_text in text.text.splitlines()),
                                        item.largest, near=True)
        rows.append(row)
        page.release()
        if n % 10 == 0:
            log(f"{n}/{len(items)} ({time.perf_counter() - started:.0f} s)")

    groups = sorted({(r["source"], r["label"]) for r in rows})
    per_set = {f"{source}/{label}": _figures([r for r in rows if (r["source"], r["label"]) == (source, label)])
               for source, label in groups}
    summary = _figures(rows)
    summary["describe_ms_mean"] = round(1000 * float(np.mean([r["describe_s"] for r in rows])), 1)
    confusion = defaultdict(Counter)
    for r in rows:
        confusion[r["label"]][r["kind"]] += 1
    print_table(summary, per_set, confusion, kinds)
    result = {
        "benchmark": "caption", "command": "python benchmarks/caption.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
        "classifier": json.loads((Path(__file__).resolve().parents[1] / "ocromni" / "weights" / "caption" / "classifier.json").read_text()).get("training", {}),
        "summary": summary, "per_set": per_set,
        "confusion": {label: dict(counts) for label, counts in confusion.items()}, "items": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


def _figures(rows: list[dict]) -> dict:
    scored = [r for r in rows if "quoted" in r]
    clear = [r for r in scored if r["clear"]]

    def rate(key, among=scored):
        return _share(r[key] for r in among) if among else None

    return {
        "images": len(rows), "kind_accuracy": _share(r["kind"] == r["label"] for r in rows),
        "with_largest_line": len(scored), "quote_rate": rate("quoted"), "quote_rate_near": rate("quoted_near"),
        "quote_rate_long": rate("quoted_long"), "quote_rate_long_near": rate("quoted_long_near"),
        "ocr_read_it": rate("ocr_read_it"), "with_clear_largest_line": len(clear),
        "quote_rate_clear": rate("quoted", clear), "quote_rate_near_clear": rate("quoted_near", clear),
        "ocr_read_it_clear": rate("ocr_read_it", clear),
    }


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 4) if flags else 0.0


def _pct(value) -> str:
    return "  -  " if value is None else f"{100 * value:5.1f}"


COLUMNS = [("images", "images"), ("kind_accuracy", "kind %"), ("with_largest_line", "labelled"),
           ("quote_rate", "quote %"), ("quote_rate_near", "near %"), ("quote_rate_long", "long %"),
           ("quote_rate_long_near", "long near %"), ("ocr_read_it", "OCR read %"),
           ("with_clear_largest_line", "clear"), ("quote_rate_clear", "quote %"), ("quote_rate_near_clear", "near %"),
           ("ocr_read_it_clear", "OCR read %")]


def print_table(summary: dict, per_set: dict, confusion: dict, kinds: list) -> None:
    print(f"{'data set/kind':<20} " + " ".join(f"{title:>{max(len(title), 6)}}" for _, title in COLUMNS))
    for name, m in [*per_set.items(), ("all", summary)]:
        cells = [f"{m[key]:>{max(len(title), 6)}}" if isinstance(m[key], int) else f"{_pct(m[key]):>{max(len(title), 6)}}"
                 for key, title in COLUMNS]
        print(f"{name:<20} " + " ".join(cells))
    print()
    used = [k for k in kinds if any(confusion[label][k] for label in confusion)]
    print("confusion (rows: label, columns: predicted)")
    print(f"{'':<10} " + " ".join(f"{k[:8]:>8}" for k in used))
    for label in sorted(confusion):
        print(f"{label:<10} " + " ".join(f"{confusion[label][k]:>8}" for k in used))


if __name__ == "__main__":
    sys.exit(main())
