"""CTC decoding with a language model: prefix beam search, then the best path's alignment.

Greedy decoding takes each frame's most likely class; when the recogniser hesitates
("Arnount" at 0.6 against "Amount" at 0.3) the character model (``charlm``) breaks the
tie. The search (Hannun et al. 2014, "First-pass large vocabulary continuous speech
recognition using bi-directional recurrent DNNs") keeps the BEAM_WIDTH best prefixes,
each scored by

    log P_ctc(prefix) + LM_WEIGHT * sum(max(log P_lm(char | before), LM_FLOOR)) + LENGTH_BONUS * len

and :func:`align` then finds where the chosen text's characters stand in the frames, so
word boxes keep following the recogniser's own alignment.

The weights were chosen on SROIE's dev receipts, by the letters+digits accuracy of the
5,038 detected lines that match a label (87.8% greedy): LM_WEIGHT 0.4-0.8 with
LENGTH_BONUS 1-2.5 and LM_FLOOR -3 or -4 all read 90.8-91.1%; with a floor of -9 (an
unseen character costs up to 9 nats) 87.4-90.1%, because codes and names are strings no
model knows. The model never saw SROIE's text (see ``charlm``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ocromni.models.ppocr.charlm import END

LM_WEIGHT = 0.5
# Every character costs something in the language model; without a bonus for each one the
# search would rather drop a faint character than pay for it.
LENGTH_BONUS = 1.5
# The most one character may cost in the language model, in nats: past it, the reading
# is the recogniser's call alone (product codes, names, foreign words).
LM_FLOOR = -4.0
BEAM_WIDTH = 8
# Prefixes this many nats behind the best are dropped even when the beam has room: the
# model can give back at most LM_WEIGHT * -LM_FLOOR = 2 nats a character, so they would
# need five characters in a row to catch up.
BEAM_MARGIN = 10.0
# Per frame, only classes above MIN_CLASS_PROBABILITY, at most MAX_EXTENSIONS of them, can
# extend a prefix: a class under 1% where the best is near 99% would need 4.6 nats from
# the model, more than it ever gives. On SROIE's matched lines 0.01 reads as 0.001 does
# (91.0%) with a third less search.
MIN_CLASS_PROBABILITY = 0.01
MAX_EXTENSIONS = 5
# Score rows kept between lines: a few thousand contexts recur on every page (about 7 MB).
SCORED_CONTEXTS = 4096
_NEVER = -1e30


def _log_add(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b <= _NEVER else a + math.log1p(math.exp(b - a))


@functools.lru_cache(maxsize=SCORED_CONTEXTS)
def _next_symbol_scores(language_model, row: int) -> list[float]:
    """Each symbol's score as the next one after the contexts of table row ``row``."""
    log_probs = language_model.log_probs[row].astype(np.float32)
    return (LM_WEIGHT * np.maximum(log_probs, LM_FLOOR) + LENGTH_BONUS).tolist()


