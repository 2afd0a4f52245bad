"""Independent references for the compiled code: they share no code with the symbolic side.

    numpy_runtime.py  Runtime: a hand-written NumPy forward and backward pass, with its own table
    torch_model.py    TorchModel: PyTorch autograd in float64 (an optional extra)
    numpy_training.py train(): torch.optim's optimizers and schedulers written again in NumPy
    torch_training.py train(): the real torch.optim and lr_scheduler, in float64

All read only the Model's plain structure (names, activations, values) and keep their own
activations, losses, update rules, schedules and batch rule on purpose, so that a mistake in core/ cannot
hide in both sides of a check.
"""
