"""``symbackprop bench --explore``: the interactive page's recompute, timed in the page, in headless Chromium.

Each page is generated as ``symbackprop explore`` writes it (every parameter shown), opened in the
distribution's Chromium through selenium (the dev extra) and chromedriver, and moved: each sample sets
one control, drawn at random (seeded), to a value drawn in its slider's range, through
``window.symbackprop.set`` (which recomputes synchronously), and reads ``window.symbackprop.timing``,
page.js's ``performance.now()`` around its parts:

    engine   the trace of every iteration (engine.js)
    dom      the numbers of the open sections rewritten (a closed one is brought up to date when it opens)
    plots    the plots drawn again
    total    ``performance.now()`` around the whole ``set`` call: the three, the controls and the fragment
    rest     total less the three (the URL fragment is written after the frame, outside the total)

then ``layout``: a forced style and layout of the page after it (``document.body.offsetHeight``), which
the browser would otherwise do before the next frame (informative, not part of the total). A frame
passes between samples. Two views per page: the default one (only the first section open) and every
section open (``refreshAll``). Chromium rounds ``performance.now()`` to 0.1 ms on a file:// page.

    4-16-16-1 tanh    dense, seed 0, two examples, rate 0.01 (trace.py's net), one iteration: 369 parameters
    seed003 chain     derivations/seed003_chain.toml, the seed's two ReLU neurons
    long run 2-2-2    derivations/long_run_2_2_2.toml, 10,000 iterations (informative: a long trace per move)

``--quick``: the seed's chain and the long run, a few samples. A missing browser, chromedriver or
selenium is reported in one line (the table's ``missing``), not as an error.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

from ..core.dense import dense
from ..core.derivation import derive
from ..core.derivation_file import load
from ..core.limits import check_document
from ..documents.interactive.page import page
from .trace import NETS as TRACE_NETS

DERIVATIONS = Path(__file__).resolve().parent.parent.parent / "derivations"
FRAME_MS = 16.0  # one frame at 60 Hz
PAGES = ("4-16-16-1 tanh", "seed003 chain", "long run 2-2-2")
QUICK_PAGES = ("seed003 chain", "long run 2-2-2")
SAMPLES, QUICK_SAMPLES, WARMUP = 40, 4, 3  # per view; the warm-up samples are not reported
TIMES = ("engine", "dom", "plots", "rest", "total", "layout")

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVERS = ("/usr/lib/chromium/chromedriver", "/usr/lib/chromium-browser/chromedriver")

# One view's samples: arguments[0] the count (warm-up included), [1] the seed, [2] whether to open every section.
SAMPLE = r"""
const [count, seed, openAll] = arguments, done = arguments[arguments.length - 1];
const s = window.symbackprop, frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
let state = seed >>> 0;
const random = () => {  // mulberry32: the same controls and values in every run
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
(async () => {
  if (openAll) {
    for (const d of document.querySelectorAll("details")) d.open = true;
    await frame();
    s.refreshAll();
  }
  const ranges = new Map();
  for (const el of document.querySelectorAll('input[type=range][data-control]'))
    ranges.set(el.dataset.control, [Number(el.min), Number(el.max)]);
  const names = [...ranges.keys()], out = [];
  for (let i = 0; i < count; i++) {
    await frame();
    const name = names[Math.floor(random() * names.length)], [lo, hi] = ranges.get(name);
    const t0 = performance.now();
    s.set(name, lo + (hi - lo) * random());
    const t1 = performance.now();
    void document.body.offsetHeight;
    const t2 = performance.now();
    out.push({control: name, engine: s.timing.engine, dom: s.timing.dom, plots: s.timing.plots, total: t1 - t0, layout: t2 - t1});
  }
  const home = el => el.closest("body > details");
  const quantities = [...document.querySelectorAll("[data-q]")];
  done({samples: out, controls: names.length, elements: quantities.length,
        refreshed: quantities.filter(el => !home(el) || home(el).open).length,
        sections: document.querySelectorAll("body > details").length,
        open: document.querySelectorAll("body > details[open]").length});
})().catch(e => done({error: String(e && e.stack || e)}));
"""


def _model(name: str):
    if name == "4-16-16-1 tanh":
        sizes, activation, kwargs = TRACE_NETS[name]
        return dense(sizes, activation, **kwargs)
    return load(DERIVATIONS / {"seed003 chain": "seed003_chain.toml", "long run 2-2-2": "long_run_2_2_2.toml"}[name])


def generate(name: str) -> tuple[str, int, int]:
    """(the page's HTML as ``symbackprop explore`` writes it, the number of parameters, the iterations)."""
    d = derive(_model(name))
    d.model.check_unambiguous("a document")
    check_document(d.model)
    return page(d, d.trace(), None), len(d.model.parameters), d.model.iterations


class _Quantities(HTMLParser):
    """Counts the elements with a ``data-q`` attribute, as ``querySelectorAll("[data-q]")`` would."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def handle_starttag(self, tag, attrs) -> None:
        self.count += any(k == "data-q" for k, _ in attrs)

    handle_startendtag = handle_starttag


def count_quantities(html: str) -> int:
    parser = _Quantities()
    parser.feed(html)
    parser.close()
    return parser.count


def tools() -> tuple[str | None, str | None]:
    """(chromium, chromedriver), each None when absent; $CHROMIUM and $CHROMEDRIVER first."""
    chromium = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or next(
        (p for p in CHROMEDRIVERS if Path(p).exists()), None)
    return chromium, driver


def missing() -> str | None:
    """What is missing to run the section, in words, or None."""
    chromium, driver = tools()
    if chromium is None:
        return "needs a headless browser (Debian: chromium)"
    if driver is None:
        return "needs chromedriver matching chromium (Debian: chromium-driver)"
    try:
        import selenium  # noqa: F401 - the dev extra
    except ImportError:
        return "needs selenium (pip install selenium, or the dev extra)"
    return None


def launch(profile: str, width: int = 1200, height: int = 900):
    """Headless Chromium through selenium and the distribution's chromedriver (no download is tried)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = tools()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--force-device-scale-factor=1", f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    browser.set_page_load_timeout(120)
    browser.set_script_timeout(600)
    return browser


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, math.ceil(0.95 * len(xs)) - 1)]  # nearest rank


