r"""Activation functions ``g`` with their derivatives ``g'``, side by side.

Every activation maps weighted sums ``in`` to activations ``a = g(in)`` element by element
(softmax, the exception, maps each row to a probability vector). Each one states its own
derivative next to its forward rule, and, because back-propagation already holds ``a``,
also the derivative written through ``a`` (for the sigmoid ``g'(in) = a (1 - a)``), which
is what :class:`~backprop_lab.MLP` uses.

All of them are stable for large ``|in|``: no overflow warnings, no NaN.

>>> import numpy as np
>>> from backprop_lab.activations import get_activation
>>> g = get_activation("sigmoid")
>>> g(np.array([-1000.0, 0.0, 1000.0]))
array([0. , 0.5, 1. ])
>>> g.derivative(np.array([0.0]))
array([0.25])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._fence import check, reference
from ._validation import lookup

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "sigmoid", "tanh", "relu",
           "leaky_relu", "identity", "softmax", "LEAKY_SLOPE"]

#: slope of ``leaky_relu`` for negative inputs
LEAKY_SLOPE = 0.01

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    r"""One activation function and its derivative.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"sigmoid"``.
    g : callable
        ``g(in, out=None) -> a``; any shape; ``out`` may be ``in`` itself (in place).
    dg : callable
        ``g'(in)``, element-wise; same shape as ``in``.
    dg_from_a : callable
        ``g'`` written through the output ``a = g(in)``; same shape.
    latex, dlatex : str
        The formulas of ``g`` and ``g'`` for notebooks and plots.
    elementwise : bool
        False only for softmax, whose derivative couples the outputs of a row.
    saturation : float or None
        ``|in|`` beyond which ``g'`` is below 2% of its maximum (``None``: never saturates).
    hidden_ok : bool
        Whether it may be used in hidden layers (softmax may not).
    init : str
        The weight initialisation ``MLP(init="auto")`` picks for it: ``"he"`` for ReLU-like
        activations (they halve the variance of their input), else ``"xavier"``.
    symbolic : callable or None
        ``symbolic(x, sympy) -> g(x)`` on a SymPy expression ``x``, for
        :mod:`backprop_lab.symbolic` (softmax: the numerator ``e^x``, which it normalises);
        ``None``: not available symbolically. SymPy is passed in so that this module does not
        import it. The symbolic ``g'`` is :attr:`dg_from_a`, which is written to work on SymPy
        expressions as well as on arrays.
    labels : callable or None
        ``labels(O) -> (n_samples,)`` class labels from outputs of shape
        ``(n_samples, n_outputs)`` when the outputs are class probabilities (softmax:
        argmax of each row); ``None``: the loss decides how outputs become predictions.
    """

    name: str
    g: Callable[..., Array]
    dg: Callable[[Array], Array]
    dg_from_a: Callable[[Array], Array]
    latex: str
    dlatex: str
    elementwise: bool = True
    saturation: float | None = None
    hidden_ok: bool = True
    init: str = "xavier"
    symbolic: Callable | None = field(default=None, repr=False)
    labels: Callable[[Array], Array] | None = field(default=None, repr=False)
    _mul_dg: Callable[[Array, Array], Array] | None = field(default=None, repr=False)

    def __call__(self, x: Array) -> Array:
        """``a = g(in)``; a new array."""
        return self.g(_float(x))

    def derivative(self, x: Array) -> Array:
        """``g'(in)`` for an array of weighted sums ``in`` (element-wise activations only)."""
        if not self.elementwise:
            raise ValueError(f"{self.name} is not element-wise: its derivative is a Jacobian per row; "
                             "use backward(a, grad_a) for the chain rule instead")
        return self.dg(_float(x))

    @reference("activations.Activation.backward")
    def backward(self, a: Array, grad_a: Array) -> Array:
        """Chain rule through the activation: ``dE/din`` from ``dE/da`` and ``a = g(in)``.

        Parameters
        ----------
        a : ndarray, shape (n_samples, n_units)
            The activations of the layer.
        grad_a : ndarray, shape (n_samples, n_units)
            ``dE/da``. It is overwritten with the result (saves memory in the backward pass).

        Returns
        -------
        ndarray, shape (n_samples, n_units)
            ``dE/din``.
        """
        check()
        if self._mul_dg is not None:
            return self._mul_dg(a, grad_a)
        if self.elementwise:
            grad_a *= self.dg_from_a(a)
            return grad_a
        # softmax: J^T v = a * (v - sum(a * v)) per row
        s = np.einsum("ij,ij->i", a, grad_a)[:, None]
        grad_a -= s
        grad_a *= a
        return grad_a

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


def _float(x) -> Array:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


# --- the activations: forward rule, then its derivative -------------------------------

@reference("activations.sigmoid")
def _sigmoid(x, out=None):
    check()
    # 1 / (1 + e^{-x}) is accurate to an ulp for every x (scipy's expit is 3x slower);
    # e^{-x} overflows to inf only where sigma(x) < 1e-308, which then correctly gives 0
    out = np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


@reference("activations.sigmoid")
def _dsigmoid(x):
    check()
    # sigma' = sigma (1 - sigma), written as sigma(x) sigma(-x) so that 1 - sigma does not
    # round to 0 for large x
    return _sigmoid(x) * _sigmoid(-x)


@reference("activations.sigmoid")
def _sigmoid_mul_dg(a, grad):
    check()
    grad *= a
    grad *= 1.0 - a
    return grad


