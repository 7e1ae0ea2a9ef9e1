"""backprop_lab: learn back-propagation by building it, checking it and watching it train.

The public API:

- :class:`MLP` — the reference network (forward, loss, gradients, step, fit, trace).
- :mod:`backprop_lab.activations`, :mod:`backprop_lab.losses` — ``g``, ``g'`` and ``E`` by name.
- :mod:`backprop_lab.gradcheck` — numerical gradients and whole-model checks.
- :mod:`backprop_lab.symbolic` — SymPy derivations and robust expression equivalence.
- :mod:`backprop_lab.datasets` — XOR, moons, spirals, digits (no download).
- :mod:`backprop_lab.examples` — the published 2-2-2 worked example.
- :mod:`backprop_lab.plots` — figures: loss curves, decision boundaries, gradient norms.
- :mod:`backprop_lab.grading` — the checks notebook tests call.
"""

import importlib

# grading first: it records the real NumPy functions before any student cell can replace them
from . import grading  # noqa: F401  (isort: skip)
from . import activations, datasets, examples, gradcheck, losses  # noqa: F401
from .activations import ACTIVATIONS, get_activation
from .losses import LOSSES, get_loss
from .mlp import MLP, History, LayerTrace, Trace

__version__ = "0.1.0"

__all__ = ["MLP", "History", "Trace", "LayerTrace", "ACTIVATIONS", "LOSSES", "get_activation",
           "get_loss", "activations", "losses", "gradcheck", "datasets", "examples", "grading",
           "symbolic", "plots", "__version__"]

grading.protect_package()  # before any notebook cell could replace a function of ours

# SymPy and matplotlib take a moment to import: load those modules on first use
_LAZY = ("symbolic", "plots")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
