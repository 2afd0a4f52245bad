"""Derivation documents: what a teacher hands out, in every format.

    nodes.py      the document nodes (Walkthrough, Section, Step, Partial, Factors, Terms, Network, Plot): plain data
    builder/      a Derivation and its Trace as a Walkthrough: walkthrough.py, with softmax_steps.py (a softmax
                  layer's Jacobian and error terms) and optimizer_steps.py (the update rule's settings and steps)
    plots.py      the numbers behind the plots
    training.py   which iterations a document writes out, and the loss table standing for the rest
    kinks.py      the slope's note where the exact trace and float64 sit on two sides of a kink
    formulas/     one SymPy printer per notation: text, LaTeX, MathML
    printers/     one printer per format: terminal, Markdown, LaTeX, PDF, HTML, notebook; figures (matplotlib)
    interactive/  the interactive page (``explore``): the HTML document with controls, recomputed in the browser
"""
