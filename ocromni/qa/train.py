"""Train the LayoutQA span model: ``python -m ocromni.qa.train --out ocromni/weights/qa``.

(The candidate rankers that answer most questions are trained separately and in seconds:
``python -m ocromni.qa.ranker_train --out ocromni/weights/qa``.)

Data: synthetic receipts, invoices, forms and letters (:mod:`ocromni.qa.synthetic`,
generated here from the seed), plus, when ``--data`` holds them, the SROIE receipts
(fields company/date/address/total, read by ocromni's own OCR, cached in ``--ocr-cache``)
and the FUNSD forms (question -> answer links; OCR words when cached, else the
annotated word boxes). ``--fold K --folds N`` leaves out every N-th real document
starting at K, so the benchmark can score documents the model never saw.

Deterministic: one seed drives the generator, the sampling and torch; the same command on
the same thread count gives the same weights. Runs on CPU with 2 threads.
"""

from __future__ import annotations

import os

# Idle OpenMP threads spin by default; on shared cores that spinning starves the work
# (measured: 7 s vs 0.3 s per step on 2 busy cores). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Optional  # noqa: E402

from ocromni.qa import synthetic  # noqa: E402
from ocromni.qa.answer import parse_amounts  # noqa: E402
from ocromni.qa.features import Document, DocWord, clean_text, document_from_pages, make_windows, normalise_box, split_line, window_starts  # noqa: E402

log = logging.getLogger("ocromni.qa.train")

SROIE_FIELDS = ("company", "date", "address", "total")
# Fields a receipt may well print without SROIE labelling them are never asked as "absent".
SROIE_ABSENT = ("due_date", "customer", "customer_address", "recipient", "sender", "subject", "po_number")


@dataclass
class Item:
    """A document and one thing to ask about it; the wording is drawn each time it is used."""

    document: Document
    wordings: list
    spans: list  # [(first_word, last_word)], empty = not in the document
    origin: str


# --- real data --------------------------------------------------------------------------


