"""The ``symbackprop`` command: parse arguments, call the library, map bad input to exit 2.

A thin face over the Python API, as CPython's json.tool is: every InputError becomes one line
on stderr and exit code 2; a failed check exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from . import api
from .errors import InputError
from .fileformat import write_atomic


def _derive(args: argparse.Namespace) -> int:
    only = [p.strip() for p in args.only.split(",") if p.strip()] if args.only else None
    d = api.derive(api.load(args.file))
    href = None
    if args.plots:
        href = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.output)) if args.output else os.getcwd())
    text = api.document(d, fmt=args.format, iterations=args.iterations, only=only, plots=args.plots,
                        plots_href=href.replace(os.sep, "/") if href else None)
    status = 0
    if args.check_identity:
        report, ok = identity_report(d, only)
        if isinstance(text, bytes):
            sys.stderr.write(report)
        else:
            text += report
        status = 0 if ok else 1
    if args.output:
        write_atomic(args.output, text)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)
    return status


def identity_report(d, only) -> tuple[str, bool]:
    names = only or list(d.model.parameters)
    lines, failed = ["", "Identity check: chain-rule gradient == sympy.diff of the flattened loss"], []
    start = time.perf_counter()
    for p in names:
        ok = d.identity(p)
        if not ok:
            failed.append(p)
        lines.append(f"  dE/d{p}: {'holds' if ok else 'FAILS'}")
    lines.append(f"  {len(names) - len(failed)} of {len(names)} hold ({time.perf_counter() - start:.2f} s)")
    return "\n".join(lines) + "\n", not failed


def _dense(args: argparse.Namespace) -> int:
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        raise InputError(f"{args.sizes!r}: expected layer sizes like 2,2,1", key="SIZES") from None
    model = api.dense(sizes, activation=args.activation, output_activation=args.output_activation,
                      loss=args.loss, bias=not args.no_bias, seed=args.seed)
    text = model.to_toml()
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="symbackprop", description="Exact, checked backpropagation derivations.")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("derive", help="show the step-by-step derivation of a derivation file")
    p.add_argument("file")
    p.add_argument("--format", default="terminal", choices=sorted(api.FORMATS))
    p.add_argument("-o", "--output", help="write here (atomically) instead of standard output")
    p.add_argument("--iterations", type=int, help="training iterations (default: the file's)")
    p.add_argument("--only", help="comma-separated parameters whose chains to show")
    p.add_argument("--plots", metavar="DIR", help="write the plots (PNG, SVG) here and embed them in the document")
    p.add_argument("--check-identity", action="store_true",
                   help="prove each chain-rule gradient equal to sympy.diff of the flattened loss")
    p.set_defaults(run=_derive)

    p = sub.add_parser("dense", help="write a layered network as a derivation file")
    p.add_argument("sizes", metavar="SIZES", help="layer sizes, e.g. 2,2,1")
    p.add_argument("--activation", default="relu")
    p.add_argument("--output-activation")
    p.add_argument("--loss", default="half_sse")
    p.add_argument("--no-bias", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output")
    p.set_defaults(run=_dense)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as e:
        print(f"symbackprop: error: {e.line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
