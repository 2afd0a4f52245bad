"""The builder: a Derivation and its Trace as a Walkthrough of sections of steps, for printers to read.

    walkthrough.py      the walkthrough: the example, notation, network, and per iteration forward, backward, updates
    softmax_steps.py    a softmax layer's steps: a_j as softmax_j(z), the Jacobian ∂a_i/∂z_j, δ_j as the sum and simplified
    forms.py            the formulas of a step: weighted sums, chains per path, error terms, batch rules
    optimizer_steps.py  the settings that state the update rule, and each iteration's updates (plain, or an optimizer's)
"""

from .forms import MAX_PATHS_SHOWN, chain, chain_forms, combined, error_terms, partial, weighted_sum
from .walkthrough import MAX_LISTED, MAX_TABLE_ROWS, build, network

__all__ = ["MAX_LISTED", "MAX_PATHS_SHOWN", "MAX_TABLE_ROWS", "build", "chain", "chain_forms", "combined", "error_terms",
           "network", "partial", "weighted_sum"]
