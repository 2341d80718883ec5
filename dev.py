#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

python3 dev.py run     # virtualenv, install, demo data on SQLite, serve on http://127.0.0.1:5000
python3 dev.py test    # virtualenv, install, ruff (lint and format), mypy and the whole test suite
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def sh(*args: str | Path) -> None:
    print("$", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def setup() -> None:
    """Create .venv and install the project with its development tools (quick when done before)."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")
    if not (BIN / "python").exists():
        print(f"Creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        sh(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    stamp = VENV / ".installed"
    pyproject = ROOT / "pyproject.toml"
    if not stamp.exists() or stamp.stat().st_mtime < pyproject.stat().st_mtime:
        sh(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        stamp.touch()


def run(argv: list[str]) -> None:
    setup()
    # The demo runs with development keys on plain HTTP; production refuses to start without its own.
    os.environ.setdefault("INVENTORY_ENV", "development")
    sh(BIN / "inventory", "init")
    sh(BIN / "inventory", "demo")
    sh(BIN / "inventory", "serve", *argv)


def test(argv: list[str]) -> None:
    setup()
    sh(BIN / "ruff", "check", ".")
    sh(BIN / "ruff", "format", "--check", ".")
    sh(BIN / "mypy")
    # The suite spreads over every core (pytest-xdist) unless the caller chose: `dev.py test -n 0` runs it in one.
    workers = [] if any(arg.startswith(("-n", "--numprocesses")) for arg in argv) else ["-n", "auto"]
    sh(BIN / "python", "-m", "pytest", *workers, *argv)


def main() -> None:
    commands = {"run": run, "test": test, "setup": lambda argv: setup()}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