def default_data_root() -> Path:
    return Path(os.environ.get("OCROMNI_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def _page_text_from_cache(path: Path):
    from ocromni.types import PageText

    return PageText.from_dict(json.loads(path.read_text()))


def sroie_gt_document(box_csv: Path, width: int, height: int, source: str) -> Document:
    """A receipt from its annotated line boxes, split into words by character count (dev fallback)."""
    words, lines = [], []
    for raw in box_csv.read_text(encoding="utf-8-sig", errors="replace").splitlines():
        parts = raw.strip().split(",", 8)
        if len(parts) < 9 or not parts[8].strip():
            continue
        xs, ys = [float(v) for v in parts[0:8:2]], [float(v) for v in parts[1:8:2]]
        bbox = [min(xs), min(ys), max(xs), max(ys)]
        line_index = len(lines)
        lines.append(parts[8].strip())
        for text, box in split_line(parts[8], bbox):
            words.append(DocWord(text, normalise_box(box, width, height), 1, line_index, box))
    return Document(source, words, lines, [1] * len(lines))


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _similarity(a: str, b: str) -> float:
    from rapidfuzz.fuzz import ratio

    return ratio(a, b) / 100.0


def locate_text(document: Document, target: str, max_words: int = 40, threshold: float = 0.7) -> list:
    """The word span whose letters and digits best match ``target`` (fuzzy), or []."""
    goal = _alnum(target)
    if not goal:
        return []
    keys = [_alnum(w.text) for w in document.words]
    best, best_span = threshold, None
    for i in range(len(keys)):
        if not keys[i] or _similarity(keys[i][:4], goal[:4]) < 0.5 and goal[:4] not in keys[i]:
            continue
        joined = ""
        for j in range(i, min(i + max_words, len(keys))):
            joined += keys[j]
            if len(joined) > 1.5 * len(goal) + 5:
                break
            score = _similarity(joined, goal)
            if score > best:
                best, best_span = score, (i, j)
    return [best_span] if best_span else []


def locate_amount(document: Document, value: str) -> list:
    try:
        target = float(re.sub(r"[^\d.]", "", value))
    except ValueError:
        return []
    return [(i, i) for i, w in enumerate(document.words) if any(abs(v - target) < 0.005 for v in parse_amounts(w.text))]


def locate_date(document: Document, value: str) -> list:
    goal = _alnum(value)
    keys = [_alnum(w.text) for w in document.words]
    spans = []
    for i in range(len(keys)):
        joined = ""
        for j in range(i, min(i + 4, len(keys))):
            joined += keys[j]
            if goal and goal in joined:
                spans.append((i, j))
                break
    # Keep the tightest: a span that contains another is dropped.
    return [s for s in spans if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in spans)]


def load_sroie(root: Path, ocr_cache: Optional[Path]) -> list[tuple[str, Document, dict]]:
    """``(name, Document, key fields)`` per receipt; OCR words when cached, else GT lines."""
    from PIL import Image

    base = root / "sroie"
    out = []
    for key_file in sorted((base / "key").glob("*.json")):
        name = key_file.stem
        cached = ocr_cache / f"sroie_{name}.json" if ocr_cache else None
        if cached is not None and cached.is_file():
            document = document_from_pages([_page_text_from_cache(cached)], f"{name}.jpg")
        else:
            image = base / "img" / f"{name}.jpg"
            with Image.open(image) as im:
                width, height = im.size
            document = sroie_gt_document(base / "box" / f"{name}.csv", width, height, f"{name}.jpg")
        out.append((name, document, json.loads(key_file.read_text())))
    return out


def sroie_spans(document: Document, fields: dict) -> dict:
    return {
        "company": locate_text(document, fields.get("company", "")),
        "address": locate_text(document, fields.get("address", ""), max_words=60, threshold=0.6),
        "date": locate_date(document, fields.get("date", "")),
        "total": locate_amount(document, fields.get("total", "")),
    }


def funsd_linked_answers(entity: dict, by_id: dict) -> list[dict]:
    """The answer entities a FUNSD question links to, with text, in link order."""
    return [by_id[b] for a, b in entity.get("linking", []) if a == entity["id"] and b in by_id
            and by_id[b]["label"] == "answer" and by_id[b].get("text", "").strip()]


def funsd_gt_document(form: list, source: str) -> Document:
    """A form from its annotated words: entity words grouped into lines, in reading order."""
    from ocromni.layout import reading_order

    rows = []
    for entity in form:
        words = [w for w in entity.get("words", []) if w.get("text", "").strip()]
        words.sort(key=lambda w: (w["box"][1], w["box"][0]))
        current = []
        for word in words:
            if current and word["box"][1] > current[-1]["box"][3] - 0.3 * (current[-1]["box"][3] - current[-1]["box"][1]):
                rows.append(current)
                current = []
            current.append(word)
        if current:
            rows.append(current)
    rows = [sorted(row, key=lambda w: w["box"][0]) for row in rows]
    quads = []
    for row in rows:
        x0, y0 = min(w["box"][0] for w in row), min(w["box"][1] for w in row)
        x1, y1 = max(w["box"][2] for w in row), max(w["box"][3] for w in row)
        quads.append([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    width = max([w["box"][2] for row in rows for w in row] + [1]) + 20
    height = max([w["box"][3] for row in rows for w in row] + [1]) + 20
    words, lines = [], []
    for index in reading_order(quads):
        line_index = len(lines)
        lines.append(" ".join(w["text"].strip() for w in rows[index]))
        for w in rows[index]:
            words.append(DocWord(" ".join(w["text"].split()), normalise_box(w["box"], width, height), 1, line_index, list(w["box"])))
    return Document(source, words, lines, [1] * len(lines))


def _inside(word: DocWord, box) -> bool:
    if word.bbox is None:
        return False
    cx, cy = (word.bbox[0] + word.bbox[2]) / 2, (word.bbox[1] + word.bbox[3]) / 2
    return box[0] - 3 <= cx <= box[2] + 3 and box[1] - 3 <= cy <= box[3] + 3


def load_funsd(root: Path, ocr_cache: Optional[Path]) -> list[tuple[str, Document, list]]:
    """``(name, Document, [(question, answer_text, spans)])`` per form; spans [] = blank field."""
    base = root / "funsd"
    out = []
    for annotation in sorted((base / "annotations").glob("*.json")):
        form = json.loads(annotation.read_text(encoding="utf-8"))["form"]
        cached = ocr_cache / f"funsd_{annotation.stem}.json" if ocr_cache else None
        if cached is not None and cached.is_file():
            document = document_from_pages([_page_text_from_cache(cached)], f"{annotation.stem}.png")
        else:
            document = funsd_gt_document(form, f"{annotation.stem}.png")
        by_id = {e["id"]: e for e in form}
        pairs = []
        for entity in form:
            question = " ".join(entity.get("text", "").split())
            if entity.get("label") != "question" or not question:
                continue
            answers = funsd_linked_answers(entity, by_id)
            if answers:
                inside = [i for i, w in enumerate(document.words) if any(_inside(w, a["box"]) for a in answers)]
                if not inside:
                    continue
                text = " ".join(" ".join(a["text"].split()) for a in answers)
                pairs.append((question, text, [(min(inside), max(inside))]))
            elif not entity.get("linking"):
                pairs.append((question, "", []))
        out.append((annotation.stem, document, pairs))
    return out


def in_fold(index: int, fold: Optional[int], folds: int) -> bool:
    """Whether document ``index`` belongs to the evaluation part of ``fold``."""
    return fold is not None and index % folds == fold


def real_items(root: Path, ocr_cache: Optional[Path], fold: Optional[int], folds: int) -> tuple[list, list]:
    """Training items from SROIE and FUNSD (without the fold's evaluation documents)."""
    sroie, funsd = [], []
    if (root / "sroie").is_dir():
        for index, (name, document, fields) in enumerate(load_sroie(root, ocr_cache)):
            if in_fold(index, fold, folds):
                continue
            for field, spans in sroie_spans(document, fields).items():
                if spans:
                    sroie.append(Item(document, synthetic.WORDINGS[field], spans, "sroie"))
            # One unanswerable question per receipt (its wording drawn from several fields),
            # so "not found" stays a minority answer as it is in synthetic data.
            sroie.append(Item(document, [w for f in SROIE_ABSENT for w in synthetic.WORDINGS[f]], [], "sroie"))
    if (root / "funsd").is_dir():
        for index, (name, document, pairs) in enumerate(load_funsd(root, ocr_cache)):
            if in_fold(index, fold, folds):
                continue
            for question, _, spans in pairs:
                wordings = [w.format(key=question) for w in synthetic.FORM_WORDINGS[:4]]
                funsd.append(Item(document, wordings, spans, "funsd"))
    return sroie, funsd


# --- training ---------------------------------------------------------------------------


def synthetic_items(seed: int, count: int) -> list[Item]:
    items = []
    for document, pairs in synthetic.generate(seed, count):
        for pair in pairs:
            items.append(Item(document, [pair.question], pair.spans, "synthetic"))
    return items


def training_window(tokenizer, table, item: Item, rng: random.Random, config: dict):
    question = rng.choice(item.wordings)
    n = len(item.document.words)
    starts = window_starts(n, config["max_words"], config["word_stride"])
    begin = rng.choice(starts)
    if item.spans and len(starts) > 1 and rng.random() < 0.85:
        first, last = item.spans[0]
        fitting = [s for s in starts if s <= first and last < s + config["max_words"]]
        begin = rng.choice(fitting) if fitting else begin
    window = make_windows(tokenizer, table, item.document, question, max_words=config["max_words"],
                          word_stride=config["word_stride"], only=[begin])[0]
    inside = [(a - begin + 1, b - begin + 1) for a, b in item.spans if begin <= a and b < begin + window.size]
    window.spans = inside
    window.starts = sorted({a for a, _ in inside}) or [0]
    window.ends = sorted({b for _, b in inside}) or [0]
    return window


def marginal_loss(logits, targets):
    """-log of the probability mass on any correct position (answers printed twice both count)."""
    import torch

    log_probs = torch.log_softmax(logits, dim=-1)
    mask = torch.zeros_like(log_probs, dtype=torch.bool)
    for row, positions in enumerate(targets):
        mask[row, positions] = True
    return -(log_probs.masked_fill(~mask, -1e4).logsumexp(-1)).mean()


def inside_loss(logits, windows, word_mask):
    """Binary cross-entropy of "this word is part of the answer" over every real word."""
    import torch

    targets = torch.zeros_like(logits)
    for row, window in enumerate(windows):
        for start, end in window.spans:
            targets[row, start - 1:end] = 1.0
    losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (losses * word_mask).sum() / word_mask.sum().clamp(min=1)


def train(args) -> dict:
    import torch

    from ocromni.qa.features import collate
    from ocromni.qa.model import LayoutQA, SentenceEncoder, load_tokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    tokenizer = load_tokenizer()
    model = LayoutQA({"hidden": args.hidden, "layers": args.layers})
    config = model.config
    table = model.pieces.numpy()

    sources = {"synthetic": synthetic_items(args.seed, args.synthetic_docs)}
    root = Path(args.data) if args.data else default_data_root()
    if not args.synthetic_only and root.is_dir():
        cache = Path(args.ocr_cache) if args.ocr_cache else None
        sources["sroie"], sources["funsd"] = real_items(root, cache, args.fold, args.folds)
    weights = {"synthetic": args.mix[0], "sroie": args.mix[1], "funsd": args.mix[2]}
    names = [name for name in sources if sources[name]]
    log.info("items: %s (%.0f s)", {n: len(sources[n]) for n in names}, time.perf_counter() - started)
    sentences = SentenceEncoder()
    texts = sorted({clean_text(w) for n in names for item in sources[n] for w in item.wordings})
    sentences(texts)
    log.info("%d question wordings embedded (%.0f s)", len(texts), time.perf_counter() - started)

    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=0.01)
    warmup = max(args.steps // 20, 1)

    def lr_at(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(args.steps - warmup, 1)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    model.train()
    running = None
    for step in range(args.steps):
        batch = []
        for _ in range(args.batch_size):
            source = rng.choices(names, [weights[n] for n in names])[0]
            batch.append(training_window(tokenizer, table, rng.choice(sources[source]), rng, config))
        tensors = collate(batch, sentences)
        starts, ends, inside = model(**tensors, with_inside=True)
        loss = marginal_loss(starts, [w.starts for w in batch]) + marginal_loss(ends, [w.ends for w in batch])
        loss = loss + args.inside_weight * inside_loss(inside, batch, tensors["word_mask"])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        scheduler.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if args.save_every and (step + 1) % args.save_every == 0 and step + 1 < args.steps:
            model.save_pretrained(Path(args.out) / f"step{step + 1}")
            model.train()
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            log.info("step %d/%d loss %.3f lr %.2e  %.0f s", step + 1, args.steps, running,
                     scheduler.get_last_lr()[0], time.perf_counter() - started)
    model.eval()
    seconds = time.perf_counter() - started
    info = {"training": {"seed": args.seed, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
                         "synthetic_docs": args.synthetic_docs, "mix": dict(zip(("synthetic", "sroie", "funsd"), args.mix)),
                         "fold": args.fold, "folds": args.folds, "items": {n: len(sources[n]) for n in names},
                         "seconds": round(seconds), "threads": args.threads}}
    model.save_pretrained(args.out, extra=info)
    log.info("saved %s in %.0f s", args.out, seconds)
    return info


def build_ocr_cache(root: Path, cache: Path, datasets=("sroie", "funsd")) -> None:
    """Run ocromni's recognizer over the dev images once; one PageText JSON per image."""
    import ocromni

    cache.mkdir(parents=True, exist_ok=True)
    images = []
    if "sroie" in datasets:
        images += [("sroie", p) for p in sorted((root / "sroie" / "img").glob("*.jpg"))]
    if "funsd" in datasets:
        images += [("funsd", p) for p in sorted((root / "funsd" / "images").glob("*.png"))]
    for number, (dataset, image) in enumerate(images, 1):
        target = cache / f"{dataset}_{image.stem}.json"
        if target.exists():
            continue
        page = ocromni.recognize([str(image)])[0]
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(page.to_dict()))
        os.replace(temporary, target)
        log.info("OCR %d/%d %s", number, len(images), image.name)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ocromni.qa.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for config.json + qa.safetensors")
    parser.add_argument("--data", help="the shared/data folder (default: $OCROMNI_DATA or ../shared/data)")
    parser.add_argument("--ocr-cache", default="/tmp/ocr_cache", help="OCR output per dev image (see --build-ocr-cache)")
    parser.add_argument("--build-ocr-cache", action="store_true", help="OCR the SROIE and FUNSD images into --ocr-cache first")
    parser.add_argument("--synthetic-only", action="store_true")
    parser.add_argument("--fold", type=int, default=None, help="leave out real documents with index %% folds == fold")
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--synthetic-docs", type=int, default=4000)
    parser.add_argument("--mix", type=float, nargs=3, default=[0.4, 0.3, 0.3], metavar=("SYN", "SROIE", "FUNSD"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--save-every", type=int, default=0, help="also save checkpoints to OUT/stepN")
    parser.add_argument("--inside-weight", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.build_ocr_cache:
        build_ocr_cache(Path(args.data) if args.data else default_data_root(), Path(args.ocr_cache))
    train(args)


if __name__ == "__main__":
    main()
