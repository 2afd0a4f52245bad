"""The interactive page (``symbackprop explore``) with a file built to inject script: its title, source and notes
carry ``</script>``, ``<img onerror>``, attribute break-outs, comment ends and U+2028, and every name the reader
accepts (identifiers only: inputs, a constant, neurons, outputs, parameters) is one a page script or the DOM could
trip on (``alert``, ``document``, ``window``, ``script``, ``onerror``, ``constructor``, ``toString``, ``i0``,
``Math``, ...). Loaded in headless Chromium and used (a slider moved with the keyboard, a number typed, a step and
five trained, reset, every section opened, the pointer over the hostile text, a fragment of hostile keys), the page
runs none of it: ``window.__pwned`` stays undefined, the DOM holds exactly the page's four scripts with the text
Python wrote, no element has an ``on*`` attribute or a ``javascript:`` link, there is no img/iframe/object/embed, the
hostile text stands as literal text (the <h1> is the title), and the console has no SEVERE entry.

Also: script.check refuses generated code that names anything but i<n>, v<n>, Math's functions and its own names.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import symbackprop
from symbackprop.documents.interactive.engine import programs, source
from symbackprop.documents.interactive.script import check, function
from symbackprop.documents.printers.html import SCRIPT
from symbackprop.documents.printers.html_text import prose

ATTACKS = ('</script><script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=2">',
           '"onmouseover="window.__pwned=3', "' onfocus='window.__pwned=3' autofocus x='",
           '--><script>window.__pwned=4</script><!--', '<!--<script>', '\u2028\u2029 \u202e',
           ']]><script>window.__pwned=5</script>', '${window.__pwned=6} {{7*7}}', '<svg onload="window.__pwned=7">',
           '<iframe src="javascript:window.__pwned=8"></iframe>', '&lt;script&gt;window.__pwned=9&lt;/script&gt;',
           '<math><mtext><script>window.__pwned=10</script></mtext></math>', '</textarea></style></title><object data=x>',
           '<a href="javascript:window.__pwned=11">link</a>', '\\u003c/script\\u003e')
HOSTILE = " ".join(ATTACKS)
TITLE, SOURCE = "T " + HOSTILE, "S " + HOSTILE
NOTES = "N " + HOSTILE + "\n" + HOSTILE  # over 400 characters: the page folds it into a <details>

PARAMETERS = {"constructor": "0.1", "toString": "-0.2", "hasOwnProperty": "0.15", "i0": "0.3", "valueOf": "-0.1",
              "v0": "0.4", "Math": "0.5", "NaN": "0.25", "Infinity": "0.35", "P": "-0.3", "eval": "0.2"}


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for these characters)."""
    return json.dumps(text, ensure_ascii=False)


HOSTILE_FILE = f"""title = {_toml(TITLE)}
source = {_toml(SOURCE)}
notes = {_toml(NOTES)}

[network]
inputs = ["alert", "document"]
constants = {{ window = 1.0 }}
outputs = ["onerror"]

[[network.neurons]]
name = "script"
activation = "sigmoid"
inputs = ["window", "alert", "document"]
weights = ["constructor", "toString", "hasOwnProperty"]

[[network.neurons]]
name = "innerHTML"
activation = "tanh"
inputs = ["alert", "document"]
weights = ["i0", "valueOf"]

[[network.neurons]]
name = "onerror"
activation = "identity"
inputs = ["window", "script", "innerHTML", "fetch"]
weights = ["v0", "Math", "NaN", "Infinity"]

[[network.neurons]]
name = "fetch"
activation = "relu"
inputs = ["alert", "document"]
weights = ["P", "eval"]

[parameters]
{chr(10).join(f"{k} = {v}" for k, v in PARAMETERS.items())}

[loss]
function = "half_sse"

[training]
learning_rate = 0.5
iterations = 2

[[examples]]
inputs = {{ alert = 0.2, document = -0.1 }}
targets = {{ onerror = 1.0 }}
"""

# what the DOM must hold, read in the page after it was used
INSPECT = r"""
const attrs = [], links = [];
for (const e of document.querySelectorAll('*')) {
  for (const a of e.attributes) {
    if (/^on/i.test(a.name)) attrs.push(e.tagName + ' ' + a.name);
    if (/^\s*(javascript|data|vbscript):/i.test(a.value) && /href|src|action|data/i.test(a.name)) links.push(e.tagName + ' ' + a.name);
  }
}
const details = [...document.querySelectorAll('details')];
return {
  pwned: typeof window.__pwned,
  scripts: [...document.querySelectorAll('script')].map(s => ({type: s.type, id: s.id, src: s.getAttribute('src'), text: s.textContent})),
  attrs, links,
  embedded: [...document.querySelectorAll('img, iframe, object, embed, frame, frameset, base, link, form, textarea')]
    .map(e => e.tagName),
  styles: document.querySelectorAll('style').length,
  metas: [...document.querySelectorAll('meta')].map(m => m.outerHTML),
  h1: [...document.querySelectorAll('h1')].map(h => h.textContent),
  title: document.title,
  paragraphs: [...document.querySelectorAll('p')].map(p => p.textContent),
  summaries: [...document.querySelectorAll('summary')].map(s => s.textContent),
  closed: details.filter(d => !d.open).length,
  controls: [...document.querySelectorAll('input[data-control]')].map(e => e.dataset.control),
  model: (() => { try { return JSON.parse(document.getElementById('symbackprop-model').textContent); } catch (e) { return String(e); } })(),
  values: window.symbackprop ? window.symbackprop.values() : null,
  trained: window.symbackprop ? window.symbackprop.trained() : null,
};
"""


