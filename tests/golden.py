"""Golden snapshots of generated modules, so that a change to the compiler shows in review.

Three modules are kept whole (seed 003's chain, the hostile-names file, dense 4-16-16-1, each
with numba off and on); every catalogue network's module is kept as its SHA-256. After a change
that is meant to alter generated code, rewrite them and review the diff:

    python tests/golden.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue import HOSTILE, all_cases  # noqa: E402
from conftest import SEED_CHAIN  # noqa: E402

import symbackprop  # noqa: E402
from symbackprop.compiler.generator import source  # noqa: E402
from symbackprop.core.derivation_file import loads  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"
MANIFEST = GOLDEN / "modules.json"


def whole_cases() -> dict[str, object]:
    return {"seed003_chain": symbackprop.load(SEED_CHAIN), "hostile": loads(HOSTILE),
            "dense_4_16_16_1": symbackprop.dense([4, 16, 16, 1], seed=0)}


def whole_modules() -> dict[Path, str]:
    """Snapshot path -> the module's text, numba off and on."""
    out = {}
    for name, model in whole_cases().items():
        d = symbackprop.derive(model)
        for numba in (False, True):
            out[GOLDEN / f"{name}{'.numba' if numba else ''}.py.txt"] = source(d, numba=numba)
    return out


def manifest() -> dict[str, str]:
    """Catalogue case (``-numba`` for numba on) -> SHA-256 of its generated module."""
    out = {}
    for name, model in all_cases():
        d = symbackprop.derive(model)
        for numba in (False, True):
            out[f"{name}{'-numba' if numba else ''}"] = hashlib.sha256(source(d, numba=numba).encode()).hexdigest()
    return out


def main() -> int:
    GOLDEN.mkdir(exist_ok=True)
    for path, text in whole_modules().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    MANIFEST.write_text(json.dumps(manifest(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
