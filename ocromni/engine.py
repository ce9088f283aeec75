"""The Engine: one model per process, loaded on first use, shared by every command.

The TextHarmony/Orthus idea — one network serving perception, understanding and
generation — only pays off if the network is loaded once. So every task, batch and API
call goes through ``get_engine()``, which hands back the same Engine (and so the same
model) for the same settings for the life of the process.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Optional

from ocromni.errors import DeviceUnavailableError, UsageError
from ocromni.models import DEFAULT_MODEL, model_class

log = logging.getLogger("ocromni")

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
DEVICE_ENV = "OCROMNI_DEVICE"


def requested_device(device: Optional[str]) -> str:
    """The device the user asked for: the argument, else $OCROMNI_DEVICE, else auto."""
    device = (device or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if not DEVICE_PATTERN.match(device):
        raise UsageError(reason=f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    return device


def cuda_available(backend_class) -> bool:
    """Whether ``backend_class`` can run on CUDA here (asks the backend, else torch)."""
    check = getattr(backend_class, "cuda_available", None)
    if check is not None:
        return bool(check())
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


class Engine:
    """Owns the model: which backend, on which device, loaded once on first use."""

    def __init__(self, model: Optional[str] = None, device: Optional[str] = None, threads: Optional[int] = None):
        self.model_name = model or DEFAULT_MODEL
        self.requested_device = requested_device(device)
        self.threads = threads
        self.loads = 0  # how many times a model was built (tests hold this at 1)
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The backend instance, built on first access."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self):
        backend = model_class(self.model_name)
        device = self.requested_device
        if device == "auto":
            device = "cuda" if cuda_available(backend) else "cpu"
        elif device.startswith("cuda") and not cuda_available(backend):
            raise DeviceUnavailableError(device=device, reason="no CUDA device is available to this backend")
        model = backend(device=device, threads=self.threads)
        self.loads += 1
        runtime = ", ".join(str(v) for v in (getattr(model, "runtime", None), getattr(model, "precision", None)) if v)
        log.info("model %s loaded on %s%s", self.model_name, model.device, f" ({runtime})" if runtime else "")
        return model


_engines: dict[tuple, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(model: Optional[str] = None, device: Optional[str] = None) -> Engine:
    """The process-wide Engine for these settings (created, not loaded, on first call)."""
    key = (model or DEFAULT_MODEL, requested_device(device))
    with _engines_lock:
        if key not in _engines:
            _engines[key] = Engine(*key)
        return _engines[key]


# A batch closes early once its pages hold this many pixels (96 MB as RGB): pages are
# decoded as the stream reaches them, so eight 35-megapixel receipt scans (SROIE has
# them) would otherwise sit in memory together, 830 MB, before the first is read. Eight
# A4 pages at 200 dpi (31 MP) or phone photos still make one batch.
BATCH_PIXEL_BUDGET = 32_000_000


def batched(items, size: int, pixel_budget: int = BATCH_PIXEL_BUDGET):
    """Consecutive lists of up to ``size`` items, lazily; a list of pages also closes
    once its pages' pixels reach ``pixel_budget`` (items without a size count as none)."""
    if size < 1:
        raise UsageError(reason=f"--batch-size must be at least 1, got {size}")
    batch, pixels = [], 0
    for item in items:
        batch.append(item)
        pixels += getattr(item, "width", 0) * getattr(item, "height", 0)
        if len(batch) == size or pixels >= pixel_budget:
            yield batch
            batch, pixels = [], 0
    if batch:
        yield batch