def _view(browser, open_all: bool, samples: int, seed: int) -> dict:
    got = browser.execute_async_script(SAMPLE, samples + WARMUP, seed, open_all)
    if "error" in got:
        raise RuntimeError(f"bench --explore: the page failed: {got['error']}")
    kept = got.pop("samples")[WARMUP:]
    for s in kept:  # each part is rounded to Chromium's 0.1 ms apart: a rest under 0 is 0
        s["rest"] = max(0.0, s["total"] - s["engine"] - s["dom"] - s["plots"])
    row = {"view": "open" if open_all else "closed", "samples": len(kept), **got}
    for key in TIMES:
        xs = [float(s[key]) for s in kept]
        row[f"{key}_median_ms"], row[f"{key}_p95_ms"] = statistics.median(xs), _p95(xs)
    row["under_frame"] = row["total_p95_ms"] < FRAME_MS
    return row


def bench_explore(quick: bool = False, pages: tuple[str, ...] | None = None, samples: int | None = None) -> dict:
    """Per page and view, the median and 95th percentile of each part of a recompute, in ms."""
    reason = missing()
    if reason:
        return {"missing": reason, "rows": []}
    pages = pages if pages is not None else QUICK_PAGES if quick else PAGES
    samples = samples if samples is not None else QUICK_SAMPLES if quick else SAMPLES
    out = {"rows": [], "unit": "ms", "frame_ms": FRAME_MS, "warmup": WARMUP}
    with tempfile.TemporaryDirectory(prefix="bench-explore-") as tmp:
        browser = launch(str(Path(tmp) / "profile"))
        try:
            out["browser"] = browser.capabilities.get("browserVersion")
            for k, name in enumerate(pages):
                start = time.perf_counter()
                html, parameters, iterations = generate(name)
                generate_s = time.perf_counter() - start
                path = Path(tmp) / f"page{k}.html"
                path.write_text(html, encoding="utf-8")
                start = time.perf_counter()
                browser.get(path.as_uri())
                load_s = time.perf_counter() - start
                common = {"page": name, "parameters": parameters, "iterations": iterations, "bytes": len(html.encode()),
                          "quantities_in_html": count_quantities(html), "generate_s": generate_s, "load_s": load_s}
                for v, open_all in enumerate((False, True)):  # a seed per view: the second must not repeat the first's moves
                    out["rows"].append({**common, **_view(browser, open_all, samples, seed=2 * k + v + 1)})
        finally:
            browser.quit()
    return out


def render_explore(table: dict) -> str:
    if table.get("missing"):
        return f"bench --explore: skipped, {table['missing']}\n"
    lines = [f"The interactive page's recompute in headless Chromium {table.get('browser') or ''}: one control set per sample"
             f" (after {table['warmup']} warm-up samples), median / p95 in {table['unit']};"
             f" under: the total's p95 under {table['frame_ms']:g} ms (one frame)", "",
             f"{'page':16} {'view':6} {'params':>6} {'[data-q]':>8} {'shown':>6} {'n':>3} {'engine':>11} {'dom':>11}"
             f" {'plots':>11} {'rest':>11} {'total':>11} {'under':>5} {'layout':>11}"]
    for r in table["rows"]:
        cells = " ".join(f"{r[f'{k}_median_ms']:5.1f}/{r[f'{k}_p95_ms']:<5.1f}" for k in ("engine", "dom", "plots", "rest", "total"))
        lines.append(f"{r['page']:16} {r['view']:6} {r['parameters']:6d} {r['elements']:8d} {r['refreshed']:6d} {r['samples']:3d}"
                     f" {cells} {'yes' if r['under_frame'] else 'NO':>5} {r['layout_median_ms']:5.1f}/{r['layout_p95_ms']:<5.1f}")
    lines.append("shown: the [data-q] numbers in the open sections (rewritten at each move); total: performance.now() around"
                 " window.symbackprop.set; rest: total - engine - dom - plots (the fragment is written after the frame);"
                 " layout: the forced style and layout after it (not in the total)")
    return "\n".join(lines) + "\n"
