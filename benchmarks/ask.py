"""ask benchmark: the QA model against a regex/heuristic baseline on SROIE and FUNSD.

    python benchmarks/ask.py                              # dev figures, shipped weights
    python benchmarks/ask.py --weights /tmp/qa_fold0 --fold 0 --folds 2   # held-out half
    python benchmarks/ask.py --combine /tmp/ask_fold0.json /tmp/ask_fold1.json   # the folds pooled

SROIE: the four key fields, each asked in three wordings that training never uses;
total is compared as a number, date as printed (case and spaces ignored), company and
address by ANLS. FUNSD: every linked question -> answer pair, asked as "What is the
{question}?", scored by ANLS; FUNSD questions with no answer linked are asked too, and
the share answered "not found" is reported. Forms that link answers to both a FROM and a
TO key (memos, fax covers) are also asked "Who is it from?" and "Who is it to?" (ANLS;
the baseline reads the text after "FROM"/"TO"). Words come from ocromni's OCR (cached per
image in ``--ocr-cache``; missing entries are recognised and cached) or, with
``--*-words gt``, from the annotations. With ``--fold K`` only documents whose index
modulo ``--folds`` is K are scored: pair it with weights trained with the same
``--fold`` for a held-out figure: copy the package's config.json and qa.safetensors to
DIR, then ``python -m ocromni.qa.ranker_train --out DIR --fold K --folds 2``.

The table goes to stdout, JSON to ``--out``, progress to stderr.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see ocromni/qa/train.py

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import mean  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import metrics  # noqa: E402

from ocromni.qa import train as qa_data  # noqa: E402
from ocromni.qa.answer import DATE_PATTERNS, clean_amount, clean_date, parse_amounts  # noqa: E402
from ocromni.qa.features import Document, document_from_pages  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "ask.json"
COMBINED_OUT = DEFAULT_OUT.with_name("ask_folds.json")

# Wordings the training data never uses (see ocromni/qa/synthetic.py WORDINGS).
SROIE_QUESTIONS = {
    "total": ["How much did I pay in total?", "What's the total on this receipt?", "Total to pay?"],
    "date": ["When did this purchase happen?", "What's the receipt date?", "Which day was this receipt printed?"],
    "company": ["What business issued this receipt?", "Name of the company?", "Which company is this receipt from?"],
    "address": ["Where is this business located?", "Store's street address?", "What address is printed for the shop?"],
}
# Asked of every receipt, which holds none of them: any answer is a false one.
ABSENT_QUESTIONS = ["What is the flight number?", "Who is the patient?", "What is the insurance policy number?",
                    "Who signed the letter?", "What is the customer's email address?", "What is the due date for payment?"]
FUNSD_QUESTION = "What is the {question}?"
# Asked in plain words of every FUNSD form that links an answer to both a FROM and a TO
# key (memos, fax covers), scored by ANLS against those answers.
MEMO_QUESTIONS = {"FROM": "Who is it from?", "TO": "Who is it to?"}
ANLS_THRESHOLD = 0.5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- metrics ----------------------------------------------------------------------------


def anls(prediction: str, truth: str) -> float:
    """Normalised Levenshtein similarity, 0 below the 0.5 threshold (DocVQA's ANLS, one truth)."""
    prediction, truth = metrics.normalize_line(prediction), metrics.normalize_line(truth)
    if not truth:
        return float(not prediction)
    similarity = 1.0 - metrics.normalized_edit_distance(prediction, truth)
    return similarity if similarity >= ANLS_THRESHOLD else 0.0


def amount_match(prediction: str, truth: str) -> float:
    truth_values = parse_amounts(truth)
    values = parse_amounts(clean_amount(prediction))
    return float(bool(truth_values and values and abs(values[-1] - truth_values[-1]) < 0.005))


def date_match(prediction: str, truth: str) -> float:
    def norm(text):
        return "".join(text.split()).casefold()

    return float(bool(truth) and norm(prediction) == norm(truth))


SCORERS = {"total": amount_match, "date": date_match, "company": anls, "address": anls}


# --- the regex / heuristic baseline -----------------------------------------------------

_STOP_ADDRESS = re.compile(r"\b(tel|fax|phone|gst|invoice|receipt|reg|www|email|e-mail|date|cashier|tax)\b", re.I)


def baseline_total(document: Document) -> str:
    lines = document.lines
    candidates = []
    for i, line in enumerate(lines):
        low = line.lower()
        if "total" in low and "sub" not in low and "qty" not in low:
            amounts = [a for a in parse_amounts(line) if a > 0]
            if not amounts and i + 1 < len(lines):
                amounts = [a for a in parse_amounts(lines[i + 1]) if a > 0]
            if amounts:
                candidates.append(amounts[-1])
    if candidates:
        return f"{candidates[-1]:.2f}"
    values = [a for line in lines for a in parse_amounts(line) if a < 100000]
    return f"{max(values):.2f}" if values else ""


def baseline_date(document: Document) -> str:
    for line in document.lines:
        if any(p.search(line) for p in DATE_PATTERNS):
            return clean_date(line)
    return ""


def _company_line(document: Document) -> int:
    for i, line in enumerate(document.lines[:8]):
        if re.search(r"\b(sdn|bhd|enterprise|trading|restaurant|store|mart|s/b|co\.)", line, re.I):
            return i
    for i, line in enumerate(document.lines):
        if sum(ch.isalpha() for ch in line) >= 3:
            return i
    return 0


def baseline_company(document: Document) -> str:
    return document.lines[_company_line(document)] if document.lines else ""


def baseline_address(document: Document) -> str:
    start = _company_line(document) + 1
    parts = []
    for line in document.lines[start:start + 6]:
        if _STOP_ADDRESS.search(line) or re.fullmatch(r"[\s(]*[\dA-Z-]+[\s)]*", line):
            if parts:
                break
            continue
        parts.append(line)
        if len(parts) == 4:
            break
    return " ".join(parts)


def baseline_form(document: Document, question: str) -> str:
    """The text after the key on the key's line, else the next line."""
    key = metrics.normalize_line(question)
    key_alnum = "".join(ch for ch in key if ch.isalnum())
    if not key_alnum:
        return ""
    for i, line in enumerate(document.lines):
        flat = "".join(ch for ch in line.lower() if ch.isalnum())
        if key_alnum in flat:
            position = line.lower().find(key.rstrip(": ").lower())
            rest = line[position + len(key.rstrip(": ")):].lstrip(" :") if position >= 0 else ""
            if rest.strip():
                return rest.strip()
            return document.lines[i + 1] if i + 1 < len(document.lines) else ""
    return ""


BASELINES = {"total": baseline_total, "date": baseline_date, "company": baseline_company, "address": baseline_address}


# --- data -------------------------------------------------------------------------------


def ocr_document(image: Path, cache: Path, key: str) -> Document:
    import ocromni
    from ocromni.types import PageText

    cached = cache / f"{key}.json"
    if cached.is_file():
        page = PageText.from_dict(json.loads(cached.read_text()))
    else:
        page = ocromni.recognize([str(image)])[0]
        cache.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(page.to_dict()))
    return document_from_pages([page], image.name)


