"""One SymPy printer per notation, with the textbook symbols (w_{a1}, δ_b, ∂E/∂w) and numbers put in:
text.py (terminal), latex.py (Markdown, LaTeX, PDF, notebooks), mathml.py (HTML)."""
