"""Train the candidate rankers: ``python -m ocromni.qa.ranker_train --out ocromni/weights/qa``.

Data: the SROIE receipts (company, date, address, total) and the FUNSD forms (each
question key -> its linked answer; keys with nothing linked teach "not found"), read by
ocromni's own OCR (cached in ``--ocr-cache``; see ``python -m ocromni.qa.train
--build-ocr-cache``), plus synthetic receipts and invoices from
:mod:`ocromni.qa.synthetic` (the four fields; the money fields -- cash, change, tax,
subtotal -- and the numbers -- invoice, PO, phone -- asked by the labels the page prints,
which alone train the ``money`` and ``number`` rankers: SROIE labels none of them). Each
candidate's soft target is how well it scores against the truth with the benchmark's own
measure (amounts as numbers, dates as printed, ANLS for text). The form ranker also reads
the key-value pairing (:mod:`ocromni.qa.pairing`), trained here first on the same FUNSD
forms' linking; each training form's pairing features come from a pairing trained
without it.

``--folds N`` (default 5) first reports document-level k-fold held-out figures -- the
pairing and the rankers trained on the other folds, scored on each fold in turn -- then
trains on everything and writes ``ranker.json`` (~280 kB) and ``pairing.safetensors``
(~100 kB). Deterministic (one seed, single-threaded torch: two runs of one command give
identical weights; the shipped ones are the default command's, and ``--folds 0`` gives a
pairing that differs from it in the last bits, and rankers that follow). On the shared
2-core CPU, measured on 2026-11-22 with other jobs beside it: about 3 min with
``--fold K`` (98-205 s), about 5 min with ``--folds 0`` (285-322 s), about 13 min with the default
5-fold report (549-668 s before the money ranker, 762-773 s with it, 791 s with the number
ranker beside two other training runs, 734 s with the form ranker's shorter training).
Most of that is fitting pairings: five per cross-fit (one on all its forms, four each
without a quarter of them), 30 with the report. The form ranker's ensemble (FIT_SETTINGS)
adds fifteen small fits per training, about a minute: on 2026-11-23, beside one other
training run, 334-343 s with ``--fold K`` and 939 s with the report.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import mean  # noqa: E402

import numpy as np  # noqa: E402

from ocromni.qa import ranker as R  # noqa: E402
from ocromni.qa.answer import parse_amounts  # noqa: E402

log = logging.getLogger("ocromni.qa.ranker_train")
HIDDEN = 16
# Training length and weight decay per kind, where they differ from fit's defaults. The
# form ranker learns from the ~2,000 questions of 149 FUNSD forms and overfits them at the
# defaults (300 epochs, weight decay 1e-3). On held-out halves of the dev forms, three
# seeds each, 100 epochs at 1e-2 scored filled keys ANLS 0.550 against 0.520, with blank
# keys "not found" 54 % against 57 % (0.550 against 0.526 with the null moved to give both
# 55 %). Fewer hidden units, input noise or dropout did no better (benchmarks/README.md,
# "The form ranker overfitted"). The other kinds keep the defaults they were measured with.
# Since then the form ranker is an ensemble (``members``, see fit_scorer): five MLPs average
# away much of one seed's chance, so each can be restrained less (weight decay 3e-3); on
# the same halves, at a common share of blank keys "not found", 0.610 -> 0.618 (at 45 %)
# and 0.596 -> 0.603 (at 55 %) (benchmarks/README.md, "Five rankers in one").
FIT_SETTINGS = {"form": {"epochs": 100, "weight_decay": 3e-3, "members": 5}}


# --- the benchmark's measures -----------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def anls(prediction: str, truth: str) -> float:
    from rapidfuzz.distance import Levenshtein

    prediction, truth = _norm(prediction), _norm(truth)
    if not truth:
        return float(not prediction)
    similarity = 1.0 - Levenshtein.normalized_distance(prediction, truth)
    return similarity if similarity >= 0.5 else 0.0


def amount_match(prediction: str, truth: str) -> float:
    truth_values, values = parse_amounts(truth), parse_amounts(prediction)
    return float(bool(truth_values and values and abs(values[-1] - truth_values[-1]) < 0.005))


def date_match(prediction: str, truth: str) -> float:
    return float(bool(truth) and "".join(prediction.split()).casefold() == "".join(truth.split()).casefold())


MEASURES = {"total": amount_match, "date": date_match, "company": anls, "address": anls, "form": anls, "money": amount_match,
            "number": anls}


# --- examples ---------------------------------------------------------------------------


def sroie_examples(root: Path, cache: Path):
    """``(doc_id, kind, document, question, truth)`` per receipt field."""
    from ocromni.qa.train import load_sroie

    for index, (name, document, fields) in enumerate(load_sroie(root, cache)):
        for kind in ("total", "date", "company", "address"):
            if fields.get(kind):
                yield ("sroie", index), kind, document, kind, fields[kind]


def funsd_forms(root: Path) -> list[tuple[int, str, list]]:
    """``(index, source, entities)`` per FUNSD form; ``source`` names its document."""
    annotations = sorted((root / "funsd" / "annotations").glob("*.json"))
    return [(index, f"{a.stem}.png", json.loads(a.read_text(encoding="utf-8"))["form"]) for index, a in enumerate(annotations)]


def funsd_examples(root: Path, cache: Path):
    """Linked key -> answer pairs, and keys with nothing linked (truth "")."""
    from ocromni.qa.features import document_from_pages
    from ocromni.qa.train import _page_text_from_cache, funsd_gt_document, funsd_linked_answers

    base = root / "funsd"
    for index, annotation in enumerate(sorted((base / "annotations").glob("*.json"))):
        form = json.loads(annotation.read_text(encoding="utf-8"))["form"]
        cached = cache / f"funsd_{annotation.stem}.json"
        if cached.is_file():
            document = document_from_pages([_page_text_from_cache(cached)], f"{annotation.stem}.png")
        else:
            document = funsd_gt_document(form, f"{annotation.stem}.png")
        by_id = {e["id"]: e for e in form}
        for entity in form:
            key = " ".join(entity.get("text", "").split())
            if entity.get("label") != "question" or sum(ch.isalnum() for ch in key) < 2:
                continue
            answers = funsd_linked_answers(entity, by_id)
            if answers:
                truth = " ".join(" ".join(a["text"].split()) for a in answers)
            elif not entity.get("linking"):
                truth = ""
            else:
                continue
            yield ("funsd", index), "form", document, f"What is the {key}?", truth


def synthetic_examples(seed: int, count: int):
    """The four receipt fields; the money fields (cash, change, tax, subtotal) and the
    numbers (invoice, PO, phone) asked, as the reader asks them, by the labels the page
    prints for them."""
    from ocromni.qa import synthetic
    from ocromni.qa.reader import MONEY_FIELDS, NUMBER_FIELDS, printed_labels

    kinds = {"receipt": 0.7, "invoice": 0.3}
    for number, (document, pairs) in enumerate(synthetic.generate(seed, count, kinds=kinds)):
        for pair in pairs:
            if pair.field in ("total", "date", "company", "address") and pair.spans:
                yield ("synthetic", number), pair.field, document, pair.field, pair.answer
            elif pair.field in MONEY_FIELDS + NUMBER_FIELDS and pair.spans:
                labels = printed_labels(document, pair.field)
                if labels:
                    kind = "money" if pair.field in MONEY_FIELDS else "number"
                    yield ("synthetic", number), kind, document, labels, pair.answer


def make_group(kind, document, question, truth, pairing):
    """Features and soft targets of one question's candidates (for ``money`` and
    ``number``, ``question`` is the field's printed labels); None when nothing fits."""
    candidates = _candidates(kind, document, question, pairing)
    measure = MEASURES[kind]
    features = np.stack([c.features for c in candidates]) if candidates else np.zeros((0, 0), dtype=np.float32)
    scores = np.array([measure(c.text, truth) for c in candidates], dtype=np.float32)
    null = kind == "form"
    if null and not truth:
        target = np.zeros(len(candidates) + 1, dtype=np.float32)
        target[-1] = 1.0
        return features, target
    if not len(candidates) or scores.max() < 0.5:
        return None
    weight = np.where(scores >= 0.5, np.exp(15 * (scores - scores.max())), 0.0)
    target = weight / weight.sum()
    if null:
        target = np.concatenate([target, [0.0]])
    return features, target.astype(np.float32)


