"""The image-type classifier: a one-hidden-layer MLP in numpy over :mod:`.features`.

Weights live in ``ocromni/weights/caption/classifier.json`` (a few kB): the kinds, the
feature names (checked on load, so features and weights cannot drift apart silently),
the standardisation and the two layers. Training is :mod:`ocromni.caption_model.train`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ocromni.caption_model.features import FEATURE_NAMES
from ocromni.errors import ModelError

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "caption" / "classifier.json"


@dataclass
class KindClassifier:
    kinds: list[str]
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``(n, len(kinds))``, for ``(n, n_features)`` rows."""
        x = (np.atleast_2d(features).astype(np.float64) - self.mean) / self.scale
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray) -> tuple[str, float]:
        """The most likely kind of one page and its probability."""
        p = self.probabilities(features)[0]
        best = int(np.argmax(p))
        return self.kinds[best], float(p[best])

    def to_dict(self) -> dict:
        return {
            "format": "ocromni-caption-classifier/1",
            "kinds": self.kinds,
            "features": list(FEATURE_NAMES),
            "mean": _rounded(self.mean), "scale": _rounded(self.scale),
            "w1": _rounded(self.w1), "b1": _rounded(self.b1), "w2": _rounded(self.w2), "b2": _rounded(self.b2),
        }

    def save(self, path: Path, metadata: Optional[dict] = None) -> None:
        data = self.to_dict()
        data["training"] = metadata or {}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> "KindClassifier":
        if list(data.get("features", [])) != list(FEATURE_NAMES):
            raise ModelError(reason="caption classifier weights were trained on other features; retrain with "
                                    "python -m ocromni.caption_model.train")
        arrays = {key: np.asarray(data[key], dtype=np.float64) for key in ("mean", "scale", "w1", "b1", "w2", "b2")}
        return cls(list(data["kinds"]), **arrays)


def _rounded(array: np.ndarray) -> list:
    return np.round(np.asarray(array, dtype=np.float64), 5).tolist()


@functools.lru_cache(maxsize=4)
def load_classifier(path: Optional[str] = None) -> KindClassifier:
    """The shipped classifier (or the one at ``path``), read once per process."""
    path = Path(path) if path else WEIGHTS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(path=str(path), reason=f"cannot read caption classifier weights ({exc})") from exc
    return KindClassifier.from_dict(data)


def fit(features: np.ndarray, labels: np.ndarray, kinds: list[str], *, hidden: int = 32, steps: int = 3000,
        learning_rate: float = 0.01, weight_decay: float = 1e-2, noise: float = 0.3, seed: int = 0) -> KindClassifier:
    """Train the MLP with full-batch Adam; deterministic for a given ``seed``.

    Gaussian noise on the standardised features (``noise``) keeps the decision from
    resting on one feature's exact synthetic value.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    x = (x - mean) / scale
    n, d = x.shape
    k = len(kinds)
    # Classes weigh the same whatever their counts.
    counts = np.bincount(y, minlength=k).astype(np.float64)
    sample_weight = (n / (k * np.maximum(counts, 1)))[y]
    onehot = np.eye(k)[y]
    params = {
        "w1": rng.normal(0, np.sqrt(2 / d), (d, hidden)), "b1": np.zeros(hidden),
        "w2": rng.normal(0, np.sqrt(1 / hidden), (hidden, k)), "b2": np.zeros(k),
    }
    moments = {key: (np.zeros_like(v), np.zeros_like(v)) for key, v in params.items()}
    beta1, beta2 = 0.9, 0.999
    for step in range(1, steps + 1):
        xb = x + rng.normal(0, noise, x.shape)
        pre = xb @ params["w1"] + params["b1"]
        hidden_out = np.maximum(pre, 0)
        logits = hidden_out @ params["w2"] + params["b2"]
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        dlogits = (prob - onehot) * sample_weight[:, None] / n
        grads = {"w2": hidden_out.T @ dlogits, "b2": dlogits.sum(0)}
        dhidden = (dlogits @ params["w2"].T) * (pre > 0)
        grads["w1"] = xb.T @ dhidden
        grads["b1"] = dhidden.sum(0)
        for key in params:
            g = grads[key] + (weight_decay * params[key] if key.startswith("w") else 0)
            m, v = moments[key]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            moments[key] = (m, v)
            params[key] -= learning_rate * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + 1e-8)
    return KindClassifier(list(kinds), mean, scale, params["w1"], params["b1"], params["w2"], params["b2"])
