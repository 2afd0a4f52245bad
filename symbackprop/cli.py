"""The ``symbackprop`` command: parse arguments, call the library, map bad input to exit 2.

A thin face over the Python API, as CPython's json.tool is: every InputError becomes one line
on stderr and exit code 2; a failed check exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from . import api
from .api import DIGITS

# the library's parameter names -> the flags that set them, so that an error names what the user typed
FLAGS = {"only": "--only", "output": "-o", "iterations": "--iterations", "workers": "--workers", "shards": "--shards",
         "against": "--against", "engine": "--run", "steps": "--steps", "every": "--every", "timeout": "--timeout",
         "resume": "--resume", "checkpoint": "--checkpoint", "fault": "--inject-fault", "section": "--parallel",
         "sizes": "SIZES", "activation": "--activation", "output_activation": "--output-activation", "loss": "--loss",
         "check_identity": "--check-identity", "digits": "--digits", "optimizer.name": "--optimizer", "loss.function": "--loss"}


def _not_an_input(path: str | None, inputs, key: str) -> None:
    for source in inputs:
        if path and os.path.exists(path) and os.path.exists(source) and os.path.samefile(path, source):
            raise api.InputError(f"{path!r} is the input file {source!r}; expected another path, so that the input survives",
                                 key=key)


def _bar() -> Progress:
    """A progress bar on standard error, only when it is a terminal (the output may be standard output)."""
    return Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())


def _only(args: argparse.Namespace) -> list[str] | None:
    return [p.strip() for p in args.only.split(",") if p.strip()] if args.only else None


def _derive(args: argparse.Namespace) -> int:
    only = _only(args)
    d = api.derive(api.load(args.file))
    d.model.check_unambiguous("a document")  # before --check-identity's work
    href = None
    if args.plots:
        href = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.output)) if args.output else os.getcwd())
    identity = api.identity(d, only) if args.check_identity else None  # priced first: it may be refused
    # colour: asked for, or standard output a terminal (not piped, no -o) and neither NO_COLOR (no-color.org) nor TERM=dumb
    color = args.color == "always" or (args.color == "auto" and not args.output and sys.stdout.isatty()
                                       and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb")
    with _bar() as bar:  # a long trace shows its iterations
        task = bar.add_task("trace", total=None)
        text = api.document(d, fmt=args.format, iterations=args.iterations, only=only, plots=args.plots,
                            plots_href=href.replace(os.sep, "/") if href else None,
                            progress=lambda t, total: bar.update(task, completed=t, total=total),
                            color=color and args.format == "terminal", show=args.show, digits=args.digits,
                            input_gradients=args.input_gradients)
    status = 0
    if identity is not None:
        report = identity
        if isinstance(text, bytes):
            sys.stderr.write(report.text())
        else:
            text += report.text()
        status = 0 if report.ok else 1
    _emit(args.output, text, [args.file])
    return status


def _explore(args: argparse.Namespace) -> int:
    d = api.derive(api.load(args.file))
    with _bar() as bar:
        task = bar.add_task("trace", total=None)
        text = api.explore(d, iterations=args.iterations, only=_only(args), show=args.show, digits=args.digits,
                           input_gradients=args.input_gradients,
                           progress=lambda t, total: bar.update(task, completed=t, total=total))
    _emit(args.output, text, [args.file])
    return 0


def _emit(output: str | None, text: str | bytes, inputs: list[str] = ()) -> None:
    """Write to OUT atomically, or to standard output; never over one of the command's inputs."""
    _not_an_input(output, inputs, "output")
    if output:
        api.write_atomic(output, text)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)


def _dense(args: argparse.Namespace) -> int:
    try:
        model = api.dense(_sizes(args.sizes, "sizes"), activation=args.activation,
                          output_activation=args.output_activation, loss=args.loss, bias=not args.no_bias, seed=args.seed,
                          optimizer=None if args.optimizer is None else {"name": args.optimizer})
    except api.InputError as e:  # the network it would build is too large: that is the sizes' doing
        raise e if e.key in FLAGS else api.InputError(e.what, key="sizes") from None
    _emit(args.output, model.to_toml())
    return 0


def _from_torch(args: argparse.Namespace) -> int:
    model, path = api.from_torch_program(args.program)
    _not_an_input(args.output, [path] if path else [], "output")
    if args.output:
        api.write_model(model, args.output)
    else:
        sys.stdout.write(model.to_toml())
    return 0


