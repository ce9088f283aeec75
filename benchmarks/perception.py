"""Perception benchmark: ocromni, RapidOCR and Tesseract side by side on the shared data.

    python benchmarks/perception.py                       # all systems, all data
    python benchmarks/perception.py --limit 10 --systems rapidocr,tesseract
    python benchmarks/perception.py --long-run            # + ocromni RSS over 1000 pages
    python benchmarks/perception.py --datasets sroie --save-predictions   # one dataset, keep predictions
    python benchmarks/perception.py --rescore results/run.json             # metrics again, no run
    python benchmarks/perception.py --datasets sroie --systems ocromni,ocromni-onnxruntime,rapidocr
                                                          # which CPU runtime ocromni should use

Each system runs in its own worker process (this script re-invoked with ``--worker``)
so its peak memory is its own. Workers only produce predictions and timings; metrics
are computed here, in the parent, from ``metrics.py``. The table goes to stdout, the
JSON to ``--out``, progress to stderr. See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # noqa: E402
import metrics  # noqa: E402

SYSTEMS = ("ocromni", "rapidocr", "tesseract", "ocromni-onnxruntime", "ocromni-greedy")
DEFAULT_SYSTEMS = ("ocromni", "rapidocr", "tesseract")
DATASETS = ("sroie", "icdar2015_e2e", "funsd", "iiit5k", "icdar2015_words")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "perception.json"
CHUNK = 16  # pages per API call: enough for ocromni's batching, small enough for progress
CROP_CHUNK = 250  # word crops per call / per tesseract list file
LONG_RUN_PASSES = 10  # receipts looped 10x: RSS after page 100 vs after page 1000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def current_rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size of this process (or its largest waited-for child), MiB."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024  # kilobytes on Linux


# =========================================================================== readers
#
# A reader turns image paths into plain, JSON-ready predictions:
#   read_pages(paths) -> [{"lines": [[polygon, text]], "words": [[polygon, text]], "text": str}]
#   detect_pages(paths, level) -> [[polygon, ...]]  (None: take detection from read_pages)
#   read_crops(paths) -> [str]                      (one word image = one text line)


class Unsupported(Exception):
    """The system cannot run this part of the benchmark (reported, not fatal)."""


class RapidOCRReader:
    """RapidOCR 1.4.4's own pipeline with its defaults: what a RapidOCR user gets."""

    name = "rapidocr"
    separate_detect = False

    def __init__(self):
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR()

    @staticmethod
    def version() -> str:
        from importlib.metadata import version

        return "rapidocr_onnxruntime " + version("rapidocr_onnxruntime")

    def read_pages(self, paths):
        pages = []
        for path in paths:
            result, _ = self.engine(path)
            lines = [[[[float(x), float(y)] for x, y in box], text] for box, text, _score in (result or [])]
            # RapidOCR reads lines only; on word-level data its lines are scored as they come.
            pages.append({"lines": lines, "words": lines, "text": "\n".join(text for _, text in lines)})
        return pages

    def read_crops(self, paths):
        texts = []
        for path in paths:
            result, _ = self.engine(path, use_det=False, use_cls=False, use_rec=True)
            texts.append(result[0][0] if result else "")
        return texts


