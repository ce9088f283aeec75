"""Model backends, looked up by name in one registry."""

from __future__ import annotations

import importlib
import os

from ocromni.errors import UnknownModelError

# name -> "module:Class"; imported only when chosen, so start-up stays light.
REGISTRY = {
    "ppocr": "ocromni.models.ppocr:PPOCRModel",
    # The unified network; needs a checkpoint: --model PATH, or $OCROMNI_HARMONY_CHECKPOINT.
    "harmony": "ocromni.models.harmony.backend:HarmonyModel",
}
DEFAULT_MODEL = "ppocr"


def model_class(name: str):
    """The backend class registered under ``name``, or the harmony backend bound to a
    checkpoint folder when ``name`` is a path; a clear error lists the known ones."""
    if name not in REGISTRY and os.path.isdir(name):
        import functools

        from ocromni.models.harmony.backend import HarmonyModel

        return functools.partial(HarmonyModel, checkpoint=name)
    if name not in REGISTRY:
        raise UnknownModelError(name=name, known=", ".join(sorted(REGISTRY)))
    module_name, class_name = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)
