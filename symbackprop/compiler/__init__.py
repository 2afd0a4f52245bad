"""Compiled gradients: a Derivation as a standalone NumPy (optionally numba) module, and its checks.

    names.py        the one validated mapping of symbols to generated identifiers
    expressions.py  SymPy printers for scalar (math) and batch (NumPy) code
    generator.py    the module's text: source(derivation, numba, workers)
    compiled.py     compile(): the callable, the exported module run in a fresh namespace
    check.py        the compiled code against reference/ (NumPy, PyTorch) and finite differences
"""
