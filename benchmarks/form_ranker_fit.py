"""How the form ranker's training settings generalise: held-out 2-fold over the FUNSD dev forms.

    python benchmarks/form_ranker_fit.py                                  # fit's defaults and the shipped settings
    python benchmarks/form_ranker_fit.py --setting '{"epochs": 50}' --setting '{"hidden": 8}'

Each fold's rankers are trained on the other fold's forms (their pairing features from a
pairing trained without them, as ``ocromni.qa.ranker_train`` does) and score the fold's
questions with routing given: a filled key's answer by ANLS against its linked answer, a
blank key by whether it is "not found". A setting is a JSON object of ``fit_scorer``'s
keyword arguments (``epochs``, ``weight_decay``, ``hidden``: units of the MLP, ``members``:
MLPs averaged); each is run with ``--seeds`` training seeds on both folds, and the table
gives the means.

Filled-key ANLS trades against blank keys "not found" (a ranker that guesses more scores
more ANLS on filled keys), so the table also gives the ANLS with the null's score moved,
per fold and seed, to make a given share of the blank keys "not found" (``--at``): two
settings compare fairly there. Candidates and pairing features are built once (about
4 min) and can be kept with ``--groups FILE``; each setting then takes 10 s (one MLP) to a
minute (five members, their null set out of fold).
The table goes to stdout, JSON to ``--out``, progress to stderr.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "form_ranker_fit.json"

from ocromni.qa import ranker as R  # noqa: E402
from ocromni.qa import ranker_train as T  # noqa: E402

FOLDS = 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_groups(root: Path, cache: Path) -> dict:
    """Per fold: the training groups (features, soft targets) of the other fold's forms,
    and the fold's own questions as (candidates, truth)."""
    from ocromni.qa import pairing as P
    from ocromni.qa.model import SentenceEncoder

    encoder = SentenceEncoder()
    questions = list(T.funsd_examples(root, cache))
    forms = T.funsd_forms(root)
    folds = {}
    for fold in range(FOLDS):
        started = time.perf_counter()
        train = [e for e in questions if e[0][1] % FOLDS != fold]
        test = [e for e in questions if e[0][1] % FOLDS == fold]
        pairing, pairing_for = P.cross_fitted([(s, f) for i, s, f in forms if i % FOLDS != fold], encoder, 0)
        groups, sources = T.training_groups("form", train, pairing_for)
        held_out = [(R.candidates_for("form", e[2], e[3], pairing), e[4]) for e in test]
        folds[fold] = (groups, sources, held_out)
        log(f"fold {fold}: {len(groups)} training groups, {len(held_out)} questions ({time.perf_counter() - started:.0f} s)")
    return folds


def null_margins(scorer: R.Scorer, held_out: list) -> np.ndarray:
    """Per blank key: the null's score minus the log-sum-exp of its candidates' scores
    (``ranker.rank`` says "not found" when it is above 0; inf without candidates)."""
    return np.array([T.null_margin(scorer, np.stack([c.features for c in candidates]) if candidates
                                   else np.zeros((0, 0), dtype=np.float32))
                     for candidates, truth in held_out if not truth])


def shift_for(margins: np.ndarray, share: float) -> float:
    """The shift of the null's score that makes ``share`` of the blank keys "not found"."""
    shifts = np.concatenate([[-1e9], -margins[np.isfinite(margins)] + 1e-9, [1e9]])
    return float(min(shifts, key=lambda s: abs(np.mean(margins + s > 0) - share)))


def score(scorer: R.Scorer, held_out: list, shift: float = 0.0) -> tuple[float, float]:
    """(filled-key ANLS, share of blank keys "not found"), the null's score moved by ``shift``."""
    null = scorer.null
    scorer.null = null + shift
    try:
        filled, blank = [], []
        for candidates, truth in held_out:
            ranked = R.rank(scorer, candidates, with_null=True)
            answer = R.clean_ranked("form", ranked.text if ranked else "")
            (filled if truth else blank).append(T.anls(answer, truth) if truth else float(not answer))
    finally:
        scorer.null = null
    return float(np.mean(filled)), float(np.mean(blank))


def run(setting: dict, folds: dict, seeds: int, shares: list[float]) -> dict:
    rows = []
    for seed in range(seeds):
        for fold in range(FOLDS):
            groups, sources, held_out = folds[fold]
            scorer = R.Scorer(T.fit_scorer(groups, sources, with_null=True, seed=seed, **setting))
            margins = null_margins(scorer, held_out)
            rows.append([*score(scorer, held_out)]
                        + [score(scorer, held_out, shift_for(margins, share))[0] for share in shares])
    means = np.mean(rows, axis=0)
    return {"setting": setting, "filled_anls": round(means[0], 4), "blank_not_found": round(means[1], 3),
            "filled_anls_at": {str(share): round(m, 4) for share, m in zip(shares, means[2:])}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="shared/data folder (default: $OCROMNI_DATA or ../shared/data)")
    parser.add_argument("--ocr-cache", default="/tmp/ocr_cache", help="benchmarks/ask.py's OCR cache")
    parser.add_argument("--groups", help="keep the built candidates in this pickle file and reuse them")
    parser.add_argument("--setting", action="append", help="JSON of fit_scorer's keyword arguments (repeatable)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--at", type=float, nargs="*", default=[0.45, 0.55], help="blank-key 'not found' shares")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the table as JSON")
    args = parser.parse_args(argv)
    from ocromni.qa.train import default_data_root

    root = Path(args.data) if args.data else default_data_root()
    import torch

    torch.set_num_threads(1)
    keep = Path(args.groups) if args.groups else None
    folds = pickle.loads(keep.read_bytes()) if keep and keep.is_file() else None  # a file this script wrote
    if folds is not None and any(len(fold) != 3 for fold in folds.values()):
        log(f"{keep} holds no documents beside its groups (written before the ensemble): building anew")
        folds = None
    if folds is None:
        folds = build_groups(root, Path(args.ocr_cache))
        if keep:
            keep.write_bytes(pickle.dumps(folds))
    settings = [json.loads(s) for s in args.setting] if args.setting else [
        {"epochs": 300, "weight_decay": 1e-3}, T.FIT_SETTINGS["form"]]
    print(f"{'setting':52} {'filled ANLS':>11} {'blank not found':>15} " + " ".join(f"{'ANLS @' + str(s):>10}" for s in args.at))
    results = []
    for setting in settings:
        results.append(run(setting, folds, args.seeds, args.at))
        print(f"{json.dumps(setting):52} {results[-1]['filled_anls']:11.4f} {results[-1]['blank_not_found']:15.3f} "
              + " ".join(f"{v:10.4f}" for v in results[-1]["filled_anls_at"].values()), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "form_ranker_fit", "seeds": args.seeds, "folds": FOLDS, "results": results}, indent=2) + "\n")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