class TesseractReader:
    """The ``tesseract`` 5 CLI, one process per page as batch users run it (OMP_THREAD_LIMIT=1)."""

    name = "tesseract"
    separate_detect = False
    measures_children = True  # the work happens in tesseract processes, not in the worker

    def __init__(self):
        self.binary = shutil.which("tesseract")
        if not self.binary:
            raise Unsupported("tesseract not found on PATH (apt-get install tesseract-ocr)")
        self.env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, env=self.env)
        return (out.stdout or out.stderr).splitlines()[0].strip()

    def _tsv(self, target: str, *options: str) -> list[dict]:
        proc = subprocess.run(
            [self.binary, target, "stdout", *options, "tsv"], capture_output=True, text=True, env=self.env
        )
        if proc.returncode != 0:
            raise RuntimeError(f"tesseract failed on {target}: {proc.stderr.strip()[-300:]}")
        rows = []
        lines = proc.stdout.splitlines()
        header = lines[0].split("\t") if lines else []
        for line in lines[1:]:
            cells = line.split("\t")
            if len(cells) < len(header) - 1:
                continue
            row = dict(zip(header, cells + [""] * (len(header) - len(cells))))
            if row["level"] == "5" and row["text"].strip():
                rows.append(row)
        return rows

    @staticmethod
    def _box(left, top, width, height) -> list:
        return [[left, top], [left + width, top], [left + width, top + height], [left, top + height]]

    def _page_from_rows(self, rows: list[dict]) -> dict:
        words, grouped = [], OrderedDict()
        for row in rows:
            left, top, width, height = (float(row[k]) for k in ("left", "top", "width", "height"))
            words.append([self._box(left, top, width, height), row["text"]])
            key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
            grouped.setdefault(key, []).append((left, top, left + width, top + height, row["text"]))
        lines = []
        for members in grouped.values():
            x0 = min(m[0] for m in members)
            y0 = min(m[1] for m in members)
            x1 = max(m[2] for m in members)
            y1 = max(m[3] for m in members)
            lines.append([self._box(x0, y0, x1 - x0, y1 - y0), " ".join(m[4] for m in members)])
        # TSV rows come in Tesseract's reading order, the same order as its txt output.
        return {"lines": lines, "words": words, "text": "\n".join(text for _, text in lines)}

    def read_pages(self, paths):
        return [self._page_from_rows(self._tsv(path)) for path in paths]

    def read_crops(self, paths):
        # One process for many crops (a list file): per-crop start-up would dominate the time.
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
            listing.write("\n".join(paths) + "\n")
        try:
            rows = self._tsv(listing.name, "--psm", "7")
        finally:
            os.unlink(listing.name)
        texts = [[] for _ in paths]
        for row in rows:
            texts[int(row["page_num"]) - 1].append(row["text"])
        return [" ".join(words) for words in texts]


class OcromniReader:
    """ocromni through its Python API (``detect`` / ``recognize``), one shared engine."""

    name = "ocromni"
    separate_detect = True

    def __init__(self):
        try:
            import ocromni
            from ocromni import api  # noqa: F401  (fails fast while the API is not there yet)
        except ImportError as error:
            raise Unsupported(f"ocromni API not importable: {error}")
        self.ocromni = ocromni
        ocromni.get_engine()

    def version(self) -> str:
        # Named without loading the model: loading belongs to the first page's timing.
        from ocromni.models.ppocr.weights import cpu_runtime

        return f"ocromni {self.ocromni.__version__} (CPU runtime: {cpu_runtime()})"

    def read_pages(self, paths):
        pages = []
        for page in self.ocromni.recognize(list(paths)):
            lines = [[_plain_polygon(line.polygon), line.text] for line in page.lines]
            words = [[_plain_polygon(word.polygon), word.text] for line in page.lines for word in line.words]
            pages.append({"lines": lines, "words": words, "text": page.text})
        if len(pages) != len(paths):
            raise RuntimeError(f"recognize() returned {len(pages)} pages for {len(paths)} inputs")
        return pages

    def detect_pages(self, paths, level):
        pages = self.ocromni.detect(list(paths), level=level)
        if len(pages) != len(paths):
            raise RuntimeError(f"detect() returned {len(pages)} pages for {len(paths)} inputs")
        return [[_plain_polygon(region.polygon) for region in page.regions] for page in pages]

    def read_crops(self, paths):
        try:
            pages = self.ocromni.recognize(list(paths), single_line=True)
        except TypeError as error:
            if "single_line" in str(error):
                raise Unsupported("ocromni.recognize() has no single_line option yet") from error
            raise
        return [page.text for page in pages]


class OcromniOnnxruntimeReader(OcromniReader):
    """ocromni with its models on onnxruntime instead of OpenVINO: what the runtime is worth."""

    name = "ocromni-onnxruntime"

    def __init__(self):
        os.environ["OCROMNI_CPU_RUNTIME"] = "onnxruntime"  # read when the engine builds its model
        super().__init__()


class OcromniGreedyReader(OcromniReader):
    """ocromni decoding greedily, without its character language model: what the model is worth."""

    name = "ocromni-greedy"

    def __init__(self):
        os.environ["OCROMNI_LANGUAGE_MODEL"] = "0"  # read when the engine builds its model
        super().__init__()


def _plain_polygon(polygon) -> list:
    return [[float(x), float(y)] for x, y in polygon]


