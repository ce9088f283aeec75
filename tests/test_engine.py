"""One engine per process: the model loads once, on the device asked for, or says why not."""

import numpy as np
import pytest

import ocromni
from conftest import EXAMPLE_RECEIPT, run_cli
from ocromni.engine import BATCH_PIXEL_BUDGET, Engine, batched, get_engine
from ocromni.errors import DeviceUnavailableError, UnknownModelError, UsageError


def test_model_loads_once_across_calls_and_commands():
    engine = get_engine()
    image = np.full((64, 200, 3), 255, np.uint8)
    ocromni.recognize([image])
    ocromni.detect([image])
    ocromni.recognize([str(EXAMPLE_RECEIPT), image], batch_size=1)
    assert get_engine() is engine
    assert engine.loads == 1


def test_engine_is_lazy():
    engine = Engine()
    assert not engine.loaded
    engine.model
    assert engine.loaded and engine.loads == 1


def test_device_from_environment(monkeypatch):
    monkeypatch.setenv("OCROMNI_DEVICE", "cpu")
    assert Engine().requested_device == "cpu"
    monkeypatch.setenv("OCROMNI_DEVICE", "gpu0")
    with pytest.raises(UsageError):
        Engine()


def test_auto_uses_cpu_without_cuda():
    engine = Engine(device="auto")
    assert engine.model.device == "cpu"


def test_cuda_without_cuda_is_an_error_not_a_fallback():
    from ocromni.engine import cuda_available
    from ocromni.models import model_class

    if cuda_available(model_class("ppocr")):
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceUnavailableError):
        Engine(device="cuda").model
    result = run_cli("recognize", EXAMPLE_RECEIPT, "--device", "cuda:0")
    assert result.returncode == 5
    assert "cuda" in result.stderr and "Traceback" not in result.stderr


def test_unknown_model_lists_known_ones():
    with pytest.raises(UnknownModelError, match="ppocr"):
        Engine(model="no-such-model").model
    result = run_cli("recognize", EXAMPLE_RECEIPT, "--model", "no-such-model")
    assert result.returncode == 5 and "ppocr" in result.stderr


def test_verbose_names_the_device():
    result = run_cli("detect", EXAMPLE_RECEIPT, "--verbose")
    assert result.returncode == 0, result.stderr
    assert "loaded on cpu" in result.stderr


def test_batches_close_early_on_large_pages():
    from ocromni.types import Page

    def page(width, height):
        return Page("scan.png", 1, width, height, lambda: np.zeros((height, width, 3), np.uint8))

    a4 = [page(1654, 2339) for _ in range(8)]  # 200 dpi: eight still make one batch
    assert [len(b) for b in batched(a4, 8)] == [8]
    huge = [page(4961, 7016) for _ in range(3)]  # 35 MP each: one at a time
    assert 4961 * 7016 >= BATCH_PIXEL_BUDGET
    assert [len(b) for b in batched(huge + a4[:2], 8)] == [1, 1, 1, 2]
    assert [len(b) for b in batched(range(5), 2)] == [2, 2, 1]  # items without a size
