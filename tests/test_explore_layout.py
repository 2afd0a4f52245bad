"""The interactive page (``symbackprop explore``) on a phone and with the keyboard, measured in headless Chromium.

Three bundled files (a ReLU chain, a softmax net, an Adam run) and a dense 4-16-16-1 net with all its 369
parameters shown: at 420 px no element is wider than the viewport, every section opened, before and after a control
moved and a step trained (the float64 texts, longer than the exact ones, shown); each row of the control panel stays
inside the panel, its label, slider and number field side by side or stacked without overlapping, the slider long
enough to use, the value readable in its field; Tab reaches every button and input of the panel in document order (a
collapsed group opened with Enter on its summary); ArrowRight on a focused slider moves its number field one step
and recomputes the page's numbers; Enter and Space on "Train one step" each train a step.
"""

from __future__ import annotations

import time

import pytest
from conftest import DERIVATIONS
from layout import TOO_WIDE
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

import symbackprop

PHONE = 420
BUNDLED = ("seed003_chain", "softmax_2_3_3", "seed004_adam")
NAMES = (*BUNDLED, "dense_4_16_16_1")

# the panel: the bar of buttons and the controls (page.py), with the page's Expand/Collapse buttons
PANEL = "#bar, #explore, .controls"
# each row of the panel (the buttons, every control): inside its panel and the viewport, its parts apart, usable
ROWS = r"""
for (const d of document.querySelectorAll('#explore details')) d.open = true;
const W = document.documentElement.clientWidth, out = [];
for (const p of document.querySelectorAll('#bar, #explore')) {
  const r = p.getBoundingClientRect();
  if (r.left < -0.5 || r.right > W + 0.5) out.push([p.id, 'outside the viewport', r.left, r.right]);
}
const rows = [...document.querySelectorAll('#bar .buttons, #explore .buttons, #explore .control')];
if (!rows.some(r => r.classList.contains('buttons')) || !rows.some(r => r.classList.contains('control'))) out.push(['no rows']);
for (const row of rows) {
  const r = row.getBoundingClientRect(), field = row.querySelector('input[type=number]');
  const panel = row.closest('#bar, #explore').getBoundingClientRect();
  const name = row.querySelector('[data-control]') ? row.querySelector('[data-control]').dataset.control : 'buttons';
  if (r.left < panel.left - 0.5 || r.right > panel.right + 0.5) out.push([name, 'row outside the panel', r.left, r.right]);
  const parts = [...row.querySelectorAll(':scope > *, :scope > label > input')].map(k => [k, k.getBoundingClientRect()]);
  for (const [k, b] of parts) {  // inside the panel (a slider's own 2px margin may reach into the panel's padding)
    if (b.width < 1 || b.height < 1) out.push([name, k.tagName + ' has no box']);
    if (b.left < panel.left - 0.5 || b.right > panel.right + 0.5) out.push([name, k.tagName + ' sticks out of the panel', b.left, b.right]);
  }
  for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
    const [a, A] = parts[i], [b, B] = parts[j];
    if (a.contains(b) || b.contains(a)) continue;
    const x = Math.min(A.right, B.right) - Math.max(A.left, B.left), y = Math.min(A.bottom, B.bottom) - Math.max(A.top, B.top);
    if (x > 0.5 && y > 0.5) out.push([name, 'overlap', a.tagName + (a.type ? ':' + a.type : ''), b.tagName + (b.type ? ':' + b.type : '')]);
  }
  const label = row.querySelector(':scope > label'), slider = row.querySelector('input[type=range]');
  if (label && field && label.getBoundingClientRect().width < 48) out.push([name, 'label squeezed', label.getBoundingClientRect().width]);
  if (label && label.scrollWidth > label.clientWidth + 1) out.push([name, 'label cut', label.scrollWidth, label.clientWidth]);
  const long = slider ? slider.getBoundingClientRect().width : 999;
  if (long < 120) out.push([name, 'slider too short to use', long]);
  if (field && field.scrollWidth > field.clientWidth + 1)
    out.push([name, 'value cut in its field', field.value, field.scrollWidth, field.clientWidth]);
}
for (const b of document.querySelectorAll('#bar button, #explore button')) {
  const r = b.getBoundingClientRect();
  if (r.height < 20 || r.width < 24) out.push([b.id, 'button too small to press', r.width, r.height]);
}
return out;
"""

