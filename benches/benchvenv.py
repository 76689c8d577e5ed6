"""The virtual environment the Python benches run in: created under ~/.cache on first use with
their packages from PyPI, then the bench re-executes itself there."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path


def ensure(name, packages, modules, script):
    """Returns when every module in `modules` imports; otherwise creates ~/.cache/`name` with
    `packages` installed and re-executes `script` (with the same arguments) in it."""
    if all(importlib.util.find_spec(m) is not None for m in modules):
        return
    venv = Path.home() / ".cache" / name
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        sys.exit(f"{', '.join(modules)}: missing from {venv} and could not be installed")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    os.execv(str(python), [str(python), script, *sys.argv[1:]])
