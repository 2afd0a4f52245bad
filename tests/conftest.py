"""Shared test helpers: the repository's own package first on the path, and the CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DERIVATIONS = ROOT / "derivations"
SEED_CHAIN = DERIVATIONS / "seed003_chain.toml"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``symbackprop ARGS`` exactly as a user would, from this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "symbackprop", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=600)


@pytest.fixture
def run_cli():
    return cli


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium (tests/layout.py) for a test module; skipped with the reason when it is missing."""
    import layout

    if reason := layout.missing("browser"):
        pytest.skip(reason)
    with layout.Browser() as b:
        yield b


def on_a_tty(*argv: str, stream: str = "stdout", env: dict | None = None, unset: tuple = ()) -> tuple[int, bytes]:
    """``symbackprop ARGV`` with its ``stream`` (stdout or stderr) on a pseudo-terminal, the other one
    discarded: (exit code, what it wrote there). ``env`` is added to this process's environment, ``unset`` taken out."""
    import pty

    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.update({"PYTHONPATH": str(ROOT), "COLUMNS": "100", **(env or {})})
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: slave}
    proc = subprocess.Popen([sys.executable, "-m", "symbackprop", *argv], env=environ, **streams)
    os.close(slave)
    seen = b""
    while True:  # read while it runs: a pty drops what nobody read once its last writer closes
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout=300), seen