@reference("activations.tanh")
def _tanh(x, out=None):
    check()
    return np.tanh(x, out=out)


@reference("activations.tanh")
def _dtanh(x):
    check()
    # 1 - tanh^2 rounds to 0 for |x| > 19 and cosh overflows for |x| > 710;
    # 4 e / (1 + e)^2 with e = exp(-2|x|) in (0, 1] is exact everywhere.
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


@reference("activations.relu")
def _relu(x, out=None):
    check()
    return np.maximum(x, 0, out=out)


@reference("activations.relu")
def _drelu(x):
    check()
    return (x > 0).astype(x.dtype)  # g'(0) = 0 by convention, as in PyTorch


@reference("activations.relu")
def _relu_mul_dg(a, grad):
    check()
    return np.multiply(grad, a > 0, out=grad)


@reference("activations.leaky_relu")
def _leaky(x, out=None):
    check()
    return np.multiply(x, np.where(x > 0, 1.0, LEAKY_SLOPE).astype(x.dtype), out=out)


@reference("activations.leaky_relu")
def _dleaky(x):
    check()
    return np.where(x > 0, 1.0, LEAKY_SLOPE).astype(x.dtype)


@reference("activations.identity")
def _identity(x, out=None):
    check()
    if out is x:
        return x
    if out is None:
        return x.copy()
    out[...] = x
    return out


@reference("activations.identity")
def _didentity(x):
    check()
    return np.ones_like(x)


@reference("activations.softmax")
def _softmax_rows(x, out=None):
    check()
    x = np.atleast_2d(x)
    out = np.subtract(x, x.max(axis=1, keepdims=True), out=out)  # no overflow
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def _no_dg(x):
    raise ValueError("softmax is not element-wise")


def _argmax_rows(O):
    return O.argmax(axis=1)


# g' written through a = g(in): what the backward pass uses, since it already holds a

@reference("activations.sigmoid")
def _dsigmoid_from_a(a):
    check()
    return a * (1 - a)  # an int 1 so that SymPy keeps a (1 - a) exact (NumPy: the same numbers)


@reference("activations.tanh")
def _dtanh_from_a(a):
    check()
    return 1 - a * a  # an int 1: exact in SymPy, the same numbers in NumPy


@reference("activations.relu")
def _drelu_from_a(a):
    check()
    return (a > 0).astype(a.dtype)


@reference("activations.leaky_relu")
def _dleaky_from_a(a):
    check()
    return np.where(a > 0, 1.0, LEAKY_SLOPE).astype(a.dtype)


@reference("activations.identity")
def _didentity_from_a(a):
    check()
    # a ** 0 is 1 for arrays (NaN and inf included, like ones_like) and SymPy expressions alike
    return a ** 0


@reference("activations.identity")
def _identity_mul_dg(a, grad):
    check()
    return grad


sigmoid = Activation(
    "sigmoid", _sigmoid, _dsigmoid, _dsigmoid_from_a,
    r"g(x) = \sigma(x) = \frac{1}{1 + e^{-x}}", r"g'(x) = \sigma(x)\,(1 - \sigma(x))",
    saturation=5.29, symbolic=lambda x, sp: 1 / (1 + sp.exp(-x)), _mul_dg=_sigmoid_mul_dg)
tanh = Activation(
    "tanh", _tanh, _dtanh, _dtanh_from_a,
    r"g(x) = \tanh(x)", r"g'(x) = 1 - \tanh^2(x)", saturation=2.65, symbolic=lambda x, sp: sp.tanh(x))
relu = Activation(
    "relu", _relu, _drelu, _drelu_from_a,
    r"g(x) = \max(0, x)", r"g'(x) = [x > 0]", init="he", _mul_dg=_relu_mul_dg)
leaky_relu = Activation(
    "leaky_relu", _leaky, _dleaky, _dleaky_from_a,
    rf"g(x) = \max({LEAKY_SLOPE}x, x)", rf"g'(x) = 1 \;(x > 0),\; {LEAKY_SLOPE} \;(x \leq 0)", init="he")
identity = Activation(
    "identity", _identity, _didentity, _didentity_from_a,
    r"g(x) = x", r"g'(x) = 1", symbolic=lambda x, sp: x, _mul_dg=_identity_mul_dg)
softmax = Activation(
    "softmax", _softmax_rows, _no_dg, _no_dg,
    r"g(x)_i = \frac{e^{x_i}}{\sum_k e^{x_k}}", r"\partial g_i / \partial x_k = g_i(\delta_{ik} - g_k)",
    elementwise=False, hidden_ok=False, symbolic=lambda x, sp: sp.exp(x), labels=_argmax_rows)

#: every activation by name
ACTIVATIONS: dict[str, Activation] = {
    act.name: act for act in (sigmoid, tanh, relu, leaky_relu, identity, softmax)}


def names(*, hidden: bool = False, elementwise: bool = False) -> tuple[str, ...]:
    """Registry names, optionally only those allowed in hidden layers or element-wise ones
    (for choices and messages, so that no other module lists them)."""
    return tuple(n for n, a in ACTIVATIONS.items()
                 if (a.hidden_ok or not hidden) and (a.elementwise or not elementwise))


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``,
    ``"identity"``, ``"softmax"``); an :class:`Activation` is returned as is.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if isinstance(name, Activation):
        return name
    return lookup(ACTIVATIONS, name, "activation")
