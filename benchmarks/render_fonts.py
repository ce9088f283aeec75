"""Render-text legibility: does OCR read back exactly what render-text drew, per font?

    python benchmarks/render_fonts.py                  # 100 phrases per font, Tesseract + ocromni
    python benchmarks/render_fonts.py --n 30 --systems tesseract

For each shipped font, ``--n`` phrases (2-5 words from a fixed word list, some
capitalised, some numbers; seeded, so every run and every font gets the same phrases)
are rendered by ``ocromni.tasks.render.render_text`` at 24-48 px on plain backgrounds,
then read by Tesseract (``--psm 7``, one line, ``OMP_THREAD_LIMIT=1``) and by ocromni's
own OCR (one image per batch by default). A read is exact when it equals the phrase after collapsing whitespace. The
default font must be read exactly by Tesseract in at least 98% of cases.

The table goes to stdout, JSON to ``--out`` (benchmarks/results/render_fonts.json),
progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import metrics  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "render_fonts.json"
SYSTEMS = ("tesseract", "ocromni")
TARGET = 0.98  # the default font's exact Tesseract read rate at >= 24 px

# Common English words of every shape: ascenders, descenders, round and straight letters.
WORDS = """
about above across after again against almost along also always among answer around
back bank before begin behind below best better between big black blue board body book
both box bring brown build business buy call came card care carry center change check
city clear close cold come company corner could country cover cross daily dark day deep
delivery desk direct door down draw drive early east easy edge eight enjoy enter every
exit express fall family farm fast field fifth final find fine fire first five floor
fly follow food forest form four free fresh friday front full garden gate give glass
gold good great green ground group grow half hand happy hard harbor heavy help high
hill hold home hotel hour house image inside island jump just keep key kind king kitchen
known lake large last late light line little local long lower lucky main major market
menu middle minute model money month morning mountain music name near never night north
number ocean office often open order outside over page paper park party people phone
place plain plant point power price print public quick quiet radio rain ready river road
rock room round royal sale school second service seven shop short side sign simple
single small south space special spring square station still stone store street strong
summer sunday table taxi team text thank think three ticket today total tower town
track train travel tree true under until upper valley video visit voice wait walk warm
water weekly west white window winter world yellow young zone
""".split()

# Plain backgrounds with dark text, as signs, labels and documents have them.
COLOR_PAIRS = (
    ("black", "white"),
    ("#1a237e", "#f5f0e1"),
    ("#202020", "#e8f4ff"),
    ("#8b0000", "white"),
    ("#004d40", "#fffde7"),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_phrases(n: int, seed: int) -> list[dict]:
    """``n`` phrases with their size and colours, the same for every font."""
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        words = rng.sample(WORDS, rng.randint(2, 5))
        if rng.random() < 0.4:
            words[0] = words[0].capitalize()
        if rng.random() < 0.15:
            words = [w.upper() for w in words]
        if rng.random() < 0.3:
            number = str(rng.randint(1, 9999)) if rng.random() < 0.6 else f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"
            words.insert(rng.randint(0, len(words)), number)
        color, background = rng.choice(COLOR_PAIRS)
        items.append({"text": " ".join(words), "size": rng.randint(24, 48), "color": color, "background": background})
    return items


def render_all(fonts: list[str], phrases: list[dict], folder: Path) -> dict[str, list[Path]]:
    from ocromni.tasks.render import render_text

    paths: dict[str, list[Path]] = {}
    for font in fonts:
        paths[font] = []
        for i, item in enumerate(phrases):
            path = folder / f"{font}-{i:04d}.png"
            render_text(item["text"], font=font, font_size=item["size"], color=item["color"],
                        background=item["background"], output=str(path))
            paths[font].append(path)
    return paths


def tesseract_read(path: Path) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    done = subprocess.run(["tesseract", str(path), "stdout", "--psm", "7"], capture_output=True, text=True, env=env)
    return done.stdout


def read_tesseract(paths: list[Path], jobs: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(tesseract_read, paths))


def read_ocromni(paths: list[Path], batch_size: int) -> list[str]:
    import ocromni

    return [page.text for page in ocromni.recognize([str(p) for p in paths], batch_size=batch_size)]


def score(predictions: list[str], phrases: list[dict]) -> dict:
    exact, cers, misses = 0, [], []
    for prediction, item in zip(predictions, phrases):
        got, want = metrics.normalize_whitespace(prediction), item["text"]
        exact += got == want
        cers.append(metrics.cer(got, want))
        if got != want:
            misses.append({"text": want, "read": got, "size": item["size"]})
    return {"exact": exact / len(phrases), "cer": sum(cers) / len(cers), "misses": misses}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="phrases per font")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--fonts", help="comma-separated font names (default: every shipped font)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="tesseract, ocromni or both")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel Tesseract processes")
    parser.add_argument("--ocromni-batch", type=int, default=1,
                        help="pages per ocromni batch (1: each image read on its own; larger batches have "
                        "changed what ocromni reads in an image)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep-images", type=Path, help="also keep the rendered images in this folder")
    args = parser.parse_args(argv)

    from ocromni.fonts import DEFAULT_FONT, list_fonts

    fonts = args.fonts.split(",") if args.fonts else [info.name for info in list_fonts()]
    systems = [s for s in args.systems.split(",") if s]
    skipped = {}
    if "tesseract" in systems and shutil.which("tesseract") is None:
        systems.remove("tesseract")
        skipped["tesseract"] = "tesseract binary not found (apt-get install tesseract-ocr)"
    phrases = make_phrases(args.n, args.seed)

    results: dict[str, dict] = {font: {} for font in fonts}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep_images or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        log(f"rendering {len(phrases)} phrases x {len(fonts)} fonts ...")
        paths = render_all(fonts, phrases, folder)
        timings["render_s"] = round(time.perf_counter() - started, 2)
        for system in systems:
            started = time.perf_counter()
            for font in fonts:
                log(f"{system}: {font}")
                predictions = read_tesseract(paths[font], args.jobs) if system == "tesseract" else read_ocromni(paths[font], args.ocromni_batch)
                results[font][system] = score(predictions, phrases)
            timings[f"{system}_s"] = round(time.perf_counter() - started, 2)

    header = f"{'font':<18} {'n':>4}" + "".join(f"  {s + ' exact':>16} {s + ' CER':>14}" for s in systems)
    print(header)
    print("-" * len(header))
    for font in fonts:
        name = font + (" *" if font == DEFAULT_FONT else "")
        row = f"{name:<18} {len(phrases):>4}"
        for system in systems:
            r = results[font][system]
            row += f"  {r['exact']:>16.1%} {r['cer']:>14.4f}"
        print(row)
    print(f"* default font; sizes 24-48 px; target: default read exactly by Tesseract in >= {TARGET:.0%}")
    for system, reason in skipped.items():
        print(f"skipped {system}: {reason}")

    verdict = None
    if "tesseract" in systems and DEFAULT_FONT in results:
        verdict = results[DEFAULT_FONT]["tesseract"]["exact"] >= TARGET
        print(f"default font {DEFAULT_FONT}: {'meets' if verdict else 'MISSES'} the target")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "render_fonts",
        "n_per_font": len(phrases),
        "seed": args.seed,
        "sizes_px": [24, 48],
        "default_font": DEFAULT_FONT,
        "target_tesseract_exact": TARGET,
        "default_meets_target": verdict,
        "systems": systems,
        "ocromni_batch_size": args.ocromni_batch,
        "skipped": skipped,
        "tesseract_version": _tesseract_version() if "tesseract" in systems else None,
        "platform": platform.platform(),
        "timings": timings,
        "fonts": {font: {s: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                         for s, r in results[font].items()} for font in fonts},
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    log(f"wrote {args.out}")
    return 0


def _tesseract_version() -> str:
    done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "?"


if __name__ == "__main__":
    sys.exit(main())
