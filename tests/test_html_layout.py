"""The HTML documents as a browser lays them out and prints them: a teacher hands them out as they are.

Every bundled document (and a dense 2-3-2 one with three iterations) at a phone's 420 px and a desktop's
1200 px: no element wider than the viewport, inside a scroll box or not (a long formula wraps, nothing
scrolls) and the pieces a formula is cut into join without gaps; printed to PDF, the collapsed sections come out
too (the backward pass's numbers are in the printed text); a fraction in a multi-row step is full size.
One headless Chromium for the whole file, each page laid out once per width.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from conftest import DERIVATIONS

import symbackprop
from symbackprop import api, regenerate
from symbackprop.core.decimals import decimal

GENERATED = DERIVATIONS / "generated"
BUNDLED = sorted(GENERATED.glob("*.html"))
WIDTHS = (420, 1200)

# per multi-row step: the font size of each outermost fraction's first numerator token, and of a token outside every
# fraction and script (a token's box is its ink, so heights of different letters do not compare)
FRACTIONS = r"""
const out = [];
const outside = 'mfrac, msub, msup, msubsup, munder, mover, munderover';
for (const step of document.querySelectorAll('.step')) {
  if (step.children.length <= 2) continue;
  const plain = [...step.querySelectorAll('mi, mn')].find(e => !e.closest(outside));
  if (!plain) continue;
  for (const f of step.querySelectorAll('mfrac')) {
    if (f.parentElement.closest(outside)) continue;
    const token = f.firstElementChild.matches('mi, mn') ? f.firstElementChild : f.firstElementChild.querySelector('mi, mn');
    out.push([step.id, parseFloat(getComputedStyle(token).fontSize), parseFloat(getComputedStyle(plain).fontSize)]);
  }
}
return out;
"""
# two pieces of one formula side by side on a line with space between them (a piece's box hangs out by its margin)
GAPS = r"""
const out = [];
for (const rhs of document.querySelectorAll('.rhs')) {
  const boxes = [...rhs.querySelectorAll('math')].map(m => m.getBoundingClientRect());
  for (let i = 1; i < boxes.length; i++) {
    const a = boxes[i - 1], b = boxes[i];
    const sameLine = b.top < a.bottom && a.top < b.bottom && b.left > a.left;  // a wrapped piece starts back at the left
    if (sameLine && b.left - a.right > 0.5) out.push([rhs.parentElement.id, b.left - a.right]);
  }
}
return out;
"""


@pytest.fixture(scope="module")
def dense_232(tmp_path_factory):
    """``symbackprop dense 2,3,2 --activation sigmoid --seed 1``, derived over 3 iterations."""
    page = tmp_path_factory.mktemp("dense") / "dense_2_3_2.html"
    d = symbackprop.derive(symbackprop.dense([2, 3, 2], "sigmoid", seed=1))
    page.write_text(symbackprop.document(d, "html", iterations=3), encoding="utf-8")
    return page


def pages(dense_232):
    return {p.stem: p for p in BUNDLED} | {"dense_2_3_2": dense_232}


def described(offenders: list[dict]) -> str:
    return "\n".join(f"{o['path']} ({o['width']}px, right edge {o['right']}): {o['text'][:60]}" for o in offenders[:8])


@pytest.fixture(scope="module")
def laid_out(browser, dense_232):
    """``(name, width) -> {"offenders", "fractions", "gaps"}``, each page loaded once per width, every section open."""
    done: dict = {}

    def measure(name: str, width: int) -> dict:
        if (name, width) not in done:
            offenders = browser.too_wide(pages(dense_232)[name], width)
            fractions, gaps = browser.driver.execute_script(FRACTIONS), browser.driver.execute_script(GAPS)
            done[name, width] = {"offenders": offenders, "fractions": fractions, "gaps": gaps}
        return done[name, width]

    return measure


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", [p.stem for p in BUNDLED] + ["dense_2_3_2"])
def test_nothing_is_wider_than_the_viewport(laid_out, name, width):
    """Every section opened; an element that only scrolls inside its box counts too: nothing should need scrolling."""
    offenders = laid_out(name, width)["offenders"]
    assert not offenders, f"{name} at {width}px:\n{described(offenders)}"


@pytest.mark.parametrize("width", WIDTHS)
def test_fractions_in_multi_row_steps_are_full_size(laid_out, width):
    """A Leibniz fraction's ∂E (or a value's numerator) is set at the step's own size, not script size."""
    measured = [(p.stem, *m) for p in BUNDLED for m in laid_out(p.stem, width)["fractions"]]
    assert len(measured) > 100
    small = [m for m in measured if m[2] < 0.95 * m[3]]
    assert not small, f"{len(small)} of {len(measured)} fractions are script size, e.g. {small[:3]}"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_pieces_of_a_formula_join_without_gaps(laid_out, width):
    """A formula cut into pieces reads as one where it does not wrap: no space between two pieces on one line."""
    gaps = [(p.stem, *g) for p in BUNDLED for g in laid_out(p.stem, width)["gaps"]]
    assert not gaps, f"{len(gaps)} gaps, e.g. {gaps[:3]}"


