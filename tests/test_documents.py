"""The derivation documents, checked on the real outputs: Markdown read back, PDF text, HTML in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import sympy as sp
from conftest import DERIVATIONS, ROOT, SEED_CHAIN, cli
from latex_roundtrip import close, expected, functions, key, parse, parts, same

import symbackprop
from symbackprop import regenerate
from symbackprop.documents import builder as walkthrough
from symbackprop.documents.builder import build
from symbackprop.documents.formulas.latex import tex_name
from symbackprop.documents.printers import markdown

GENERATED = DERIVATIONS / "generated"
# Hand-checked once (seed 003, chapter 2): z_a = 0.6 + 0.1*0.2 + 0.2*0.1 + 0.3*0.4 = 0.76;
# z_b = 0.76*0.4 + 0.5 = 0.804; E = 0.196^2 / 2 = 0.019208; delta_b = 0.804 - 1 = -0.196;
# delta_a = -0.196*0.4 = -0.0784; dE/dw_a1 = -0.0784*0.2 = -0.01568; dE/dw_b1 = -0.196*0.76 = -0.14896;
# Delta w_b1 = -0.6 * -0.14896 = 0.089376; w_b1 after one step = 0.489376.
KEY_NUMBERS = ["0.76", "0.804", "0.019208", "0.196", "0.0784", "0.01568", "0.14896", "0.089376", "0.489376"]


def seed_walkthrough():
    d = symbackprop.derive(symbackprop.load(SEED_CHAIN))
    return d, build(d, d.trace())


# -- names and the LaTeX read-back helpers ------------------------------------------------------
@pytest.mark.parametrize("name, text", [
    ("w_a0", "w_{a0}"), ("x1", "x_{1}"), ("b0", "b_{0}"), ("w1_2_3", "w_{1,2,3}"), ("delta_b", r"\delta_{b}"),
    ("eta", r"\eta"), ("Delta_w_b1", r"\Delta w_{b1}"), ("dE/dw_a1", r"\frac{\partial E}{\partial w_{a1}}"), ("E", "E"),
])
def test_tex_names(name, text):
    assert tex_name(name) == text


def test_printed_names_parse_back_through_latex_parse():
    assert key("w_a0") == "w_a0" and key("x1") == "x_1" and key("w1_2_3") == "w_1,2,3" and key("dE/dw_a1") == "dE/dw_a1"
    composed = sp.Function("E")(sp.Function("b")(sp.Function("z_b")(sp.Symbol("w_b0"))))
    assert parse(r"E\left(b\left(z_{b}\left(w_{b0}\right)\right)\right)", ("E", "b", "z_b")) == expected(composed)
    assert parse(r"\left(b - y\right) H\left(z_{b}\right)") == sp.Heaviside(sp.Symbol("z_b"), 0) * (sp.Symbol("b") - sp.Symbol("y"))
    assert parse(r"\Delta w_{a0} + w_{a0}") == expected(sp.Symbol("Delta_w_a0") + sp.Symbol("w_a0"))
    assert parts(r"a &= b \\ &\approx 0.5") == ["a", "b", "0.5"]
    cases = r"\begin{cases} 1 & \text{for}\: z_{a} > 0 \\\frac{1}{100} & \text{otherwise} \end{cases}"
    assert parts(rf"a &= {cases} \\ &= 1") == ["a", " ".join(cases.split()), "1"]


# -- Markdown ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(DERIVATIONS.glob("*.toml")), ids=lambda p: p.stem)
def test_markdown_math_balances_and_every_formula_parses_back_to_the_derived_one(path):
    d = symbackprop.derive(symbackprop.load(path))
    doc = build(d, d.trace())
    text = markdown.render(doc)
    assert text.count("$$") % 2 == 0
    outside = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    prose = "\n".join(line for line in outside.splitlines() if not line.startswith("|"))  # table cells hold inline $...$
    assert "$" not in prose.replace(r"\$", "")  # no stray inline delimiter
    blocks = [re.sub(r" \\tag\{\d+\}$", "", b) for b in re.findall(r"\$\$\n(.*?)\n\$\$", text, flags=re.S)]
    steps = [s for section in doc.sections for s in section.steps]
    assert len(blocks) == len(steps)
    checked = 0
    for block, step in zip(blocks, steps):
        candidates = [("form", step.lhs)] + [("form", f) for f in step.forms]
        if step.substitution is not None:
            candidates.append(("number", step.value))
        if step.value is not None:  # the exact value, then its decimal rounding when that differs
            candidates += [("number", step.value)] * 2
        i = 0
        for side in parts(block):
            parsed = parse(side, functions(step))
            while i < len(candidates):
                kind, want = candidates[i]
                i += 1
                if (kind == "form" and same(parsed, expected(want))) or (kind == "number" and close(parsed, want)):
                    break
            else:
                pytest.fail(f"{step.name}: {side!r} parses to {parsed}, equal to none of the derived forms left")
            checked += 1
    assert checked >= 3 * len(steps)


# -- the golden terminal walkthrough and staleness ----------------------------------------------
def test_terminal_golden_matches_the_command_and_the_hand_checked_numbers():
    golden = (GENERATED / "seed003_chain.txt").read_text(encoding="utf-8")
    assert cli("derive", str(SEED_CHAIN)).stdout == golden
    numbered = re.sub(r" +\(\d+\)$", "", golden, flags=re.M)  # each step's first line ends in its equation number
    assert "z_a = w_a0 · b_0 + w_a1 · x_1 + w_a2 · x_2 + w_a3 · x_3\n      = 0.6 · 1.0 + 0.1 · 0.2 + 0.2 · 0.1 + 0.3 · 0.4\n" \
           "      = 0.76" in numbered
    assert "z_b = w_b0 · b_0 + w_b1 · a = 0.5 · 1.0 + 0.4 · 0.76 = 0.804" in numbered
    assert "E = (y − b)²/2 = (1.0 − 0.804)²/2 = 0.019208" in numbered
    assert "∂b/∂z_b = H(z_b) = H(0.804) = 1.0" in numbered  # the step function evaluated, on its own line
    flat = " ".join(numbered.split())  # a step with a note is set one side to a row
    assert "δ_b = ∂E/∂b · ∂b/∂z_b = (b − y) · H(z_b) = (−0.196) · 1.0 = −0.196" in flat
    assert "δ_a = ∂E/∂a · ∂a/∂z_a = δ_b·w_b1 · H(z_a) = (−0.0784) · 1.0 = −0.0784" in flat  # through ∂E/∂a
    # the gradient through the error term already computed: 0.0784 * 0.2 = 0.01568
    assert "= δ_a · x_1\n           = (−0.0784) · 0.2\n           = −0.01568" in numbered
    assert "Δw_b1 = η · ∂E/∂w_b1 = (−0.6) · (−0.14896) = 0.089376" in numbered
    assert "w_b1 ← w_b1 + Δw_b1 = 0.4 + 0.089376 = 0.489376" in numbered  # an update, not an equation
    assert max(len(line) for line in numbered.splitlines()) <= 100


SAMPLES = [  # (file, the command line its sample shows, the command's arguments)
    ("README.md", "derive derivations/seed003_chain.toml --only w_a1", ("derive", str(SEED_CHAIN), "--only", "w_a1")),
    ("README.md", "verify derivations/seed003_chain.toml", ("verify", str(SEED_CHAIN))),
    ("docs/verify.md", "verify derivations/seed003_chain.toml", ("verify", str(SEED_CHAIN))),
]


@pytest.mark.parametrize("file, command, args", SAMPLES, ids=[f"{f}: {c}" for f, c, _ in SAMPLES])
def test_the_samples_are_the_commands_output(file, command, args):
    """Each block of a sample (between its '...' lines) is a run of the command's own lines."""
    text = (ROOT / file).read_text(encoding="utf-8")
    sample = text.split(f"$ symbackprop {command}\n")[1].split("```")[0]
    output = re.sub(r" +\(\d+\)$", "", cli(*args).stdout, flags=re.M)  # no equation numbers
    blocks = [b.strip("\n") for b in re.split(r"^ *\.\.\.\n", sample, flags=re.M) if b.strip()]
    assert len(blocks) >= 2
    for block in blocks:
        assert block in output, block