def sroie_documents(root: Path, words: str, cache: Path, fold, folds, limit):
    from PIL import Image

    base = root / "sroie"
    for index, key_file in enumerate(sorted((base / "key").glob("*.json"))):
        if fold is not None and index % folds != fold:
            continue
        if limit is not None and limit <= 0:
            return
        limit = None if limit is None else limit - 1
        name = key_file.stem
        image = base / "img" / f"{name}.jpg"
        if words == "ocr":
            document = ocr_document(image, cache, f"sroie_{name}")
        else:
            with Image.open(image) as im:
                size = im.size
            document = qa_data.sroie_gt_document(base / "box" / f"{name}.csv", *size, image.name)
        yield name, document, json.loads(key_file.read_text())


def funsd_documents(root: Path, words: str, cache: Path, fold, folds, limit):
    base = root / "funsd"
    for index, annotation in enumerate(sorted((base / "annotations").glob("*.json"))):
        if fold is not None and index % folds != fold:
            continue
        if limit is not None and limit <= 0:
            return
        limit = None if limit is None else limit - 1
        form = json.loads(annotation.read_text(encoding="utf-8"))["form"]
        if words == "ocr":
            document = ocr_document(base / "images" / f"{annotation.stem}.png", cache, f"funsd_{annotation.stem}")
        else:
            document = qa_data.funsd_gt_document(form, f"{annotation.stem}.png")
        by_id = {e["id"]: e for e in form}
        linked, blank = [], []
        for entity in form:
            question = " ".join(entity.get("text", "").split())
            if entity.get("label") != "question" or sum(ch.isalnum() for ch in question) < 2:
                continue
            answers = qa_data.funsd_linked_answers(entity, by_id)
            if answers:
                linked.append((question, " ".join(" ".join(a["text"].split()) for a in answers)))
            elif not entity.get("linking"):
                blank.append(question)
        yield annotation.stem, document, linked, blank


