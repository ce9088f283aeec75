"""Shell completion scripts for bash, zsh and fish, generated from the app.

    python -m ocromni.cli.completions completions/

The scripts are small shims that ask ``ocromni`` itself for candidates at completion
time (Typer/Click dynamic completion), so they stay right as commands change; a test
checks the committed copies match what this module writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

SHELLS = {"bash": "ocromni.bash", "zsh": "_ocromni", "fish": "ocromni.fish"}
PROG_NAME = "ocromni"
COMPLETE_VAR = "_OCROMNI_COMPLETE"


def completion_script(shell: str) -> str:
    """The completion script for ``shell``."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell) + "\n"


def write_all(folder: Path) -> list[Path]:
    """Write every shell's script into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for shell, name in SHELLS.items():
        path = folder / name
        path.write_text(completion_script(shell))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "completions")):
        print(path)
