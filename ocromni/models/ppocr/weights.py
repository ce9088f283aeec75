"""Locate the PP-OCRv4 ONNX weights and build inference sessions for them.

The weights ship inside the ``rapidocr-onnxruntime`` wheel; we only read its files and
never import its pipeline, so nothing is downloaded and rapidocr's code never runs.
On the CPU the sessions run on OpenVINO (see ``openvino_session``), on CUDA on
onnxruntime's CUDA provider.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from ocromni.errors import DeviceUnavailableError, ModelError, UsageError

WHEEL_PACKAGE = "rapidocr_onnxruntime"
WEIGHT_FILES = {
    "det": "ch_PP-OCRv4_det_infer.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "rec": "ch_PP-OCRv4_rec_infer.onnx",
}
# The CPU runtime: "openvino" (the default when it is installed) or "onnxruntime"; the
# benchmark runs both to show what the choice is worth.
CPU_RUNTIME_ENV = "OCROMNI_CPU_RUNTIME"
CPU_RUNTIMES = ("openvino", "onnxruntime")
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


def cuda_provider_installed() -> bool:
    """Whether the installed onnxruntime carries its CUDA provider (onnxruntime-gpu), found
    by its library file so that onnxruntime itself is not imported."""
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return False
    capi = Path(next(iter(spec.submodule_search_locations))) / "capi"
    return any(capi.glob("*onnxruntime_providers_cuda*"))


def default_threads() -> int:
    """Intra-op threads: the cores this process may use, at most MAX_DEFAULT_THREADS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_THREADS))


def cpu_runtime() -> str:
    """Which runtime runs the models on the CPU: $OCROMNI_CPU_RUNTIME, else OpenVINO when
    it is importable, else onnxruntime."""
    chosen = os.environ.get(CPU_RUNTIME_ENV, "").strip().lower()
    if chosen and chosen not in CPU_RUNTIMES:
        raise UsageError(reason=f"{CPU_RUNTIME_ENV}={chosen!r}: use one of {', '.join(CPU_RUNTIMES)}")
    if chosen == "onnxruntime":
        return chosen
    if importlib.util.find_spec("openvino") is not None:
        return "openvino"
    if chosen == "openvino":
        raise UsageError(reason=f"{CPU_RUNTIME_ENV}=openvino but openvino is not installed (pip install openvino)")
    return "onnxruntime"


def build_session(kind: str, providers: list, threads: int, dynamic_shapes: bool, runtime: str = "onnxruntime"):
    """An inference session for one of the three models: onnxruntime's, or on the CPU
    (``runtime="openvino"``) an OpenVINO model behind the same API.

    ``dynamic_shapes``: inputs change shape from call to call (detection at page size),
    so onnxruntime's CPU arena and memory-pattern planning would keep a buffer per shape
    seen and grow over a long run; turn both off for such models. OpenVINO keeps buffers
    for a few recent shapes only (``openvino_session.SHAPE_CACHE_CAPACITY`` per stream),
    each bounded (detection inputs by detector.MAX_PIXELS, recognition batches by
    recognizer.BATCH_PIXELS), so its sessions keep them from run to run and the pipeline
    frees the detector's where a large scan is decoded (``OpenVINOSession.release_memory``).
    """
    if runtime == "openvino":
        from ocromni.models.ppocr.openvino_session import OpenVINOSession

        try:
            # The direction classifier is 1% of the time; its flip decisions stay fp32's.
            precision = "f32" if kind == "cls" else None
            # Recognition's many small batches run two at a time, a thread each: 5-10%
            # faster than each batch on both threads (SROIE lines, this 2-core CPU).
            streams = 2 if kind == "rec" and threads >= 2 else 1
            return OpenVINOSession(weight_path(kind), threads, precision=precision, streams=streams)
        except RuntimeError as exc:  # OpenVINO raises it for unreadable or uncompilable models
            raise ModelError(reason=f"could not load the PP-OCR {kind} model on OpenVINO: {exc}") from exc

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