def _literal(text: str) -> str:
    """The text a reader sees for file text: the page's prose (minus signs, arrows), not markup."""
    return unescape(prose(text))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_page")
    path = folder / "hostile.toml"
    path.write_text(HOSTILE_FILE, encoding="utf-8")
    d = symbackprop.derive(symbackprop.load(path))
    page = folder / "hostile.html"
    page.write_text(symbackprop.api.explore(d), encoding="utf-8")
    return d, page


def test_the_file_carries_every_attack(hostile):
    """The reader took the hostile texts as they are and every name listed (else the test would test less)."""
    d, _ = hostile
    m = d.model
    assert (m.title, m.source, m.notes) == (TITLE, SOURCE, NOTES)
    assert list(m.parameters) == list(PARAMETERS)
    assert [n.name for n in m.neurons] == ["script", "innerHTML", "onerror", "fetch"]
    assert (m.inputs, list(m.constants), m.outputs) == (["alert", "document"], ["window"], ["onerror"])


def _inspect(browser):
    return browser.driver.execute_script(INSPECT)


def test_hostile_page_runs_nothing_of_the_file(browser, hostile):
    d, page = hostile
    driver = browser.driver
    browser.load(page, 1200)
    loaded = _inspect(browser)
    assert loaded["pwned"] == "undefined" and browser.console_errors() == []
    start = loaded["values"]

    # move a slider with the keyboard, type into a number field, train one step and five, reset
    slider = driver.find_element(By.CSS_SELECTOR, 'input[type=range][data-control="x:alert[1]"]')
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    field = driver.find_element(By.CSS_SELECTOR, 'input[type=number][data-control="constructor@1"]')
    field.send_keys(Keys.END, "5")  # 0.1 -> 0.15
    driver.find_element(By.ID, "train-one").click()
    moved = _inspect(browser)
    assert moved["trained"] == 1 and moved["values"] != start
    driver.find_element(By.ID, "steps").clear()
    driver.find_element(By.ID, "steps").send_keys("5")
    driver.find_element(By.ID, "train-many").click()
    assert _inspect(browser)["trained"] == 6

    # every section opened with the page's own button, the pointer over the hostile texts and every summary
    driver.find_element(By.CSS_SELECTOR, '.controls button[value="open"]').click()
    pointer = ActionChains(driver, duration=0)
    for element in driver.find_elements(By.CSS_SELECTOR, "h1, p, summary, figcaption, .step")[:60]:
        pointer.move_to_element(element)
    pointer.perform()
    driver.find_element(By.ID, "reset").click()

    seen = _inspect(browser)
    assert seen["pwned"] == "undefined"
    assert seen["trained"] == 0 and seen["values"] == start  # reset: the file's setting, its exact values again
    assert seen["closed"] == 0
    # exactly the page's own scripts, with the text Python wrote for them
    scripts = seen["scripts"]
    assert [(s["type"], s["id"], s["src"]) for s in scripts] == [
        ("", "", None), ("application/json", "symbackprop-model", None), ("application/json", "symbackprop-plots", None),
        ("", "", None)]
    assert scripts[0]["text"] == SCRIPT.removeprefix("<script>").removesuffix("</script>")
    assert scripts[3]["text"] == f"\n{programs(d)}{source('engine.js')}{source('page.js')}"
    for data in scripts[1:3]:
        assert not set("<>&") & set(data["text"])
        json.loads(data["text"])
    assert seen["attrs"] == [] and seen["links"] == [] and seen["embedded"] == []
    assert seen["styles"] == 1 and len(seen["metas"]) == 2
    # the hostile text is text, where the page writes it
    assert seen["h1"] == [_literal(TITLE)]
    assert seen["title"] == _literal(TITLE)
    for label, text in (("Source", SOURCE), ("Notes", NOTES)):  # a long text is folded: its label the <summary>
        assert f"{label}: {_literal(text)}" in seen["paragraphs"] or (
            label in seen["summaries"] and _literal(text) in seen["paragraphs"]), label
    # the names are data: attributes and JSON strings, each quantity's value found
    m = d.model
    assert seen["model"]["parameters"] == list(m.parameters)
    assert (seen["model"]["inputs"], seen["model"]["outputs"]) == (m.inputs, m.outputs)
    assert {f"{p}@1" for p in m.parameters} | {"x:alert[1]", "x:document[1]", "y:onerror[1]", "lr"} == set(seen["controls"])
    assert browser.console_errors() == []


