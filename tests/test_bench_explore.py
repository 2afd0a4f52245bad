"""``symbackprop bench --explore``: the report holds what it measured in the page, never a time bound."""

from __future__ import annotations

import math
import re

import pytest

from symbackprop import api, cli
from symbackprop.bench import explore

SAMPLES = 3


@pytest.fixture(scope="module")
def table():
    if reason := explore.missing():
        pytest.skip(reason)
    return explore.bench_explore(quick=True, pages=("seed003 chain",), samples=SAMPLES)


def test_each_view_reports_its_page_and_its_samples(table):
    html, parameters, iterations = explore.generate("seed003 chain")
    quantities = len(re.findall(r"<[A-Za-z][^<>]*\sdata-q=\"", html))  # counted apart from the bench's own parser
    assert quantities > 0 and (parameters, iterations) == (6, 1)
    rows = table["rows"]
    assert [(r["page"], r["view"]) for r in rows] == [("seed003 chain", "closed"), ("seed003 chain", "open")]
    for r in rows:
        assert (r["parameters"], r["iterations"], r["samples"]) == (parameters, iterations, SAMPLES), r
        assert r["elements"] == r["quantities_in_html"] == quantities, r  # the browser's [data-q] and the file's
        assert r["controls"] == parameters + 1 + 3 + 1, r  # the parameters, the rate, three inputs and one target
        assert r["bytes"] == len(html.encode()) and r["generate_s"] > 0 and r["load_s"] > 0
    closed, opened = rows
    assert 0 < closed["refreshed"] < closed["elements"] and closed["open"] < closed["sections"]  # the default view
    assert opened["refreshed"] == opened["elements"] and opened["open"] == opened["sections"]


def test_the_times_are_the_measured_ones(table):
    for r in table["rows"]:
        for key in explore.TIMES:
            median, p95 = r[f"{key}_median_ms"], r[f"{key}_p95_ms"]
            assert math.isfinite(median) and math.isfinite(p95) and 0 <= median <= p95, (key, r)
        assert r["total_median_ms"] > 0, r  # the whole set() call: never below Chromium's 0.1 ms resolution
        assert r["total_median_ms"] >= max(r[f"{k}_median_ms"] for k in ("engine", "dom", "plots")), r
        assert r["under_frame"] == (r["total_p95_ms"] < explore.FRAME_MS)
    text = explore.render_explore(table)
    assert text.count("seed003 chain") == 2 and "closed" in text and "open" in text


def test_a_missing_browser_is_one_line_not_an_error(monkeypatch):
    monkeypatch.setattr(explore, "tools", lambda: (None, None))
    table, text = api.bench("explore", quick=True)
    assert table == {"missing": "needs a headless browser (Debian: chromium)", "rows": []}
    assert text == "bench --explore: skipped, needs a headless browser (Debian: chromium)\n"
    monkeypatch.setattr(explore, "tools", lambda: ("/usr/bin/chromium", None))
    assert "chromedriver" in explore.missing()


def test_the_command_line_names_the_section():
    args = cli.parser().parse_args(["bench", "--explore", "--quick", "--json"])
    assert args.explore and args.quick and args.json and not args.trace
