"""The package's shape: imports go one way (import-linter), modules stay short, imports inside
functions only for the optional extras."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "symbackprop"
MAX_LINES = 400
TABLES: set[str] = set()  # modules that are one long table may run longer (none today)
# optional: imported where they are used, so the core installs without them (selenium: bench --explore)
EXTRAS = {"torch", "numba", "jax", "matplotlib", "gmpy2", "selenium"}

lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def run_linter(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([lint_imports, str(ROOT / "pyproject.toml"), "--no-cache"], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def linter():
    if not Path(lint_imports).exists():
        pytest.skip("import-linter is a dev extra: pip install -e '.[dev]'")
    return run_linter


def test_import_contracts_hold(linter):
    done = linter(ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout and "kept" in done.stdout


def test_a_back_edge_breaks_the_contract(linter, tmp_path):
    """A copy of the package where core imports the façade: the layers contract must fail, naming the edge."""
    copy = tmp_path / "symbackprop"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    errors = copy / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\nfrom .. import api  # noqa: E402,F401 - the deliberate back-edge\n")
    done = linter(tmp_path, tmp_path)
    assert done.returncode != 0, done.stdout
    assert "BROKEN" in done.stdout and "- symbackprop.core.errors -> symbackprop.api" in done.stdout


def test_no_module_is_long():
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert set(long) <= TABLES, f"modules over {MAX_LINES} lines: {long}"


def test_imports_inside_functions_are_only_for_extras():
    """Function-local imports would hide edges from a reader (import-linter sees them, people do not)."""
    hidden = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.ImportFrom):
                        names = [("." * sub.level) + (sub.module or "")]
                    elif isinstance(sub, ast.Import):
                        names = [a.name for a in sub.names]
                    else:
                        continue
                    hidden += [f"{path.relative_to(ROOT)}:{sub.lineno} {n}" for n in names if n.split(".")[0] not in EXTRAS]
    assert not hidden, hidden


def test_every_subpackage_says_what_it_holds():
    """Each stage's __init__ lists its modules, so a newcomer knows where a change goes."""
    for init in sorted(PACKAGE.rglob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        listed = {p.name for p in init.parent.glob("*.py") if p.name != "__init__.py"} | {
            f"{p.name}/" for p in init.parent.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
        missing = {name for name in listed if name not in doc}
        assert not missing, f"{init.relative_to(ROOT)} does not mention {sorted(missing)}"


def test_importing_the_package_loads_no_extra():
    """PyTorch alone costs a second of start-up and 200 MB: the extras load where they are used."""
    code = "import sys, symbackprop; print(sorted(m for m in ('torch', 'numba', 'jax', 'matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
