"""The command line as a user meets it: help, version, start-up, completions, exit codes."""

import json
import subprocess
import sys

import pytest

from conftest import REPO, run_cli

COMMANDS = ["detect", "recognize", "ask", "caption", "render-text", "erase", "edit"]
HEAVY_MODULES = ["torch", "transformers", "diffusers", "onnxruntime", "numpy", "cv2", "pymupdf"]


def test_help_lists_all_seven_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Examples" in result.stdout
    assert f"ocromni {command}" in result.stdout


def test_help_does_not_import_heavy_libraries():
    probe = (
        "import sys\n"
        "from ocromni.cli.main import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_version():
    from ocromni import __version__

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"ocromni {__version__}"


def test_console_script_and_module_agree():
    result = subprocess.run([sys.executable, "-m", "ocromni", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "ocromni" in result.stdout


def test_unknown_option_is_a_usage_error():
    result = run_cli("recognize", "x.png", "--no-such-option")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bad_format_is_a_usage_error(tmp_path):
    result = run_cli("recognize", str(REPO / "examples" / "receipt.png"), "--format", "docx")
    assert result.returncode == 2
    assert "--format" in result.stderr


def test_bad_device_is_a_usage_error():
    result = run_cli("recognize", str(REPO / "examples" / "receipt.png"), "--device", "tpu")
    assert result.returncode == 2
    assert "tpu" in result.stderr


def test_completions_are_current():
    from ocromni.cli.completions import SHELLS, completion_script

    for shell, name in SHELLS.items():
        committed = (REPO / "completions" / name).read_text()
        assert committed == completion_script(shell), f"completions/{name} is stale: regenerate it"


def test_bash_completion_completes_subcommands_and_options():
    env = {"COMP_WORDS": "ocromni rec", "COMP_CWORD": "1", "_OCROMNI_COMPLETE": "complete_bash"}
    result = run_cli(env=env)
    assert "recognize" in result.stdout.split()
    env = {"COMP_WORDS": "ocromni recognize --dp", "COMP_CWORD": "2", "_OCROMNI_COMPLETE": "complete_bash"}
    assert "--dpi" in run_cli(env=env).stdout.split()
