"""Key-value pairing: how well a text reads as the value of a form key, from its wording.

The form ranker (:mod:`ocromni.qa.ranker`) knows where a value stands relative to its
key, but not what it says: "BUDGET NO." and "Mr. G. Schumacher" both sit right of
"REQUISITIONER", and only the words tell which one answers it. This model scores a
(key, text) pair from their MiniLM sentence embeddings: a low-rank bilinear term (does
this text answer *this* key: a name for "Written by", a date for "Date") plus a linear
term on the text alone (does it read as a filled-in value at all, or as another label).
It learns from the FUNSD forms' own linking (each question entity against its linked
answers and the thirty entities nearest it) and gives the form ranker four features per
candidate: the pair's score and the linear term alone, each with its gap to the best
candidate of the same question.

The ranker must learn how far to trust those scores on forms the pairing never saw, so
its training documents get theirs from a pairing trained without them (cross-fitting,
:func:`cross_fitted`); documents at run time get the one trained on every form.

Inference is numpy over the sentence embeddings; the weights (``pairing.safetensors``,
~100 kB) sit beside ``ranker.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ocromni.qa.features import Document

PAIRING_FILE = "pairing.safetensors"
RANK = 32  # of the bilinear term; 16 and 64 linked FUNSD keys as well (held-out half)
NEAREST = 30  # the entities nearest a key that compete with its answers in training
EPOCHS = 200
WEIGHT_DECAY = 1e-3
PARTS = 4  # cross-fitting: the ranker's training forms are scored by 4 pairings
# Raw scores lie within -4..6 for 98 % of FUNSD candidates; a fifth of that is the range
# of the ranker's other features.
FEATURE_SCALE = 5.0


class Pairing:
    """The trained pairing with the sentence encoder it reads embeddings from."""

    def __init__(self, weights: dict[str, np.ndarray], encoder):
        self.key_projection = weights["key_projection"]  # (384, RANK)
        self.text_projection = weights["text_projection"]  # (384, RANK)
        self.value_weight = weights["value_weight"]  # (384,)
        self.value_bias = float(np.asarray(weights["value_bias"]).reshape(-1)[0])
        self.encoder = encoder

    @classmethod
    def load(cls, directory, encoder) -> Optional["Pairing"]:
        """The pairing saved in ``directory``, or None when there is none."""
        path = Path(directory) / PAIRING_FILE
        if not path.is_file():
            return None
        from safetensors.numpy import load_file

        return cls(load_file(str(path)), encoder)

    def save(self, directory) -> None:
        from safetensors.numpy import save_file

        weights = {"key_projection": self.key_projection, "text_projection": self.text_projection,
                   "value_weight": self.value_weight, "value_bias": np.array([self.value_bias])}
        path = Path(directory) / PAIRING_FILE
        temporary = path.with_suffix(".tmp")
        save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}, str(temporary))
        temporary.replace(path)

    def scores(self, key_embedding: np.ndarray, text_embeddings: np.ndarray) -> np.ndarray:
        """One score per text: higher reads more as the key's value."""
        pair = (text_embeddings @ self.text_projection) @ (key_embedding @ self.key_projection)
        return pair + text_embeddings @ self.value_weight + self.value_bias

    def features(self, document: Document, key: str, texts: list[str]) -> np.ndarray:
        """``(len(texts), 4)``: each text's score as the key's value and its gap to the best
        of ``texts``; then the linear term alone (reads as a filled-in value) and its gap.

        Embeddings of the document's texts are kept in ``document.cache`` (its questions
        share most candidates), not in the encoder, whose cache lives as long as the process.
        """
        if not texts:
            return np.zeros((0, 4), dtype=np.float32)
        store = document.cache.setdefault("pairing_embeddings", {})
        missing = sorted({t for t in texts if t not in store} | ({key} - store.keys()), key=lambda t: (len(t), t))
        if missing:
            for text, vector in zip(missing, self.encoder.encode(missing).numpy()):
                store[text] = vector
        embedded = np.stack([store[t] for t in texts])
        scores = self.scores(store[key], embedded) / FEATURE_SCALE
        value = (embedded @ self.value_weight + self.value_bias) / FEATURE_SCALE
        return np.stack([scores, scores - scores.max(), value, value - value.max()], axis=1).astype(np.float32)


