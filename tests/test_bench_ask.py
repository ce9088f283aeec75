"""benchmarks/ask.py's pooling of per-fold runs into one held-out figure (no data, no models)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("bench_ask", Path(__file__).resolve().parents[1] / "benchmarks" / "ask.py")
ask = importlib.util.module_from_spec(_SPEC)
_path = list(sys.path)
_SPEC.loader.exec_module(ask)
# ask.py puts benchmarks/ first on the path, where datasets.py would pass for the
# `datasets` package in every later test.
sys.path[:] = _path


def _run(tmp_path, fold, funsd, blank_rate, blanks):
    path = tmp_path / f"fold{fold}.json"
    path.write_text(json.dumps({
        "weights": f"w{fold}", "fold": fold, "folds": 2, "words": {"sroie": "ocr", "funsd": "ocr"},
        "metrics": {"funsd": {"n": funsd[0], "model": funsd[1], "baseline": 0.4}},
        "funsd_blank_questions_not_found": blank_rate, "sroie_absent_questions_false_answers": 0.0,
        "counts": {"funsd_blank": blanks, "sroie_absent": 120}}))
    return str(path)


def test_folds_pool_over_their_questions_not_as_a_mean_of_means(tmp_path):
    runs = [_run(tmp_path, 0, (300, 0.5), 0.6, 100), _run(tmp_path, 1, (100, 0.7), 0.2, 300)]
    result = ask.combine(runs)
    assert result["metrics"]["funsd"]["n"] == 400
    assert result["metrics"]["funsd"]["model"] == pytest.approx(0.55)  # (300 * 0.5 + 100 * 0.7) / 400, not 0.6
    assert result["metrics"]["funsd"]["per_fold"] == [0.5, 0.7]
    assert result["funsd_blank_questions_not_found"] == pytest.approx(0.3)  # (100 * 0.6 + 300 * 0.2) / 400


def test_a_missing_fold_or_a_dev_run_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="one run of each fold"):
        ask.combine([_run(tmp_path, 1, (100, 0.7), 0.2, 300)])
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps({"fold": None, "folds": None, "metrics": {}}))
    with pytest.raises(SystemExit, match="one run of each fold"):
        ask.combine([_run(tmp_path, 0, (300, 0.5), 0.6, 100), str(dev)])
