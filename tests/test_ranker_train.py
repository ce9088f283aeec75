"""The form ranker's ensemble: members merged into one MLP, its "not found" set out of fold."""

import numpy as np

from ocromni.qa.ranker import Scorer
from ocromni.qa.ranker_train import HIDDEN, fit, fit_scorer, merge_scorers, null_shift


def toy_groups(count: int, seed: int = 0) -> tuple[list, list]:
    """Questions of four candidates each: the right one has a high first feature; every
    fourth question is blank (its target is the null)."""
    rng = np.random.default_rng(seed)
    groups, sources = [], []
    for i in range(count):
        features = rng.normal(size=(4, 5)).astype(np.float32)
        target = np.zeros(5, dtype=np.float32)
        if i % 4 == 3:
            target[-1] = 1.0
        else:
            features[i % 4, 0] += 3.0
            target[i % 4] = 1.0
        groups.append((features, target))
        sources.append(("toy", i // 3))  # three questions a document
    return groups, sources


def test_merged_scorer_scores_the_mean_of_its_members():
    groups, _ = toy_groups(60)
    members = [fit(groups, with_null=True, seed=seed, epochs=20) for seed in range(3)]
    merged = Scorer(merge_scorers(members))
    features = np.concatenate([g[0] for g in groups[:10]])
    expected = np.mean([Scorer(m).scores(features) for m in members], axis=0)
    np.testing.assert_allclose(merged.scores(features), expected, rtol=1e-5, atol=1e-5)
    assert merged.null == np.mean([m["null"] for m in members])
    assert len(merged.b1) == 3 * len(members[0]["b1"])


def test_null_shift_matches_held_out_not_found_to_the_blank_share():
    groups, sources = toy_groups(40)
    # A scorer that rates every candidate 0 and the null 0: one candidate a question, so
    # "not found" is 50 % likely everywhere, while a quarter of the questions are blank.
    flat = {"mean": [0.0] * 5, "std": [1.0] * 5, "w1": np.zeros((5, 2)).tolist(), "b1": [0.0, 0.0],
            "w2": [0.0, 0.0], "b2": 0.0, "null": 0.0}
    single = [(features[:1], np.array([0.0, target[-1]], dtype=np.float32)) for features, target in groups]
    trained_on = []

    def train(subset):
        trained_on.append(len(subset))
        return flat

    shift = null_shift(single, sources, train)
    assert abs(shift - np.log(1 / 3)) < 1e-6  # sigmoid(shift) = 1/4
    assert sorted(trained_on) == [19, 21]  # two halves of whole documents: 7 of 14 each way


def test_an_ensemble_answers_the_questions_its_members_learnt():
    groups, sources = toy_groups(80)
    weights = fit_scorer(groups, sources, with_null=True, seed=0, members=3, epochs=60)
    assert len(weights["b1"]) == 3 * HIDDEN
    held_out, _ = toy_groups(40, seed=1)
    scorer = Scorer(weights)
    right = 0
    for features, target in held_out:
        scores = np.concatenate([scorer.scores(features), [scorer.null]])
        right += int(scores.argmax() == target.argmax())
    assert right >= 32  # of 40: the feature that marks the answer is plain