# --- training ---------------------------------------------------------------------------


def _text(entity: dict) -> str:
    return " ".join(entity.get("text", "").split())


def training_groups(form: list[dict]) -> list[tuple[str, list[str], list[str]]]:
    """``(key, answers, others)`` per FUNSD question with linked answers: the texts the
    key should prefer and the NEAREST other entities (labels, headers, other keys'
    answers) it should not."""
    from ocromni.qa.train import funsd_linked_answers

    by_id = {e["id"]: e for e in form}
    texts = [e for e in form if any(ch.isalnum() for ch in e.get("text", ""))]
    groups = []
    for entity in form:
        key = _text(entity)
        if entity.get("label") != "question" or sum(ch.isalnum() for ch in key) < 2:
            continue
        answers = funsd_linked_answers(entity, by_id)
        if not answers:
            continue
        linked = {a["id"] for a in answers} | {entity["id"]}
        cx, cy = (entity["box"][0] + entity["box"][2]) / 2, (entity["box"][1] + entity["box"][3]) / 2
        others = sorted((e for e in texts if e["id"] not in linked),
                        key=lambda e: np.hypot((e["box"][0] + e["box"][2]) / 2 - cx, (e["box"][1] + e["box"][3]) / 2 - cy))
        groups.append((key, [_text(a) for a in answers], [_text(e) for e in others[:NEAREST]]))
    return groups


def fit(forms: list[list[dict]], encoder, seed: int = 0) -> Pairing:
    """A pairing trained with a softmax over each key's answers and nearest others."""
    import torch

    groups = [g for form in forms for g in training_groups(form)]
    width = max(len(answers) + len(others) for _, answers, others in groups)
    keys = encoder([key for key, _, _ in groups])
    texts = torch.zeros(len(groups), width, keys.shape[1])
    mask = torch.zeros(len(groups), width, dtype=torch.bool)
    target = torch.zeros(len(groups), width)
    for row, (_, answers, others) in enumerate(groups):
        embedded = encoder(answers + others)
        texts[row, :len(embedded)] = embedded
        mask[row, :len(embedded)] = True
        target[row, :len(answers)] = 1.0 / len(answers)
    torch.manual_seed(seed)
    key_projection = torch.nn.Linear(keys.shape[1], RANK, bias=False)
    text_projection = torch.nn.Linear(keys.shape[1], RANK, bias=False)
    value = torch.nn.Linear(keys.shape[1], 1)
    parameters = [*key_projection.parameters(), *text_projection.parameters(), *value.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=0.01, weight_decay=WEIGHT_DECAY)
    for _ in range(EPOCHS):
        scores = (key_projection(keys).unsqueeze(1) * text_projection(texts)).sum(-1) + value(texts).squeeze(-1)
        loss = -(target * torch.log_softmax(scores.masked_fill(~mask, -1e4), dim=1)).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    weights = {"key_projection": key_projection.weight.detach().numpy().T, "text_projection": text_projection.weight.detach().numpy().T,
               "value_weight": value.weight.detach().numpy()[0], "value_bias": np.float32(value.bias.detach()[0])}
    return Pairing(weights, encoder)


def cross_fitted(forms: list[tuple[str, list[dict]]], encoder, seed: int = 0) -> tuple[Pairing, Callable[[str], Pairing]]:
    """The pairing trained on every form, and for each form's source the pairing that
    was trained without it (one of PARTS, each leaving out every PARTS-th form)."""
    full = fit([form for _, form in forms], encoder, seed)
    held_out = {}
    for part in range(PARTS):
        pairing = fit([form for i, (_, form) in enumerate(forms) if i % PARTS != part], encoder, seed)
        held_out |= {source: pairing for i, (source, _) in enumerate(forms) if i % PARTS == part}
    return full, lambda source: held_out.get(source, full)
