"""Regenerate the documents of every bundled derivation: ``python -m symbackprop.regenerate``.

For each ``derivations/NAME.toml`` it writes ``derivations/generated/NAME.{txt,md,tex,html}``
(and ``NAME.parallel.*``, the data-parallel walkthrough, for the files in PARALLEL; ``NAME.page.html``, the
interactive page, for the files in PAGES)
(the terminal walkthrough, Markdown, LaTeX, HTML; no plots, so the bytes do not depend on the
matplotlib version). Deterministic: a second run changes nothing. ``--check`` writes nothing and
exits 1 listing the stale files (the test suite runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import api

ROOT = Path(__file__).resolve().parent.parent / "derivations"
FORMATS = {"txt": "terminal", "md": "md", "tex": "tex", "html": "html"}
PARALLEL = {"seed003_two_gpus": 2}  # files that also get the data-parallel walkthrough, with K workers
PAGES = ("seed003_chain",)  # files that also get the interactive page (ReLU: its plots' numbers do not depend on NumPy's build)


def documents(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file's path and its content, from the derivation files as they are now."""
    out = {}
    for source in sorted(root.glob("*.toml")):
        d = api.derive(api.load(source))
        doc = api.walkthrough(d)  # traced once, printed four times
        for ext, fmt in FORMATS.items():
            out[root / "generated" / f"{source.stem}.{ext}"] = api.render(doc, fmt)
        if source.stem in PAGES:
            out[root / "generated" / f"{source.stem}.page.html"] = api.explore(d)
        if source.stem in PARALLEL:
            story = api.parallel_walkthrough(d.model, PARALLEL[source.stem])
            for ext, fmt in FORMATS.items():
                out[root / "generated" / f"{source.stem}.parallel.{ext}"] = api.render(story, fmt)
    return out


def stale(root: Path = ROOT) -> list[Path]:
    """Generated files that are missing or differ, and ones whose derivation file is gone."""
    wanted = documents(root)
    bad = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in sorted((root / "generated").glob("*")) if p not in wanted]
    return bad + extra


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m symbackprop.regenerate", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if any generated file is stale")
    ap.add_argument("--root", type=Path, default=ROOT, help="the derivations directory")
    args = ap.parse_args(argv)
    try:
        if args.check:
            bad = stale(args.root)
            for p in bad:
                print(f"stale: {p}", file=sys.stderr)
            return 1 if bad else 0
        (args.root / "generated").mkdir(exist_ok=True)
        wanted = documents(args.root)
        for path, text in wanted.items():
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                api.write_atomic(path, text)
                print(f"wrote {path}")
        for p in sorted((args.root / "generated").glob("*")):
            if p not in wanted:
                p.unlink()
                print(f"removed {p}")
    except api.InputError as e:
        print(f"symbackprop: error: {e.line()}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
