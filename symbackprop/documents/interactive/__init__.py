"""The interactive page (``symbackprop explore``): the document with a control for every setting, recomputed in
the browser.

    page.py     the HTML: the tagged document, its controls, its scripts
    engine.py   the model's facts as JSON and the schedule's programs, for engine.js
    script.py   the schedule's assignments as checked JavaScript
    engine.js   the trace in float64, as the long run computes it; page.js: controls, fragment, numbers, plots
"""

from .page import page

__all__ = ["page"]
