#!/usr/bin/env python3
"""Test-time Python venvs under target/, built once and shared.

    python3 tests/support/pyvenv.py VENV REQUIREMENT...

Creates VENV (stdlib `venv`) and pip-installs the pinned REQUIREMENTs into it
unless a previous run already did (a marker file lists them), then prints the
venv's python on stdout. A file lock (VENV.lock) makes parallel test
processes share one install: one installs, the others wait and reuse it.

Exit codes: 0 ready; 3 pip could not reach the package index (no network):
the caller may skip; anything else is a real failure.

Also importable: `ensure(venv, requirements)` (used by tests/sts/sts_server.py).
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys

NO_INDEX = 3

class IndexUnreachable(Exception):
    pass


def log(msg: str) -> None:
    print(f"pyvenv: {msg}", file=sys.stderr, flush=True)


def index_reachable(py: str) -> bool:
    """Whether pip can list versions of pip itself from the configured index."""
    probe = subprocess.run(
        [py, "-m", "pip", "index", "versions", "--disable-pip-version-check", "pip"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return probe.returncode == 0


def python_of(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def ensure(venv: str, requirements: list[str]) -> str:
    """Returns the venv's python, installing `requirements` first if needed."""
    venv = os.path.abspath(venv)
    py = python_of(venv)
    wanted = "\n".join(sorted(requirements)) + "\n"
    marker = os.path.join(venv, ".keysweep-requirements")
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(marker) and open(marker).read() == wanted:
            return py
        log(f"installing {' '.join(requirements)} into {venv} (first use only)")
        if not os.path.exists(py):
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, stdout=sys.stderr)
        pip = subprocess.run(
            [py, "-m", "pip", "install", "--disable-pip-version-check", *requirements],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if pip.returncode != 0:
            sys.stderr.write(pip.stdout)
            if not index_reachable(py):
                raise IndexUnreachable(f"pip could not reach the package index: {' '.join(requirements)}")
            raise subprocess.CalledProcessError(pip.returncode, "pip install")
        with open(marker, "w") as f:
            f.write(wanted)
    return py


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(ensure(sys.argv[1], sys.argv[2:]))
    except IndexUnreachable as e:
        log(str(e))
        return NO_INDEX
    return 0


if __name__ == "__main__":
    sys.exit(main())
