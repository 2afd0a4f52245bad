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