# --- the run ----------------------------------------------------------------------------


def run(args) -> dict:
    from ocromni.qa.reader import Reader

    root = Path(args.data) if args.data else qa_data.default_data_root()
    cache = Path(args.ocr_cache)
    started = time.perf_counter()
    reader = Reader.load(args.weights)
    log(f"model loaded in {time.perf_counter() - started:.1f} s")
    scores = {f"sroie_{f}": {"model": [], "baseline": []} for f in SROIE_QUESTIONS}
    scores["funsd"] = {"model": [], "baseline": []}
    scores |= {f"memo_{key.lower()}": {"model": [], "baseline": []} for key in MEMO_QUESTIONS}
    confidences = {"right": [], "wrong": []}
    qa_seconds = []
    funsd_blank_found = []
    absent = {"found": [], "confidence": []}
    examples = []

    for name, document, fields in sroie_documents(root, args.sroie_words, cache, args.fold, args.folds, args.limit):
        questions = [q for f in SROIE_QUESTIONS for q in SROIE_QUESTIONS[f]]
        t = time.perf_counter()
        answers = reader.answer(document, questions)
        qa_seconds.append(time.perf_counter() - t)
        by_question = dict(zip(questions, answers))
        for field, wordings in SROIE_QUESTIONS.items():
            truth = fields.get(field, "")
            scorer = SCORERS[field]
            for wording in wordings:
                answer = by_question[wording]
                score = scorer(answer.answer, truth)
                scores[f"sroie_{field}"]["model"].append(score)
                confidences["right" if score >= 0.8 else "wrong"].append(answer.confidence)
                if score < 0.5 and len(examples) < 40:
                    examples.append({"doc": name, "q": wording, "pred": answer.answer, "truth": truth, "conf": round(answer.confidence, 3)})
            scores[f"sroie_{field}"]["baseline"].append(scorer(BASELINES[field](document), truth))
        for answer in reader.answer(document, ABSENT_QUESTIONS):
            absent["found"].append(answer.found)
            absent["confidence"].append(answer.confidence)
        log(f"sroie {name}: {qa_seconds[-1]:.2f} s for {len(questions)} questions")

    if not args.skip_funsd:
        for name, document, linked, blank in funsd_documents(root, args.funsd_words, cache, args.fold, args.folds, args.limit):
            questions = [FUNSD_QUESTION.format(question=q) for q, _ in linked] + [FUNSD_QUESTION.format(question=q) for q in blank]
            if not questions:
                continue
            answers = reader.answer(document, questions)
            for (question, truth), answer in zip(linked, answers):
                score = anls(answer.answer, truth)
                scores["funsd"]["model"].append(score)
                scores["funsd"]["baseline"].append(anls(baseline_form(document, question), truth))
                confidences["right" if score >= 0.8 else "wrong"].append(answer.confidence)
            funsd_blank_found.extend(a.found for a in answers[len(linked):])
            truths = {question.upper().strip(" :"): truth for question, truth in linked}
            if all(key in truths for key in MEMO_QUESTIONS):
                memo = reader.answer(document, list(MEMO_QUESTIONS.values()))
                for (key, question), answer in zip(MEMO_QUESTIONS.items(), memo):
                    scores[f"memo_{key.lower()}"]["model"].append(anls(answer.answer, truths[key]))
                    scores[f"memo_{key.lower()}"]["baseline"].append(anls(baseline_form(document, key), truths[key]))
            absent["confidence"].extend(a.confidence for a in answers[len(linked):])
            log(f"funsd {name}: {len(questions)} questions")

    timing = time_documents(reader, root, cache, args)
    result = {
        "weights": str(args.weights or "package"),
        "fold": args.fold, "folds": args.folds if args.fold is not None else None,
        "words": {"sroie": args.sroie_words, "funsd": args.funsd_words},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
        "metrics": {},
        "funsd_blank_questions_not_found": round(1 - mean(funsd_blank_found), 4) if funsd_blank_found else None,
        "sroie_absent_questions_false_answers": round(mean(absent["found"]), 4) if absent["found"] else None,
        "absent_mean_confidence": round(mean(absent["confidence"]), 3) if absent["confidence"] else None,
        "confidence": {k: round(mean(v), 3) if v else None for k, v in confidences.items()},
        "seconds": timing | {"qa_per_receipt_12_questions": round(mean(qa_seconds), 3) if qa_seconds else None},
        "failures": examples,
        # How many questions the two rates above are of, so that --combine can pool folds.
        "counts": {"funsd_blank": len(funsd_blank_found), "sroie_absent": len(absent["found"])},
    }
    for key, pair in scores.items():
        if pair["model"]:
            result["metrics"][key] = {"n": len(pair["model"]), "model": round(mean(pair["model"]), 4),
                                      "baseline": round(mean(pair["baseline"]), 4)}
    return result


