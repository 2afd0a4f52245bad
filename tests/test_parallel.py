"""Data-parallel averaging, against hand arithmetic and symbolic identities."""

from fractions import Fraction as F

import pytest
import sympy as sp
from conftest import DERIVATIONS

import symbackprop
from symbackprop.core.derivation_file import loads
from symbackprop.core.errors import InputError
from symbackprop.parallel import averaging as parallel

LINE = """
[network]
inputs = ["x"]
[[network.neurons]]
name = "h"
activation = "identity"
inputs = ["x"]
weights = ["u"]
[[network.neurons]]
name = "o"
activation = "identity"
inputs = ["h"]
weights = ["v"]
[parameters]
u = 0.5
v = 2
[loss]
function = "half_sse"
[training]
learning_rate = 0.1
EXAMPLES
"""
DATA = [(1, 2), (2, 1), (3, 3), (1, 0)]


def model(data=DATA):
    examples = "".join(f"[[examples]]\ninputs = {{ x = {x} }}\ntargets = {{ o = {y} }}\n" for x, y in data)
    return loads(LINE.replace("EXAMPLES", examples))


def hand_gradients(x, y, u=F(1, 2), v=F(2)):
    """o = v*u*x, E = 1/2 (y - o)^2: dE/du = (o - y) v x, dE/dv = (o - y) u x."""
    o = v * u * x
    return {"u": (o - y) * v * x, "v": (o - y) * u * x}


def q(f: F) -> sp.Rational:
    return sp.Rational(f.numerator, f.denominator)


def test_equal_shards_average_is_the_full_batch_gradient():
    step = parallel.average(model(), 2)
    g = [hand_gradients(x, y) for x, y in DATA]
    for p in ("u", "v"):
        workers = [(g[0][p] + g[1][p]) / 2, (g[2][p] + g[3][p]) / 2]
        assert step.worker[p] == [q(w) for w in workers]
        assert step.averaged[p] == q(sum(workers) / 2) == step.full[p] == q(sum(e[p] for e in g) / 4)
        assert step.updated[p] == model().parameters[p] - sp.Rational(1, 10) * step.averaged[p]
    assert step.equal_to_full


def test_unequal_shards_differ_and_weighting_removes_it():
    step = parallel.average(model(), 2, [1, 3])
    g = [hand_gradients(x, y) for x, y in DATA]
    for p in ("u", "v"):
        w1, w2 = g[0][p], (g[1][p] + g[2][p] + g[3][p]) / 3
        assert step.averaged[p] == q((w1 + w2) / 2)
        assert step.weighted[p] == q(w1 / 4 + 3 * w2 / 4) == step.full[p]
    assert not step.equal_to_full


def test_symbolic_identities():
    assert parallel.mean_of_means_identity([2, 2]) == (0, 0)
    g1, g2, g3, g4 = sp.symbols("g1:5")
    unweighted, weighted = parallel.mean_of_means_identity([1, 3])
    # by hand: (g1 + (g2+g3+g4)/3)/2 - (g1+g2+g3+g4)/4
    assert sp.expand(unweighted - (g1 / 4 - (g2 + g3 + g4) / 12)) == 0 and weighted == 0
    d1, d2, a1, a2 = sp.symbols("delta1 delta2 a1 a2")
    assert sp.expand(parallel.covariance_identity(2) - (d1 - d2) * (a1 - a2) / 4) == 0


def test_covariance_past_the_factored_workers_is_the_pair_sum():
    """K = 7: mean(delta*a) - mean(delta)*mean(a), expanded here, equals the pair sum's expansion."""
    k = 7
    d, a = sp.symbols(f"delta1:{k + 1}"), sp.symbols(f"a1:{k + 1}")
    expected = sum(di * ai for di, ai in zip(d, a)) / k - sum(d) * sum(a) / k**2
    got = parallel.covariance_identity(k)
    assert sp.expand(got - expected) == 0
    assert sp.expand(got) != 0


def test_layerwise_error_term_averaging_by_hand():
    lw = parallel.layerwise(model(DATA[:2]), 2)
    u, v = F(1, 2), F(2)
    h = [u * x for x, _ in DATA[:2]]
    delta_o = [v * hi - y for hi, (_, y) in zip(h, DATA[:2])]
    mean = lambda xs: F(sum(xs)) / len(xs)  # noqa: E731
    # layerwise: averaged delta_o times averaged h; true: mean of the products
    assert lw.gradient["v"] == q(mean(delta_o) * mean(h))
    assert lw.true["v"] == q(mean([d * hi for d, hi in zip(delta_o, h)]))
    # delta_h = slope 1 * v * averaged delta_o; then times averaged x
    assert lw.gradient["u"] == q(v * mean(delta_o) * mean([x for x, _ in DATA[:2]]))
    assert lw.gradient["v"] != lw.true["v"]


def test_shards_validation():
    assert parallel.shards(6, 3) == [[1, 2], [3, 4], [5, 6]]
    assert parallel.shards(4, 2, [1, 3]) == [[1], [2, 3, 4]]
    for args in ((5, 2, None), (4, 2, [2, 1]), (4, 0, None), (4, 2, [0, 4])):
        with pytest.raises(InputError):
            parallel.shards(*args)


def test_cli_walkthrough_of_the_two_gpu_network(run_cli):
    r = run_cli("parallel", str(DERIVATIONS / "seed003_two_gpus.toml"), "--workers", "2", "--only", "w3_1_1")
    assert r.returncode == 0, r.stderr
    assert "Worker 2: forward and backward on its shard" in r.stdout
    assert "= the full-batch gradient" in r.stdout
    prose = " ".join(r.stdout.split())  # the terminal wraps prose at 100 columns
    # (δ_1 − δ_2)(a_1 − a_2)/4 = mean(δa) − mean(δ)mean(a) for two workers: (δ1a1 + δ2a2)/2 − (δ1+δ2)(a1+a2)/4
    assert "mean(δ·a) − mean(δ)·mean(a) = (a_1 − a_2)·(δ_1 − δ_2)/4" in prose
    bad = run_cli("parallel", str(DERIVATIONS / "seed003_two_gpus.toml"), "--workers", "3")
    assert bad.returncode == 2 and "--workers" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_parallel_walkthrough_as_pdf(run_cli, tmp_path):
    import shutil
    import subprocess

    if not (shutil.which("latexmk") or shutil.which("pdflatex")) or not shutil.which("pdftotext"):
        pytest.skip("a LaTeX engine and pdftotext (the documents extra) are needed")
    out = tmp_path / "parallel.pdf"
    r = run_cli("parallel", str(DERIVATIONS / "seed003_two_gpus.toml"), "--workers", "2", "--only", "w3_1_1",
                "--format", "pdf", "-o", str(out))
    assert r.returncode == 0, r.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Averaging error terms layer by layer" in text and "0.0826341837" in text


def test_library_errors_name_parameters_and_the_cli_names_its_flags(run_cli):
    """The Python API says ``workers``/``shards`` (its own parameters); the command says ``--workers``/``--shards``."""
    from symbackprop import api

    model = symbackprop.load(DERIVATIONS / "seed003_two_gpus.toml")
    for args, key in (((3,), "workers"), ((2, [1, 2]), "shards")):
        with pytest.raises(InputError) as caught:
            api.parallel_document(model, *args)
        assert caught.value.key == key and "--" not in caught.value.line()
    bad = run_cli("parallel", str(DERIVATIONS / "seed003_two_gpus.toml"), "--workers", "2", "--shards", "1,2")
    assert bad.returncode == 2 and bad.stderr.startswith("symbackprop: error: --shards: expected 2 shard sizes")
