"""symbackprop: a small network, written as a textbook writes it, as its exact, checked training story."""

from .api import dense, derive, document, load, verify
from .compile import compile
from .derive import Derivation, Factor
from .errors import InputError
from .model import Example, Model, Neuron
from .trace import Trace

__all__ = ["Derivation", "Example", "Factor", "InputError", "Model", "Neuron", "Trace",
           "compile", "dense", "derive", "document", "load", "verify"]
__version__ = "0.1.0"
