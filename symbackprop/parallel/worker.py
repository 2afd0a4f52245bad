"""``torchrun ... -m symbackprop.parallel.worker FILE --steps N``: one rank of a data-parallel run.

The launcher's environment gives the rank and the world (env://); without it, a world of one. Exit
codes as the command line's: 0 the run agrees with the compiled averaged update, 1 it differs or
failed, 2 bad input (one line, from each machine's local rank 0). Under torchrun, a rank's non-zero
exit makes torchrun restart the group (``--max-restarts``) and, once out of restarts, exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..core.derivation_file import load
from ..core.errors import InputError, printable
from .distributed import Fault, RunFailed
from .launched import Launch, Settings, run_rank

FLAGS = {"steps": "--steps", "every": "--every", "timeout": "--timeout", "checkpoint": "--checkpoint",
         "result": "--result", "shards": "--shards", "fault": "--inject-fault", "workers": "WORLD_SIZE",
         "torch": "torchrun"}
PROG = "python -m symbackprop.parallel.worker"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"symbackprop: error: {PROG}: {printable(message)} (see --help)\n" if _speaks() else None)


def _speaks() -> bool:
    """One machine, one message: only its local rank 0 prints bad input (every rank finds the same)."""
    return os.environ.get("LOCAL_RANK", "0") == "0"


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="One rank of a torch.distributed run (gloo, env://) of a derivation file,"
                " checked by rank 0 against the compiled averaged update.")
    p.add_argument("file", help="the derivation file (TOML)")
    p.add_argument("--steps", type=int, default=1, help="training steps (default 1)")
    p.add_argument("--every", type=int, default=1, help="rank 0 writes the checkpoint every N steps (default 1)")
    p.add_argument("--checkpoint", help="rank 0's checkpoint (atomic); resumed from when it exists, as after a restart")
    p.add_argument("--result", help="rank 0 writes the result here (JSON, atomic): each step's parameters, the comparison")
    p.add_argument("--shards", help="shard sizes, one per rank, e.g. 1,3 (default: equal)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds a collective waits for a peer (default 30)")
    p.add_argument("--inject-fault", help=argparse.SUPPRESS)  # RANK:STEP:crash|hang, first attempt only: for drills and tests
    return p


def _paths(args: argparse.Namespace) -> None:
    """Neither output may be the input, nor the other output: each would destroy what it replaces."""
    named = [("the input file", args.file), ("--checkpoint", args.checkpoint), ("--result", args.result)]
    for i, (key, path) in enumerate(named):
        for other_key, other in named[:i]:
            if path and other and _same(path, other):
                raise InputError(f"{path!r} is {other_key} {other!r}; expected another path", key=key)


def _same(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.abspath(a) == os.path.abspath(b)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        launch, extra = Launch.from_env(os.environ)
        os.environ.update(extra)
        _paths(args)
        sizes = None
        if args.shards:
            try:
                sizes = [int(s) for s in args.shards.split(",")]
            except ValueError:
                raise InputError(f"{args.shards!r}: expected whole numbers like 1,3", key="shards") from None
        fault = Fault.parse(args.inject_fault) if args.inject_fault else None
        settings = Settings(args.steps, args.every, args.timeout, args.checkpoint, args.result, sizes, fault)
        return run_rank(load(args.file), launch, settings, say=print)
    except InputError as e:
        e = e.flagged(FLAGS)
        if e.file is None and e.key and e.key[0].isalpha() and e.key.islower():
            e = e.located(args.file)  # a key of the file's (a limit it breaks, say)
        if _speaks():
            print(f"symbackprop: error: {e.line()}", file=sys.stderr)
        return 2
    except RunFailed as e:
        print(f"symbackprop: run failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