def test_generated_documents_are_fresh():
    """Fails when a derivation file or the printers changed: run python -m symbackprop.regenerate."""
    assert regenerate.stale() == [], "stale generated documents; run: python -m symbackprop.regenerate"


def test_regenerate_is_byte_identical_and_check_mode_detects_staleness(tmp_path):
    shutil.copy(SEED_CHAIN, tmp_path / "x.toml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "symbackprop.regenerate", "--root", str(tmp_path)]
    assert subprocess.run(run + ["--check"], env=env, capture_output=True).returncode == 1
    subprocess.run(run, env=env, check=True, capture_output=True)
    first = {p.name: p.read_bytes() for p in (tmp_path / "generated").iterdir()}
    assert sorted(first) == ["x.html", "x.md", "x.tex", "x.txt"]
    second = subprocess.run(run, env=env, check=True, capture_output=True, text=True)
    assert second.stdout == "" and {p.name: p.read_bytes() for p in (tmp_path / "generated").iterdir()} == first
    assert subprocess.run(run + ["--check"], env=env, capture_output=True).returncode == 0
    (tmp_path / "generated" / "x.md").write_text("edited by hand\n")
    assert subprocess.run(run + ["--check"], env=env, capture_output=True).returncode == 1


# -- errors ----------------------------------------------------------------------------------------
def test_unwritable_path_is_exit_2_one_line(tmp_path):
    r = cli("derive", str(SEED_CHAIN), "--format", "md", "-o", str(tmp_path / "missing" / "out.md"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "out.md" in r.stderr


def test_missing_latex_engine_is_exit_2_naming_it_and_keeps_the_old_file(tmp_path):
    out = tmp_path / "out.pdf"
    out.write_bytes(b"earlier output")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "symbackprop", "derive", str(SEED_CHAIN), "--format", "pdf", "-o", str(out)],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "pdflatex" in r.stderr
    assert out.read_bytes() == b"earlier output"


# -- PDF -------------------------------------------------------------------------------------------
@pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("pdftotext")),
                    reason="needs pdflatex (texlive-latex-base, -recommended, -pictures) and pdftotext (poppler-utils)")
