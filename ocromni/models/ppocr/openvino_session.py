"""Run the PP-OCRv4 ONNX files on the CPU with OpenVINO, behind onnxruntime's session API.

On this project's x86 CPUs OpenVINO runs the same fp32 networks about 1.7x (recognition)
to 1.9x (detection) faster than onnxruntime, with the same outputs: on 1,271 SROIE line
crops every transcript was identical, and so was every SROIE detection and spotting
score. Where the CPU computes in bfloat16 natively (AVX512-BF16 or AMX), detection and
recognition run in bfloat16, about 1.3x faster again, within a point on the dev sets
(``inference_precision``); ``OCROMNI_CPU_PRECISION=f32`` keeps fp32 and onnxruntime's
exact outputs. The detector, classifier and recogniser call ``run``, ``get_inputs`` and
``get_modelmeta``, as on onnxruntime, so this adapter is all they need to switch
runtimes; two calls exist only here and are used where present: ``run_each`` (the
recogniser's batches, side by side on several streams) and ``release_memory`` (the
pipeline frees DBNet's buffers around large scans).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterable

import numpy as np

PRECISION_ENV = "OCROMNI_CPU_PRECISION"
PRECISIONS = ("bf16", "f32")
# The CPU plugin caches compiled kernels, with their buffers, per input shape (5,000
# shapes by default) and per stream. Detection sees a new page size on almost every call,
# so an unbounded cache would grow over a long run. Recognition on two streams (see
# weights.build_session) held 73 MB more than on one with 64 shapes cached; with 4, SROIE's
# 100 receipts peak at 709 MiB (726 with 16) and read as fast (1.68 and 1.72 receipts/s).
SHAPE_CACHE_CAPACITY = 4
# oneDNN (inside OpenVINO's CPU plugin) also keeps the kernels it generates, 1,024 by
# default, per input shape: over SROIE's 30 first receipts that held 80 MB more for
# recognition alone, with no speed to show for it. Read when OpenVINO loads its CPU plugin.
PRIMITIVE_CACHE_CAPACITY = 16
# ONNX metadata_props that OpenVINO keeps under rt_info["framework"]: the recogniser's
# dictionary is the only one read.
METADATA_KEYS = ("character",)


class OpenVINOSession:
    """One compiled ONNX model and its infer request, answering like an onnxruntime session."""

    def __init__(self, path: Path, threads: int, precision: str | None = None, streams: int = 1):
        """``precision``: "f32", "bf16", or None for ``inference_precision()``.

        ``streams`` > 1 splits the threads into that many streams, each running one input
        at a time (see ``run_each``): for many small inputs, such as recognition's line
        batches, that keeps the cores busier than spreading each small input over them all.
        """
        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(PRIMITIVE_CACHE_CAPACITY))
        import openvino as ov

        core = ov.Core()
        self.precision = precision or inference_precision(core)
        model = core.read_model(str(path))
        self._metadata = _onnx_metadata(model)
        config = {
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": self.precision,
            "PERFORMANCE_HINT": "LATENCY" if streams == 1 else "THROUGHPUT",
            # Pinned threads stall when other processes share the cores.
            "ENABLE_CPU_PINNING": False,
            "CPU_RUNTIME_CACHE_CAPACITY": SHAPE_CACHE_CAPACITY,
        }
        if streams > 1:
            config["NUM_STREAMS"] = streams
        self._compiled = core.compile_model(model, "CPU", config)
        self._request = self._compiled.create_infer_request()
        self._queue = ov.AsyncInferQueue(self._compiled, streams) if streams > 1 else None
        self._output = self._compiled.output(0)
        self._inputs = [SimpleNamespace(name=port.get_any_name()) for port in self._compiled.inputs]
        # One infer request serves every call; callers on other threads take turns.
        self._lock = threading.Lock()

    def run(self, output_names, feeds: dict) -> list:
        """Like ``InferenceSession.run(None, {name: array})``: the first output, in a list."""
        (blob,) = feeds.values()
        with self._lock:
            return [self._request.infer({0: blob})[self._output]]  # a copy, not a view

    def run_each(self, feeds: Iterable[tuple[np.ndarray, Any]], on_output: Callable[[np.ndarray, Any], None]) -> None:
        """Run each ``(input, tag)`` of ``feeds``, up to ``streams`` at a time, and call
        ``on_output(output, tag)`` as each one finishes (in any order; with several streams
        on OpenVINO's own thread). ``output`` is only valid during the call. ``feeds`` is
        consumed as the streams free up, so inputs can be built while others run."""
        with self._lock:
            if self._queue is None:
                for blob, tag in feeds:
                    on_output(self._request.infer({0: blob})[self._output], tag)
                return
            failures = []

            def finished(request, tag):
                try:
                    on_output(request.get_output_tensor(0).data, tag)
                except BaseException as exc:  # raised again below, on the caller's thread
                    failures.append(exc)

            self._queue.set_callback(finished)
            try:
                for blob, tag in feeds:
                    self._queue.start_async({0: blob}, tag)
            finally:
                self._queue.wait_all()
            if failures:
                raise failures[0]

    def release_memory(self) -> None:
        """Free the buffers the last run left for the next one (hundreds of MB after
        detecting a large page); the next run allocates them again."""
        with self._lock:
            self._compiled.release_memory()

    def get_inputs(self) -> list:
        return self._inputs

    def get_modelmeta(self):
        return SimpleNamespace(custom_metadata_map=self._metadata)


def inference_precision(core) -> str:
    """bf16 where the CPU computes in it natively, unless $OCROMNI_CPU_PRECISION says f32.

    On the dev sets (``benchmarks/perception.py``, SROIE 100 receipts, ICDAR 2015 100
    photos, 2,000 IIIT5K and 1,500 ICDAR word crops), bf16 against fp32: SROIE detection F1
    94.2 / 94.3, line spotting 74.5 / 74.4, task-2 words 87.0 / 86.9, page CER 11.2 / 11.2;
    ICDAR 2015 detection 78.8 / 79.8 and spotting 60.2 / 61.0; word accuracy 97.8 / 97.9
    (IIIT5K) and 69.5 / 69.9 (ICDAR): within a point everywhere and above RapidOCR's
    everywhere, while SROIE reads about 1.3x as fast (1.63-1.70 against 1.18-1.32
    receipts/s, separate runs on a quiet machine).
    """
    chosen = os.environ.get(PRECISION_ENV, "").strip().lower()
    if chosen and chosen not in PRECISIONS:
        from ocromni.errors import UsageError

        raise UsageError(reason=f"{PRECISION_ENV}={chosen!r}: use one of {', '.join(PRECISIONS)}")
    if chosen == "f32" or "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        return "f32"
    return "bf16"


def _onnx_metadata(model, keys=METADATA_KEYS) -> dict[str, str]:
    """Those of the ONNX file's metadata_props that the pipeline reads."""
    return {
        key: model.get_rt_info(["framework", key]).astype(str) for key in keys if model.has_rt_info(["framework", key])
    }
