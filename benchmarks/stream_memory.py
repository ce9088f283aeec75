"""Peak memory while streaming a long PDF through ocromni.

    python benchmarks/stream_memory.py [--pages 500] [--dpi 150] [--command detect]
    python benchmarks/stream_memory.py --sources-only --pages 300 --dpi 100
    python benchmarks/stream_memory.py --long-run --pages 1000


Builds a scanned-looking PDF of N pages (each page an image of text, no text layer, so
every page is rendered and goes through the model), runs the real ``ocromni`` command on
it in a subprocess, and reports peak RSS next to the size of one rendered page and of
all pages together — the figure that shows pages stream instead of piling up.
``--sources-only`` streams the pages through ocromni's input module alone (render, then
release) and prints RSS every 50 pages, to tell the input side's memory from the model's.
``--long-run`` reads N small pages of varying size in-process through ``iter_recognize``
(so the detector sees a new input shape on most pages, as with real scans and photos) and
prints RSS every 100 pages: RSS at page 1000 over RSS at page 100 is the flatness figure.
Small pages (at most 400 px a side) keep 1,000 pages affordable on a busy 2-core machine.
Writes benchmarks/results/stream_memory.json (or stream_memory_long_run.json).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymupdf
from PIL import Image, ImageDraw, ImageFont

RESULTS = Path(__file__).parent / "results"


def make_scanned_pdf(path: Path, pages: int) -> None:
    """A PDF whose pages are images of text (like a scan): nothing for --ocr auto to reuse."""
    font = ImageFont.load_default(size=28)
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
        draw = ImageDraw.Draw(image)
        for row in range(12):
            draw.text((100, 120 + row * 120), f"Page {number} line {row + 1}: invoice 4{number:03d}-{row}", fill=0, font=font)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=buffer.getvalue())
    doc.save(path, deflate=True)


def peak_rss_of(command: list[str]) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, records written) of running ``command``."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "run = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(peak, seconds, len(run.stdout.splitlines()), run.returncode)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True).stdout
    peak, seconds, records, code = out.split()
    if int(code) != 0:
        raise SystemExit(f"ocromni exited with {code}")
    return float(peak), float(seconds), int(records)


def stream_sources_only(pdf: Path, dpi: int) -> list[tuple[int, float]]:
    """(page, RSS MB) every 50 pages while iter_pages renders and releases each page."""
    import psutil

    from ocromni.io.sources import iter_pages

    process, samples = psutil.Process(), []
    for number, page in enumerate(iter_pages([str(pdf)], dpi=dpi), 1):
        page.image
        page.release()
        if number % 50 == 0:
            samples.append((number, round(process.memory_info().rss / 2**20, 1)))
            print(f"page {number}: {samples[-1][1]} MB", file=sys.stderr)
    return samples


def varied_pages(count: int, seed: int = 0):
    """``count`` RGB pages of 160-400 x 120-400 px, each with two or three lines of text."""
    import numpy as np

    rng = np.random.default_rng(seed)
    font = ImageFont.load_default(size=18)
    for number in range(1, count + 1):
        width, height = int(rng.integers(160, 401)), int(rng.integers(120, 401))
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        for row in range(int(rng.integers(2, 4))):
            draw.text((10, 15 + row * 35), f"No {number} row {row + 1}: 4{number:03d}", fill="black", font=font)
        yield np.array(image)


def long_run(pages: int, batch_size: int) -> list[tuple[int, float]]:
    """(page, RSS MB) every 100 pages of an in-process recognize run over varied pages."""
    import psutil

    from ocromni import api

    process, samples = psutil.Process(), []
    started = time.perf_counter()
    source, number = varied_pages(pages), 0
    while number < pages:
        # The API takes a list of arrays; 100 at a time keeps the inputs' own memory small.
        chunk = [next(source) for _ in range(min(100, pages - number))]
        number += sum(1 for _ in api.iter_recognize(chunk, batch_size=batch_size))
        del chunk
        if number % 100 == 0:
            samples.append((number, round(process.memory_info().rss / 2**20, 1)))
            rate = number / (time.perf_counter() - started)
            print(f"page {number}: {samples[-1][1]} MB ({rate:.1f} pages/s)", file=sys.stderr, flush=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--command", default="detect", choices=["detect", "recognize"])
    parser.add_argument("--sources-only", action="store_true", help="stream pages without the model")
    parser.add_argument("--long-run", action="store_true", help="RSS every 100 small pages of varying size, in-process")
    parser.add_argument("--batch-size", type=int, default=8, help="pages per model call in --long-run")
    parser.add_argument("--out", type=Path, default=RESULTS / "stream_memory.json")
    args = parser.parse_args()

    if args.long_run:
        started = time.perf_counter()
        samples = long_run(args.pages, args.batch_size)
        print(f"{'page':>6}{'RSS MB':>10}")
        for number, rss in samples:
            print(f"{number:>6}{rss:>10}")
        first = next((rss for number, rss in samples if number == 100), samples[0][1])
        ratio = samples[-1][1] / first
        print(f"RSS at page {samples[-1][0]} / page 100: {ratio:.3f}")
        result = {"pages": args.pages, "batch_size": args.batch_size, "rss_mb_by_page": samples,
                  "ratio_last_to_page_100": round(ratio, 3), "seconds": round(time.perf_counter() - started, 1)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_name("stream_memory_long_run.json").write_text(json.dumps(result, indent=2) + "\n")
        return

    if args.sources_only:
        with tempfile.TemporaryDirectory() as folder:
            pdf = Path(folder) / "long.pdf"
            make_scanned_pdf(pdf, args.pages)
            samples = stream_sources_only(pdf, args.dpi)
        print(f"{'page':>6}{'RSS MB':>10}")
        for number, rss in samples:
            print(f"{number:>6}{rss:>10}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_name("stream_memory_sources.json").write_text(json.dumps({"dpi": args.dpi, "rss_mb_by_page": samples}, indent=2) + "\n")
        return

    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "long.pdf"
        print(f"making a {args.pages}-page scanned PDF ...", file=sys.stderr)
        make_scanned_pdf(pdf, args.pages)
        extra = ["--ocr", "always"] if args.command == "recognize" else []
        base = [sys.executable, "-m", "ocromni", args.command, str(pdf), "--dpi", str(args.dpi), "--format", "jsonl", "--quiet", *extra]
        print("one page ...", file=sys.stderr)
        one_peak, _, _ = peak_rss_of(base + ["--pages", "1"])
        print(f"all {args.pages} pages ...", file=sys.stderr)
        all_peak, seconds, records = peak_rss_of(base)

    # An A4 page (595 x 842 pt) rendered at --dpi as 8-bit RGB.
    page_mb = round(595 * args.dpi / 72) * round(842 * args.dpi / 72) * 3 / 2**20
    result = {
        "command": args.command, "pages": args.pages, "dpi": args.dpi, "records": records,
        "peak_rss_mb_one_page": round(one_peak, 1), "peak_rss_mb_all_pages": round(all_peak, 1),
        "rgb_mb_per_page": round(page_mb, 1), "rgb_mb_all_pages": round(page_mb * args.pages, 1),
        "seconds": round(seconds, 1), "pages_per_second": round(records / seconds, 2),
    }
    print(f"{'':34}{'value':>10}")
    for key, value in result.items():
        print(f"{key:34}{value:>10}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