def test_pdf_compiles_and_its_text_holds_the_chain_numbers(tmp_path):
    out = tmp_path / "chain.pdf"
    r = cli("derive", str(SEED_CHAIN), "--format", "pdf", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for number in KEY_NUMBERS:
        assert number in text, number
    assert "Contents" in text and "Iteration 1: backward pass" in text


@pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("pdftotext")),
                    reason="needs pdflatex (texlive-latex-base, -recommended, -pictures) and pdftotext (poppler-utils)")
def test_a_title_pdflatex_cannot_set_still_compiles(tmp_path):
    """A title of math symbols, Greek, Latin-1 letters, an emoji and CJK: the PDF says each, or its code point."""
    title = "∂E/∂w ≤ ∞ — Größe naïve αβγ ΣΔ 😀 中"
    text = SEED_CHAIN.read_text()
    source = tmp_path / "unicode.toml"
    source.write_text(re.sub(r'^title = .*$', f'title = "{title}"', text, count=1, flags=re.M), encoding="utf-8")
    out = tmp_path / "unicode.pdf"
    r = cli("derive", str(source), "--format", "pdf", "-o", str(out))
    assert r.returncode == 0, r.stderr
    pdf = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    first = unicodedata.normalize("NFC", pdf.splitlines()[0])  # pdftotext gives ö as o and a combining mark
    for shown in ("∂E/∂w", "≤", "∞", "Größe", "αβγ", "Σ", "U+1F600", "U+4E2D"):
        assert shown in first, (shown, first)


