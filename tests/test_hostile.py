"""Every hostile input (tests/hostile.py) through every command it lists: it ends within its bound
with an allowed exit code; a refusal is one stderr line naming the file and the reason; never a
traceback; an output file written before survives a refusal byte for byte.

Each command runs in a fork of a fork server that has imported the package once: a real process
(its own exit code, stderr, and a kill at the bound), at a fraction of a fresh interpreter's cost."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from hostile import CASES, OPTION_CASES, SEED, run_in_child

BEFORE = b"an earlier output that a refused run must leave alone\n"


def _server():
    """A fork server started from a clean interpreter with the package preloaded: each command is a
    fork of it, never of this process (whose JAX or torch threads a fork would copy mid-lock)."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["symbackprop.cli", "hostile"])
    return _CONTEXT


_CONTEXT = None


def run_forked(argv: list[str], folder: Path, limit_s: float) -> tuple[int | None, str, float]:
    """(exit code or None when killed at the bound, stderr, seconds)."""
    out, err = folder / "stdout", folder / "stderr"
    start = time.monotonic()
    child = _server().Process(target=run_in_child, args=(argv, str(out), str(err)))
    child.start()
    child.join(limit_s)
    seconds = time.monotonic() - start
    if child.exitcode is None:
        os.killpg(child.pid, signal.SIGKILL)
        child.join()
        return None, err.read_text(errors="replace"), seconds
    return child.exitcode, err.read_text(errors="replace"), seconds


def command_line(template: tuple, path: Path, output: Path) -> list[str]:
    words = [str(output) if w == "OUT" else str(path) if w == "FILE" else w for w in template]
    return words if "FILE" in template else [words[0], str(path), *words[1:]]


PAIRS = [(c, cmd) for c in CASES for cmd in c.commands]


def ids(pair):
    c, cmd = pair
    return f"{c.name}-{'-'.join(w for w in cmd if w not in ('FILE', 'OUT', '-o'))}"


@pytest.mark.parametrize("pair", [p for p in PAIRS if not p[0].large], ids=ids)
def test_hostile_file(tmp_path, pair):
    check(tmp_path, *pair)


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[0].large], ids=ids)
def test_large_file(tmp_path, pair):
    check(tmp_path, *pair)


def check(tmp_path: Path, c, template: tuple) -> None:
    path = tmp_path / f"{c.name}.toml"
    path.write_text(c.text)
    output = tmp_path / ("out.py" if template[0] == "compile" else "out.doc")
    output.write_bytes(BEFORE)
    code, stderr, seconds = run_forked(command_line(template, path, output), tmp_path, c.limit_s)
    assert code is not None, f"still running after {c.limit_s} s"
    assert "Traceback" not in stderr, stderr[-3000:]
    assert code in c.codes, (code, stderr[-2000:])
    lines = stderr.strip().splitlines()
    if code == 2:
        assert len(lines) == 1, stderr[-2000:]
        assert str(path) in lines[0] and c.fragment in lines[0], lines[0]
        assert output.read_bytes() == BEFORE
    assert len(lines) <= 1 or code != 2


@pytest.mark.parametrize("name,template,fragment", OPTION_CASES, ids=[o[0] for o in OPTION_CASES])
def test_hostile_option(tmp_path, name, template, fragment):
    path = tmp_path / "net.toml"
    path.write_text(SEED)
    (tmp_path / "DIR").mkdir()
    words = [str(path) if w == "FILE" else str(tmp_path / "DIR") if w == "DIR" else w for w in template]
    code, stderr, _ = run_forked(words, tmp_path, 30)
    assert code == 2, stderr[-2000:]
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-2000:]
    assert fragment.replace("DIR", str(tmp_path / "DIR")) in lines[0], lines[0]
    assert path.read_text() == SEED  # the input survives every refusal, even one aimed at it