def _candidates(kind, document, question, pairing):
    if kind in ("money", "number"):
        return R.labelled_candidates(document, question, kind, pairing)
    return R.candidates_for(kind, document, question, pairing)


# --- training ---------------------------------------------------------------------------


def fit(groups: list, with_null: bool, seed: int = 0, epochs: int = 300, weight_decay: float = 1e-3,
        hidden: int = HIDDEN) -> dict:
    """An MLP scorer trained with a softmax over each group's candidates (+ the null)."""
    import torch

    torch.manual_seed(seed)
    groups = [g for g in groups if g[0].shape[0] > 0 or with_null]
    dim = next(g[0].shape[1] for g in groups if g[0].shape[0])
    stacked = np.concatenate([g[0] for g in groups if g[0].shape[0]])
    mean_ = stacked.mean(0)
    std = stacked.std(0) + 1e-3
    width = max(g[0].shape[0] for g in groups) + 1
    x = np.zeros((len(groups), width, dim), dtype=np.float32)
    mask = np.zeros((len(groups), width + 1), dtype=bool)
    target = np.zeros((len(groups), width + 1), dtype=np.float32)
    for row, (features, soft) in enumerate(groups):
        n = features.shape[0]
        if n:
            x[row, :n] = (features - mean_) / std
        mask[row, :n] = True
        target[row, :n] = soft[:n]
        if with_null:
            mask[row, width] = True
            target[row, width] = soft[n] if len(soft) > n else 0.0
    x, mask, target = torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(target)
    model = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
    null = torch.nn.Parameter(torch.zeros(()))
    optimizer = torch.optim.Adam(list(model.parameters()) + [null], lr=0.01, weight_decay=weight_decay)
    for _ in range(epochs):
        scores = model(x).squeeze(-1)
        scores = torch.cat([scores, null.expand(len(groups), 1)], dim=1).masked_fill(~mask, -1e4)
        loss = -(target * torch.log_softmax(scores, dim=1)).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    first, second = model[0], model[2]
    return {"mean": mean_.tolist(), "std": std.tolist(), "w1": first.weight.detach().numpy().T.tolist(),
            "b1": first.bias.detach().numpy().tolist(), "w2": second.weight.detach().numpy()[0].tolist(),
            "b2": float(second.bias.detach()), "null": float(null.detach())}