def _verify(args: argparse.Namespace) -> int:
    reports = []
    with _bar() as bar:  # a long trace (many examples or iterations) shows its iterations, then the claims
        for f in args.files:
            task = bar.add_task(f"verify {escape(api.printable(os.path.basename(f)))}", total=None)  # shown, not read as markup
            reports.append(api.verify(f, progress=lambda done, total, task=task: bar.update(task, completed=done,
                                                                                              total=total),
                                      digits=args.digits))
    _emit(args.output, api.report(reports, "json" if args.json else args.format), args.files)
    return 1 if any(r.failed for r in reports) else 0


def _scan(args: argparse.Namespace) -> int:
    if args.output and args.write:
        raise api.InputError(f"-o {args.output} and --write both given; expected one: -o writes the proposed claims to a "
                             f"file of their own, --write appends them to {args.model}", key="--write")
    _not_an_input(args.output, [args.text, args.model], "output")
    lines = _lines(args.lines) if args.lines else None
    report = api.scan(args.text, args.model, lines)
    text = api.scan_report(report, "json" if args.json else "text")
    if args.output or args.write:
        written, repeats = api.write_claims(report, args.output)
        where = args.output or args.model
        said = f"{written} claim{'s' if written != 1 else ''} written to {where}" + (
            f" ({repeats} left out: already in {args.model}, or repeating another)" if repeats else "")
        print(api.printable(said), file=sys.stderr)
    sys.stdout.write(text)
    return 0