def shown(value) -> str:
    """A value as the document prints its decimal: U+2212 for minus."""
    return decimal(value).replace("-", "−")


def collapsed_numbers(page) -> list[str]:
    """Numbers the document shows only in sections that start collapsed: the backward pass's error terms and
    gradients from the trace (dE/dw_a1[1]@1, delta_a[1]@1), or the forward pass's values where there is no
    backward pass; for the data-parallel walkthrough, each worker's gradients. A number that also stands in the
    open first section would prove nothing, so it is left out."""
    stem = page.stem.removesuffix(".parallel")
    model = symbackprop.load(DERIVATIONS / f"{stem}.toml")
    if page.stem.endswith(".parallel"):
        story = api.parallel_walkthrough(model, regenerate.PARALLEL[stem])
        values = [s.value for section in story.sections if section.title.startswith("Worker") for s in section.steps]
    else:
        trace = symbackprop.derive(model).trace()
        examples = range(1, len(model.examples) + 1)
        if trace.iterations:
            names = [f"dE/d{p}[{k}]@1" for p in model.parameters for k in examples]
            names += [f"delta_{n.name}[{k}]@1" for n in model.neurons for k in examples]
        else:
            names = [f"{q}_{n.name}[{k}]@1" for n in model.neurons for q in ("z", "a") for k in examples]
        values = [trace[n] for n in names]
    html = page.read_text(encoding="utf-8")
    first = html[:html.index('<details id="s1"')]
    return sorted({shown(v) for v in values if not re.search(rf"(?<![\d.]){re.escape(shown(abs(v)))}(?!\d)", first)})


def collapsed_notes(page) -> list[str]:
    """The notes under steps of the collapsed sections ("error term ∂E/∂z") that the open first section lacks."""
    html = page.read_text(encoding="utf-8")
    cut = html.index('<details id="s1"')
    note = re.compile(r'<div class="note">(.*?)</div>')
    first = {unescape(n) for n in note.findall(html[:cut])}
    return sorted({unescape(n) for n in note.findall(html[cut:])} - first)


def printed(text: str, wanted: str) -> bool:
    """Whether ``wanted`` is in the printed text as a whole number or phrase (line breaks read as spaces)."""
    return re.search(rf"(?<![\d.]){re.escape(wanted)}(?!\d)", re.sub(r"\s+", " ", text)) is not None


@pytest.mark.parametrize("page", BUNDLED, ids=lambda p: p.stem)
def test_printing_shows_every_section(browser, page):
    """Printed as a reader prints it (nothing opened first): the collapsed sections' numbers and notes are on paper."""
    numbers, notes = collapsed_numbers(page), collapsed_notes(page)
    assert numbers or notes, f"{page.name}: nothing to look for"
    text = browser.printed_text(page)
    lost = [n for n in numbers + notes if not printed(text, n)]
    assert not lost, f"{page.name}: {len(lost)} of {len(numbers) + len(notes)} not printed, e.g. {lost[:5]}"


@pytest.mark.parametrize("page", BUNDLED, ids=lambda p: p.stem)
def test_pages_are_self_contained_and_typeset(page):
    """No fetch from the network; a phone's viewport; U+2212 minus signs, upright names, no doubled brackets."""
    html = page.read_text(encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.findall(r"<script[^>]*>", html) == ["<script>"]  # one inline script, nothing loaded
    assert not re.search(r"(src|href)=\"(?!#)", html) and "url(http" not in html and "@import" not in html
    assert "<mo>-</mo>" not in html and not re.search(r"<mn>-|<mo>\(</mo>\s*<mrow>\s*<mo>\(</mo>", html)
    assert "<mi>&#916;</mi>" not in html and "<mi>tanh</mi>" not in html and "&ExponentialE;" not in html
    prose = re.sub(r"<(script|style)>.*?</\1>|<[^>]*>", " ", html, flags=re.S)
    assert not re.search(r"(?<![\w.])-\d", prose), "a hyphen for a minus sign in the text"
