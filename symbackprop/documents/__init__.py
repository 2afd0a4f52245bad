"""Derivation documents: what a teacher hands out, in every format.

    nodes.py      the document nodes (Walkthrough, Section, Step, Partial, Factors, Terms, Network, Plot): plain data
    builder.py    a Derivation and its Trace as a Walkthrough
    plots.py      the numbers behind the plots
    training.py   which iterations a document writes out, and the loss table standing for the rest
    kinks.py      the slope's note where the exact trace and float64 sit on two sides of a kink
    formulas/     one SymPy printer per notation: text, LaTeX, MathML
    printers/     one printer per format: terminal, Markdown, LaTeX, PDF, HTML, notebook; figures (matplotlib)
"""
