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

Importing the package has no side effects and loads only the network core. The layers
above it (``symbolic``, ``plots``, ``grading``) load on first use; ``docs/architecture.md``
shows which layer may import which.
"""

import importlib

from . import activations, datasets, examples, gradcheck, losses  # noqa: F401
from .activations import ACTIVATIONS, get_activation
from .losses import LOSSES, get_loss
from .mlp import MLP
from .trace import LayerTrace, Trace
from .training import History

__version__ = "0.1.0"

__all__ = ["MLP", "History", "Trace", "LayerTrace", "ACTIVATIONS", "LOSSES", "get_activation",
           "get_loss", "activations", "losses", "gradcheck", "datasets", "examples", "grading",
           "symbolic", "plots", "__version__"]

# SymPy and matplotlib take a moment to import, and grading records the library when it is
# imported (a notebook's setup cell imports it before any answer runs): load them on first use
_LAZY = ("symbolic", "plots", "grading")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
