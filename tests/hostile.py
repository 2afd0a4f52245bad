"""Hostile inputs: files and options built to break the reader, the derivation, the documents,
the compiler and the runs. Each case names what must happen; tests/test_hostile.py runs every
case through every command it lists.

Run as a script to write the corpus into a folder: ``python tests/hostile.py OUT_DIR``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "derivations" / "seed003_chain.toml").read_text()

# every command a derivation file goes through; OUT is replaced by an output path that must survive
DOCUMENTS = tuple(("derive", "--format", f, "-o", "OUT") for f in ("terminal", "md", "tex", "pdf", "html"))
EXPLORE = (("explore", "FILE", "-o", "OUT"),)  # the interactive page: read, checked and traced as a document
VERIFY = (("verify", "FILE"), ("verify", "--json", "FILE"))
CODE = (("compile", "FILE", "-o", "OUT"), ("check", "FILE"))
PARALLEL = (("parallel", "FILE", "--workers", "1"),)
EVERY = DOCUMENTS + EXPLORE + VERIFY + CODE + PARALLEL


@dataclass(frozen=True)
class Case:
    """A hostile input and what every command must do with it.

    ``codes``: the exit codes allowed (2 means refused with one line holding ``fragment``);
    ``limit_s``: the bound each command must end within."""

    name: str
    text: str
    codes: frozenset[int]
    fragment: str = ""
    commands: tuple = EVERY
    limit_s: float = 30.0
    large: bool = False  # built big on purpose: run with its limit, after the fast ones


def case(name, text, codes, fragment="", commands=EVERY, limit_s=30.0, large=False):
    return Case(name, text, frozenset(codes if isinstance(codes, (set, tuple, list)) else {codes}), fragment,
                commands, limit_s, large)


def seed(*replacements: tuple[str, str]) -> str:
    """The seed chain file with each (old, new) replaced once; an absent ``old`` is a corpus bug."""
    text = SEED
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def without_claims(text: str) -> str:
    return text.split("\n[[claims]]")[0] + "\n"


def chain(depth: int, activation: str, weight: str = "0.5") -> str:
    """x -> n1 -> n2 -> ... -> n<depth>, one weight each."""
    lines = ['title = "a long chain"', "[network]", 'inputs = ["x"]', f'outputs = ["n{depth}"]']
    params = []
    for i in range(1, depth + 1):
        source = "x" if i == 1 else f"n{i - 1}"
        lines += ["[[network.neurons]]", f'name = "n{i}"', f'activation = "{activation}"', f'inputs = ["{source}"]',
                  f'weights = ["w{i}"]']
        params.append(f"w{i} = {weight}")
    lines += ["[parameters]", *params, "[loss]", 'function = "half_sse"', "[training]", "learning_rate = 0.1",
              "[[examples]]", "inputs = { x = 0.5 }", f"targets = {{ n{depth} = 1.0 }}"]
    return "\n".join(lines) + "\n"


def wide(width: int, activation: str = "relu") -> str:
    """x -> h1..h<width> -> o."""
    lines = ['title = "a wide layer"', "[network]", 'inputs = ["x"]', 'outputs = ["o"]']
    params = []
    for i in range(1, width + 1):
        lines += ["[[network.neurons]]", f'name = "h{i}"', f'activation = "{activation}"', 'inputs = ["x"]',
                  f'weights = ["u{i}"]']
        params.append(f"u{i} = {(-1) ** i * (i % 7 + 1) / 10}")
    lines += ["[[network.neurons]]", 'name = "o"', 'activation = "identity"',
              "inputs = [" + ", ".join(f'"h{i}"' for i in range(1, width + 1)) + "]",
              "weights = [" + ", ".join(f'"v{i}"' for i in range(1, width + 1)) + "]"]
    params += [f"v{i} = 0.01" for i in range(1, width + 1)]
    lines += ["[parameters]", *params, "[loss]", 'function = "half_sse"', "[training]", "learning_rate = 0.1",
              "[[examples]]", "inputs = { x = 0.5 }", "targets = { o = 1.0 }"]
    return "\n".join(lines) + "\n"


def dense_text(sizes: list[int]) -> str:
    import symbackprop

    return symbackprop.dense(sizes, seed=0).to_toml()


def examples(count: int) -> str:
    body = without_claims(seed())
    rows = "".join(f"\n[[examples]]\ninputs = {{ x1 = {k % 10 / 10}, x2 = 0.1, x3 = 0.4 }}\ntargets = {{ b = 1.0 }}\n"
                   for k in range(count - 1))
    return body + rows


def formula(text: str) -> str:
    """The seed file with one formula claim added (TOML literal string: backslashes as written)."""
    assert "'''" not in text
    return seed() + f"\n[[claims]]\nquantity = \"dE/dw_b1\"\nformula = '''{text}'''\nsource = \"t.txt:1\"\nquote = \"a formula\"\n"


def stated(value: str, quantity: str = "z_a") -> str:
    return seed() + f'\n[[claims]]\nquantity = "{quantity}"\nstated = "{value}"\nsource = "t.txt:1"\nquote = "{value}"\n'


def nested(depth: int, open_: str, close: str, inner: str) -> str:
    return open_ * depth + inner + close * depth


LONG_NAME = "w" + "x" * 9_999

CASES: list[Case] = [
    # the TOML reader: nesting, then numbers beyond what exact arithmetic should carry
    case("nested_arrays", seed(('title = "', 'title = ' + nested(20_000, "[", "]", "1") + '\nt0 = "')), 2,
         "nesting"),
    case("nested_inline_tables", seed(('title = "', "title = " + nested(10_000, "{ a = ", " }", "1") + '\nt0 = "')),
         2, "nesting"),
    case("neuron_feeding_no_output", seed(('[[network.neurons]]\nname = "a"',
                                           '[[network.neurons]]\nname = "c"\ninputs = ["x1"]\nweights = ["w_c1"]\n'
                                           'activation = "relu"\n\n[[network.neurons]]\nname = "a"'),
                                          ("[parameters]", "[parameters]\nw_c1 = 0.3")), (0, 1)),  # its gradient is 0
    case("huge_exponent_float", seed(("w_a1 = 0.1", "w_a1 = 1e999999")), 2, "parameters.w_a1"),
    case("huge_exponent_string", seed(("w_a1 = 0.1", 'w_a1 = "1e999999"')), 2, "parameters.w_a1"),
    case("huge_learning_rate", seed(("learning_rate = -0.6", "learning_rate = 1e999999")), 2,
         "training.learning_rate"),
    case("tiny_exponent", seed(("w_a1 = 0.1", "w_a1 = 1e-999999")), 2, "parameters.w_a1"),
    case("huge_exponent_input", seed(("x1 = 0.2", 'x1 = "1e99999999"')), 2, "examples[0].inputs.x1"),
    case("huger_exponent_float", seed(("w_a1 = 0.1", "w_a1 = 1e99999999")), 2, "parameters.w_a1"),
    case("beyond_float64", seed(("w_a1 = 0.1", "w_a1 = 1e400")), 2, "parameters.w_a1"),
    case("long_integer", seed(("w_a1 = 0.1", "w_a1 = " + "7" * 5_000)), 2, "line 32: a number of 5000 digits"),
    case("stated_5000_digits", stated("1" * 5_000), 2, "a stated value of 5000 significant digits"),
    case("quantity_index_5000_digits", stated("0.76", "z_a[" + "9" * 5_000 + "]"), 2, "is not a quantity name",
         commands=VERIFY),
    case("quantity_iteration_5000_digits", stated("0.76", "z_a@" + "9" * 5_000), 2, "is not a quantity name",
         commands=VERIFY),
    case("stated_85_decimals", stated("0." + "5" * 85), {1}, commands=VERIFY),
    case("stated_85_decimals_tie", stated("0.76" + "0" * 83), {0, 1}, commands=VERIFY),
    # training length
    case("iterations_1e9", seed(("iterations = 1", "iterations = 1000000000")), {0, 2}, "training.iterations"),
    case("iterations_20_digits", seed(("iterations = 1", "iterations = 99999999999999999999")), {0, 2},
         "training.iterations"),
    # names
    case("name_10000_chars", seed(*[(f'"w_a{i}"', f'"{LONG_NAME}{i}"') for i in range(1, 2)],
                                  ("w_a1 = 0.1", f"{LONG_NAME}1 = 0.1")), 2, "network.neurons[0].weights[1]"),
    # a weight named as a derived quantity: compiled and checked as it is, refused where quantities are named
    case("weight_named_error_term", seed(('"w_a1"', '"delta_b"'), ("w_a1 = 0.1", "delta_b = 0.1")), 2,
         "neuron b's error term delta_b", commands=DOCUMENTS + EXPLORE + VERIFY + PARALLEL),
    case("weight_named_error_term_code", seed(('"w_a1"', '"delta_b"'), ("w_a1 = 0.1", "delta_b = 0.1")), 0,
         commands=CODE),
    case("title_with_ansi_escape", seed(('title = "', 'title = "\\u001b[2J\\u001b]0;evil\\u0007')), 2,
         "title: the text holds the control character U+001B"),
    case("title_unicode", seed(('title = "', 'title = "∂E/∂w ≤ ∞ — αβγ Größe 😀 中 ')), {0, 1}),
    case("title_1MB", seed(('title = "', 'title = "' + "t" * 1_000_000)), 2, "title: 1,000,045 characters"),
    case("outputs_twice", seed(('outputs = ["b"]', 'outputs = ["b", "b"]')), 2, "network.outputs[1]: output 'b' is listed twice"),
    case("weight_named_sum", seed(('"w_a1"', '"z_a"'), ("w_a1 = 0.1", "z_a = 0.1")), 2,
         "neuron a's weighted sum z_a", commands=DOCUMENTS + EXPLORE + VERIFY + PARALLEL),
    case("weight_named_sum_code", seed(('"w_a1"', '"z_a"'), ("w_a1 = 0.1", "z_a = 0.1")), 0, commands=CODE),
    # size of the network and of its data
    case("chain_10000_identity", chain(10_000, "identity"), 2, "10,000 neurons", large=True),
    case("chain_300_sigmoid", chain(300, "sigmoid"), 2, "300 neurons on the longest path", large=True),
    case("wide_2000_relu", wide(2_000), 2, "2,001 neurons", large=True),
    case("examples_2000", examples(2_000), {0, 2}, "2,000 examples; a document takes at most 50", large=True,
         limit_s=60),
    # as large as the limits allow: these work
    case("chain_100_sigmoid", chain(100, "sigmoid"), 0, commands=VERIFY + CODE + DOCUMENTS[1:2], large=True),
    case("wide_400_relu", wide(399), 0, commands=VERIFY + CODE + DOCUMENTS[1:2], large=True),
    case("dense_100_90_90_1", dense_text([100, 90, 90, 1]), {0, 2}, "17,371 parameters; a document takes at most 2,000",
         commands=VERIFY[:1] + CODE[:1] + DOCUMENTS[1:2] + EXPLORE, large=True),
    case("dense_4_20x5_1_paths", dense_text([4, 20, 20, 20, 20, 20, 1]), 0, commands=DOCUMENTS[1:2], large=True,
         limit_s=60),  # 160,000 paths from a first-layer weight: 436 s and 1.9 GB of Markdown when all were written
    case("softplus_weights_1000",
         seed(*[('activation = "relu"', 'activation = "softplus"')] * 2,
              *[(f"w_{n} = {v}", f"w_{n} = 1000") for n, v in (("a0", "0.6"), ("b1", "0.4"))]),
         {0, 1}),
    # formulas a text states: each ends in a status (exit 1), never an exception or a hang
    case("formula_1MB", formula("x_1 + " * 170_000 + "x_1"), {1}, commands=VERIFY),
    case("formula_nested_braces", formula(nested(10_000, "{", "}", "x_1")), {1}, commands=VERIFY),
    case("formula_10000_terms", formula(" + ".join(["w_{b1}"] * 10_000)), {1}, commands=VERIFY),
    case("formula_power_tower", formula("2^{2^{2^{2^{2^{2}}}}}"), {1}, commands=VERIFY),
    case("formula_nested_max", formula(nested(2_000, "\\max(0, ", ")", "x_1")), {1}, commands=VERIFY),
    case("formula_symbol_tower", formula("x_1^{x_1^{x_1^{x_1^{x_1}}}}"), {1}, commands=VERIFY),
    case("formula_exp_tower", formula("\\exp(\\exp(\\exp(\\exp(100 w_{a1}))))"), {1}, commands=VERIFY),
    case("formula_placeholder_bytes", formula("\x00 9 \x01"), 2, "not valid TOML: Found invalid character", commands=VERIFY),
    case("formula_placeholder_escapes", seed() + '\n[[claims]]\nquantity = "dE/dw_b1"\nformula = "\\u0000 9 \\u0001"\n'
         'source = "t.txt:1"\nquote = "q"\n', 1, commands=VERIFY),
    case("formula_sqrt_negative", formula("\\max(0, \\sqrt{-1 - x_1})"), {1}, commands=VERIFY),
    case("formula_divide_by_zero", formula("\\frac{1}{0}"), {1}, commands=VERIFY),
]

# the largest file the limits let through, of the widest page: the page costs what derive --format html does (its
# MathML and the network's layout: 20-30 s alone, twice that on a busy machine), so it has its own bound (one such
# file: the long chain's and the many paths' pages took 33-48 s more of the suite and fail alike)
CASES += [case(c.name, c.text, set(c.codes), c.fragment, EXPLORE, 120, True) for c in CASES if c.name == "wide_400_relu"]
# the claims only verify reads (their quantities, formulas, stated values) never reach the page: explore writes it,
# or refuses, as every command does, a file the reader refuses
CASES += [case(c.name, c.text, 2 if c.fragment.startswith("not valid TOML") else 0, c.fragment, EXPLORE, c.limit_s, c.large)
          for c in CASES if c.commands == VERIFY]

# options: each a command line whose FILE is the untouched seed file
OPTION_CASES: list[tuple[str, tuple, str]] = [
    ("workers_0", ("parallel", "FILE", "--workers", "0"), "--workers"),
    ("workers_huge", ("parallel", "FILE", "--workers", "100000000"), "--workers"),
    ("shards_bad", ("parallel", "FILE", "--workers", "2", "--shards", "x,y"), "--shards"),
    ("steps_huge", ("parallel", "FILE", "--workers", "1", "--run", "torch", "--steps", "10000000000"), "--steps"),
    ("iterations_flag_huge", ("derive", "FILE", "--iterations", "1000000000"), "--iterations: 1,000,000,000 iterations"),
    ("steps_huge_run_softplus", ("parallel", "FILE", "--workers", "1", "--run", "torch", "--steps", "100001"), "--steps"),
    ("format_unknown", ("derive", "FILE", "--format", "docx"), "--format: invalid choice"),
    ("iterations_not_a_number", ("derive", "FILE", "--iterations", "abc"), "--iterations: invalid int value"),
    ("unknown_command", ("frobnicate", "FILE"), "invalid choice: 'frobnicate'"),
    ("output_is_the_input", ("derive", "FILE", "-o", "FILE"), "is the input file"),
    ("module_over_the_input", ("compile", "FILE", "-o", "FILE"), "is the input file"),
    ("page_over_the_input", ("explore", "FILE", "-o", "FILE"), "is the input file"),
    ("page_into_directory", ("explore", "FILE", "-o", "DIR"), "DIR"),
    ("page_iterations_huge", ("explore", "FILE", "--iterations", "1000000000"), "--iterations: 1,000,000,000 iterations"),
    ("checkpoint_over_the_input", ("parallel", "FILE", "--workers", "1", "--run", "torch", "--checkpoint", "FILE"),
     "--checkpoint"),
    ("timeout_nan", ("parallel", "FILE", "--workers", "1", "--run", "torch", "--timeout", "nan"), "--timeout"),
    ("timeout_huge", ("parallel", "FILE", "--workers", "1", "--run", "torch", "--timeout", "1e308"), "--timeout"),
    ("dense_too_wide", ("dense", "1000,1000"), "SIZES: 1,001,000 weights"),
    ("compile_workers_huge", ("compile", "FILE", "--workers", "1000000"), "--workers: 1,000,000 workers"),
    ("only_unknown", ("derive", "FILE", "--only", "w_zz"), "--only"),
    ("output_is_directory", ("derive", "FILE", "-o", "DIR"), "DIR"),
]


def run_in_child(argv: list[str], out: str, err: str) -> None:
    """A command line run as ``python -m symbackprop`` runs it, in a child of the fork server (its
    own process group, so that a kill at the bound takes the workers it started too)."""
    import os

    os.setpgid(0, 0)
    code = 70
    try:
        fd_out = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd_out, 1)
        os.dup2(fd_err, 2)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        os.environ["COLUMNS"] = "100"
        from symbackprop import cli

        code = cli.main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for c in CASES:
        path = folder / f"{c.name}.toml"
        path.write_text(c.text)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write(Path(sys.argv[1])):
        print(p)