# a record of every element that takes focus; the panel's buttons and inputs numbered in document order
FOCUS_LOG = r"""
const panel = [...document.querySelectorAll('button, input, summary')].filter(e => e.closest(arguments[0]));
panel.forEach((e, k) => { e.__k = k; });
window.__focus = [];
document.addEventListener('focusin', e => {
  const t = e.target, details = t.tagName === 'SUMMARY' ? t.parentElement : null;
  window.__focus.push({k: t.__k === undefined ? -1 : t.__k, tag: t.tagName, closed: !!(details && !details.open)});
}, true);
return panel.map(e => ({tag: e.tagName, type: e.type || '', id: e.id, control: e.dataset.control || '', text: e.textContent.slice(0, 40)}));
"""

# the numbers shown, kept to compare with after a control moves
SNAPSHOT = "window.__before = [...document.querySelectorAll('[data-q]')].map(e => e.dataset.v);"
CHANGED = ("const now = [...document.querySelectorAll('[data-q]')].map(e => e.dataset.v);"
           "const n = now.filter((v, i) => v !== window.__before[i]).length; return n > 1 ? n : 0;")  # more than its own


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore_layout")
    models = {name: symbackprop.load(DERIVATIONS / f"{name}.toml") for name in BUNDLED}
    models["dense_4_16_16_1"] = symbackprop.dense([4, 16, 16, 1], seed=0)
    out = {}
    for name, model in models.items():
        out[name] = folder / f"{name}.html"
        out[name].write_text(symbackprop.api.explore(symbackprop.derive(model)), encoding="utf-8")
    return out


def _wait(driver, script: str, timeout: float = 10):
    """Poll ``script`` until it returns something true (the page recomputes on a timer after an input)."""
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > end:
            return value
        time.sleep(0.02)


def _described(offenders: list[dict]) -> str:
    return "\n".join(f"  {o['path']} ({o['width']}px, {o['left']}..{o['right']}): {o['text'][:60]!r}" for o in offenders[:10])


def _first_parameter(driver) -> str:
    return driver.execute_script("return document.querySelector('input[type=range][data-control$=\"@1\"]').dataset.control")


def _arrow_right(driver, control: str) -> dict:
    """ArrowRight on the focused slider of ``control``: its slider and field before and after, the numbers changed."""
    slider = f'document.querySelector(\'input[type=range][data-control="{control}"]\')'
    field = f'document.querySelector(\'input[type=number][data-control="{control}"]\')'
    before = driver.execute_script("for (const d of document.querySelectorAll('details')) d.open = true;"  # every number live
                                   f"{SNAPSHOT} const s = {slider}; s.focus();"
                                   f"return [Number(s.value), Number({field}.value), Number(s.step), document.activeElement === s];")
    assert before[3], f"{control}'s slider takes no focus"
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    _wait(driver, f"return Number({field}.value) !== {before[1]!r} && document.body.classList.contains('float64')")
    changed = _wait(driver, CHANGED)
    after = driver.execute_script(f"return [Number({slider}.value), Number({field}.value),"
                                  f" window.symbackprop.values()['{control}'], document.body.classList.contains('float64')]")
    return {"before": before, "after": after, "changed": changed}


