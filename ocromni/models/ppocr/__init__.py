"""The embedded PP-OCRv4 backend: weights from the rapidocr-onnxruntime wheel, our own pipeline."""

from ocromni.models.ppocr.pipeline import PPOCRModel
from ocromni.models.ppocr.recognizer import Recognition

__all__ = ["PPOCRModel", "Recognition"]
