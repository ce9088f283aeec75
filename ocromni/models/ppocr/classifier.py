"""PP-OCR text direction classifier: is a line crop upright (0) or upside down (180)?"""

from __future__ import annotations

import cv2
import numpy as np

# The mobile v2.0 classifier's input (PaddleOCR's cls_image_shape) and batch size.
INPUT_HEIGHT, INPUT_WIDTH = 48, 192
BATCH_SIZE = 32
ANGLES = (0, 180)  # PaddleOCR's label_list


class DirectionClassifier:
    """0/180 degree classifier over an onnxruntime session; crops are BGR ``uint8``."""

    def __init__(self, session):
        self.session = session
        self.input_name = session.get_inputs()[0].name

    def classify(self, crops: list[np.ndarray]) -> list[tuple[int, float]]:
        """(angle, confidence) for each crop; angle 180 means the crop is upside down."""
        results: list[tuple[int, float]] = [(0, 0.0)] * len(crops)
        for start in range(0, len(crops), BATCH_SIZE):
            indices = range(start, min(start + BATCH_SIZE, len(crops)))
            blob = np.stack([_normalise(crops[i]) for i in indices])
            probs = self.session.run(None, {self.input_name: blob})[0]
            for i, p in zip(indices, probs):
                label = int(np.argmax(p))
                results[i] = (ANGLES[label], float(p[label]))
        return results


def _normalise(crop: np.ndarray) -> np.ndarray:
    """Resize to the classifier's height keeping the aspect, clip at its width, pad right."""
    height, width = crop.shape[:2]
    target_w = min(INPUT_WIDTH, max(1, int(np.ceil(INPUT_HEIGHT * width / max(height, 1)))))
    resized = cv2.resize(crop, (target_w, INPUT_HEIGHT), interpolation=cv2.INTER_LINEAR)
    blob = np.zeros((3, INPUT_HEIGHT, INPUT_WIDTH), dtype=np.float32)
    # PaddleOCR's (x / 255 - 0.5) / 0.5 scaling into [-1, 1].
    blob[:, :, :target_w] = resized.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
    return blob
