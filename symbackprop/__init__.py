"""symbackprop: a small network, written as a textbook writes it, as its exact, checked training story.

The package is a pipeline, one folder per stage, imports going one way (cli > api > bench >
parallel > {compiler, documents, verifier, importers} > reference > core; checked by import-linter):

    core/       the Model, its file format, the function table, the Derivation and the exact Trace
    reference/  independent NumPy and PyTorch forward and backward passes
    documents/  the walkthrough as document nodes, and one printer per format
    verifier/   a text's claims checked, mismatches explained
    compiler/   the gradients as a standalone module, checked against reference/
    parallel/   K data-parallel workers, exactly and on torch.distributed
    bench/      speed and memory against peers
    importers/  PyTorch programs read into a Model (torch.export), weights exact
    api.py      the one façade; cli.py parses arguments and calls it
"""

from .api import compile, dense, derive, document, from_torch, load, verify
from .core.derivation import Derivation, Factor
from .core.errors import InputError
from .core.model import Example, Model, Neuron
from .core.trace import Trace

__all__ = ["Derivation", "Example", "Factor", "InputError", "Model", "Neuron", "Trace",
           "compile", "dense", "derive", "document", "from_torch", "load", "verify"]
__version__ = "0.1.0"
