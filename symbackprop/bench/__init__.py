"""``symbackprop bench``: speed and memory as ratios against peers measured in the same run.

    gradients.py  the compiled call against NumPy, PyTorch, JAX and lambdify, per net and batch
    big_nets.py   its section of big nets (784-64-10, 784-128-64-10): derive, compile, peak memory, calls
    peers.py      the nets' description and the PyTorch and JAX peers the call benches share
    parallel.py   the compiled averaged step against a torch.distributed run (--parallel)
    optimizer.py  an Adam training step of the compiled module against torch.optim.Adam (--optimizer)
    derive.py     the one-time cost of deriving, in fresh processes (--derive)
    trace.py      a long trace's time, memory and certain digits, against float64 and twice the digits (--trace)
    explore.py    the interactive page's recompute, timed in headless Chromium (--explore)
    timing.py     interleaved best-of-rounds timing, thread settings, peak memory
"""