def merge_scorers(members: list[dict]) -> dict:
    """One MLP whose score is the mean of ``members``' (fit's dicts, trained on the same
    features, so with the same normalisation): their hidden units side by side, the output
    weights divided by their number. ranker.json and ranker.Scorer keep their one shape."""
    assert all(m["mean"] == members[0]["mean"] and m["std"] == members[0]["std"] for m in members)
    return {"mean": members[0]["mean"], "std": members[0]["std"],
            "w1": np.concatenate([np.asarray(m["w1"]) for m in members], axis=1).tolist(),
            "b1": [b for m in members for b in m["b1"]],
            "w2": [w / len(members) for m in members for w in m["w2"]],
            "b2": float(np.mean([m["b2"] for m in members])), "null": float(np.mean([m["null"] for m in members]))}


def fit_scorer(groups: list, sources: list, with_null: bool, seed: int = 0, members: int = 1, **settings) -> dict:
    """``fit``'s MLP, or with ``members`` > 1 the mean of that many, trained from
    consecutive seeds (``seed * members`` on) and merged (merge_scorers).

    A mean of scores is less sure of any one candidate than its members are, while the
    null's score, one number, is not flattened so: the mean of the members' nulls need not
    be the null that fits the ensemble. So the ensemble's null is set anew, out of fold
    (null_shift; on FUNSD's halves the shift came out at -0.01 to -0.08, a little towards
    answering). ``sources`` names each group's document."""
    if members == 1:
        return fit(groups, with_null, seed, **settings)

    def ensemble(subset: list) -> dict:
        return merge_scorers([fit(subset, with_null, seed * members + i, **settings) for i in range(members)])

    weights = ensemble(groups)
    if with_null:
        weights["null"] += null_shift(groups, sources, ensemble)
    return weights


def null_shift(groups: list, sources: list, train) -> float:
    """How far to move the null's score of the scorers ``train(groups)`` makes so that, on
    documents they did not learn from, their mean probability of "not found" equals the
    share of keys there that are blank (the maximum-likelihood shift: the log-likelihood's
    slope in it is the difference of the two).

    The documents are dealt alternately into two halves; each half's scorer is scored
    on the other half's groups."""
    order = {source: i for i, source in enumerate(sorted(set(sources)))}
    halves = [[g for g, s in zip(groups, sources) if order[s] % 2 == half] for half in (0, 1)]
    margins, blank = [], []
    for half in (0, 1):
        scorer = R.Scorer(train(halves[1 - half]))
        for features, target in halves[half]:
            margins.append(null_margin(scorer, features))
            blank.append(float(target[-1]))
    margins, share = np.array(margins), float(np.mean(blank))
    low, high = -10.0, 10.0  # the mean probability rises with the shift: bisect
    for _ in range(40):
        middle = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(margins + middle)))) > share:
            high = middle
        else:
            low = middle
    return (low + high) / 2


def null_margin(scorer: R.Scorer, features: np.ndarray) -> float:
    """The null's score minus the log-sum-exp of the candidates' scores: the log-odds of
    "not found" (``ranker.rank`` says it above 0); inf without candidates."""
    if not features.shape[0]:
        return np.inf
    scores = scorer.scores(features)
    return float(scorer.null - scores.max() - np.log(np.exp(scores - scores.max()).sum()))