READERS: dict[str, Callable] = {
    "ocromni": OcromniReader,
    "rapidocr": RapidOCRReader,
    "tesseract": TesseractReader,
    "ocromni-onnxruntime": OcromniOnnxruntimeReader,
    "ocromni-greedy": OcromniGreedyReader,
}


# =========================================================================== worker


def _chunked(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _timed_pass(label: str, items: list, run: Callable[[list], list], chunk: int) -> tuple[list, float]:
    """Run ``run`` over ``items`` in chunks, logging progress; returns (outputs, seconds)."""
    outputs, started = [], time.perf_counter()
    for batch in _chunked(items, chunk):
        outputs.extend(run(batch))
        elapsed = time.perf_counter() - started
        log(f"  {label}: {len(outputs)}/{len(items)}  ({len(outputs) / elapsed:.2f}/s)")
    return outputs, time.perf_counter() - started


def run_worker(
    system: str, data_root: Path, limit: Optional[int], long_run: bool, only: tuple[str, ...] = DATASETS
) -> dict:
    """Everything one system does, in this process: predictions, timings, memory."""
    report = {"system": system, "status": "ok", "errors": {}, "timing": {}, "memory": {}, "predictions": {}}
    started = time.perf_counter()
    try:
        reader = READERS[system]()
    except Unsupported as reason:
        return dict(report, status="skipped", reason=str(reason))
    report["timing"]["load_s"] = time.perf_counter() - started
    report["version"] = reader.version()
    children = getattr(reader, "measures_children", False)
    log(f"[{system}] {report['version']} loaded in {report['timing']['load_s']:.1f}s")

    def stage(name: str, work: Callable[[], None]) -> None:
        try:
            work()
        except Unsupported as reason:
            report["errors"][name] = f"skipped: {reason}"
            log(f"[{system}] {name} skipped: {reason}")
        except Exception as error:  # one broken stage must not hide the others' numbers
            report["errors"][name] = f"{type(error).__name__}: {error}"
            log(f"[{system}] {name} FAILED: {type(error).__name__}: {error}")

    def pages_stage(dataset: str, detect_level: Optional[str], speed_key: Optional[str]) -> None:
        samples = datasets.PAGE_DATASETS[dataset](data_root, limit)
        paths = [s.image for s in samples]
        if speed_key:
            warm_up = time.perf_counter()
            reader.read_pages(paths[:1])  # first-call costs (lazy model load) stay out of the timing
            report["timing"].setdefault("first_page_s", report["timing"]["load_s"] + time.perf_counter() - warm_up)
        log(f"[{system}] {dataset}: reading {len(paths)} pages")
        pages, seconds = _timed_pass(f"[{system}] {dataset}", paths, reader.read_pages, CHUNK)
        if speed_key:
            report["timing"][speed_key] = {"pages": len(paths), "seconds": seconds, "pages_per_s": len(paths) / seconds}
        if dataset == "sroie":
            report["memory"]["sroie_peak_rss_mb"] = peak_rss_mb(children)
        predictions = report["predictions"][dataset] = {sample.name: page for sample, page in zip(samples, pages)}
        if not detect_level:
            return
        if reader.separate_detect:
            # Kept apart so a failing detect() still leaves the recognition numbers standing.
            log(f"[{system}] {dataset}: detecting ({detect_level} level)")
            detections, det_seconds = _timed_pass(
                f"[{system}] {dataset} detect", paths, lambda b: reader.detect_pages(b, detect_level), CHUNK
            )
            report["timing"][f"{dataset}_detect"] = {"pages": len(paths), "seconds": det_seconds}
        else:
            level = "words" if detect_level == "word" else "lines"
            detections = [[polygon for polygon, _ in page[level]] for page in pages]
        for sample, det in zip(samples, detections):
            predictions[sample.name]["det"] = det

    def crops_stage(dataset: str) -> None:
        samples = datasets.CROP_DATASETS[dataset](data_root, limit)
        log(f"[{system}] {dataset}: reading {len(samples)} crops")
        texts, seconds = _timed_pass(f"[{system}] {dataset}", [s.image for s in samples], reader.read_crops, CROP_CHUNK)
        report["timing"][dataset] = {"crops": len(samples), "seconds": seconds, "crops_per_s": len(samples) / seconds}
        report["predictions"][dataset] = {sample.name: text for sample, text in zip(samples, texts)}

    stages = {
        "sroie": lambda: pages_stage("sroie", "line", "sroie"),
        "icdar2015_e2e": lambda: pages_stage("icdar2015_e2e", "word", "icdar2015_e2e"),
        "funsd": lambda: pages_stage("funsd", None, None),
        "iiit5k": lambda: crops_stage("iiit5k"),
        "icdar2015_words": lambda: crops_stage("icdar2015_words"),
    }
    for name, work in stages.items():
        if name in only:
            stage(name, work)
    if long_run and system == "ocromni":
        stage("long_run", lambda: _long_run(reader, data_root, limit, report))
    report["memory"]["peak_rss_mb"] = peak_rss_mb(children)
    report["timing"]["total_s"] = time.perf_counter() - started
    return report


def _long_run(reader, data_root: Path, limit: Optional[int], report: dict) -> None:
    """Loop over the receipts LONG_RUN_PASSES times; RSS after the first pass vs the last."""
    paths = [s.image for s in datasets.load_sroie(data_root, limit)]
    rss = {}
    for run in range(1, LONG_RUN_PASSES + 1):
        for batch in _chunked(paths, CHUNK):
            reader.read_pages(batch)
        rss[run * len(paths)] = current_rss_mb()
        log(f"[{reader.name}] long run: {run * len(paths)} pages, RSS {rss[run * len(paths)]:.0f} MiB")
    first, last = min(rss), max(rss)
    report["memory"]["long_run"] = {
        "rss_mb_by_page": rss,
        "first_pages": first,
        "last_pages": last,
        "ratio": rss[last] / rss[first],
    }


# =========================================================================== scoring


def score(report: dict, data_root: Path, limit: Optional[int]) -> dict:
    """Metrics of one system's predictions against the ground truth.

    SROIE end-to-end is scored three ways, strictest first, because the labels and the
    published figures differ in what counts as the same text:

    - lines: a predicted line at IoU >= 0.5 with a label line, texts equal up to case and
      runs of whitespace. Stricter than any published protocol: SROIE's labels put spaces
      around ":" and "-" inconsistently, so about 5% of lines fail on spacing alone.
    - lines, letters+digits: the same matching, texts compared by the field's word-accuracy
      rule (``metrics.same_line_letters_digits``). This reproduces the issue's reference
      figure for RapidOCR's defaults (0.83; 0.81 here).
    - task 2 words: SROIE's own OCR protocol (``metrics.receipt_word_counts``), words
      matched per receipt as multisets, no boxes.
    """
    predictions = report.get("predictions", {})
    scores: dict = {}

    if "icdar2015_e2e" in predictions:
        det, e2e = metrics.MatchCounts(), metrics.MatchCounts()
        for sample in datasets.load_icdar2015_e2e(data_root, limit):
            page = predictions["icdar2015_e2e"][sample.name]
            truths = [r.polygon for r in sample.regions]
            dont_care = [r.dont_care for r in sample.regions]
            if "det" in page:
                det += metrics.match_regions(page["det"], truths, dont_care)
            e2e += metrics.match_regions(
                [p for p, _ in page["words"]], truths, dont_care,
                pred_texts=[t for _, t in page["words"]], true_texts=[r.text for r in sample.regions],
                same_text=metrics.same_spotting_word,
            )
        if "det" in next(iter(predictions["icdar2015_e2e"].values()), {}):
            scores["icdar2015_det"] = det.as_dict()
        scores["icdar2015_e2e"] = e2e.as_dict()

    if "sroie" in predictions:
        det, e2e, e2e_letters, words = (metrics.MatchCounts() for _ in range(4))
        cers = []
        for sample in datasets.load_sroie(data_root, limit):
            page = predictions["sroie"][sample.name]
            truths = [r.polygon for r in sample.regions]
            if "det" in page:
                det += metrics.match_regions(page["det"], truths)
            e2e += metrics.match_regions(
                [p for p, _ in page["lines"]], truths,
                pred_texts=[t for _, t in page["lines"]], true_texts=[r.text for r in sample.regions],
                same_text=metrics.same_line,
            )
            e2e_letters += metrics.match_regions(
                [p for p, _ in page["lines"]], truths,
                pred_texts=[t for _, t in page["lines"]], true_texts=[r.text for r in sample.regions],
                same_text=metrics.same_line_letters_digits,
            )
            words += metrics.receipt_word_counts([t for _, t in page["lines"]], [r.text for r in sample.regions])
            # SROIE's labels are mostly upper-cased whatever the print says: compare without case.
            cers.append(metrics.page_cer(page["text"], sample.text, ignore_case=True))
        if "det" in next(iter(predictions["sroie"].values()), {}):
            scores["sroie_det"] = det.as_dict()
        scores["sroie_e2e"] = e2e.as_dict()
        scores["sroie_e2e_letters_digits"] = e2e_letters.as_dict()
        scores["sroie_words"] = words.as_dict()
        scores["sroie_cer"] = sum(cers) / len(cers) if cers else None

    if "funsd" in predictions:
        cers = [
            metrics.page_cer(predictions["funsd"][sample.name]["text"], sample.text)
            for sample in datasets.load_funsd(data_root, limit)
        ]
        scores["funsd_cer"] = sum(cers) / len(cers) if cers else None

    for dataset, loader in datasets.CROP_DATASETS.items():
        if dataset in predictions:
            words = metrics.word_scores(
                (predictions[dataset][sample.name], sample.text) for sample in loader(data_root, limit)
            )
            scores[dataset] = {"word_accuracy": words.accuracy, "one_minus_ned": words.one_minus_ned, "n": words.n}
    return scores


# =========================================================================== table

# (label, path into the per-system summary, kind). Kinds: "pct" higher is better, shown as
# a percentage, compared as a difference in points; "cer" lower is better, difference;
# "speed" compared as a ratio (×, >1 = ocromni faster); "mem" ratio (<1 = ocromni smaller).
ROWS = [
    ("ICDAR15 det P", ("scores", "icdar2015_det", "precision"), "pct"),
    ("ICDAR15 det R", ("scores", "icdar2015_det", "recall"), "pct"),
    ("ICDAR15 det F1", ("scores", "icdar2015_det", "f1"), "pct"),
    ("ICDAR15 e2e F1", ("scores", "icdar2015_e2e", "f1"), "pct"),
    ("SROIE det P", ("scores", "sroie_det", "precision"), "pct"),
    ("SROIE det R", ("scores", "sroie_det", "recall"), "pct"),
    ("SROIE det F1", ("scores", "sroie_det", "f1"), "pct"),
    ("SROIE e2e F1 (lines)", ("scores", "sroie_e2e", "f1"), "pct"),
    ("SROIE e2e F1 (lines, letters+digits)", ("scores", "sroie_e2e_letters_digits", "f1"), "pct"),
    ("SROIE OCR F1 (task 2 words)", ("scores", "sroie_words", "f1"), "pct"),
    ("IIIT5K word acc", ("scores", "iiit5k", "word_accuracy"), "pct"),
    ("IIIT5K 1-NED", ("scores", "iiit5k", "one_minus_ned"), "pct"),
    ("ICDAR15 words acc", ("scores", "icdar2015_words", "word_accuracy"), "pct"),
    ("ICDAR15 words 1-NED", ("scores", "icdar2015_words", "one_minus_ned"), "pct"),
    ("SROIE page CER", ("scores", "sroie_cer"), "cer"),
    ("FUNSD page CER (row order)", ("scores", "funsd_cer"), "cer"),
    ("SROIE pages/s", ("timing", "sroie", "pages_per_s"), "speed"),
    ("ICDAR15 images/s", ("timing", "icdar2015_e2e", "pages_per_s"), "speed"),
    ("IIIT5K crops/s", ("timing", "iiit5k", "crops_per_s"), "speed"),
    ("first page s (load + 1 page)", ("timing", "first_page_s"), "time"),
    ("peak RSS MiB (SROIE)", ("memory", "sroie_peak_rss_mb"), "mem"),
    ("peak RSS MiB (all)", ("memory", "peak_rss_mb"), "mem"),
    ("RSS p1000/p100 (long run)", ("memory", "long_run", "ratio"), "ratio"),
]


def _lookup(summary: dict, path: tuple):
    value = summary
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _format(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind in ("pct", "cer"):
        return f"{100 * value:.1f}"
    if kind in ("speed", "ratio"):
        return f"{value:.2f}"
    return f"{value:.1f}" if kind == "time" else f"{value:.0f}"


def _compare(ours, theirs, kind: str) -> str:
    if ours is None or theirs is None:
        return "-"
    if kind in ("pct", "cer"):
        return f"{100 * (ours - theirs):+.1f}"
    if kind in ("speed", "mem", "time") and theirs:
        return f"{ours / theirs:.2f}×"
    return "-"


def render_table(summaries: dict) -> str:
    systems = [s for s in summaries if summaries[s].get("status") == "ok"]
    others = [s for s in SYSTEMS if s != "ocromni" and s in systems] if "ocromni" in systems else []
    header = ["metric", *systems, *(f"ocromni vs {s}" for s in others)]
    rows = [header]
    for label, path, kind in ROWS:
        values = [_lookup(summaries[s], path) for s in systems]
        if all(v is None for v in values):
            continue
        row = [label, *(_format(v, kind) for v in values)]
        ours = _lookup(summaries["ocromni"], path) if others else None
        row += [_compare(ours, _lookup(summaries[s], path), kind) for s in others]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"{s}: {summaries[s]['status']} ({summaries[s].get('reason', '')})" for s in summaries if summaries[s].get("status") != "ok"]
    for s in systems:
        notes += [f"{s}: {stage}: {message}" for stage, message in summaries[s].get("errors", {}).items()]
    return "\n".join(lines + ([""] + notes if notes else []))


# =========================================================================== main


def _run_in_subprocess(system: str, args) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / f"{system}.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", system, "--data", str(args.data),
                   "--worker-out", str(out)]
        if args.limit:
            command += ["--limit", str(args.limit)]
        if args.long_run:
            command.append("--long-run")
        command += ["--datasets", ",".join(args.datasets)]
        proc = subprocess.run(command, stdout=sys.stderr)
        if proc.returncode != 0 or not out.exists():
            return {"system": system, "status": "failed", "reason": f"worker exited with {proc.returncode}"}
        return json.loads(out.read_text())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=datasets.default_data_root(), help="shared data folder")
    parser.add_argument("--limit", type=int, default=None, help="at most N items per dataset (quick runs)")
    parser.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS), help="comma-separated: " + ",".join(SYSTEMS))
    parser.add_argument("--out", type=Path, help=f"JSON results file (default {DEFAULT_OUT.name}; none with --rescore)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: " + ",".join(DATASETS))
    parser.add_argument("--long-run", action="store_true", help="ocromni RSS after 100 vs 1000 receipt pages")
    parser.add_argument("--save-predictions", action="store_true", help="keep raw predictions in the JSON")
    parser.add_argument("--rescore", type=Path, help="score the predictions saved in this JSON again; run nothing")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown:
        log(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}")
        return 2
    if args.worker:
        report = run_worker(args.worker, args.data, args.limit, args.long_run, args.datasets)
        args.worker_out.write_text(json.dumps(report))
        return 0

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        log(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
        return 2
    if not args.data.is_dir():
        log(f"data folder {args.data} not found; pass --data or set OCROMNI_DATA")
        return 2

    out = args.out or (None if args.rescore else DEFAULT_OUT)
    summaries = {}
    saved = {}
    if args.rescore:
        previous = json.loads(args.rescore.read_text())
        saved, args.limit = previous["systems"], previous.get("limit")
    for system in systems:
        if args.rescore:
            if "predictions" not in saved.get(system, {}):
                log(f"{args.rescore} holds no predictions for {system}; it was run without --save-predictions")
                continue
            report = saved[system]
        else:
            log(f"=== {system}")
            report = _run_in_subprocess(system, args)
        if report.get("status") == "ok":
            report["scores"] = score(report, args.data, args.limit)
        if not args.save_predictions:
            report.pop("predictions", None)
        summaries[system] = report
        if out is not None and not args.rescore:
            # Written after every system, so a long run's finished systems can be looked at
            # (or --rescore'd) while the next one is still reading.
            _write_results(out, args, summaries)

    table = render_table(summaries)
    print(table)
    if out is not None:
        _write_results(out, args, summaries)
        log(f"wrote {out}")
    return 0


def _write_results(out: Path, args, summaries: dict) -> None:
    result = {
        "benchmark": "perception",
        "data": str(args.data),
        "limit": args.limit,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "systems": summaries,
        "table": render_table(summaries),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    partial.replace(out)


if __name__ == "__main__":
    sys.exit(main())
