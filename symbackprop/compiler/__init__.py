"""Compiled gradients: a Derivation as a standalone NumPy (optionally numba) module, and its checks.

    names.py          the one collision-checked table of generated identifiers (long names shortened)
    expressions.py    SymPy printers for scalar (math) and batch (NumPy) code
    plan.py           the module decided once: its code shapes, batch limits and matrix layout (frozen)
    template.py       the fixed functions of every module (_check, loss_and_grad, split...), as real Python
    emit_header.py    the module's docstring, imports and constants
    emit_straight.py  straight-line float code (_one, _scalar) and the same as one fused numba loop
    emit_columns.py   straight-line NumPy over whole columns, for any graph
    emit_matrix.py    feature-major matrix NumPy for layered nets, in blocks of CHUNK rows
    emit_kernel.py    the numba loop kernel for small batches of layered nets
    emit_fixed.py     template.py's functions copied in, with the update sign and mask filled in
    generator.py      the module's text: source(derivation, numba, workers), plan then emit; module(): with its parsed tree
    compiled.py       compile(): the callable, the exported module run in a fresh namespace
    check.py          the compiled code against reference/ (NumPy, PyTorch) and finite differences
"""