def training_groups(kind: str, examples: list, pairing_for) -> tuple[list, list]:
    """The ``kind`` examples' candidate groups (see make_group), and each one's document
    (its example's id); ``pairing_for(source)`` is the pairing that scores a document's
    form candidates (for a training form, one trained without it)."""
    made = [(e[0], g) for e in examples if e[1] == kind
            for g in [make_group(kind, e[2], e[3], e[4], pairing_for(e[2].source))] if g is not None]
    return [g for _, g in made], [source for source, _ in made]


def train_scorers(examples: list, seed: int, pairing_for) -> dict:
    """One scorer per kind, from training_groups."""
    out = {}
    for kind in R.KINDS:
        groups, sources = training_groups(kind, examples, pairing_for)
        if groups:
            out[kind] = fit_scorer(groups, sources, with_null=(kind == "form"), seed=seed, **FIT_SETTINGS.get(kind, {}))
    return out


def evaluate(scorers: dict, examples: list, pairing) -> dict:
    """Per kind: the benchmark's mean score of the ranker's answer (oracle routing)."""
    results: dict[str, list] = {}
    for doc_id, kind, document, question, truth in examples:
        if kind not in scorers:
            continue
        scorer = R.Scorer(scorers[kind])
        ranked = R.rank(scorer, _candidates(kind, document, question, pairing), with_null=(kind == "form"))
        text = R.clean_ranked(kind, ranked.text if ranked else "")
        results.setdefault(kind if (kind != "form" or truth) else "form_blank", []).append(MEASURES[kind](text, truth))
    return {k: round(mean(v), 4) for k, v in results.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ocromni.qa.ranker_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for ranker.json (beside the QA model)")
    parser.add_argument("--data", help="the shared/data folder (default: $OCROMNI_DATA or ../shared/data)")
    parser.add_argument("--ocr-cache", default="/tmp/ocr_cache")
    parser.add_argument("--folds", type=int, default=5, help="k-fold held-out report first (0: skip)")
    parser.add_argument("--fold", type=int, help="train without the real documents whose index %% folds == fold")
    parser.add_argument("--synthetic-docs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", help="write the k-fold figures here as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    import torch

    torch.set_num_threads(1)
    from ocromni.qa.train import default_data_root

    started = time.perf_counter()
    root = Path(args.data) if args.data else default_data_root()
    cache = Path(args.ocr_cache)
    from ocromni.qa import pairing as P
    from ocromni.qa.model import SentenceEncoder

    encoder = SentenceEncoder()
    real = list(sroie_examples(root, cache)) + list(funsd_examples(root, cache))
    forms = funsd_forms(root)
    synthetic = list(synthetic_examples(args.seed, args.synthetic_docs)) if args.synthetic_docs else []
    log.info("%d real and %d synthetic questions (%.0f s)", len(real), len(synthetic), time.perf_counter() - started)
    report = {}
    if args.fold is not None:
        real = [e for e in real if e[0][1] % args.folds != args.fold]
        forms = [f for f in forms if f[0] % args.folds != args.fold]
    elif args.folds:
        per_fold = []
        for fold in range(args.folds):
            train = [e for e in real if e[0][1] % args.folds != fold] + synthetic
            test = [e for e in real if e[0][1] % args.folds == fold]
            pairing, pairing_for = P.cross_fitted([(s, f) for i, s, f in forms if i % args.folds != fold], encoder, args.seed)
            per_fold.append(evaluate(train_scorers(train, args.seed, pairing_for), test, pairing))
            log.info("fold %d: %s", fold, per_fold[-1])
        report["held_out"] = {k: round(mean(f[k] for f in per_fold if k in f), 4) for k in per_fold[0]}
        log.info("k-fold held-out mean: %s", report["held_out"])
    pairing, pairing_for = P.cross_fitted([(s, f) for _, s, f in forms], encoder, args.seed)
    log.info("key-value pairing trained on %d forms (%.0f s)", len(forms), time.perf_counter() - started)
    scorers = train_scorers(real + synthetic, args.seed, pairing_for)
    report["dev_on_train"] = evaluate(scorers, real, pairing)
    log.info("trained on everything, scored on the same: %s", report["dev_on_train"])
    seconds = round(time.perf_counter() - started)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"scorers": scorers, "training": {"seed": args.seed, "synthetic_docs": args.synthetic_docs,
                                                "fold": args.fold, "folds": args.folds, "seconds": seconds, **report}}
    pairing.save(out)
    temporary = out / (R.RANKER_FILE + ".tmp")
    temporary.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    os.replace(temporary, out / R.RANKER_FILE)
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote %s in %d s", out / R.RANKER_FILE, seconds)


if __name__ == "__main__":
    main()