def time_documents(reader, root: Path, cache: Path, args) -> dict:
    """Seconds after load: one receipt (4 questions), and a 10-page document (4 questions)."""
    from ocromni.qa.features import document_from_pages
    from ocromni.types import PageText

    pages = []
    for path in sorted(cache.glob("sroie_*.json"))[:10]:
        page = PageText.from_dict(json.loads(path.read_text()))
        page.page = len(pages) + 1
        pages.append(page)
    if not pages:
        return {}
    questions = [SROIE_QUESTIONS[f][0] for f in SROIE_QUESTIONS]
    one = []
    for page in pages:
        document = document_from_pages([page], "one")
        t = time.perf_counter()
        reader.answer(document, questions)
        one.append(time.perf_counter() - t)
    ten = []
    for _ in range(3):
        document = document_from_pages(pages, "ten")
        t = time.perf_counter()
        reader.answer(document, questions)
        ten.append(time.perf_counter() - t)
    out = {"qa_one_receipt_4_questions": round(mean(one), 3), "qa_10_pages_4_questions": round(min(ten), 3)}
    if args.ocr_timing:
        out |= time_with_ocr(reader, root, cache, questions)
    return out


def time_with_ocr(reader, root: Path, cache: Path, questions) -> dict:
    """End to end after load: OCR + QA of one receipt image and of a 10-page PDF of receipts."""
    import tempfile

    import pymupdf as fitz

    import ocromni
    from ocromni.qa.features import document_from_pages

    names = [p.stem[6:] for p in sorted(cache.glob("sroie_*.json"))[:10]]
    images = [root / "sroie" / "img" / f"{name}.jpg" for name in names]
    ocromni.recognize([str(images[0])])  # load the OCR model first
    out = {}
    ocr_one, qa_one = [], []
    for image in images[:3]:
        t = time.perf_counter()
        page = ocromni.recognize([str(image)])[0]
        ocr_one.append(time.perf_counter() - t)
        t = time.perf_counter()
        reader.answer(document_from_pages([page], image.name), questions)
        qa_one.append(time.perf_counter() - t)
    out["one_receipt_ocr"] = round(mean(ocr_one), 3)
    out["one_receipt_qa"] = round(mean(qa_one), 3)
    out["one_receipt_total"] = round(mean(ocr_one) + mean(qa_one), 3)
    with tempfile.TemporaryDirectory() as folder:
        pdf_path = Path(folder) / "ten_receipts.pdf"
        pdf = fitz.open()
        for image in images:
            with fitz.open(str(image)) as picture:
                rect = picture[0].rect
            page = pdf.new_page(width=rect.width * 72 / 200, height=rect.height * 72 / 200)  # 200 dpi, the default
            page.insert_image(page.rect, filename=str(image))
        pdf.save(str(pdf_path))
        pdf.close()
        t = time.perf_counter()
        pages = ocromni.recognize([str(pdf_path)])
        ocr_ten = time.perf_counter() - t
        t = time.perf_counter()
        reader.answer(document_from_pages(pages, pdf_path.name), questions)
        qa_ten = time.perf_counter() - t
    out["10_page_pdf_ocr"] = round(ocr_ten, 3)
    out["10_page_pdf_qa"] = round(qa_ten, 3)
    out["10_page_pdf_total"] = round(ocr_ten + qa_ten, 3)
    return out


