"""Measuring whether documents fit the page: pdflatex's overfull boxes, and HTML measured in headless Chromium.

Not a test file; the layout tests import it. Every tool is optional: ``missing(...)`` names what is
absent, so a test can ``pytest.skip(reason)``.

    missing("pdflatex") / missing("browser") / missing("pdftotext") / missing("pdftoppm")
    overfull_boxes(tex, workdir)       -> [Overfull(points, first_line, last_line, where, text), ...]
    with Browser() as b:
        b.too_wide(html, 420)          -> [{"tag", "id", "class", "path", "text", "width", "left", "right", "contained", ...}]
        b.printed_text(html)           -> the page printed to PDF (DevTools Page.printToPDF), as pdftotext reads it
        b.screenshot(html, 420, png)   -> a PNG of the top of the page at that viewport width
        b.console_errors()             -> the console's SEVERE entries since the last call
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

try:  # selenium is optional: missing("browser") says so
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:  # pragma: no cover - depends on the machine
    webdriver = None

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or next(
    (p for p in ("/usr/lib/chromium/chromedriver", "/usr/lib/chromium-browser/chromedriver") if Path(p).exists()), None)

HOW_TO_GET = {
    "pdflatex": "needs pdflatex (Debian: texlive-latex-base texlive-latex-recommended texlive-pictures)",
    "pdftotext": "needs pdftotext (Debian: poppler-utils)",
    "pdftoppm": "needs pdftoppm (Debian: poppler-utils)",
    "chromium": "needs a headless browser (Debian: chromium)",
    "chromedriver": "needs chromedriver matching chromium (Debian: chromium-driver)",
    "selenium": "needs selenium (pip install selenium)",
}


def missing(*needs: str) -> str | None:
    """The reason to skip, or None when every tool named is here. ``"browser"`` means chromium + chromedriver + selenium."""
    for need in needs:
        for part in ("chromium", "chromedriver", "selenium") if need == "browser" else (need,):
            found = {"chromium": CHROMIUM, "chromedriver": CHROMEDRIVER, "selenium": webdriver}.get(part, shutil.which(part))
            if not found:
                return HOW_TO_GET.get(part, f"needs {part}")
    return None


# -- LaTeX -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Overfull:
    """One ``Overfull \\hbox`` from a pdflatex log."""

    points: float  # how far too wide
    first_line: int  # source lines of the paragraph, alignment or display (equal for "detected at line N")
    last_line: int
    where: str  # "paragraph", "alignment", "detected" (display math, \hbox{...}) or "other"
    text: str  # the log's rendering of the offending line (the lines after the warning up to the blank line)

    def __str__(self) -> str:
        lines = f"{self.first_line}" if self.first_line == self.last_line else f"{self.first_line}--{self.last_line}"
        return f"{self.points:.1f}pt too wide ({self.where}, lines {lines}): {self.text[:100]}"


class LatexFailed(RuntimeError):
    """pdflatex produced no PDF, or (strict) stopped on an error: a layout measurement of it would mean nothing."""


OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\) "
                      r"(?:in (paragraph|alignment) at lines (\d+)--(\d+)|(detected) at line (\d+))")


def parse_overfull(log: str) -> list[Overfull]:
    """Every ``Overfull \\hbox`` of a log (write the log with max_print_line large, or wrapped text is cut)."""
    lines = log.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = OVERFULL.match(line)
        if not m:
            if line.startswith("Overfull \\hbox"):
                pt = re.search(r"\((\d+(?:\.\d+)?)pt too wide\)", line)
                nums = [int(n) for n in re.findall(r"\d+", line.split("too wide)", 1)[-1])] or [0]
                found.append(Overfull(float(pt.group(1)) if pt else 0.0, nums[0], nums[-1], "other", _context(lines, i)))
            continue
        pts, where, a, b, detected, n = m.groups()
        first, last = (int(n), int(n)) if detected else (int(a), int(b))
        found.append(Overfull(float(pts), first, last, where or detected, _context(lines, i)))
    return found


def _context(lines: list[str], i: int) -> str:
    out = []
    for line in lines[i + 1:i + 8]:
        if not line.strip():
            break
        out.append(line.strip())
    return " ".join(out)


def overfull_boxes(tex: str | Path, workdir: str | Path, *, timeout: float = 180, strict: bool = True,
                   min_points: float = 0.0) -> list[Overfull]:
    """Compile ``tex`` (a path to a .tex file, or the document's text) with pdflatex in ``workdir`` and list its overfull hboxes.

    Runs pdflatex in nonstopmode without halt-on-error, a second time when the first asks for it (a table of
    contents or references not yet written), and parses the last run's log. ``strict`` raises LatexFailed when
    the log holds a LaTeX error (``! ...``); without it, only a missing PDF raises.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    source = Path(tex) if isinstance(tex, Path) or ("\n" not in tex and tex.endswith(".tex") and Path(tex).exists()) else None
    if source is None:
        (workdir / "doc.tex").write_text(str(tex), encoding="utf-8")
        source = workdir / "doc.tex"
    source = source.resolve()
    job = source.stem
    env = {**os.environ, "max_print_line": "100000", "error_line": "254", "half_error_line": "238"}
    command = ["pdflatex", "-interaction=nonstopmode", "-file-line-error", f"-output-directory={workdir.resolve()}", source.name]
    log_path = workdir / f"{job}.log"
    for _ in range(2):
        try:
            subprocess.run(command, cwd=source.parent, env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise LatexFailed(f"pdflatex ran over {timeout}s on {source}") from e
        log = log_path.read_text(encoding="latin-1") if log_path.exists() else ""
        if not re.search(rf"No file {re.escape(job)}\.(toc|aux)|Rerun to get", log):
            break
    if not (workdir / f"{job}.pdf").exists():
        raise LatexFailed(f"pdflatex wrote no PDF for {source}:\n" + "\n".join(log.splitlines()[-20:]))
    errors = [line for line in log.splitlines() if line.startswith("! ") or re.match(r"^\S+\.tex:\d+: ", line)]
    if strict and errors:
        raise LatexFailed(f"pdflatex reported errors for {source}: " + "; ".join(errors[:5]))
    return [box for box in parse_overfull(log) if box.points > min_points]


# -- HTML in Chromium --------------------------------------------------------------------------------
TOO_WIDE = r"""
const tolerance = arguments[0], openDetails = arguments[1];
if (openDetails) for (const d of document.querySelectorAll('details')) d.open = true;
const root = document.documentElement, W = root.clientWidth;
const describe = e => {
  const r = e.getBoundingClientRect();
  const path = [];
  for (let n = e; n && n !== document.body && n !== root && path.length < 6; n = n.parentElement) {
    const cls = typeof n.className === 'string' && n.className ? '.' + n.className.trim().split(/\s+/).join('.') : '';
    path.unshift(n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + cls);
  }
  let contained = null;  // the nearest ancestor that scrolls or clips it, so that it does not widen the page
  for (let n = e.parentElement; n && n !== document.body && n !== root; n = n.parentElement) {
    const o = getComputedStyle(n).overflowX;
    if (o !== 'visible') { contained = n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + ':' + o; break; }
  }
  return {tag: e.tagName.toLowerCase(), id: e.id || '', class: typeof e.className === 'string' ? e.className : '',
          path: path.join(' > '), text: (e.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 80),
          width: Math.round(r.width * 10) / 10, left: Math.round(r.left * 10) / 10, right: Math.round(r.right * 10) / 10,
          viewport: W, contained: contained};
};
const offends = e => {
  const r = e.getBoundingClientRect();
  return (r.width > 0 || r.height > 0) && (r.right > W + tolerance || r.left < -tolerance);
};
const out = [];
if (root.scrollWidth > W + tolerance)
  out.push({tag: 'document', id: '', class: '', path: 'html', text: 'scrollWidth > clientWidth', width: root.scrollWidth,
            left: 0, right: root.scrollWidth, viewport: W, contained: null});
for (const e of document.body.querySelectorAll('*')) {
  if (!offends(e) || (e.parentElement && e.parentElement !== document.body && offends(e.parentElement))) continue;
  const d = describe(e);
  d.descendants = [...e.querySelectorAll('*')].filter(offends).length;
  out.push(d);
}
return out;
"""


class Browser:
    """Headless Chromium through selenium (the distribution's chromedriver, so no download is tried).

    ``width``/``height`` is the starting viewport; each measurement sets its own width.
    """

    def __init__(self, width: int = 1200, height: int = 900, *, timeout: float = 60):
        self.width, self.height, self.timeout = width, height, timeout
        self.driver = None
        self._profile: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Browser:
        reason = missing("browser")
        if reason:
            raise RuntimeError(reason)
        self._profile = tempfile.TemporaryDirectory(prefix="layout-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                    "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--force-device-scale-factor=1", f"--window-size={self.width},{self.height}",
                    f"--user-data-dir={self._profile.name}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console_errors() reads the console
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        self.driver.set_page_load_timeout(self.timeout)
        self.driver.set_script_timeout(self.timeout)
        self.set_width(self.width)
        return self

    def __exit__(self, *exc) -> None:
        if self.driver is not None:
            self.driver.quit()
            self.driver = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None

    # -- the viewport and the page --
    def set_width(self, width: int, height: int | None = None) -> None:
        """An exact CSS viewport (a desktop one: mobile=False, so a page without a viewport meta is laid out at this width)."""
        self.width, self.height = width, height or self.height
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})

    def load(self, html_path: str | Path, width: int | None = None) -> None:
        if width is not None:
            self.set_width(width)
        self.driver.get(Path(html_path).resolve().as_uri())
        self.driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                         "(document.fonts ? document.fonts.ready : Promise.resolve()).then(() => done(true));")
        inner = self.driver.execute_script("return document.documentElement.clientWidth")
        if width is not None and inner != width:
            raise RuntimeError(f"asked for a {width}px viewport, the page has {inner}px")

    def console_errors(self) -> list[dict]:
        """The browser console's SEVERE entries (script errors, failed loads) since the last call: reading drains the log."""
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    # -- measurements --
    def too_wide(self, html_path: str | Path, width: int, *, open_details: bool = True, tolerance: float = 0.5) -> list[dict]:
        """The elements sticking out of a ``width`` px viewport (right edge past it, or left edge before 0).

        Only the outermost of nested offenders is listed (``descendants`` counts the ones inside it); a first entry
        with tag ``document`` says the page itself scrolls sideways. ``contained`` names the nearest ancestor with
        ``overflow-x`` other than visible (``div.step:auto``): such an element is wider than the viewport but scrolls
        inside its box instead of widening the page; filter on it when only the page's width matters.
        Closed ``<details>`` are opened first (their content has no box while closed).
        """
        self.load(html_path, width)
        return self.driver.execute_script(TOO_WIDE, tolerance, open_details)

    def printed_pdf(self, html_path: str | Path, pdf_path: str | Path, *, open_details: bool = False) -> Path:
        """Print the page to PDF as a reader's "Print" would (DevTools Page.printToPDF), A4, 1 cm margins, backgrounds.

        Called through chromedriver's CDP command, not WebDriver's print (``driver.print_page``): that one gives up
        after a fixed 10 s renderer timeout, and the largest bundled page takes 8.6-10.2 s to print on a quiet
        2-core machine (several times that under the test suite's load); this one waits as long as the page takes."""
        self.load(html_path)
        if open_details:
            self.driver.execute_script("for (const d of document.querySelectorAll('details')) d.open = true;")
        cm = 1 / 2.54  # DevTools takes inches
        options = {"printBackground": True, "paperWidth": 21.0 * cm, "paperHeight": 29.7 * cm,
                   **{f"margin{side}": 1.0 * cm for side in ("Top", "Bottom", "Left", "Right")}}
        pdf_path = Path(pdf_path)
        pdf_path.write_bytes(base64.b64decode(self.driver.execute_cdp_cmd("Page.printToPDF", options)["data"]))
        return pdf_path

    def printed_text(self, html_path: str | Path, *, open_details: bool = False, layout: bool = False) -> str:
        """The printed page's text as pdftotext reads it (``layout`` keeps columns; the default reading order suits searching)."""
        reason = missing("pdftotext")
        if reason:
            raise RuntimeError(reason)
        with tempfile.TemporaryDirectory(prefix="layout-print-") as tmp:
            pdf = self.printed_pdf(html_path, Path(tmp) / "page.pdf", open_details=open_details)
            args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(pdf), "-"]
            return subprocess.run(args, capture_output=True, text=True, check=True, timeout=self.timeout).stdout

    def screenshot(self, html_path: str | Path, width: int, png_path: str | Path, *, height: int | None = None,
                   open_details: bool = False) -> Path:
        """A PNG of the page at a ``width`` px viewport: the top ``height`` px of it (default the viewport's height),
        beyond the viewport if asked; the full page's width is kept, so what sticks out shows."""
        self.load(html_path, width)
        if open_details:
            self.driver.execute_script("for (const d of document.querySelectorAll('details')) d.open = true;")
        full_w, full_h = self.driver.execute_script(
            "const r = document.documentElement; return [r.scrollWidth, r.scrollHeight];")
        clip = {"x": 0, "y": 0, "width": max(width, full_w), "height": min(height or self.height, full_h), "scale": 1}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
        png_path = Path(png_path)
        png_path.parent.mkdir(parents=True, exist_ok=True)
        png_path.write_bytes(base64.b64decode(shot["data"]))
        return png_path


def pdf_pages_to_png(pdf_path: str | Path, prefix: str | Path, *, first: int = 1, last: int = 2, dpi: int = 60) -> list[Path]:
    """Pages ``first``..``last`` of a PDF as PNGs (pdftoppm), for looking at."""
    prefix = Path(prefix)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(first), "-l", str(last), str(pdf_path), str(prefix)],
                   check=True, capture_output=True, timeout=120)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))