def prefix_beam_search(probs: np.ndarray, lm_columns: list[int], language_model) -> list[int]:
    """The most likely class sequence (without blanks) of one line's (frames, classes) probabilities.

    ``lm_columns[c]``: the language model's column for class ``c`` (its :func:`charlm.symbol`);
    class 0 is the CTC blank. ``language_model.next_log_probs(history)`` scores the next symbol.
    """
    # Each frame's candidates: the classes above MIN_CLASS_PROBABILITY there. Few classes
    # ever are, so the columns are narrowed first: thresholding all 6,625 costs more than
    # the search itself.
    columns = np.flatnonzero(probs[:, 1:].max(axis=0) >= MIN_CLASS_PROBABILITY) + 1
    likely = probs[:, columns]
    frames, hits = np.nonzero(likely >= MIN_CLASS_PROBABILITY)
    extensions: list[list] = [[] for _ in range(len(probs))]
    for frame, c, log_p in zip(frames.tolist(), columns[hits].tolist(), np.log(likely[frames, hits]).tolist()):
        extensions[frame].append((c, log_p))
    log_blanks = np.log(np.maximum(probs[:, 0], 1e-12)).tolist()
    symbols = language_model.symbols
    end_column = language_model.columns[END]
    scored: dict[str, list[float]] = {}  # history -> each symbol's score as the next one

    # prefix (classes) -> [log P(prefix, ending in blank), log P(prefix, ending in its last class),
    #                      language-model score, the prefix in LM symbols]
    beams: dict[tuple, list] = {(): [0.0, _NEVER, 0.0, ""]}
    for frame in range(len(probs)):
        log_blank = log_blanks[frame]
        candidates = extensions[frame]
        if not candidates:
            # Only the blank: every prefix stays as it is, one frame longer; the ranking holds.
            for entry in beams.values():
                entry[0], entry[1] = _log_add(entry[0], entry[1]) + log_blank, _NEVER
            continue
        if len(candidates) > MAX_EXTENSIONS:
            candidates = sorted(candidates, key=lambda e: -e[1])[:MAX_EXTENSIONS]
        following: dict[tuple, list] = {}
        for prefix, (ends_blank, ends_class, lm_score, history) in beams.items():
            total = _log_add(ends_blank, ends_class)
            entry = following.get(prefix)
            if entry is None:
                entry = following[prefix] = [_NEVER, _NEVER, lm_score, history]
            entry[0] = _log_add(entry[0], total + log_blank)
            for c, log_p in candidates:
                if prefix and prefix[-1] == c:
                    # The same class again: without a blank between, the frames merge into
                    # one character; after a blank they make a second one.
                    entry[1] = _log_add(entry[1], ends_class + log_p)
                    reach = ends_blank + log_p
                else:
                    reach = total + log_p
                longer = prefix + (c,)
                extended = following.get(longer)
                if extended is None:
                    column = lm_columns[c]
                    next_scores = scored.get(history)
                    if next_scores is None:
                        next_scores = scored[history] = _next_symbol_scores(language_model, language_model.row_of(history))
                    extended = following[longer] = [
                        _NEVER, _NEVER, lm_score + next_scores[column], history + symbols[column],
                    ]
                extended[1] = _log_add(extended[1], reach)
        ranked = sorted(((_log_add(e[0], e[1]) + e[2], prefix) for prefix, e in following.items()), reverse=True)
        cutoff = ranked[0][0] - BEAM_MARGIN
        beams = {prefix: following[prefix] for score, prefix in ranked[:BEAM_WIDTH] if score >= cutoff}

    def final_score(item) -> float:
        ends_blank, ends_class, lm_score, history = item[1]
        return _log_add(ends_blank, ends_class) + lm_score + LM_WEIGHT * max(
            float(language_model.next_log_probs(history)[end_column]), LM_FLOOR
        )

    return list(max(beams.items(), key=final_score)[0])


def align(probs: np.ndarray, labels: list[int]) -> list[tuple[int, int, int]]:
    """Where ``labels`` stand in the frames: the most likely CTC path (Viterbi) that spells them.

    Returns ``(class, first frame, frame after the last)`` per label, like greedy runs.
    """
    if not labels:
        return []
    frames = len(probs)
    # The CTC lattice: blank, label 1, blank, label 2, ..., blank.
    states = np.zeros(2 * len(labels) + 1, dtype=np.int64)
    states[1::2] = labels
    log_probs = np.log(np.maximum(probs[:, states], 1e-30))
    # A label may follow the label two states back (skipping the blank) unless they are equal.
    may_skip = np.zeros(len(states), dtype=bool)
    may_skip[3::2] = states[3::2] != states[1:-2:2]
    score = np.full(len(states), -np.inf)
    score[:2] = log_probs[0, :2]
    came_from = np.zeros((frames, len(states)), dtype=np.int8)  # 0 stay, 1 or 2 states back
    for t in range(1, frames):
        one_back = np.concatenate(([-np.inf], score[:-1]))
        two_back = np.where(may_skip, np.concatenate(([-np.inf, -np.inf], score[:-2])), -np.inf)
        options = np.stack([score, one_back, two_back])
        came_from[t] = options.argmax(axis=0)
        score = options[came_from[t], np.arange(len(states))] + log_probs[t]
    state = len(states) - 1 if score[-1] >= score[-2] else len(states) - 2
    path = np.empty(frames, dtype=np.int64)
    for t in range(frames - 1, -1, -1):
        path[t] = state
        state -= int(came_from[t, state])
    runs = []
    for t, s in enumerate(path.tolist()):
        if s % 2 == 0:
            continue
        if runs and runs[-1][3] == s and runs[-1][2] == t:
            runs[-1][2] = t + 1
        else:
            runs.append([int(states[s]), t, t + 1, s])
    return [(c, start, end) for c, start, end, _ in runs]