def test_the_composed_form_leaves_out_parameters_of_many_paths():
    """dense 2-5-5-1: a first-layer weight reaches E through 5 paths (one per second-layer neuron),
    a second-layer weight through 1; only those within MAX_PATHS_SHOWN are written out."""
    d = symbackprop.derive(symbackprop.dense([2, 5, 5, 1], activation="sigmoid"))
    doc = build(d, d.trace(1))
    section = next(s for s in doc.sections if s.title == "The composed error function")
    shown = {step.name[2:-1] for step in section.steps}
    many = {p for p in d.model.parameters if d.path_count(p) > walkthrough.MAX_PATHS_SHOWN}
    assert many and shown == set(d.model.parameters) - many
    assert {d.path_count(p) for p in many} == {5}
    assert f"{len(many)} parameter(s) reach E through more than 4 paths (up to 5)" in section.text[1]


# -- HTML in a real browser ----------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MEASURE = """<script>
for (const d of document.querySelectorAll('details')) d.open = true;
const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
const shown = [...document.querySelectorAll('math')].filter(m => !m.closest('.label'));  // not a stacked table's hidden heads
const out = {math: shown.map(box), step: [...document.querySelectorAll('.step')].map(box),
             frac: [...document.querySelectorAll('mfrac')].slice(0, 20).map(f => [box(f)[1], box(f.querySelector('mi, mn'))[1]]),
             svg: [...document.querySelectorAll('svg.network')].map(box)};
const pre = document.createElement('pre'); pre.id = 'measure'; pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""


def chromium(tmp_path: Path, *args: str) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="needs a headless browser (Debian package chromium)")
def test_html_renders_in_chromium_with_laid_out_mathml(tmp_path):
    pytest.importorskip("PIL", reason="needs Pillow to read the screenshot")
    from PIL import Image

    page = tmp_path / "chain.html"
    assert cli("derive", str(SEED_CHAIN), "--format", "html", "-o", str(page)).returncode == 0
    html = page.read_text(encoding="utf-8")
    # one inline script (expand all, open for printing), nothing from the network
    assert re.findall(r"<script[^>]*>", html) == ["<script>"] and not re.search(r"(src|href)=\"(https?:)?//", html)
    shot = tmp_path / "shot.png"
    chromium(tmp_path, "--window-size=1000,1400", f"--screenshot={shot}", page.as_uri())
    image = Image.open(shot).convert("L")
    pixels = list(image.tobytes())
    dark = sum(p < 128 for p in pixels) / len(pixels)
    assert 0.005 < dark < 0.5 and len(set(pixels)) > 16, "screenshot is blank or solid"

    measured = tmp_path / "measured.html"
    measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", measured.as_uri())
    data = json.loads(re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S).group(1).replace("&quot;", '"'))
    steps = sum(len(s.steps) for s in seed_walkthrough()[1].sections)
    assert len(data["step"]) == steps  # each step's formula is cut into pieces, one <math> each, that wrap
    assert all(w > 20 and h > 10 for w, h in data["step"]), data["step"]
    assert len(data["math"]) >= steps and all(w > 3 and h > 5 for w, h in data["math"]), data["math"]
    # MathML laid out, not shown as inline text: a fraction stands over twice as tall as its letters
    assert data["frac"] and all(frac > 1.8 * letter for frac, letter in data["frac"]), data["frac"]
    assert data["svg"] and data["svg"][0][0] > 300


