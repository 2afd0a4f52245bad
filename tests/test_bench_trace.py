"""``symbackprop bench --trace --quick``: the rows' values (digits, agreements), never their seconds."""

from __future__ import annotations

import json

from conftest import cli

from symbackprop.bench.trace import render_trace


def test_bench_trace_quick_rows_agree_with_float64_and_twice_the_digits():
    done = cli("bench", "--trace", "--quick", "--json")
    assert done.returncode == 0, done.stderr
    table = json.loads(done.stdout)
    assert [(r["net"], r["iterations"]) for r in table["rows"]] == [("2-2-2 sigmoid", 1000), ("4-16-16-1 tanh", 100)]
    for r in table["rows"]:
        assert r["long_from"] is not None and r["long_from"] <= 10, r  # the exact part is short, then a long run
        assert r["arithmetic"] in ("mpfr", "mpmath")
        assert r["params_vs_float64"] < 1e-12 and r["E_vs_float64"] < 1e-12, r
        assert r["certain_holds"] and r["params_vs_twice"] < 1e-30 and r["E_vs_twice"] < 1e-30, r
        assert r["certain_params"] >= 30 and r["certain_E"] >= 30, r
        assert 0 < r["E_last"] < r["E_first"], r  # it trains
        assert r["peak_mib"] >= r["base_mib"] > 0
    text = render_trace(table)  # the text the command prints without --json, from the same table
    assert "2-2-2 sigmoid" in text and "4-16-16-1 tanh" in text and "holds" in text and text.count(" yes") == 2
