"""Checking: what a text states (its numbers and formulas) against the exact trace, mismatches
explained; finding those numbers in a text (scan.py); and the derivation's own chain-rule
gradients against sympy.diff (identity.py).

    status.py          Status: holds / conditional / truncated / mismatch / unverifiable / unparseable, as reports print them
    rounding.py        holds / truncated / mismatch at the text's own decimals
    closeness.py       how near a mismatched number comes: agreeing significant digits, relative difference
    local_check.py     one step recomputed from the text's own stated inputs
    diagnosis.py       the table of alternative conventions that may reproduce a wrong number
    conventions.py     the traces of conventions that change the order of work: rounding as it goes, sequential update
    latex_names.py     a text's LaTeX vocabulary: unicode and names made plain, patterns, atoms
    latex_reader.py    a text's LaTeX formula read through those atoms and parsed by latex2sympy2_extended
    latex_parsing.py   the parser's side of that reading: placeholder text through latex2sympy2_extended, checked
    formula_limits.py  the reader's bounds (size, nesting, towers, numbers) and values computed within them
    formula_claims.py  a formula claim against the derivation: holds, conditional (right where the example is), mismatch
    formula_print.py   its correction as written: the derivation's formula in the text's order, a kink in words
    layer_notation.py  the matrix form of a layered network: W^l, b^l, z^l, a^l, δ^l entry by entry as quantities
    layer_syntax.py    a formula in layer notation (vector and index forms) read into a tree
    layer_values.py    that tree written out at one layer: each side's entries as LaTeX, shapes checked
    layered_forms.py   a formula in layer notation checked component by component, as formula claims
    verifier.py        verify(path): every claim of a file, one frozen result each
    reports.py         the report as text, Markdown and JSON
    text_numbers.py    a text's numbers: structure rules, quotes, the names and kinds its words give them
    scan.py            scan(text, model): every number of a text matched to the trace's quantities, proposed as claims
    identity.py        the chain-rule gradients against sympy.diff of the flattened loss, as a report
"""