# -- plots and notebooks -------------------------------------------------------------------------
def test_plots_are_written_and_embedded(tmp_path):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the docs extra)")
    out, plots = tmp_path / "chain.html", tmp_path / "plots"
    assert cli("derive", str(SEED_CHAIN), "--format", "html", "-o", str(out), "--plots", str(plots)).returncode == 0
    names = sorted(p.name for p in plots.iterdir())
    assert names == ["activation_relu.png", "activation_relu.svg", "loss.png", "loss.svg", "loss_vs_w_a0.png", "loss_vs_w_a0.svg"]
    assert out.read_text().count("<svg") == 4  # the network and three plots inline
    md = tmp_path / "chain.md"
    assert cli("derive", str(SEED_CHAIN), "--format", "md", "-o", str(md), "--plots", str(plots)).returncode == 0
    assert "](plots/loss.png)" in md.read_text()


def test_plot_data_tangent_has_the_gradient_as_slope():
    from symbackprop.documents.plots import plots

    d = symbackprop.derive(symbackprop.load(SEED_CHAIN))
    loss, activation, weight = plots(d, d.trace(), ["w_b1"])
    assert loss.curves[0][2][0] == pytest.approx(0.019208) and len(loss.curves[0][2]) == 2
    assert [p[1:] for p in activation.points] == [pytest.approx((0.76, 0.76)), pytest.approx((0.804, 0.804))]
    _, xs, ys = weight.curves[1]
    assert (ys[-1] - ys[0]) / (xs[-1] - xs[0]) == pytest.approx(-0.14896)
    # the curve itself: E(w_b1) with the rest fixed, checked at w_b1 = 0.4 + 0.5
    _, cx, cy = weight.curves[0]
    i = min(range(len(cx)), key=lambda j: abs(cx[j] - 0.9))
    assert cy[i] == pytest.approx(0.5 * (1 - (0.76 * cx[i] + 0.5)) ** 2)


def test_notebook_displays_show_the_network_and_one_chain():
    model = symbackprop.load(SEED_CHAIN)
    d = symbackprop.derive(model)
    for obj in (model, d):
        html = obj._repr_html_()
        assert "<svg" in html and "<math" in html and "w_a1" in html
        latex = obj._repr_latex_()
        assert latex.startswith("$$") and r"\frac{\partial E}{\partial w_{a0}}" in latex
    sides = parts(d._repr_latex_().strip("$\n"))
    assert same(parse(sides[-1]), expected(d.gradient("w_a0")))
    assert same(parse(sides[1]), expected(walkthrough.chain(d, "w_a0").forms[0]))


def test_only_three_parameters_of_a_dense_network(tmp_path):
    model = symbackprop.dense([4, 16, 16, 1], seed=1)
    path = tmp_path / "dense.toml"
    path.write_text(model.to_toml())
    chosen = list(model.parameters)[::150][:3]
    r = cli("derive", str(path), "--format", "html", "--only", ",".join(chosen), "-o", str(tmp_path / "d.html"))
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "d.html").read_text()
    assert sum(f'id="dE/d{p}[1]@1"' in html for p in model.parameters) == 3


@pytest.mark.parametrize("node", ["Sum", "Product"])
def test_sympy_sum_and_product_print_as_sympy_prints_them(node):
    """The document nodes for chains are Factors and Terms, so SymPy's own Sum and Product keep SymPy's printing
    (one line of text writes Σ as a reader would: Σ_{k=1..3} (k + x^k))."""
    from symbackprop.documents.formulas.latex import tex
    from symbackprop.documents.formulas.mathml import mathml
    from symbackprop.documents.formulas.text import plain

    x, k = sp.symbols("x k")
    expr = getattr(sp, node)(x**k + k, (k, 1, 3))
    assert tex(expr) == sp.latex(expr) and tex(expr).startswith(r"\sum" if node == "Sum" else r"\prod")
    assert sp.sstr(expr) == f"{node}(k + x**k, (k, 1, 3))"
    assert plain(expr) == ("Σ_{k=1..3} (k + x^k)" if node == "Sum" else f"{node}(k + x^k, (k, 1, 3))")
    typeset = re.sub(r' (mathvariant|stretchy|displaystyle)="[^"]*"', "", mathml(expr))  # only the typesetting added
    assert typeset == sp.mathml(expr, printer="presentation")
