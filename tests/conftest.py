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
SQUARED = ("half_sse", "sse", "mse")  # the losses every hidden activation is crossed with


def function_cases() -> list[tuple[str, str, str]]:
    """(hidden activation, output activation, loss) covering the function table without its full product:
    every scalar activation with every squared loss (the output rotating over the scalar ones), then each
    other loss with two hidden activations and each output it takes (softmax needs two outputs or more)."""
    from symbackprop.core import function_table as table

    scalar, out = table.SCALAR, []
    for i, (hidden, loss) in enumerate((h, l) for h in scalar for l in SQUARED):
        out.append((hidden, scalar[(i + 1) % len(scalar)], loss))
    for j, loss in enumerate(l for l in table.LOSSES if l not in SQUARED):
        outputs = [a for a in table.output_activations(loss)]
        for k in range(max(2, len(outputs))):
            out.append((scalar[(j + k) % len(scalar)], outputs[k % len(outputs)], loss))
    return out


def output_width(output: str, width: int) -> int:
    """A layer width the output activation takes: a softmax layer has two neurons or more."""
    from symbackprop.core import function_table as table

    return max(width, 2) if table.ACTIVATIONS[output].coupled else width


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
