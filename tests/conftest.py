import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
EXAMPLE_RECEIPT = REPO / "examples" / "receipt.png"


@pytest.fixture(autouse=True)
def isolated_user_state(monkeypatch, tmp_path):
    """Keep the user's environment out of tests: no device override, a private HOME."""
    monkeypatch.delenv("OCROMNI_DEVICE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def shared_data():
    """The development datasets; tests using them skip on machines without them."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def run_cli(*args, stdin: str | None = None, cwd=None, env=None) -> subprocess.CompletedProcess:
    """Run the real ``ocromni`` command in a subprocess, as a user would."""
    full_env = {key: value for key, value in os.environ.items() if key != "OCROMNI_DEVICE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ocromni", *map(str, args)],
        input=stdin, capture_output=True, text=True, cwd=cwd, env=full_env, timeout=300,
    )