@pytest.mark.parametrize("name", NAMES)
def test_nothing_wider_than_a_phone(browser, pages, name):
    """Every section opened, at the file's setting and again after a parameter moved and a step trained."""
    offenders = browser.too_wide(pages[name], PHONE)
    assert not offenders, f"{name} at {PHONE}px, as written:\n{_described(offenders)}"
    driver = browser.driver
    moved = _arrow_right(driver, _first_parameter(driver))
    assert moved["after"][3], "the page still shows the exact values"
    driver.find_element("id", "train-one").click()
    assert _wait(driver, "return window.symbackprop.trained() === 1")
    assert driver.execute_script("return document.querySelectorAll('[data-f]').length") > 0  # float64 texts shown
    offenders = driver.execute_script(TOO_WIDE, 0.5, True)
    assert not offenders, f"{name} at {PHONE}px, moved and trained:\n{_described(offenders)}"


@pytest.mark.parametrize("name", NAMES)
def test_control_rows_fit_a_phone(browser, pages, name):
    browser.load(pages[name], PHONE)
    problems = browser.driver.execute_script(ROWS)
    assert not problems, f"{name} at {PHONE}px: {problems[:10]}"


def _tab_through_panel(driver) -> list[dict]:
    """Tab from the top of the page until focus leaves the panel, pressing Enter on a collapsed group's summary to
    open it (its controls take no focus while it is closed). Returns the focus records, in order."""
    seen, batch = [], 40
    for _ in range(200):
        ActionChains(driver).send_keys(Keys.TAB * batch).perform()
        records = driver.execute_script("const r = window.__focus; window.__focus = []; return r;")
        for i, record in enumerate(records):
            if record["k"] < 0:  # past the panel: the page's own links follow
                return seen
            seen.append(record)
            if record["closed"]:
                back = len(records) - 1 - i
                if back:
                    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB * back).key_up(Keys.SHIFT).perform()
                assert driver.execute_script("return document.activeElement.__k") == record["k"]
                ActionChains(driver).send_keys(Keys.ENTER).perform()
                assert driver.execute_script("return document.activeElement.parentElement.open"), "Enter did not open it"
                driver.execute_script("window.__focus = [];")
                break
    raise AssertionError(f"Tab never left the panel: {seen[-5:]}")


@pytest.mark.parametrize("name", NAMES)
def test_keyboard_reaches_every_control(browser, pages, name):
    browser.load(pages[name], 1200)
    driver = browser.driver
    panel = driver.execute_script(FOCUS_LOG, PANEL)
    records = _tab_through_panel(driver)
    order = [r["k"] for r in records]
    assert order == sorted(order), "Tab leaves document order"
    reached = set(order)
    missed = [e for k, e in enumerate(panel) if e["tag"] in ("BUTTON", "INPUT") and k not in reached]
    assert not missed, f"{name}: Tab never reaches {missed[:5]} ({len(missed)} of {len(panel)})"
    controls = sum(e["tag"] == "INPUT" and e["control"] != "" for e in panel)
    assert controls == driver.execute_script("return document.querySelectorAll('input[data-control]').length") > 0


@pytest.mark.parametrize("name", NAMES)
def test_arrow_key_and_enter(browser, pages, name):
    """ArrowRight on a focused slider (a parameter's, an input's) moves its field one step and recomputes; Enter and
    Space on "Train one step" each train one."""
    browser.load(pages[name], 1200)
    driver = browser.driver
    for control in (_first_parameter(driver), driver.execute_script(
            "return document.querySelector('input[type=range][data-control^=\"x:\"]').dataset.control")):
        moved = _arrow_right(driver, control)
        (slider0, field0, step, _), (slider1, field1, value, floating) = moved["before"], moved["after"]
        assert slider1 == pytest.approx(slider0 + step, abs=step * 1e-6), (control, moved)
        assert field1 == slider1 != field0 and value == field1 and floating, (control, moved)
        assert moved["changed"], f"{control}: no number of the page changed"
    train = driver.find_element("id", "train-one")
    driver.execute_script("arguments[0].focus()", train)
    for key, steps in ((Keys.ENTER, 1), (Keys.SPACE, 2)):
        ActionChains(driver).send_keys(key).perform()
        assert _wait(driver, f"return window.symbackprop.trained() === {steps}"), (key, driver.execute_script(
            "return window.symbackprop.trained()"))
    assert "after 2 training steps" in driver.find_element("id", "trained").text
