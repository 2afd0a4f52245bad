"""``symbackprop compile FILE -o module.py``: a standalone module that needs only numpy, injection-proof."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from catalogue import HOSTILE, SHARED_SKIP
from conftest import DERIVATIONS, SEED_CHAIN

import symbackprop
from symbackprop.compiler.generator import source
from symbackprop.core.derivation_file import loads
from symbackprop.reference.numpy_runtime import Runtime

HELPERS = {"numpy", "math", "numba", "params", "p", "x", "y", "value", "grad", "total", "backward", "lr", "zip", "len", "float",
           "ValueError", "OverflowError", "TypeError", "type", "max", "loss_and_grad", "ONES", "range", "i",
           "averaged_loss_and_grad", "shards", "shard", "workers", "size", "enumerate", "k", "g", "e", "array"}


@pytest.fixture(scope="module")
def numpy_only_python(tmp_path_factory) -> Path:
    """A new virtual environment (``python -m venv``) whose site-packages holds numpy alone,
    linked from this one: the interpreter an engineer who installs only numpy runs."""
    env = tmp_path_factory.mktemp("venv") / "numpy-only"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    numpy_dir = Path(np.__file__).parent
    for linked in (numpy_dir, numpy_dir.parent / "numpy.libs"):
        if linked.exists():
            os.symlink(linked, site / linked.name)
    return python


RUN = """
import importlib.util, json, sys
sys.path.insert(0, {moddir!r})
assert sys.prefix != sys.base_prefix, "not a virtual environment"
for name in ("sympy", "symbackprop", "torch", "numba"):
    assert importlib.util.find_spec(name) is None, name + " is importable"
import numpy as np
import {module} as m
X, Y = np.array({X!r}), np.array({Y!r})
value, grad = m.loss_and_grad(m.INITIAL, X, Y)
one_value, one_grad = m.loss_and_grad(m.INITIAL, X[:1], Y[:1])
print(json.dumps({{"parameters": list(m.PARAMETERS), "loss": value, "grad": grad.tolist(),
                  "one_loss": one_value, "one_grad": one_grad.tolist(),
                  "loss_only": m.loss(m.INITIAL, X, Y), "step": m.step(m.INITIAL, X, Y, 0.1).tolist(),
                  "doc": m.__doc__, "title": m.TITLE}}))
"""


def run_isolated(module_path: Path, python: Path, X, Y) -> dict:
    code = RUN.format(moddir=str(module_path.parent), module=module_path.stem,
                      X=np.asarray(X).tolist(), Y=np.asarray(Y).tolist())
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, cwd=module_path.parent,
                          env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("text", [SEED_CHAIN.read_text(), SHARED_SKIP, HOSTILE, (DERIVATIONS / "dense_2_2_1.toml").read_text()],
                         ids=["seed003", "shared-skip", "hostile", "dense-2-2-1"])
def test_module_runs_with_only_numpy_and_agrees_with_the_runtime(text, tmp_path, run_cli, numpy_only_python):
    path = tmp_path / "net.toml"
    path.write_text(text)
    out = tmp_path / "mod" / "gradients.py"
    out.parent.mkdir()
    done = run_cli("compile", str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    model = loads(text)
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(25, len(model.inputs))), rng.normal(size=(25, len(model.outputs)))
    got = run_isolated(out, numpy_only_python, X, Y)
    params = np.array([float(v) for v in model.parameters.values()])
    value, grad = Runtime(model)(params, X, Y)
    one_value, one_grad = Runtime(model)(params, X[:1], Y[:1])
    assert got["one_loss"] == pytest.approx(one_value, rel=1e-12)
    np.testing.assert_allclose(got["one_grad"], one_grad, rtol=1e-10, atol=1e-14)
    assert got["parameters"] == list(model.parameters)
    assert got["loss"] == pytest.approx(value, rel=1e-12) and got["loss_only"] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(got["grad"], grad, rtol=1e-10, atol=1e-14)
    trained = np.array([p in model.trained_parameters for p in model.parameters])
    sign = 1 if model.update == "add" else -1
    np.testing.assert_allclose(got["step"], params + sign * 0.1 * grad * trained, rtol=1e-12, atol=1e-15)
    assert got["title"] == model.title
    assert all(p in got["doc"] for p in model.parameters)


@pytest.mark.parametrize("numba", [False, True])
def test_hostile_names_do_not_reach_code(numba):
    """Every name in the module is a helper or carries a kind prefix; file text sits only in literals."""
    text = source(symbackprop.derive(loads(HOSTILE)), numba=numba)
    tree = ast.parse(text)
    assert isinstance(tree.body[0], ast.Expr) and "Evil" in tree.body[0].value.value
    imports = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom) for a in node.names}
    assert imports == {"math", "numpy"} | ({"numba"} if numba else set())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    prefixed = {n for n in names if n[:2] in ("p_", "x_", "y_", "z_", "a_", "d_")}
    assert {"p_w__import__", "x_numpy", "a_exec", "a_print", "y_print", "p_step"} <= prefixed
    helpers = names - prefixed
    assert not helpers & {"exec", "print", "__import__", "eval", "open", "os"}
    assert all(n.isupper() or n.startswith("_") or n in HELPERS or re.fullmatch(r"[A-Z]+\d*|g\d+", n) for n in helpers), helpers


def test_same_file_gives_byte_identical_modules(tmp_path, run_cli):
    path = tmp_path / "h.toml"
    path.write_text(HOSTILE)
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    assert run_cli("compile", str(path), "-o", str(a)).returncode == 0
    assert run_cli("compile", str(path), "-o", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    d = symbackprop.derive(symbackprop.load(SEED_CHAIN))
    assert run_cli("compile", str(SEED_CHAIN)).stdout == source(d)
    assert run_cli("compile", str(SEED_CHAIN), "--numba").stdout == source(d, numba=True) != source(d)


@pytest.mark.parametrize("bad", ['"a-b"', '"1x"', '"class"', '"__import__"', '"x y"'])
def test_names_that_are_not_identifiers_are_refused_with_exit_2(bad, tmp_path, run_cli):
    text = SEED_CHAIN.read_text().replace('name = "a"', f"name = {bad}").replace('"b0", "a"]', f'"b0", {bad}]')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "never.py"
    done = run_cli("compile", str(path), "-o", str(out))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "bad.toml" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