def _lines(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise api.InputError(f"{text!r}: expected a line range like 106-370", key="--lines") from None


def _parallel(args: argparse.Namespace) -> int:
    model = api.load(args.file)
    shards = _sizes(args.shards, "shards") if args.shards else None
    only = _only(args)
    if args.engine:
        model.check_parameters(only)  # --only shows nothing in a run, but a wrong name is still a mistake
        return _parallel_run(args, model, shards)
    _emit(args.output, api.parallel_document(model, args.workers, shards, only, args.format), [args.file])
    return 0


def _parallel_run(args: argparse.Namespace, model, shards) -> int:
    """K torch.distributed processes against the compiled averaged update; exit 1 if they differ."""
    _not_an_input(args.checkpoint, [args.file], "checkpoint")
    with _bar() as bar:
        task = bar.add_task(f"{args.workers} workers", total=args.steps)
        try:
            run = api.checked_run(model, args.workers, args.steps, shards, timeout=args.timeout, checkpoint=args.checkpoint,
                                  every=args.every, resume=args.resume, fault=args.inject_fault,
                                  progress=lambda step: bar.update(task, completed=step))
        except api.RunFailed as e:
            print(f"symbackprop: run failed: {e}", file=sys.stderr)
            return 1
    sys.stdout.write(run.text())
    return 0 if run.ok else 1


def _compile(args: argparse.Namespace) -> int:
    _emit(args.output, api.module_source(api.derive(api.load(args.file)), numba=args.numba, workers=args.workers,
                                         input_gradients=args.input_gradients), [args.file])
    return 0


def _sizes(text: str, key: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise api.InputError(f"{text!r}: expected whole numbers like 2,2,1", key=key) from None


def _check(args: argparse.Namespace) -> int:
    d = api.derive(api.load(args.file))
    with _bar() as bar:  # a large network's finite differences take a while
        task = bar.add_task("check", total=None)
        report = api.check(d, against=args.against, progress=lambda done, total: bar.update(task, completed=done, total=total))
    sys.stdout.write(report.text())
    return 0 if report.ok else 1


def _bench(args: argparse.Namespace) -> int:
    section = ("derive" if args.derive else "trace" if args.trace else "parallel" if args.parallel
               else "optimizer" if args.optimizer else "explore" if args.explore else "big" if args.big else "gradients")
    table, text = api.bench(section, quick=args.quick)
    sys.stdout.write(json.dumps(table, indent=2) + "\n" if args.json else text)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the contract for every bad input), pointing at --help."""

    def error(self, message: str):
        self.exit(2, f"symbackprop: error: {api.printable(self.prog)}: {api.printable(message)} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="symbackprop", description="Exact, checked backpropagation derivations.")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("derive", help="show the step-by-step derivation of a derivation file")
    p.add_argument("file")
    p.add_argument("--format", default="terminal", choices=sorted(api.FORMATS))
    p.add_argument("-o", "--output", help="write here (atomically) instead of standard output")
    p.add_argument("--iterations", type=int, help="training iterations (default: the file's)")
    p.add_argument("--only", help="comma-separated parameters whose chains to show")
    p.add_argument("--input-gradients", action="store_true",
                   help="each backward pass also gives the inputs' gradients dE/dx, as circuit-style texts compute them")
    p.add_argument("--show", metavar="ITERATIONS", help="the iterations written out step by step: numbers, ranges, "
                   "'last' or 'all' (e.g. 1,2,last); default: all of at most 5, else the first and the last with a "
                   "table of the loss between")
    p.add_argument("--digits", type=int, default=DIGITS, help=f"digits of the values past the exact part (default {DIGITS})")
    p.add_argument("--plots", metavar="DIR", help="write the plots (PNG, SVG) here and embed them in the document")
    p.add_argument("--check-identity", action="store_true",
                   help="prove each chain-rule gradient equal to sympy.diff of the flattened loss")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                   help="ANSI colour in the terminal format: auto (the default) when standard output is a terminal, "
                        "not with -o, NO_COLOR or TERM=dumb; always (through a pipe or into -o too); never")
    p.set_defaults(run=_derive)

    p = sub.add_parser("explore", help="write the interactive page: change an input, a weight, a target or the learning "
                       "rate and every number of the walkthrough recomputes (one HTML file, no server)")
    p.add_argument("file")
    p.add_argument("-o", "--output", help="write the page here (atomically) instead of standard output")
    p.add_argument("--iterations", type=int, help="training iterations (default: the file's)")
    p.add_argument("--only", help="comma-separated parameters whose chains to show")
    p.add_argument("--show", metavar="ITERATIONS", help="the iterations written out step by step, as for derive")
    p.add_argument("--input-gradients", action="store_true", help="each backward pass also gives the inputs' gradients")
    p.add_argument("--digits", type=int, default=DIGITS, help=f"digits of the values past the exact part (default {DIGITS})")
    p.set_defaults(run=_explore)

    p = sub.add_parser("dense", help="write a layered network as a derivation file")
    p.add_argument("sizes", metavar="SIZES", help="layer sizes, e.g. 2,2,1")
    p.add_argument("--activation", default="relu")
    p.add_argument("--output-activation")
    p.add_argument("--loss", default="half_sse")
    p.add_argument("--optimizer", help="a torch.optim rule with its defaults (SGD, Adam, AdamW, RMSprop, Adagrad), "
                   "written out as an [optimizer] table to edit")
    p.add_argument("--no-bias", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output")
    p.set_defaults(run=_dense)

    p = sub.add_parser("from-torch", help="read a PyTorch program (its module, data, loss and optimizer) into a "
                       "derivation file, its weights exact", description="Import package.module as uvicorn imports "
                       "app:main (the current directory first on sys.path), call function() and read what it returns: "
                       "(module, inputs, targets, loss) or (module, inputs, targets, loss, optimizer), or a dict with "
                       "those keys (and optionally title, source, notes, iterations). The forward is read through "
                       "torch.export: nn.Linear and the activations relu, leaky_relu, sigmoid, tanh, softplus, softmax, "
                       "log_softmax; anything else is refused in one line naming the op and the module path. See "
                       "docs/from_torch.md.")
    p.add_argument("program", metavar="package.module:function",
                   help="the function returning the objects, importable from the current directory (as uvicorn app:main)")
    p.add_argument("-o", "--output", metavar="FILE.toml", help="write the derivation file here (atomically) instead of "
                   "standard output")
    p.set_defaults(run=_from_torch)

    p = sub.add_parser("verify", help="check every claim of derivation files against the exact trace")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", default="text", choices=["text", "md"])
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--digits", type=int, default=DIGITS, help=f"digits of the values past the exact part (default {DIGITS})")
    p.add_argument("-o", "--output", help="write here (atomically) instead of standard output")
    p.set_defaults(run=_verify)

    p = sub.add_parser("scan", help="find every number of a text and match it to the quantities of a derivation file")
    p.add_argument("text", metavar="TEXT", help="the source text: plain text, Markdown or LaTeX")
    p.add_argument("--model", required=True, metavar="FILE.toml", help="the derivation file of its worked example")
    p.add_argument("-o", "--output", help="write the proposed [[claims]] here (atomically), as a file of claims alone")
    p.add_argument("--write", action="store_true",
                   help="append the proposed claims to the derivation file itself (atomically; never one it already has)")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--lines", metavar="FIRST-LAST", help="only the numbers on these lines of the text (e.g. 106-370)")
    p.set_defaults(run=_scan)

    p = sub.add_parser("parallel", help="the averaged gradient of K data-parallel workers")
    p.add_argument("file")
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--shards", help="shard sizes, e.g. 1,3 (default: equal)")
    p.add_argument("--only", help="comma-separated parameters to show")
    p.add_argument("--format", default="terminal", choices=sorted(api.FORMATS))
    p.add_argument("-o", "--output")
    p.add_argument("--run", dest="engine", choices=["torch"], help="run it for real on torch.distributed (gloo, loopback)")
    p.add_argument("--steps", type=int, default=1, help="training steps of the real run")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds a rank may take per step")
    p.add_argument("--checkpoint", help="write the state here (atomically) every --every steps")
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--inject-fault", help=argparse.SUPPRESS)  # RANK:STEP:crash|hang, for drills and tests
    p.set_defaults(run=_parallel)

    p = sub.add_parser("compile", help="write the loss and gradients as a standalone NumPy module")
    p.add_argument("file")
    p.add_argument("-o", "--output", help="the module to write (atomically); standard output if absent")
    p.add_argument("--numba", action="store_true",
                   help="add numba loops (one fused loop for every batch on nets up to 64 parameters, a loop kernel for"
                        " small batches on larger layered nets); the module then needs numba")
    p.add_argument("--workers", type=int, default=1,
                   help="data-parallel workers: the default shard count of the module's split() (averaged_loss_and_grad takes any)")
    p.add_argument("--input-gradients", action="store_true",
                   help="also export input_gradients(params, X, Y): d(batch loss)/dX, one row per example")
    p.set_defaults(run=_compile)

    p = sub.add_parser("check", help="compare compiled gradients with the NumPy runtime, PyTorch, finite differences")
    p.add_argument("file")
    p.add_argument("--against", default="all", choices=["numpy", "torch", "fd", "all"])
    p.set_defaults(run=_check)

    p = sub.add_parser("bench", help="time compiled gradients against NumPy, PyTorch, JAX and lambdify")
    p.add_argument("--json", action="store_true", help="the table as JSON")
    p.add_argument("--quick", action="store_true", help="two small nets, two batch sizes, short timings"
                   " (with --parallel: the seed net, K = 1 and 2, 20 steps; with --trace: 1,000 and 100 iterations;"
                   " with --explore: the seed's chain and the long run, 4 samples a view)")
    p.add_argument("--parallel", action="store_true", help="the compiled averaged step against a torch.distributed run,"
                   " K = 1, 2, 4 workers, on the seed's two-GPU network and dense 4-16-16-1")
    p.add_argument("--optimizer", action="store_true", help="one Adam training step of the compiled module against"
                   " torch.optim.Adam: dense 4-16-16-1 and 8-32-32-4 tanh, B = 1, 32, 1024")
    p.add_argument("--big", action="store_true", help="only the default table's big nets, dense 784-64-10 and 784-128-64-10:"
                   " derive, compile, peak memory, and calls at B = 1, 64, 1024 against NumPy, PyTorch and JAX")
    p.add_argument("--derive", action="store_true", help="the one-time cost of deriving dense 2-2-1, 4-16-16-1, 8-32-32-4")
    p.add_argument("--trace", action="store_true", help="a long trace's time, peak memory and certain digits, against"
                   " float64 and twice the digits: dense 2-2-2 sigmoid x 10,000, 4-16-16-1 tanh x 1,000 iterations")
    p.add_argument("--explore", action="store_true", help="the interactive page's recompute in headless Chromium"
                   " (engine, numbers, plots, in ms, every section closed and open): dense 4-16-16-1 tanh, the seed's chain,"
                   " the 10,000-iteration long run (needs chromium, chromedriver and selenium)")
    p.set_defaults(run=_bench)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except api.InputError as e:
        e = e.flagged(FLAGS)
        if e.file is None and e.key and e.key[0].isalpha() and getattr(args, "file", None):
            e = e.located(args.file)  # found after loading (the trace's cost, say): still the file's key
        print(f"symbackprop: error: {e.line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
