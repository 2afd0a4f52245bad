"""Independent references for the compiled code: they share no code with the symbolic side.

    numpy_runtime.py  Runtime: a hand-written NumPy forward and backward pass, with its own table
    torch_model.py    TorchModel: PyTorch autograd in float64 (an optional extra)

Both read only the Model's plain structure (names, activations, values) and keep their own
activations, losses, update sign and batch rule on purpose, so that a mistake in core/ cannot
hide in both sides of a check.
"""