def combine(paths: list[str]) -> dict:
    """One held-out figure from the runs of every fold (``--fold K`` for each K): each
    metric pooled over all the folds' questions, as if one run had scored them all."""
    runs = [json.loads(Path(path).read_text()) for path in paths]
    folds, of = [run["fold"] for run in runs], {run["folds"] for run in runs}
    if len(of) != 1 or None in of or sorted(folds) != list(range(runs[0]["folds"])):
        raise SystemExit(f"--combine needs one run of each fold K (--fold K) of one --folds N; got folds {folds} of {sorted(of, key=str)}")

    def pooled(values, weights):
        pairs = [(v, w) for v, w in zip(values, weights) if v is not None and w]
        return round(sum(v * w for v, w in pairs) / sum(w for _, w in pairs), 4) if pairs else None

    def counted(rate, count):
        return pooled([run[rate] for run in runs], [run.get("counts", {}).get(count, 0) for run in runs])

    metrics = {}
    for key in runs[0]["metrics"]:
        rows = [run["metrics"][key] for run in runs if key in run["metrics"]]
        metrics[key] = {"n": sum(r["n"] for r in rows), "model": pooled([r["model"] for r in rows], [r["n"] for r in rows]),
                        "baseline": pooled([r["baseline"] for r in rows], [r["n"] for r in rows]),
                        "per_fold": [r["model"] for r in rows]}
    return {"weights": [run["weights"] for run in runs], "fold": "all", "folds": runs[0]["folds"], "words": runs[0]["words"],
            "metrics": metrics,
            "funsd_blank_questions_not_found": counted("funsd_blank_questions_not_found", "funsd_blank"),
            "sroie_absent_questions_false_answers": counted("sroie_absent_questions_false_answers", "sroie_absent"),
            "absent_mean_confidence": None, "confidence": None, "seconds": {}}


def print_table(result: dict) -> None:
    if result["fold"] is None:
        fold = "dev (all documents)"
    elif result["fold"] == "all":
        fold = f"held-out, all {result['folds']} folds pooled"
    else:
        fold = f"held-out fold {result['fold']} of {result['folds']}"
    print(f"ask benchmark — {fold}; weights: {result['weights']}; words: {result['words']}")
    print(f"{'metric':<22}{'n':>6}{'model':>10}{'baseline':>10}")
    names = {"sroie_total": "SROIE total EM", "sroie_date": "SROIE date EM", "sroie_company": "SROIE company ANLS",
             "sroie_address": "SROIE address ANLS", "funsd": "FUNSD ANLS",
             "memo_from": "FUNSD memo: from ANLS", "memo_to": "FUNSD memo: to ANLS"}
    for key, row in result["metrics"].items():
        print(f"{names.get(key, key):<22}{row['n']:>6}{row['model']:>10.3f}{row['baseline']:>10.3f}")
    if result.get("funsd_blank_questions_not_found") is not None:
        print(f"FUNSD blank fields answered 'not found': {result['funsd_blank_questions_not_found']:.3f}")
    if result.get("sroie_absent_questions_false_answers") is not None:
        confidence = result.get("absent_mean_confidence")
        print(f"SROIE questions about absent fields answered anyway: {result['sroie_absent_questions_false_answers']:.3f}"
              + (f" (mean confidence of all absent/blank answers {confidence})" if confidence is not None else ""))
    if result["confidence"]:
        print(f"mean confidence: right {result['confidence']['right']}, wrong {result['confidence']['wrong']}")
    for key, value in result["seconds"].items():
        print(f"{key}: {value} s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="shared/data folder (default: $OCROMNI_DATA or ../shared/data)")
    parser.add_argument("--weights", help="QA weights folder (default: the package's)")
    parser.add_argument("--ocr-cache", default="/tmp/ocr_cache")
    parser.add_argument("--sroie-words", choices=("ocr", "gt"), default="ocr")
    parser.add_argument("--funsd-words", choices=("ocr", "gt"), default="ocr",
                        help="gt: the annotated word boxes (OCR of the 149 forms takes ~1 h on 2 shared cores)")
    parser.add_argument("--fold", type=int)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--limit", type=int, help="documents per dataset")
    parser.add_argument("--skip-funsd", action="store_true")
    parser.add_argument("--ocr-timing", action="store_true", help="also time OCR + QA of one receipt and of a 10-page PDF")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--combine", nargs="+", metavar="JSON",
                        help="pool the --out files of the runs of every fold into one held-out figure (runs nothing)")
    parser.add_argument("--out", help=f"the result as JSON (default {DEFAULT_OUT.name}, with --combine {COMBINED_OUT.name}, "
                                      "in benchmarks/results)")
    args = parser.parse_args(argv)
    if args.combine:
        result = combine(args.combine)
    else:
        import torch

        torch.set_num_threads(args.threads)
        result = run(args)
    print_table(result)
    out = Path(args.out) if args.out else COMBINED_OUT if args.combine else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
