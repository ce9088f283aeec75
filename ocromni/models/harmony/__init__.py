"""The unified TextHarmony/Orthus-style network: see model.py for the architecture."""

from ocromni.models.harmony.config import CheckpointError, HarmonyConfig

__all__ = ["HarmonyConfig", "CheckpointError", "HarmonyNetwork", "HarmonyModel"]


def __getattr__(name):
    # torch and transformers load only when the network is actually used.
    if name == "HarmonyNetwork":
        from ocromni.models.harmony.model import HarmonyNetwork

        return HarmonyNetwork
    if name == "HarmonyModel":
        from ocromni.models.harmony.backend import HarmonyModel

        return HarmonyModel
    raise AttributeError(name)
