"""One SymPy printer per notation, with the textbook symbols (w_{a1}, δ_b, ∂E/∂w) and numbers put in.

    text.py    a StrPrinter: one line of text, for the terminal
    latex.py   a LatexPrinter: Markdown, LaTeX, PDF and notebooks
    mathml.py  a MathMLPresentationPrinter: HTML
    chains.py  the chain nodes (Factors, Terms) for the printers that write text
    relations.py the relation before each side of a step (=, ≈ after a rounded number, ←), for every printer
    breaking.py  a formula too wide for its line cut into rows at its operators, for any printer
"""
