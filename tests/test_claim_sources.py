"""Every bundled claim points at its text: the FILE:LINE of its ``source`` holds the start of its
``quote``, or is a piece of it (a display formula laid out over several lines, quoted as one);
the source texts are in ../shared/seeds, the project's own in derivations/texts."""

from __future__ import annotations

import pytest
from conftest import DERIVATIONS, ROOT

import symbackprop

TEXTS = (ROOT.parent / "shared" / "seeds", DERIVATIONS / "texts")
HAND = "hand"  # long_run_2_2_2's claims are stated by hand (source = "hand:N"), from no text


def _plain(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def cases():
    for path in sorted(DERIVATIONS.glob("*.toml")):
        for c in symbackprop.load(path).claims:
            name = c.source.rpartition(":")[0]
            if name != HAND:
                yield pytest.param(path.name, c, id=f"{path.stem}-{c.index}")


@pytest.mark.parametrize("file, claim", list(cases()))
def test_the_source_line_holds_the_quote(file, claim):
    name, _, line = claim.source.rpartition(":")
    text = next((folder / name for folder in TEXTS if (folder / name).exists()), None)
    if text is None:
        pytest.skip(f"{name} is not here (../shared/seeds is beside the checkout in CI)")
    lines = text.read_text(encoding="utf-8").splitlines()
    assert int(line) <= len(lines), f"{file}: {claim.source} is past the end ({len(lines)} lines)"
    start, here = _plain(claim.quote).split("...")[0].strip()[:30], _plain(lines[int(line) - 1])
    assert start in here or _piece(here, claim.quote), f"{file}: {claim.source} does not hold {start!r}"


def _piece(line: str, quote: str) -> bool:
    """Whether the line's characters (4 or more, blanks aside) stand in the quote in order."""
    wanted, rest = line.replace(" ", ""), iter(quote.replace(" ", ""))
    return len(wanted) >= 4 and all(ch in rest for ch in wanted)
