"""Generated modules are byte-identical to their reviewed snapshots (``python tests/golden.py`` rewrites them)."""

from __future__ import annotations

import json

import pytest
from golden import MANIFEST, manifest, whole_modules

WHOLE = whole_modules()


@pytest.mark.parametrize("path", list(WHOLE), ids=[p.name for p in WHOLE])
def test_whole_module_is_its_snapshot(path):
    assert path.read_text(encoding="utf-8") == WHOLE[path], f"{path.name} changed: review, then python tests/golden.py"


def test_every_catalogue_module_is_its_snapshot():
    want = json.loads(MANIFEST.read_text(encoding="utf-8"))
    got = manifest()
    assert sorted(got) == sorted(want)
    changed = [name for name in want if got[name] != want[name]]
    assert not changed, f"generated modules changed: {changed}; review, then python tests/golden.py"
