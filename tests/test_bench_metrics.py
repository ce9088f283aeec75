"""The benchmark's metrics on hand-made polygons and strings (no data, no models)."""

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("shapely")

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "metrics.py"
_SPEC = importlib.util.spec_from_file_location("bench_metrics", _PATH)
metrics = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = metrics  # dataclasses look their module up while the file executes
_SPEC.loader.exec_module(metrics)


def box(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


# --------------------------------------------------------------------------- IoU


def test_iou_identical_disjoint_and_half():
    assert metrics.polygon_iou(box(0, 0, 10, 10), box(0, 0, 10, 10)) == pytest.approx(1.0)
    assert metrics.polygon_iou(box(0, 0, 10, 10), box(20, 20, 30, 30)) == 0.0
    # overlap 50, union 150
    assert metrics.polygon_iou(box(0, 0, 10, 10), box(5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_iou_of_rotated_quad():
    diamond = [[5, 0], [10, 5], [5, 10], [0, 5]]  # area 50, inside the 10x10 square
    assert metrics.polygon_iou(diamond, box(0, 0, 10, 10)) == pytest.approx(0.5)


def test_degenerate_polygons_do_not_crash():
    assert metrics.polygon_iou([[0, 0], [1, 1]], box(0, 0, 10, 10)) == 0.0
    bow_tie = [[0, 0], [10, 10], [10, 0], [0, 10]]  # self-intersecting
    assert 0.0 <= metrics.polygon_iou(bow_tie, box(0, 0, 10, 10)) <= 1.0


# --------------------------------------------------------------------------- matching


def test_perfect_detection():
    truths = [box(0, 0, 10, 10), box(20, 0, 30, 10)]
    counts = metrics.match_regions(truths, truths)
    assert (counts.true_positives, counts.predictions, counts.ground_truth) == (2, 2, 2)
    assert counts.f1 == pytest.approx(1.0)


def test_iou_threshold_is_inclusive_at_half_and_rejects_below():
    truth = [box(0, 0, 10, 10)]
    assert metrics.match_regions([box(0, 0, 10, 20)], truth).true_positives == 1  # IoU exactly 0.5
    assert metrics.match_regions([box(0, 0, 10, 21)], truth).true_positives == 0  # IoU < 0.5


def test_matching_is_one_to_one():
    # two predictions on one truth: one TP, one FP
    counts = metrics.match_regions([box(0, 0, 10, 10), box(0, 0, 10, 11)], [box(0, 0, 10, 10)])
    assert (counts.true_positives, counts.predictions, counts.ground_truth) == (1, 2, 1)
    assert counts.precision == pytest.approx(0.5)
    assert counts.recall == pytest.approx(1.0)
    assert counts.f1 == pytest.approx(2 / 3)


def test_greedy_matching_prefers_highest_iou():
    truths = [box(0, 0, 10, 10), box(4, 0, 14, 10)]
    # the first prediction matches either truth (IoU 2/3 each); the second only the first
    # truth (IoU 1). Taking pairs in listing order would leave one unmatched.
    preds = [box(2, 0, 12, 10), box(0, 0, 10, 10)]
    assert metrics.match_regions(preds, truths).true_positives == 2


def test_dont_care_prediction_ignored_and_not_counted():
    truths = [box(0, 0, 10, 10), box(50, 50, 60, 60)]
    dont_care = [False, True]
    preds = [box(0, 0, 10, 10), box(50, 50, 60, 60), box(51, 51, 55, 55), box(100, 100, 110, 110)]
    counts = metrics.match_regions(preds, truths, dont_care)
    # the exact don't-care match and the one lying inside it are dropped; the far one is an FP
    assert (counts.true_positives, counts.predictions, counts.ground_truth) == (1, 2, 1)


def test_dont_care_only_image_counts_nothing():
    counts = metrics.match_regions([box(0, 0, 10, 10)], [box(0, 0, 10, 10)], [True])
    assert (counts.true_positives, counts.predictions, counts.ground_truth) == (0, 0, 0)
    assert counts.f1 == 0.0


def test_counts_accumulate_micro_average():
    total = metrics.MatchCounts()
    total += metrics.MatchCounts(1, 1, 2)
    total += metrics.MatchCounts(3, 5, 4)
    assert (total.true_positives, total.predictions, total.ground_truth) == (4, 6, 6)
    assert total.precision == pytest.approx(4 / 6)


def test_end_to_end_needs_matching_text():
    truths = [box(0, 0, 10, 10), box(20, 0, 30, 10)]
    preds = [box(0, 0, 10, 10), box(20, 0, 30, 10)]
    counts = metrics.match_regions(
        preds, truths, pred_texts=["cafe,", "BAR"], true_texts=["CAFE", "Pub"],
        same_text=metrics.same_spotting_word,
    )
    assert (counts.true_positives, counts.predictions, counts.ground_truth) == (1, 2, 2)


def test_spotting_and_line_normalisation():
    assert metrics.normalize_spotting("(Hello!)") == "hello"
    assert metrics.normalize_spotting("John's") == "john"
    assert metrics.normalize_spotting("e-mail") == "e-mail"  # inner punctuation is kept
    assert metrics.same_spotting_word("EXIT.", "exit")
    assert not metrics.same_spotting_word("exits", "exit")
    assert metrics.same_line("Total  RM 3.00", "TOTAL RM 3.00")
    assert not metrics.same_line("TOTAL RM3.00", "TOTAL RM 3.00")


# --------------------------------------------------------------------------- words


def test_word_normalisation_keeps_letters_and_digits_only():
    assert metrics.normalize_word("[06]") == "06"
    assert metrics.normalize_word("Caf\u00e9-Bar!") == "caf\u00e9bar"
    assert metrics.normalize_word("...") == ""


def test_word_scores():
    scores = metrics.word_scores([("HELLO", "hello"), ("W0rld", "world"), ("anything", "...")])
    assert scores.n == 2  # the punctuation-only truth is left out
    assert scores.correct == 1
    assert scores.accuracy == pytest.approx(0.5)
    # "w0rld" vs "world": 1 substitution over 5 characters
    assert scores.one_minus_ned == pytest.approx(1 - (0 + 1 / 5) / 2)


# --------------------------------------------------------------------------- edit distance / CER


@pytest.mark.parametrize(
    "a, b, expected",
    [("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("same", "same", 0)],
)
def test_edit_distance(a, b, expected):
    assert metrics.edit_distance(a, b) == expected
    assert metrics._edit_distance_python(a, b) == expected  # the fallback agrees


def test_normalized_edit_distance_uses_longer_string():
    assert metrics.normalized_edit_distance("abcd", "ab") == pytest.approx(0.5)
    assert metrics.normalized_edit_distance("", "") == 0.0


def test_cer_is_relative_to_truth_and_can_exceed_one():
    assert metrics.cer("hello", "hello") == 0.0
    assert metrics.cer("helo", "hello") == pytest.approx(1 / 5)
    assert metrics.cer("xxxxxxxxxx", "ab") == pytest.approx(5.0)
    assert metrics.cer("", "") == 0.0
    assert metrics.cer("x", "") == 1.0


def test_page_cer_normalises_whitespace_and_optionally_case():
    assert metrics.page_cer("TOTAL\n\n  RM 3.00 ", "TOTAL RM 3.00") == 0.0
    assert metrics.page_cer("Total RM 3.00", "TOTAL RM 3.00") > 0
    assert metrics.page_cer("Total RM 3.00", "TOTAL RM 3.00", ignore_case=True) == 0.0
    # order matters: swapped lines are errors
    assert metrics.page_cer("b line\na line", "a line\nb line") > 0


def test_reading_order_rows():
    items = [
        ((50, 0, 80, 10), "world"),
        ((0, 1, 40, 11), "hello"),
        ((0, 30, 40, 40), "next"),
        ((45, 29, 90, 41), "row"),
    ]
    assert metrics.reading_order_text(items) == "hello world\nnext row"


# --------------------------------------------------------------------------- SROIE text comparisons


def test_receipt_words_match_as_multisets_without_boxes():
    # "TOTAL 42.50" read as one line matches two ground-truth lines' words; a repeated
    # word must be repeated to count twice.
    counts = metrics.receipt_word_counts(["Total 42.50", "THANK YOU"], ["TOTAL", "42.50", "THANK YOU", "THANK"])
    assert (counts.true_positives, counts.predictions, counts.ground_truth) == (4, 4, 5)
    # a missing space merges two words: both are wrong
    counts = metrics.receipt_word_counts(["TAXINVOICE"], ["TAX INVOICE"])
    assert (counts.true_positives, counts.predictions, counts.ground_truth) == (0, 1, 2)
    # punctuation is part of the word
    assert metrics.receipt_word_counts(["RM3.00,"], ["RM3.00"]).true_positives == 0


def test_line_letters_digits_ignores_spaces_punctuation_and_case_only():
    assert metrics.same_line_letters_digits("Tel:03-3271 9872", "TEL : 03-3271 9872")
    assert metrics.same_line_letters_digits("Total", "TOTAL")
    assert not metrics.same_line_letters_digits("TOTAL 42.50", "TOTAL 42.60")
    assert not metrics.same_line_letters_digits("Conpany", "COMPANY")
    assert not metrics.same_line("Tel:03-3271 9872", "TEL : 03-3271 9872")
