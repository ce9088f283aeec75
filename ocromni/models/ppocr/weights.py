"""Locate the PP-OCRv4 ONNX weights and build onnxruntime sessions for them.

The weights ship inside the ``rapidocr-onnxruntime`` wheel; we only read its files and
never import its pipeline, so nothing is downloaded and rapidocr's code never runs.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from ocromni.errors import DeviceUnavailableError, ModelError

WHEEL_PACKAGE = "rapidocr_onnxruntime"
WEIGHT_FILES = {
    "det": "ch_PP-OCRv4_det_infer.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "rec": "ch_PP-OCRv4_rec_infer.onnx",
}
# Beyond 4 threads the small PP-OCR convolutions gain little and contend with other work.
MAX_DEFAULT_THREADS = 4


def weights_dir() -> Path:
    """The ``models/`` folder of the installed rapidocr-onnxruntime wheel."""
    # find_spec on a top-level package locates it without executing its __init__.
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(reason="the PP-OCRv4 weights come with rapidocr-onnxruntime; pip install rapidocr-onnxruntime==1.4.4")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def weight_path(kind: str) -> Path:
    """Path of the ``det``, ``cls`` or ``rec`` ONNX file; a clear error when it is missing."""
    path = weights_dir() / WEIGHT_FILES[kind]
    if not path.is_file():
        raise ModelError(reason=f"PP-OCRv4 weights not found at {path}; reinstall rapidocr-onnxruntime==1.4.4")
    return path


def parse_device(device: str) -> tuple[str, int]:
    """Split ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` into (kind, index)."""
    match = re.fullmatch(r"(cpu|cuda)(?::(\d+))?", device.strip().lower())
    if match is None:
        raise DeviceUnavailableError(device=device, reason="the PP-OCR backend runs only on 'cpu' or 'cuda[:N]'")
    return match.group(1), int(match.group(2) or 0)


def execution_providers(device: str) -> tuple[list, str]:
    """onnxruntime providers for ``device`` and the device's canonical name; never falls back."""
    import onnxruntime as ort

    kind, index = parse_device(device)
    if kind == "cpu":
        return ["CPUExecutionProvider"], "cpu"
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise DeviceUnavailableError(device=device, reason="onnxruntime has no CUDA provider (pip install onnxruntime-gpu)")
    return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"], f"cuda:{index}"


def default_threads() -> int:
    """Intra-op threads: the cores this process may use, at most MAX_DEFAULT_THREADS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_THREADS))


def build_session(kind: str, providers: list, threads: int, dynamic_shapes: bool):
    """An onnxruntime session for one of the three models.

    ``dynamic_shapes``: inputs change shape from call to call (detection at page size),
    so the CPU arena and memory-pattern planning would keep a buffer per shape seen and
    grow over a long run; turn both off for such models.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # onnxruntime warnings would reach users' stderr
    # Spinning worker threads cost little on an idle machine but, when other processes
    # share the cores, stall every call (measured 2-6x slower on a loaded 2-core box).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if dynamic_shapes:
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
    try:
        session = ort.InferenceSession(str(weight_path(kind)), sess_options=options, providers=providers)
    except (RuntimeError, ValueError) as exc:  # onnxruntime raises its own subclasses of these
        raise ModelError(reason=f"could not load the PP-OCR {kind} model: {exc}") from exc
    if isinstance(providers[0], tuple) and providers[0][0] not in session.get_providers():
        raise DeviceUnavailableError(device="cuda", reason=f"onnxruntime could not start {providers[0][0]} for the {kind} model")
    return session