def test_hostile_fragment_is_only_a_setting(browser, hostile):
    """Keys of the URL fragment that are no control's name (``__proto__``, ``toString``, markup) are ignored, a
    value that is no number too; a known key with a number is taken."""
    _, page = hostile
    driver = browser.driver
    fragment = ("__proto__=1&toString=2&hasOwnProperty=3&constructor=4&lr=%3C%2Fscript%3E&x%3Aalert%5B1%5D=Infinity"
                "&%3Cimg%20src%3Dx%20onerror%3Dwindow.__pwned%3D12%3E=1&n=1e999&constructor%401=0.7&n=2")
    for uri in (page.resolve().as_uri() + "#" + fragment, page.resolve().as_uri() + "#javascript:window.__pwned=13"):
        driver.get("about:blank")
        driver.get(uri)
        seen = _inspect(browser)
        assert seen["pwned"] == "undefined"
        assert browser.console_errors() == []
    driver.get("about:blank")
    driver.get(page.resolve().as_uri() + "#" + fragment)
    state = driver.execute_script("return [window.symbackprop.setting(), window.symbackprop.trained(), location.hash]")
    setting, trained, kept = state
    assert trained == 2 and setting["start"][0] == 0.7 and setting["lr"] == 0.5 and setting["x"][0][0] == 0.2
    assert kept == "#constructor%401=0.7&n=2"  # the fragment rewritten from the setting: nothing else kept


def test_malformed_fragment_is_no_error(browser, hostile):
    _, page = hostile
    browser.driver.get("about:blank")
    browser.driver.get(page.resolve().as_uri() + "#lr=50%")
    hidden = browser.driver.execute_script("return document.querySelector('.controls').hidden")
    assert browser.console_errors() == [] and not hidden


# -- the generated code ------------------------------------------------------------------------------
def test_check_refuses_code_naming_anything_else():
    import sympy as sp

    from symbackprop.core.schedule import Assignment

    x, y = sp.symbols("x y")
    made = function("full", [x], [Assignment("y", sp.exp(x) * sp.Rational(1, 3) + sp.Max(0, x), y)])
    check(made, {"full"})  # what function() writes passes
    assert "Math.exp(i0)" in made and "Math.max(0, i0)" in made
    for bad in ("alert(1)", "window.__pwned = 1", "document.body.innerHTML = ''", 'fetch("https://example.org")',
                "Math.exp.constructor('alert(1)')()", "globalThis.eval('1')", "this.location = 'x'", "new Function('1')",
                "import('x')", "i0.constructor", "self", "top.opener", "setTimeout('1')", "Reflect", "P.full = 0",
                "const i0 = 'alert'", "v0 = \"document\""):
        with pytest.raises(ValueError, match="generated page code"):  # its shape, or a name not its own
            check(f"function full(i0) {{\n  const v0 = {bad};\n  return [v0];\n}}", {"full"})
    with pytest.raises(ValueError, match="'full'"):
        check("function full(i0) {\n  const v0 = i0;\n  return [v0];\n}", set())  # a function's own name only where given


def test_generated_programs_pass_check(hostile):
    """Every program of the hostile file's page passes the check again, and no word of it is a name from the file
    (``Math`` is a parameter there: in the code it is only the global's functions; ``i0`` and ``v0`` are parameters
    there too, and the code's own arguments and assignments)."""
    d, _ = hostile
    m = d.model
    names = {w for n in m.neurons for w in (n.name, *n.weights)} | set(m.inputs) | set(m.constants) | set(m.parameters)
    programs_text = programs(d).split("\nconst P")[0]
    functions = ["function " + f for f in programs_text.removeprefix("function ").split("\nfunction ")]
    assert [f.split("(")[0] for f in functions] == ["function full", "function forward", "function updateFirst", "function update"]
    for program in functions:
        check(program, {program.split("(")[0].removeprefix("function ")})
        words = set(re.findall(r"(?<![\w.])[A-Za-z_$][\w$]*", re.sub(r"Math\.\w+", " ", program)))
        assert not words & names - {"i0", "v0"}, words & names  # i0, v0: the program's own, whatever the file names


def test_check_refuses_code_without_names():
    """Code made only of []()!+ (JSFuck) names nothing, and is refused by its shape: straight-line arithmetic only."""
    jsfuck = "[][(![]+[])[+[]]+(![]+[])[!+[]+!+[]]+(![]+[])[+!+[]]+(!![]+[])[+[]]]"  # []["filt"...]: reaches Function
    with pytest.raises(ValueError):
        check(f"function full(i0) {{\n  const v0 = {jsfuck};\n  return [v0];\n}}", {"full"})
