"""Model backends, looked up by name in one registry."""

from __future__ import annotations

import importlib

from ocromni.errors import UnknownModelError

# name -> "module:Class"; imported only when chosen, so start-up stays light.
REGISTRY = {
    "ppocr": "ocromni.models.ppocr:PPOCRModel",
}
DEFAULT_MODEL = "ppocr"


def model_class(name: str):
    """The backend class registered under ``name``; a clear error lists the known ones."""
    if name not in REGISTRY:
        raise UnknownModelError(name=name, known=", ".join(sorted(REGISTRY)))
    module_name, class_name = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)
