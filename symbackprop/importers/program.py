"""``package.module:function`` as uvicorn reads ``app:main``: the current directory first on sys.path, the module
imported, the function called; what it returns (module, inputs, targets, loss[, optimizer], or a dict of them)
checked, every failure one line."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
from dataclasses import dataclass

from ..core.errors import InputError

SPEC = re.compile(r"(?P<module>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):(?P<function>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)\Z")
REQUIRED = ("module", "inputs", "targets", "loss")
OPTIONAL = ("optimizer", "scheduler", "title", "source", "notes", "iterations")
EXPECTED = ("a function returning (module, inputs, targets, loss) or (module, inputs, targets, loss, optimizer), or a "
            f"dict with the keys {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}")


@dataclass
class Program:
    objects: dict
    path: str | None  # the module's file: never written over


def load(spec: str) -> Program:
    """Import ``package.module``, call ``function()``, and return what it gave, checked."""
    m = SPEC.match(spec or "")
    if m is None:
        raise InputError(f"{spec!r}: expected package.module:function (as uvicorn app:main), the module importable from "
                         "the current directory or sys.path", key="PROGRAM")
    module_name, function = m["module"], m["function"]
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    with contextlib.redirect_stdout(sys.stderr):  # what the program prints must not mix with a file on stdout
        module = _import(module_name, spec)
        target = module
        for part in function.split("."):
            if not hasattr(target, part):
                raise InputError(f"module {module_name} has no attribute {part!r}; expected {EXPECTED}", key=spec)
            target = getattr(target, part)
        if not callable(target):
            raise InputError(f"{function} is a {type(target).__name__}, not callable; expected {EXPECTED}", key=spec)
        try:
            result = target()
        except (Exception, SystemExit) as e:
            raise InputError(f"{function}() raised {type(e).__name__}: {_first(e)}; expected {EXPECTED}", key=spec) from None
    return Program(_objects(result, spec), getattr(module, "__file__", None))


def _import(name: str, spec: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and (name == e.name or name.startswith(e.name + ".")):
            raise InputError(f"no module named {e.name!r} (looked in the current directory {os.getcwd()}, then sys.path); "
                             "expected package.module:function", key=spec) from None
        raise InputError(f"importing {name} failed: {_first(e)}; expected its dependencies installed", key=spec) from None
    except (Exception, SystemExit) as e:
        raise InputError(f"importing {name} raised {type(e).__name__}: {_first(e)}", key=spec) from None


def _first(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:200]


def _objects(result, spec: str) -> dict:
    if isinstance(result, dict):
        unknown = [k for k in result if k not in REQUIRED + OPTIONAL]
        missing = [k for k in REQUIRED if k not in result]
        if unknown or missing:
            said = f"unknown key {unknown[0]!r}" if unknown else f"no {missing[0]!r}"
            raise InputError(f"the function's dict has {said}; expected {EXPECTED}", key=spec)
        return dict(result)
    if isinstance(result, (tuple, list)) and len(result) in (4, 5):
        return dict(zip(REQUIRED + ("optimizer",), result))
    size = f" of {len(result)}" if isinstance(result, (tuple, list)) else ""
    raise InputError(f"the function returned a {type(result).__name__}{size}; expected {EXPECTED}", key=spec)
