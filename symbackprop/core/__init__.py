"""The model and its exact mathematics, and the trace program it runs past the exact part; nothing
here prints a document, compiles a module or checks a text.

    errors.py          InputError: bad input, located (file, key), one line, exit code 2
    function_table.py  the one table of activations and losses: every fact about each, in its row
    values.py          names and exact numbers from file text, checked (never through floats or eval)
    limits.py          the bounds on every input (nesting, digits, size, work), each with its cost
    model.py           Model, Neuron, Example: the network as plain exact data, validated
    loss_rules.py      what a loss and softmax ask of the outputs and targets
    optimizers.py      torch.optim's optimizers as exact update rules; schedulers.py: its learning-rate schedules
    derivation_file.py load()/loads(): TOML with exact decimals; toml_writer.py writes it back
    claims.py          the [[claims]] and [readings] of a file, parsed and validated
    dense.py           dense([2, 2, 1]): a layered Model under one naming scheme
    derivation.py      Derivation: z, a, error terms, Leibniz chains, the identity check
    notation.py        each quantity's symbol (head, indices, Δ, ∂E/∂), once, for every printer and report
    schedule.py        one iteration for one example as the ordered assignments a trace evaluates
    trace.py           Trace: exact values of every named quantity, per example and iteration
    program.py         the schedule as generated straight-line Python (mpmath or floats), checked
    arithmetic.py      the number systems that code runs in: MPFR (gmpy2), mpmath, float64
    long_run.py        the iterations past the exact part, in arbitrary precision, with their certain digits
    decimals.py        how exact values read (a decimal beside the fraction)
    atomic.py          write_atomic(); display.py: the Jupyter mixin the printers register with
"""
