"""A catalogue of small networks for the numeric tests: every bundled file, seeded dense nets with
every activation and loss, and hand-written graphs the matrix form cannot take (shared weights,
bias inputs, a skip connection, a frozen parameter)."""

from __future__ import annotations

import dataclasses

from conftest import DERIVATIONS, function_cases, output_width

import symbackprop

SHARED_SKIP = """
title = "shared weight, bias input and a skip connection"
[network]
inputs = ["x1", "x2"]
constants = { one = 1.0 }
outputs = ["c", "d"]
[[network.neurons]]
name = "a"
activation = "tanh"
inputs = ["one", "x1", "x2"]
weights = ["w0", "u", "u"]
[[network.neurons]]
name = "b"
activation = "sigmoid"
inputs = ["a", "x1"]
weights = ["v", "u"]
bias = "bb"
[[network.neurons]]
name = "c"
activation = "identity"
inputs = ["a", "b"]
weights = ["s", "t"]
[[network.neurons]]
name = "d"
activation = "leaky_relu"
inputs = ["b", "x2"]
weights = ["v2", "r"]
[parameters]
w0 = 0.1
u = -0.3
v = 0.7
bb = 0.05
s = 0.4
t = -0.6
v2 = 0.9
r = 0.2
[loss]
function = "sse"
batch = "sum"
[training]
learning_rate = 0.05
frozen = ["bb"]
[[examples]]
inputs = { x1 = 0.5, x2 = -1.5 }
targets = { c = 0.25, d = -0.5 }
[[examples]]
inputs = { x1 = -0.2, x2 = 0.8 }
targets = { c = 1.0, d = 0.5 }
"""

# every name a Python keyword, builtin, module or helper the generated code uses, and a title that tries to
# close its docstring: none of it may reach generated code as code
HOSTILE = '''
title = """Evil \\"\\"\\" title
import os; os.system('echo pwned') # \\\\ \\n"""
[network]
inputs = ["X", "numpy", "math"]
constants = { p = 1.0 }
outputs = ["print"]
[[network.neurons]]
name = "exec"
activation = "sigmoid"
inputs = ["p", "X", "numpy", "math"]
weights = ["w__import__", "value", "B", "total"]
[[network.neurons]]
name = "print"
activation = "tanh"
inputs = ["exec", "X"]
weights = ["g0", "loss"]
bias = "step"
[parameters]
w__import__ = 0.1
value = 0.2
B = -0.3
total = 0.4
g0 = 0.5
loss = -0.6
step = 0.05
[[examples]]
inputs = { X = 0.5, numpy = -1.0, math = 2.0 }
targets = { print = 0.3 }
'''


def dense_cases():
    """(id, model): the function table's cases (conftest.function_cases), alternating bias, batch rule and shape."""
    shapes = ([2, 3, 1], [3, 4, 2], [2, 2, 2, 3])
    out = []
    for i, (act, output, loss) in enumerate(function_cases()):
        sizes = [*shapes[i % len(shapes)][:-1], output_width(output, shapes[i % len(shapes)][-1])]
        model = symbackprop.dense(sizes, activation=act, output_activation=output,
                                  loss=loss, batch=("mean", "sum")[i % 2], bias=i % 3 != 2, seed=i)
        out.append((f"dense-{act}-{output}-{loss}-{'-'.join(map(str, sizes))}", model))
    wide = symbackprop.dense([3, 12, 6, 2], activation="tanh", output_activation="sigmoid", loss="half_sse", seed=7)
    out.append(("dense-wide-3-12-6-2", wide))  # over 64 parameters: matrix form, and numba's loop kernel
    shuffled = symbackprop.dense([3, 12, 6, 2], activation="relu", output_activation="tanh", loss="mse", seed=9)
    shuffled.parameters = dict(reversed(shuffled.parameters.items()))  # biases before weights: gathered, not reshaped
    out.append(("dense-shuffled-3-12-6-2", shuffled))
    mixed = symbackprop.dense([2, 5, 4, 3], activation="softplus", output_activation="sigmoid", loss="half_sse", batch="sum", seed=4)
    out.append(("dense-mixed-bias-2-5-4-3", without_bias(mixed, layer=2)))  # a plain layer between two with ones rows
    wide_inputs = symbackprop.dense([40, 3, 2], activation="leaky_relu", output_activation="identity", loss="mse", seed=5)
    out.append(("dense-wide-inputs-40-3-2", wide_inputs))  # the inputs are the widest layer: they size the blocks
    return out


def without_bias(model, layer: int):
    """``model`` with the biases of one layer (dense() names: n{layer}_j) taken out."""
    neurons = [dataclasses.replace(n, bias=None) if n.name.startswith(f"n{layer}_") else n for n in model.neurons]
    dropped = {n.bias for n in model.neurons if n.name.startswith(f"n{layer}_")}
    parameters = {p: v for p, v in model.parameters.items() if p not in dropped}
    return dataclasses.replace(model, neurons=neurons, parameters=parameters)


def file_cases():
    return [(path.stem, symbackprop.load(path)) for path in sorted(DERIVATIONS.glob("*.toml"))]


def all_cases(tmp_dir=None):
    from symbackprop.core.derivation_file import loads

    return file_cases() + [("shared-skip", loads(SHARED_SKIP))] + dense_cases()
