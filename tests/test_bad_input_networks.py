"""Malformed losses, targets, optimizers and schedulers: exit code 2, one line naming the file and the key."""

import pytest
from conftest import DERIVATIONS
from sympy import Rational

SOFTMAX = (DERIVATIONS / "softmax_2_3_3.toml").read_text()
MOMENTUM = (DERIVATIONS / "bce_2_2_1.toml").read_text()
OPTIMIZER = 'name = "SGD"\nmomentum = 0.9\n'
DEAD = (DERIVATIONS / "seed004_adam.toml").read_text().replace("eps = 1e-8", "eps = 0")  # n1_1 is dead: its gradients are 0

CASES = {  # case: (file text, fragments of the one line)
    "unknown_optimizer": (MOMENTUM.replace('name = "SGD"', 'name = "Adamax"'),
                          ["optimizer.name", "unknown optimizer 'Adamax'", "SGD, Adam, AdamW, RMSprop, Adagrad"]),
    "unknown_optimizer_option": (MOMENTUM.replace(OPTIMIZER, OPTIMIZER + "beta = 0.9\n"),
                                 ["optimizer.beta", "unknown option of SGD", "momentum, dampening, nesterov"]),
    "betas_outside": (MOMENTUM.replace(OPTIMIZER, 'name = "Adam"\nbetas = [0.9, 1.0]\n'),
                      ["optimizer.betas[1]", "outside [0, 1)"]),
    "betas_not_two": (MOMENTUM.replace(OPTIMIZER, 'name = "Adam"\nbetas = [0.9]\n'),
                      ["optimizer.betas", "expected two numbers [beta1, beta2]"]),
    "negative_eps": (MOMENTUM.replace(OPTIMIZER, 'name = "Adam"\neps = -1e-8\n'), ["optimizer.eps", "outside [0, inf)"]),
    "eps_zero_over_a_zero_gradient": (DEAD, ["optimizer.eps", "Adam's Delta of w1_1_1 at iteration 1 divides by zero",
                                             "expected eps > 0"]),
    "negative_momentum": (MOMENTUM.replace("momentum = 0.9", "momentum = -0.9"), ["optimizer.momentum", "outside [0, inf)"]),
    "nesterov_without_momentum": (MOMENTUM.replace(OPTIMIZER, 'name = "SGD"\nnesterov = true\n'),
                                  ["optimizer.nesterov", "needs momentum > 0 and dampening = 0"]),
    "flag_not_bool": (MOMENTUM.replace(OPTIMIZER, 'name = "RMSprop"\ncentered = 1\n'),
                      ["optimizer.centered", "expected true or false"]),
    "optimizer_with_add": (MOMENTUM.replace("iterations = 3", 'iterations = 3\nupdate = "add"'),
                           ["training.update", "with an [optimizer]", "expected subtract"]),
    "scheduler_without_optimizer": (SOFTMAX.replace("[[examples]]", '[scheduler]\nname = "StepLR"\nstep_size = 2\n\n[[examples]]', 1),
                                    ["scheduler", "without an [optimizer]"]),
    "unknown_scheduler": (MOMENTUM.replace("[[examples]]", '[scheduler]\nname = "OneCycleLR"\n\n[[examples]]', 1),
                          ["scheduler.name", "unknown scheduler 'OneCycleLR'", "StepLR"]),
    "scheduler_missing_option": (MOMENTUM.replace("[[examples]]", '[scheduler]\nname = "StepLR"\n\n[[examples]]', 1),
                                 ["scheduler.step_size", "StepLR needs step_size"]),
    "milestones_out_of_order": (MOMENTUM.replace("[[examples]]",
                                                 '[scheduler]\nname = "MultiStepLR"\nmilestones = [3, 1]\n\n[[examples]]', 1),
                                ["scheduler.milestones", "not increasing"]),
    "class_out_of_range": (SOFTMAX.replace("class = 1", "class = 3"),
                           ["examples[0].class", "class 3 is out of range", "0..2"]),
    "class_and_targets": (SOFTMAX.replace("class = 1", "class = 1\ntargets = { n2_1 = 1.0, n2_2 = 0.0, n2_3 = 0.0 }"),
                          ["examples[0]", "targets or class, not both"]),
    "probabilities_not_summing_to_1": (SOFTMAX.replace("n2_3 = 0.8", "n2_3 = 0.7"),
                                       ["examples[1].targets", "targets sum to 9/10", "summing to 1"]),
    "probability_outside_unit": (SOFTMAX.replace("n2_1 = 0.1, n2_2 = 0.1", "n2_1 = -0.1, n2_2 = 0.3"),
                                 ["examples[1].targets", "outside [0, 1]"]),
    "bce_target_outside_unit": (MOMENTUM.replace("targets = { n2_1 = 1.0 }", "targets = { n2_1 = 2.0 }"),
                                ["examples[0].targets", "target 2 is outside [0, 1]"]),
    "softmax_with_one_output": (MOMENTUM.replace('activation = "sigmoid"', 'activation = "softmax"').replace('"bce"', '"cross_entropy"'),
                                ["network.neurons[2].activation", "softmax over one output", "two or more outputs"]),
    "softmax_on_a_hidden_neuron": (SOFTMAX.replace('activation = "sigmoid"', 'activation = "softmax"', 1),
                                   ["network.neurons[0].activation", "not an output"]),
    "softmax_on_some_outputs": (SOFTMAX.replace('name = "n2_3"\nactivation = "softmax"', 'name = "n2_3"\nactivation = "sigmoid"'),
                                ["network.neurons[3].activation", "but not on 'n2_3'"]),
    "cross_entropy_without_softmax": (SOFTMAX.replace('activation = "softmax"', 'activation = "identity"'),
                                      ["loss.function", "cross_entropy is defined over softmax outputs", "'n2_1' is identity"]),
    "bce_over_an_unbounded_output": (MOMENTUM.replace('activation = "sigmoid"', 'activation = "identity"'),
                                     ["loss.function", "bce is defined over sigmoid", "bce_logits"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_network_gives_exit_2_and_one_line(tmp_path, run_cli, case):
    text, expected = CASES[case]
    assert text not in (SOFTMAX, MOMENTUM) and "eps = 1e-8" not in text, f"{case}: the replacement did not apply"
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    r = run_cli("verify", str(path))
    assert r.returncode == 2, (r.stdout[-500:], r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(path) in lines[0]
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("args, fragments", [
    (["--optimizer", "adamx"], ["--optimizer: unknown optimizer 'adamx'"]),
    (["--loss", "cross_entropy"], ["--loss: loss cross_entropy is defined over softmax outputs"]),
])
def test_dense_command_names_the_option(run_cli, args, fragments):
    r = run_cli("dense", "2,3,3", *args)
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert all(f in r.stderr for f in fragments), r.stderr


def test_dense_command_writes_an_optimizer_table_that_loads(run_cli, tmp_path):
    out = tmp_path / "net.toml"
    r = run_cli("dense", "2,3,3", "--output-activation", "softmax", "--loss", "cross_entropy", "--optimizer", "Adam",
                "-o", str(out))
    assert r.returncode == 0, r.stderr
    from symbackprop.core.derivation_file import load

    model = load(out)
    assert model.optimizer.name == "Adam" and model.optimizer.options["betas"] == (Rational("0.9"), Rational("0.999"))
    assert model.loss == "cross_entropy" and [model.neuron(o).activation for o in model.outputs] == ["softmax"] * 3
