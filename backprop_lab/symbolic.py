r"""SymPy support: a small network in symbols, its deltas derived two ways, and a robust check
that two expressions are equal.

The notation is the course's (see :mod:`backprop_lab.mlp`). Layer ``l = 1 .. L`` has weights
``W[l]`` of shape ``(fan_in, fan_out)``, so ``W[l][j, i]`` is the weight :math:`W_{j,i}` from
unit ``j`` to unit ``i``, and biases ``b[l]`` of shape ``(1, fan_out)``. One sample is a row::

    in[l] = a[l-1] W[l] + b[l]        a[0] = x
    a[l]  = g(in[l])                  a[L] = o,   E = ½ Σ_i (t_i − o_i)²

Units are numbered from 1 in symbol names, as on the page: ``W[1][0, 1]`` (Python indices
start at 0) is the symbol :math:`w^{(1)}_{1,2}`, the weight from input 1 to hidden unit 2.

>>> from backprop_lab.symbolic import network, deltas_backprop, deltas_direct, equivalent
>>> net = network((2, 2, 2), activation="g")       # g: an unknown function, g' stays symbolic
>>> net.W[1][0, 1]
w^{(1)}_{1,2}
>>> bool(equivalent(deltas_backprop(net)[1], deltas_direct(net)[1]))
True

The parts:

* :func:`network` builds a :class:`SymbolicNet`: symbols ``x``, ``t``, ``W``, ``b`` and the
  expressions ``in``, ``a`` and ``E``; :func:`sigmoid` is :math:`1 / (1 + e^{-x})`.
* :func:`deltas_direct` differentiates ``E``; :func:`deltas_backprop` applies the course's
  rules; :func:`weight_gradient` and :func:`bias_gradient` are :math:`\partial E / \partial w`.
* :func:`substitute_params` turns NumPy weights into a substitution dict and :func:`to_numpy`
  compiles an expression into a NumPy function.
* :func:`equivalent` decides whether two expressions (or strings, or matrices) are equal,
  within a hard time limit, with a reason a student can act on.
"""

from __future__ import annotations

import math
import operator
import random
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import mpmath
import numpy as np
import sympy
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.matrices import ImmutableMatrix, MatrixBase
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from ._validation import as_float_array, as_int_list, check_finite, describe, lookup

__all__ = ["SymbolicNet", "Layers", "Equivalence", "network", "sigmoid", "deltas_direct", "deltas_backprop",
           "weight_gradient", "bias_gradient", "substitute_params", "to_numpy", "equivalent"]

Expr = sympy.Expr
Matrix = ImmutableMatrix

#: the generic activation ``g``: an undefined function, so that ``g'(in)`` stays symbolic
G = sympy.Function("g")


# =====================================================================================
# Activations: each g with its derivative g', written as the course writes it
# =====================================================================================

def sigmoid(x):
    r"""The logistic function :math:`\sigma(x) = 1 / (1 + e^{-x})` as a SymPy expression.

    Parameters
    ----------
    x : sympy expression, number, or Matrix
        A Matrix is mapped element by element.

    Returns
    -------
    sympy expression or Matrix

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> sigmoid(x)
    1/(1 + exp(-x))
    >>> sympy.simplify(sympy.diff(sigmoid(x), x) - sigmoid(x) * (1 - sigmoid(x)))
    0
    """
    if isinstance(x, MatrixBase):
        return x.applyfunc(sigmoid)
    return 1 / (1 + sympy.exp(-sympy.sympify(x)))


@dataclass(frozen=True)
class _Activation:
    """One symbolic activation: ``g(in)`` and ``g'(in)`` written through ``in`` and ``a = g(in)``.

    ``dg`` is the form the course uses in back-propagation (for the sigmoid ``a (1 - a)``),
    so that comparing it with direct differentiation is a real test. Softmax couples the
    outputs of a layer (``elementwise=False``) and is handled by the layer code.
    """

    name: str
    g: Callable[[Expr], Expr]
    dg: Callable[[Expr, Expr], Expr]
    elementwise: bool = True


def _undefined_derivative(f: UndefinedFunction, z: Expr) -> Expr:
    """``f'(z)`` for an undefined ``f``: ``Subs(Derivative(f(u), u), u, z)``, printed as f'(z)."""
    u = sympy.Dummy("u")
    return sympy.Derivative(f(u), u).subs(u, z)


def _generic(f: UndefinedFunction) -> _Activation:
    return _Activation(f.__name__, f, lambda z, a: _undefined_derivative(f, z))


_ACTIVATIONS: dict[str, _Activation] = {
    "sigmoid": _Activation("sigmoid", sigmoid, lambda z, a: a * (1 - a)),       # σ' = σ (1 − σ)
    "tanh": _Activation("tanh", sympy.tanh, lambda z, a: 1 - a ** 2),           # tanh' = 1 − tanh²
    "identity": _Activation("identity", lambda z: z, lambda z, a: sympy.Integer(1)),
    "g": _generic(G),
    "softmax": _Activation("softmax", sympy.exp, lambda z, a: None, elementwise=False),
}
_LOSSES = {"squared_error": "squared_error", "cross_entropy": "cross_entropy"}


def _get_activation(spec, name: str) -> _Activation:
    """An activation by name, or a user's undefined function such as ``sympy.Function('h')``."""
    if isinstance(spec, UndefinedFunction):
        return _generic(spec)
    if spec is not None and not isinstance(spec, str):
        raise TypeError(f"{name} must be a name such as 'sigmoid' or an undefined sympy Function, "
                        f"got {type(spec).__name__} {spec!r}; known activations: "
                        f"{', '.join(sorted(_ACTIVATIONS))}")
    return lookup(_ACTIVATIONS, spec, "activation")


def _activate(act: _Activation, row: Matrix) -> Matrix:
    """``a = g(in)`` for one layer's row of weighted sums."""
    if act.elementwise:
        return row.applyfunc(act.g)
    e = row.applyfunc(sympy.exp)                      # softmax: o_i = e^{in_i} / Σ_k e^{in_k}
    return e / sum(e)


# =====================================================================================
# The symbolic network
# =====================================================================================

class Layers(dict):
    """A dict keyed by the course's layer number ``l`` (``W[1]`` is the first weight layer).

    A missing layer raises ``KeyError`` that says which numbers exist.
    """

    def __missing__(self, l):
        if not self:
            raise KeyError(f"there are no layers here; got {l!r}")
        raise KeyError(f"layers are numbered {min(self)}..{max(self)} as in the course; got {l!r}")


@dataclass(frozen=True, repr=False)
class SymbolicNet:
    r"""A small fully connected network written in SymPy symbols (one sample).

    Build it with :func:`network`. Layer numbers ``l`` are the course's: ``W[1]`` is the first
    weight layer and ``a[0]`` is the input. Matrix entries use Python's 0-based indices,
    symbol names the course's 1-based ones: ``W[1][0, 1]`` is :math:`w^{(1)}_{1,2}`.

    Attributes
    ----------
    layer_sizes : tuple of int
        Units per layer, input first.
    activation, output_activation, loss : str
        Names of the hidden ``g``, the output ``g`` and the loss.
    x : Matrix, shape (1, n_0)
        Input symbols :math:`x_1, \dots, x_{n_0}`.
    t : Matrix, shape (1, n_L)
        Target symbols :math:`t_1, \dots`.
    W : Layers of Matrix, ``W[l]`` of shape (n_{l-1}, n_l)
        Weight symbols, ``W[l][j-1, i-1]`` is :math:`w^{(l)}_{j,i}`.
    b : Layers of Matrix, ``b[l]`` of shape (1, n_l)
        Bias symbols :math:`b^{(l)}_i`.
    in_ : Layers of Matrix, ``in_[l]`` of shape (1, n_l)
        Weighted sums :math:`in_i = \sum_j a_j W_{j,i} + b_i` as expressions (``in`` is a
        Python keyword).
    a : Layers of Matrix, ``a[l]`` of shape (1, n_l), ``l = 0 .. L``
        Activations :math:`a_i = g(in_i)`, with ``a[0] = x``.
    E : sympy expression
        The loss of the sample: :math:`\tfrac12 \sum_i (t_i - o_i)^2`, or
        :math:`-\sum_i t_i \log o_i` for cross-entropy.
    """

    layer_sizes: tuple
    activation: str
    output_activation: str
    loss: str
    x: Matrix
    t: Matrix
    W: Layers
    b: Layers
    in_: Layers
    a: Layers
    E: Expr
    _hidden: _Activation = field(compare=False)
    _output: _Activation = field(compare=False)

    @property
    def L(self) -> int:
        """Number of weight layers."""
        return len(self.layer_sizes) - 1

    @property
    def O(self) -> Matrix:
        """The output ``o = a[L]``, shape (1, n_L)."""
        return self.a[self.L]

    @property
    def Err(self) -> Matrix:
        """``Err = t − o``, shape (1, n_L)."""
        return self.t - self.O

    @property
    def parameters(self) -> tuple:
        """Every weight and bias symbol, layer by layer (weights row by row, then biases)."""
        return tuple(s for l in range(1, self.L + 1) for s in (*self.W[l], *self.b[l]))

    @property
    def symbols(self) -> tuple:
        """Every symbol of the network: inputs, targets, then :attr:`parameters`."""
        return (*self.x, *self.t, *self.parameters)

    @property
    def namespace(self) -> dict:
        """Names a typed answer can use, for ``equivalent(..., namespace=net.namespace)``.

        ``x_1``, ``t_1``, ``w1_1_2`` for :math:`w^{(1)}_{1,2}`, ``b1_2`` for
        :math:`b^{(1)}_2`, and the functions ``sigmoid`` and ``g``.
        """
        ns = {s.name: s for s in (*self.x, *self.t)}
        for l in range(1, self.L + 1):
            rows, cols = self.W[l].shape
            ns.update({f"w{l}_{j + 1}_{i + 1}": self.W[l][j, i] for j in range(rows) for i in range(cols)})
            ns.update({f"b{l}_{i + 1}": self.b[l][0, i] for i in range(cols)})
        ns.update(sigmoid=sigmoid, g=G)
        return ns

    def g(self, l: int, z):
        """Apply layer ``l``'s activation to a row ``z`` (a Matrix) or a scalar expression."""
        act = self._act(l)
        if isinstance(z, MatrixBase):
            return _activate(act, Matrix(z))
        if not act.elementwise:
            raise ValueError(f"layer {l} uses softmax, which needs the whole row of in values, "
                             "not a single expression")
        return act.g(sympy.sympify(z))

    def g_prime(self, l: int) -> Matrix:
        r"""``g'(in[l])`` of every unit of layer ``l``, shape (1, n_l), as the course writes it.

        :math:`a(1-a)` for the sigmoid, :math:`1 - a^2` for tanh, 1 for the identity and
        :math:`g'(in)` (a ``Subs`` of a ``Derivative``) for an undefined ``g``.

        Raises
        ------
        ValueError
            For a softmax layer, whose derivative is a Jacobian, not one number per unit.
        """
        act = self._act(l)
        if not act.elementwise:
            raise ValueError(f"layer {l} uses softmax: its derivative couples the units (a Jacobian), "
                             "so there is no g'(in_i) per unit")
        return Matrix([[act.dg(z, a) for z, a in zip(self.in_[l], self.a[l])]])

    def _act(self, l: int) -> _Activation:
        l = _check_layer(self, l)
        return self._output if l == self.L else self._hidden

    def __repr__(self) -> str:
        return (f"SymbolicNet({self.layer_sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, loss={self.loss!r})")


def network(layer_sizes: Sequence[int] = (2, 2, 2), activation="sigmoid", output_activation=None,
            loss: str = "squared_error") -> SymbolicNet:
    r"""Symbols and expressions of a small network for one sample, in the course's notation.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first; ``(2, 2, 2)`` is the classic worked example. Keep it
        small: the expressions grow quickly with depth and width.
    activation : str or sympy undefined Function
        Hidden ``g``: ``"sigmoid"`` (written :math:`1/(1+e^{-x})`), ``"tanh"``,
        ``"identity"``, or ``"g"`` (an undefined function, so that ``g'(in)`` stays
        visible in derivatives). Any ``sympy.Function("h")`` works like ``"g"``.
    output_activation : str or sympy undefined Function, optional
        Output ``g``; the hidden one by default, ``"softmax"`` for cross-entropy.
    loss : str
        ``"squared_error"`` (:math:`\tfrac12 \sum_i (t_i - o_i)^2`) or ``"cross_entropy"``
        (:math:`-\sum_i t_i \log o_i`, needs a softmax output).

    Returns
    -------
    SymbolicNet

    Raises
    ------
    ValueError
        For an unknown activation or loss (the message lists the known ones), softmax in a
        hidden layer, or cross-entropy without a softmax output.

    Examples
    --------
    >>> net = network((2, 2, 1), activation="identity")
    >>> net.in_[1]
    Matrix([[b^{(1)}_{1} + w^{(1)}_{1,1}*x_1 + w^{(1)}_{2,1}*x_2, b^{(1)}_{2} + w^{(1)}_{1,2}*x_1 + w^{(1)}_{2,2}*x_2]])
    """
    sizes = tuple(as_int_list(layer_sizes, "layer_sizes"))
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
    loss = lookup(_LOSSES, loss, "loss")
    hidden = _get_activation(activation, "activation")
    if not hidden.elementwise:
        raise ValueError("softmax can only be an output activation; choose sigmoid, tanh, identity "
                         "or g for activation")
    if output_activation is None:
        output_activation = "softmax" if loss == "cross_entropy" else activation
    output = _get_activation(output_activation, "output_activation")
    if loss == "cross_entropy" and output.elementwise:
        raise ValueError(f"loss 'cross_entropy' is defined on a softmax output, got "
                         f"output_activation={output.name!r}; use 'softmax' (or loss='squared_error')")

    L = len(sizes) - 1
    x = Matrix([[sympy.Symbol(f"x_{i}") for i in range(1, sizes[0] + 1)]])
    t = Matrix([[sympy.Symbol(f"t_{i}") for i in range(1, sizes[-1] + 1)]])
    W = Layers({l: Matrix(sizes[l - 1], sizes[l], lambda j, i: sympy.Symbol(f"w^{{({l})}}_{{{j + 1},{i + 1}}}"))
                for l in range(1, L + 1)})
    b = Layers({l: Matrix(1, sizes[l], lambda _, i: sympy.Symbol(f"b^{{({l})}}_{{{i + 1}}}"))
                for l in range(1, L + 1)})
    acts = [hidden] * (L - 1) + [output]
    ins, a = _forward(W, b, acts, start=1, in_start=x * W[1] + b[1])
    a[0] = x
    E = _loss(loss, a[L], t)
    return SymbolicNet(sizes, hidden.name, output.name, loss, x, t, W, b, Layers(ins),
                       Layers(sorted(a.items())), E, hidden, output)


def _forward(W: Layers, b: Layers, acts: list, start: int, in_start: Matrix) -> tuple[dict, dict]:
    """``in`` and ``a`` of layers ``start .. L``, given ``in[start]``."""
    ins, a = {start: in_start}, {start: _activate(acts[start - 1], in_start)}
    for l in range(start + 1, len(acts) + 1):
        ins[l] = a[l - 1] * W[l] + b[l]               # in = a_prev W + b
        a[l] = _activate(acts[l - 1], ins[l])         # a = g(in)
    return ins, a


def _loss(loss: str, o: Matrix, t: Matrix) -> Expr:
    if loss == "squared_error":
        return sympy.Rational(1, 2) * sum((ti - oi) ** 2 for ti, oi in zip(t, o))
    return -sum(ti * sympy.log(oi) for ti, oi in zip(t, o))


# =====================================================================================
# Derivations
# =====================================================================================

def deltas_direct(net: SymbolicNet) -> Layers:
    r"""The course's :math:`\Delta_i = -\partial E / \partial in_i` of every unit, by differentiating ``E``.

    For each layer ``l`` the weighted sums ``in[l]`` are replaced by fresh symbols, the
    forward pass is rerun from them to ``E``, ``E`` is differentiated with respect to each of
    them, and the symbols are replaced by the expressions ``in[l]`` again. No back-propagation
    rule is used, which is what makes it a check of :func:`deltas_backprop`.

    Parameters
    ----------
    net : SymbolicNet

    Returns
    -------
    Layers of Matrix
        ``Delta[l]`` of shape (1, n_l) for ``l = 1 .. L``, in terms of ``x``, ``t``, ``W``, ``b``.
    """
    _check_net(net)
    acts = [net._hidden] * (net.L - 1) + [net._output]
    deltas = Layers()
    for l in range(1, net.L + 1):
        s = Matrix([[sympy.Dummy(f"in^{{({l})}}_{{{i}}}") for i in range(1, net.layer_sizes[l] + 1)]])
        _, a = _forward(net.W, net.b, acts, start=l, in_start=s)
        E_l = _loss(net.loss, a[net.L], net.t)
        back = dict(zip(s, net.in_[l]))
        # subs (not xreplace) so that g'(s) becomes Subs(Derivative(g(u), u), u, in) for generic g
        deltas[l] = Matrix([[(-sympy.diff(E_l, si)).subs(back) for si in s]])
    return deltas


def deltas_backprop(net: SymbolicNet) -> Layers:
    r"""The course's :math:`\Delta` of every unit by the back-propagation rules.

    Output layer (squared error, element-wise ``g``): :math:`\Delta_i = Err_i \, g'(in_i)`
    with :math:`Err = t - o`. Hidden layers: :math:`\Delta_j = g'(in_j) \sum_i W_{j,i} \Delta_i`,
    i.e. ``Delta[l] = g'(in[l]) ⊙ (Delta[l+1] W[l+1]ᵀ)``. ``g'`` is written as the course
    writes it: :math:`a(1-a)` for the sigmoid, :math:`1 - a^2` for tanh, :math:`g'(in)` for
    a generic ``g``.

    Softmax outputs: :math:`\Delta_i = t_i - o_i \sum_k t_k` for cross-entropy (``t − o``
    when the targets sum to 1) and :math:`\Delta_i = o_i (Err_i - \sum_k o_k Err_k)` for
    squared error.

    Parameters
    ----------
    net : SymbolicNet

    Returns
    -------
    Layers of Matrix
        ``Delta[l]`` of shape (1, n_l) for ``l = 1 .. L``.
    """
    _check_net(net)
    L = net.L
    deltas = Layers({L: _output_delta(net)})
    for l in range(L - 1, 0, -1):                     # Δ_j = g'(in_j) Σ_i W_{j,i} Δ_i
        deltas[l] = net.g_prime(l).multiply_elementwise(deltas[l + 1] * net.W[l + 1].T)
    return Layers(sorted(deltas.items()))


def _output_delta(net: SymbolicNet) -> Matrix:
    o, t, err = net.O, net.t, net.Err
    if net._output.elementwise:                       # Δ_i = Err_i g'(in_i)
        return err.multiply_elementwise(net.g_prime(net.L))
    if net.loss == "cross_entropy":                   # Δ_i = t_i − o_i Σ_k t_k
        return t - o * sum(t)
    s = sum(ok * ek for ok, ek in zip(o, err))         # softmax Jacobian: o_i (Err_i − Σ_k o_k Err_k)
    return o.multiply_elementwise(err - Matrix.ones(1, len(o)) * s)


def weight_gradient(net: SymbolicNet, l: int, j: int, i: int) -> Expr:
    r""":math:`\partial E / \partial w^{(l)}_{j,i}` by direct differentiation.

    Parameters
    ----------
    net : SymbolicNet
    l : int
        Layer, ``1 .. L``.
    j, i : int
        Units numbered from 1 as in the course: from unit ``j`` of layer ``l - 1`` to unit
        ``i`` of layer ``l`` (the symbol ``net.W[l][j - 1, i - 1]``).

    Returns
    -------
    sympy expression

    Examples
    --------
    >>> net = network((1, 1), activation="identity")
    >>> weight_gradient(net, 1, 1, 1)
    -x_1*(-b^{(1)}_{1} + t_1 - w^{(1)}_{1,1}*x_1)
    """
    _check_net(net)
    l = _check_layer(net, l)
    j = _check_unit(j, "j", net.layer_sizes[l - 1], f"units of layer {l - 1}")
    i = _check_unit(i, "i", net.layer_sizes[l], f"units of layer {l}")
    return sympy.diff(net.E, net.W[l][j - 1, i - 1])


def bias_gradient(net: SymbolicNet, l: int, i: int) -> Expr:
    r""":math:`\partial E / \partial b^{(l)}_i` by direct differentiation (``i`` from 1)."""
    _check_net(net)
    l = _check_layer(net, l)
    i = _check_unit(i, "i", net.layer_sizes[l], f"units of layer {l}")
    return sympy.diff(net.E, net.b[l][0, i - 1])


def _check_net(net) -> None:
    if not isinstance(net, SymbolicNet):
        raise TypeError(f"net must be a SymbolicNet from backprop_lab.symbolic.network(), got {describe(net)}")


def _check_layer(net: SymbolicNet, l) -> int:
    l = _as_index(l, "l", f"an integer layer number 1..{net.L}")
    if not 1 <= l <= net.L:
        raise ValueError(f"l is {l}; layers are numbered 1..{net.L} as in the course")
    return l


def _check_unit(k, name: str, n: int, what: str) -> int:
    k = _as_index(k, name, f"an integer unit number 1..{n}")
    if not 1 <= k <= n:
        raise ValueError(f"{name} is {k}; the {what} are numbered 1..{n} as in the course")
    return k


def _as_index(k, name: str, expected: str) -> int:
    """Python, NumPy and SymPy integers (``Matrix(2, 2, lambda j, i: ...)`` passes SymPy's)."""
    if isinstance(k, (bool, np.bool_)):
        raise TypeError(f"{name} must be {expected}, got bool {k!r}")
    try:
        return operator.index(k)
    except TypeError:
        raise TypeError(f"{name} must be {expected}, got {type(k).__name__} {k!r}") from None


# =====================================================================================
# NumPy bridge
# =====================================================================================

def substitute_params(net: SymbolicNet, weights=None, biases=None, x=None, t=None) -> dict:
    """Map NumPy values onto the network's symbols, for ``expr.subs(...)`` or :func:`to_numpy`.

    Parameters
    ----------
    net : SymbolicNet
    weights : list of ndarray, optional
        ``weights[l - 1]`` of shape ``(n_{l-1}, n_l)`` is ``W[l]``, as in :class:`~backprop_lab.MLP`.
    biases : list of ndarray, optional
        ``biases[l - 1]`` of shape ``(n_l,)``.
    x : array_like, shape (n_0,) or (1, n_0), optional
        One input sample.
    t : array_like, shape (n_L,) or (1, n_L), optional
        Its target.

    Any argument left out stays symbolic.

    Returns
    -------
    dict
        ``{Symbol: float}``; use it with ``expr.subs(values)`` (floats, not SymPy numbers, so
        that the same dict can feed :func:`to_numpy`).

    Raises
    ------
    ValueError
        When a list has the wrong length or an array the wrong shape, naming it and the
        shape the network expects; for NaN or infinite values.
    """
    _check_net(net)
    values: dict = {}
    if weights is not None:
        for l, arr in enumerate(_layer_list(weights, "weights", net.L), start=1):
            _put(values, net.W[l], arr, f"weights[{l - 1}]", net.W[l].shape, "(fan_in, fan_out)")
    if biases is not None:
        for l, arr in enumerate(_layer_list(biases, "biases", net.L), start=1):
            _put(values, net.b[l], np.reshape(arr, -1) if np.ndim(arr) == 1 else arr, f"biases[{l - 1}]",
                 (net.layer_sizes[l],), "(fan_out,)")
    if x is not None:
        _put(values, net.x, _as_row(x), "x", (net.layer_sizes[0],), "(n_inputs,)")
    if t is not None:
        _put(values, net.t, _as_row(t), "t", (net.layer_sizes[-1],), "(n_outputs,)")
    return values


def _layer_list(items, name: str, L: int) -> list:
    if isinstance(items, np.ndarray) or not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} must be a list with one array per layer, got {describe(items)}")
    if len(items) != L:
        raise ValueError(f"{name} has {len(items)} arrays; the network has {L} layer(s), so expected {L}")
    return list(items)


def _as_row(v):
    arr = np.asarray(v)
    return arr.reshape(-1) if arr.ndim == 2 and arr.shape[0] == 1 else arr


def _put(values: dict, syms: Matrix, arr, name: str, shape: tuple, meaning: str) -> None:
    arr = as_float_array(arr, name)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}; the network expects {shape} = {meaning}")
    check_finite(arr, name)
    values.update(zip(syms, (float(v) for v in arr.reshape(-1))))


def to_numpy(expr, symbols: Sequence) -> Callable:
    """Compile an expression (or Matrix) into a NumPy function of ``symbols``.

    A thin wrapper of :func:`sympy.lambdify` that checks its input first.

    Parameters
    ----------
    expr : sympy expression or Matrix
        Must not contain undefined functions such as ``g``.
    symbols : sequence of Symbol
        The arguments, in order (e.g. ``net.symbols``); ``expr`` may not use others.

    Returns
    -------
    callable
        ``f(*values)`` with one value (number or array, broadcast) per symbol, or
        ``f(mapping)`` with a dict ``{symbol: value}`` such as :func:`substitute_params`
        returns. Matrices give 2-D arrays.

    Raises
    ------
    ValueError
        If ``expr`` uses an undefined function or a symbol not in ``symbols``.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> f = to_numpy(sigmoid(x), [x])
    >>> float(f(0.0)), float(f({x: 0.0}))
    (0.5, 0.5)
    """
    if not isinstance(expr, (sympy.Basic, MatrixBase)):
        expr = sympy.sympify(expr)
    syms = _symbol_tuple(symbols, "symbols")
    undefined = sorted({str(f.func) for f in expr.atoms(AppliedUndef)})
    if undefined:
        raise ValueError(f"expr uses the undefined function(s) {', '.join(undefined)}, which NumPy cannot "
                         "evaluate; build the network with a concrete activation such as 'sigmoid'")
    missing = sorted(map(str, expr.free_symbols - set(syms)))
    if missing:
        raise ValueError(f"expr depends on {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                         "not in symbols; pass every symbol the expression uses (e.g. net.symbols)")
    compiled = sympy.lambdify(syms, expr, modules="numpy", cse=True)

    def f(*values):
        if len(values) == 1 and isinstance(values[0], Mapping):
            mapping = values[0]
            absent = [str(s) for s in syms if s not in mapping]
            if absent:
                raise ValueError(f"the mapping has no value for {', '.join(absent[:5])}"
                                 f"{' ...' if len(absent) > 5 else ''}")
            values = tuple(mapping[s] for s in syms)
        if len(values) != len(syms):
            raise TypeError(f"expected {len(syms)} values (one per symbol) or one mapping, got {len(values)}")
        return compiled(*values)

    f.symbols = syms
    f.expr = expr
    return f


def _symbol_tuple(symbols, name: str) -> tuple:
    if isinstance(symbols, (sympy.Symbol, str)) or not hasattr(symbols, "__iter__"):
        raise TypeError(f"{name} must be a sequence of sympy Symbols, got {describe(symbols)}")
    syms = tuple(symbols)
    bad = [s for s in syms if not isinstance(s, sympy.Symbol)]
    if bad:
        raise TypeError(f"{name} must contain only sympy Symbols; got {bad[0]!r} ({type(bad[0]).__name__})")
    return syms


# =====================================================================================
# Equivalence of two expressions
# =====================================================================================

@dataclass(frozen=True)
class Equivalence:
    """The verdict of :func:`equivalent`; true in a boolean context only when proven or
    confirmed equal.

    Attributes
    ----------
    equal : bool or None
        ``True``, ``False``, or ``None`` when it could not be decided.
    method : str
        How it was decided: ``"identical"`` (equal as written, or after SymPy's automatic
        cancellation), ``"simplify"`` (``a - b`` simplifies to 0), ``"numeric"`` (random
        points), ``"shape"`` (matrix shapes differ), ``"symbols"`` (a side uses a symbol
        outside ``symbols``), ``"timeout"`` (the time limit ran out) or ``"error"``
        (an unexpected internal failure; the reason names it).
    reason : str
        One or two sentences for feedback, using the labels passed to :func:`equivalent`.
    point : dict or None
        For a numeric counterexample: ``{Symbol: Float}``, the point where the two differ.
    values : tuple or None
        ``(value of a, value of b)`` at ``point``, SymPy numbers.
    entry : tuple or None
        For matrices: the ``(row, column)`` of the entry that differs.
    elapsed : float
        Seconds the call took.
    """

    equal: bool | None
    method: str
    reason: str
    point: dict | None = None
    values: tuple | None = None
    entry: tuple | None = None
    elapsed: float = 0.0

    def __bool__(self) -> bool:
        return self.equal is True

    def __str__(self) -> str:
        return self.reason


# --- the hard time limit ------------------------------------------------------------------
#
# In the main thread a SIGALRM timer raises _Timeout inside whatever Python code is running,
# SymPy included. Limits nest (the simplify stage gets part of the whole call's budget): a
# stack of frames, innermost last, each with its deadline. The handler raises only for the
# innermost frame, and only once per _REFIRE seconds, so that a frame's clean-up code is not
# interrupted by its own alarm; the timer keeps firing every _INTERVAL seconds after a deadline
# in case SymPy swallows the exception. Elsewhere (other threads, no SIGALRM) the work runs in
# a daemon thread that is abandoned at the deadline: it may keep computing in the background.

_INTERVAL = 0.02
_REFIRE = 0.1


class _Timeout(BaseException):
    """Raised by the alarm handler; a BaseException so that ``except Exception`` in SymPy
    does not swallow it."""

    def __init__(self, frame):
        super().__init__("time limit")
        self.frame = frame


class _Frame:
    __slots__ = ("deadline", "fired_at")

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired_at = None


_frames: list[_Frame] = []


def _on_alarm(signum, frame):
    if not _frames:
        return
    top = _frames[-1]
    now = time.monotonic()
    if now < top.deadline or (top.fired_at is not None and now - top.fired_at < _REFIRE):
        return
    top.fired_at = now
    raise _Timeout(top)


def _signals_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _run_limited(fn: Callable, seconds: float) -> tuple[bool, object]:
    """Run ``fn()`` for at most ``seconds``: ``(True, result)``, or ``(False, None)`` on timeout.

    Exceptions of ``fn`` propagate. Nested calls get at most the time left to the outer one.
    """
    if _signals_usable():
        return _run_limited_signal(fn, seconds)
    return _run_limited_thread(fn, seconds)


def _arm(deadline: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-4), _INTERVAL)


def _run_limited_signal(fn: Callable, seconds: float) -> tuple[bool, object]:
    now = time.monotonic()
    outer = _frames[-1] if _frames else None
    me = _Frame(now + seconds if outer is None else min(now + seconds, outer.deadline))
    saved = None
    if outer is None:  # take SIGALRM over for the call; give it back, with its timer, afterwards
        saved = (signal.signal(signal.SIGALRM, _on_alarm), signal.setitimer(signal.ITIMER_REAL, 0), now)
    finished, value = False, None
    try:  # the frame is pushed inside the try, so that an early alarm cannot leave it behind
        _frames.append(me)
        _arm(me.deadline)
        value = fn()
        finished = True
    except _Timeout as exc:
        if exc.frame is not me:
            raise
    finally:
        _leave(me, outer, saved)
    return finished, value


def _leave(me: _Frame, outer: _Frame | None, saved) -> None:
    while True:
        try:
            if _frames and _frames[-1] is me:
                _frames.pop()
            if outer is not None:
                _arm(outer.deadline)        # the outer frame's alarm fires (again) when due
            else:
                signal.setitimer(signal.ITIMER_REAL, 0)
                handler, (delay, interval), started = saved
                # None: the previous handler was not set from Python; the default is closest
                signal.signal(signal.SIGALRM, signal.SIG_DFL if handler is None else handler)
                if delay > 0:               # a caller's pending timer, less the time we used
                    signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - started), 1e-4),
                                     interval)
            return
        except _Timeout as exc:             # our own late alarm during clean-up: finish it
            if exc.frame is not me:
                raise


def _run_limited_thread(fn: Callable, seconds: float) -> tuple[bool, object]:
    box: dict = {}

    def work():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="backprop_lab.symbolic.equivalent", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return False, None
    if "error" in box:
        raise box["error"]
    return True, box["value"]


# --- the public function -------------------------------------------------------------------

#: decimal digits of the numeric stage; the relative tolerance is 10 ** -(_DPS - 20)
_DPS = 50
_RTOL = 1e-30
#: the symbolic stage may use this share of the remaining time, and at most this long
_SYMBOLIC_SHARE = 0.5
_SYMBOLIC_MAX_SECONDS = 2.0
#: expressions larger than this (tree nodes) or with larger integer exponents skip it
_SYMBOLIC_MAX_NODES = 4000
_SYMBOLIC_MAX_EXPONENT = 1000
#: random points tried before the symbolic stage, to reject wrong answers quickly
_SCREEN_POINTS = 2
#: exact integer powers with more bits than this are computed in floating point instead
_MAX_EXACT_BITS = 100_000
#: arguments of exp, sin, ... with a binary exponent above this count as overflow
_MAX_ARG_MAG = 4096


class _BadInput(Exception):
    """Wraps a ValueError/TypeError about the caller's input, to be re-raised as is."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


@dataclass
class _Progress:
    """What the stages found so far; read when the time limit interrupts them."""

    stage: str = "reading the inputs"
    agreed: int = 0
    n_points: int = 0


def equivalent(a, b, symbols=None, timeout: float = 5.0, n_points: int = 8, seed: int = 0, *,
               namespace: Mapping | None = None, labels: tuple = ("a", "b")) -> Equivalence:
    r"""Decide whether two expressions are mathematically equal, within a hard time limit.

    Three stages, cheapest first, all inside one time limit:

    1. **identical**: equal as written, or ``a - b`` cancels to 0 on construction;
    2. **simplify**: ``expand(together(a - b))`` or ``simplify(a - b)`` is 0, given half of
       the remaining time and at most 2 s (skipped for very large expressions or integer
       exponents above 1000, where it could exhaust memory);
    3. **numeric**: both sides evaluated with 50-digit mpmath arithmetic at ``n_points``
       random points and compared with relative tolerance :math:`10^{-30}` (about
       :math:`10^{-10}` when the expressions contain floating-point numbers such as 0.1).
       A difference is confirmed at doubled precision before it is reported, so rounding
       cannot fake a counterexample. Points where a side is undefined (division by zero,
       overflow) are replaced by new ones. Undefined functions such as ``g`` are replaced,
       at every point, by a random smooth test function, so ``g'(in)`` is checked too.

    Two random points are tried before stage 2, so that a wrong answer is rejected at once.

    Symbols are sampled as real numbers of size 0.1 to 5 with random sign (positive if
    the symbol is declared positive, integers if declared integer). Strings are parsed with
    :func:`sympy.parse_expr` (``^`` means power); names in them refer to the symbols of the
    other side, of ``symbols`` and of ``namespace``, and ``sigmoid`` and ``g`` are known.
    Symbols of the two sides with the same name are treated as the same symbol.

    Parameters
    ----------
    a, b : sympy expression, number, str, or Matrix (or 1-D/2-D array of expressions)
        The two sides. Matrices are compared entry by entry; 1-D arrays and lists are rows.
    symbols : sequence of Symbol, optional
        The symbols the answer may use; a side that uses another symbol is not equal
        (method ``"symbols"``). By default every free symbol is allowed.
    timeout : float
        Seconds for the whole call. In the main thread the limit is hard (a SIGALRM timer;
        a previous SIGALRM handler and timer are restored afterwards): the call returns
        within about ``timeout`` + 0.1 s. In other threads (and on Windows) the work runs in
        a daemon thread and the call stops waiting after ``timeout``; the abandoned work
        may go on using CPU in the background until it finishes.
    n_points : int
        Random points that must agree for a numeric "equal".
    seed : int
        Seed of the random points; the same seed gives the same verdict.
    namespace : mapping, optional
        Extra names for parsing strings, e.g. ``net.namespace`` (``w1_1_2`` for
        :math:`w^{(1)}_{1,2}`).
    labels : (str, str)
        How the reason names the two sides, e.g. ``("your answer", "the expected Δ")``.

    Returns
    -------
    Equivalence
        Truthy iff equal; ``.equal`` is ``True``, ``False`` or ``None`` (undecided),
        ``.method`` says how, ``.reason`` why, and a numeric counterexample carries
        ``.point`` and ``.values``.

    Raises
    ------
    ValueError
        If a string cannot be parsed (the message names the argument and quotes it) or
        ``timeout``/``n_points`` are out of range.
    TypeError
        If a side is not an expression (e.g. an equation or a bool) or a parameter has the
        wrong type.

    Pathological but valid expressions never raise: they give a verdict or
    ``equal=None`` within the limit.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> r = equivalent(sigmoid(x) * (1 - sigmoid(x)), "exp(-x)/(1 + exp(-x))**2")
    >>> r.equal, r.method
    (True, 'simplify')
    >>> r = equivalent(sigmoid(x) * (1 - sigmoid(x)), sigmoid(x) * (1 + sigmoid(x)), timeout=1)
    >>> r.equal, r.method
    (False, 'numeric')
    """
    timeout = _check_timeout(timeout)
    n_points = _check_positive_int(n_points, "n_points")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    syms = None if symbols is None else _symbol_tuple(
        symbols if not isinstance(symbols, MatrixBase) else list(symbols), "symbols")
    if namespace is not None and not isinstance(namespace, Mapping):
        raise TypeError(f"namespace must be a mapping of names to symbols, got {describe(namespace)}")
    labels = _check_labels(labels)

    start = time.monotonic()
    progress = _Progress(n_points=n_points)

    def job():
        return _decide(a, b, syms, namespace or {}, labels, n_points, int(seed), start + timeout, progress)

    try:
        finished, result = _run_limited(job, timeout)
    except _BadInput as exc:
        raise exc.error from None
    except (Exception, RecursionError) as exc:  # never raise on a valid input: report instead
        finished, result = True, Equivalence(None, "error", f"could not compare {labels[0]} and {labels[1]}: "
                                                             f"{type(exc).__name__}: {exc}")
    if not finished:
        result = _timeout_result(progress, timeout, labels)
    return replace(result, elapsed=time.monotonic() - start)


def _check_timeout(timeout) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, np.integer, np.floating)):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__} {timeout!r}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive finite number of seconds, got {timeout!r}")
    return float(timeout)


def _check_positive_int(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {type(n).__name__} {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be at least 1, got {n}")
    return int(n)


def _check_labels(labels) -> tuple:
    if (not isinstance(labels, (tuple, list)) or len(labels) != 2
            or not all(isinstance(s, str) for s in labels)):
        raise TypeError(f"labels must be two strings such as ('your answer', 'the expected answer'), "
                        f"got {labels!r}")
    return tuple(labels)


def _timeout_result(progress: _Progress, timeout: float, labels: tuple) -> Equivalence:
    partial = ""
    if progress.agreed:
        partial = (f"; they agreed at {progress.agreed} of {progress.n_points} random points "
                   "before time ran out")
    return Equivalence(None, "timeout", f"could not decide whether {labels[0]} equals {labels[1]} "
                                        f"within {timeout:g} s (stopped while {progress.stage}){partial}")


def _decide(a, b, symbols, namespace, labels, n_points, seed, deadline, progress) -> Equivalence:
    A, B = _inputs(a, b, symbols, namespace)
    mismatch = _shape_mismatch(A, B, labels)
    if mismatch is not None:
        return mismatch
    pairs = _unify_symbols(_entry_pairs(A, B), symbols)
    if symbols is not None:
        extra = _unexpected_symbols(pairs, symbols, labels)
        if extra is not None:
            return extra
    progress.stage = "comparing the expressions as written"
    open_pairs = [p for p in pairs if not _identical(p[1], p[2])]
    if not open_pairs:
        return Equivalence(True, "identical", f"{labels[0]} and {labels[1]} are identical")
    # a quick look at two random points first: a wrong answer is then rejected at once,
    # without spending the symbolic stage's time on it
    progress.stage = "evaluating at random points"
    numeric = _NumericStage(open_pairs, seed, progress)
    found = numeric.run(min(_SCREEN_POINTS, n_points))
    if found is not None:
        return _counterexample(*found, labels)
    progress.stage = "simplifying a − b"
    open_pairs = _symbolic_stage(open_pairs, deadline)
    if not open_pairs:
        return Equivalence(True, "simplify", f"{labels[0]} − {labels[1]} simplifies to 0")
    progress.stage = "evaluating at random points"
    numeric.set_pairs(open_pairs)
    found = numeric.run(n_points)
    if found is not None:
        return _counterexample(*found, labels)
    return numeric.verdict(n_points, labels)


# --- reading the inputs --------------------------------------------------------------------

def _inputs(a, b, symbols, namespace) -> tuple:
    """Both sides as sympy Expr or ImmutableMatrix; strings are parsed with shared names."""
    known = {s.name: s for s in (symbols or ())}
    for side in (a, b):
        if isinstance(side, (sympy.Basic, MatrixBase)):
            known.update({s.name: s for s in side.free_symbols if type(s) is sympy.Symbol})
    names = {"sigmoid": sigmoid, "g": G, **known, **namespace}
    return _to_sympy(a, "a", names), _to_sympy(b, "b", names)


def _to_sympy(value, name: str, names: dict):
    if isinstance(value, str):
        return _parse(value, name, names)
    if isinstance(value, MatrixBase):
        return _matrix(value, name)
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = np.asarray(value, dtype=object)
        if arr.ndim not in (1, 2):
            raise _BadInput(ValueError(f"{name} is a {arr.ndim}-D array; expected a scalar, a row (1-D) "
                                       "or a matrix (2-D)"))
        return _matrix(sympy.Matrix(arr.reshape(1, -1) if arr.ndim == 1 else arr).applyfunc(
            lambda v: _to_sympy(v, name, names)), name)
    if isinstance(value, (bool, np.bool_)):
        raise _BadInput(TypeError(f"{name} is a bool ({value}); expected an expression or a number"))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return sympy.sympify(value)
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, sympy.Basic):
        raise _BadInput(TypeError(f"{name} is a {type(value).__name__} ({value}); expected an expression, "
                                  "not an equation, condition or container"))
    try:  # Fraction, Decimal, objects with _sympy_()
        converted = sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError):
        converted = None
    if isinstance(converted, sympy.Expr):
        return converted
    raise _BadInput(TypeError(f"{name} is a {type(value).__name__}; expected a sympy expression, a "
                              "number, a string or a Matrix"))


def _matrix(m: MatrixBase, name: str) -> Matrix:
    bad = [v for v in m if not isinstance(v, sympy.Expr)]
    if bad:
        raise _BadInput(TypeError(f"{name} has an entry {bad[0]!r} of type {type(bad[0]).__name__}; "
                                  "expected expressions"))
    return Matrix(m)


def _parse(text: str, name: str, names: dict):
    """Parse a string without letting SymPy compute enormous exact numbers (see _evaluate)."""
    if not text.strip():
        raise _BadInput(ValueError(f"{name} is an empty string; expected an expression such as 'x*(1 - x)'"))
    try:
        raw = parse_expr(text, local_dict=dict(names),
                         transformations=standard_transformations + (convert_xor,), evaluate=False)
        expr = _evaluate(raw)
    except (RecursionError, MemoryError):
        raise  # too big rather than wrong: reported as undecided, not as a parse error
    except Exception as exc:
        raise _BadInput(ValueError(f"could not parse {name}={text!r} as an expression "
                                   f"({type(exc).__name__}: {exc})")) from None
    if isinstance(expr, MatrixBase):
        return _matrix(expr, name)
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return sympy.sympify(expr)
    if not isinstance(expr, sympy.Expr):
        raise _BadInput(ValueError(f"{name}={text!r} parses to an object of type {type(expr).__name__}, "
                                   "not an expression"))
    return expr


def _evaluate(expr):
    """Evaluate a tree parsed with ``evaluate=False``, bottom up.

    A power of exact numbers whose result would have more than ``_MAX_EXACT_BITS`` bits
    (``10**(10**8)``) is computed as a 60-digit float instead: exact big-integer arithmetic
    runs in C, where the time limit cannot interrupt it.
    """
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(_evaluate)
    if not isinstance(expr, sympy.Basic) or not expr.args:
        return expr
    args = [_evaluate(arg) for arg in expr.args]
    if isinstance(expr, sympy.Pow) and _exact_power_too_big(*args):
        return sympy.Float(args[0], 60) ** args[1]
    return expr.func(*args)


def _exact_power_too_big(base, exp) -> bool:
    if not (isinstance(base, sympy.Rational) and isinstance(exp, sympy.Rational)) or base in (0, 1, -1):
        return False
    bits = max(abs(base.p).bit_length(), abs(base.q).bit_length())
    return abs(exp) * bits > _MAX_EXACT_BITS


def _shape_mismatch(A, B, labels) -> Equivalence | None:
    shape_a = A.shape if isinstance(A, MatrixBase) else None
    shape_b = B.shape if isinstance(B, MatrixBase) else None
    if shape_a == shape_b:
        return None

    def kind(shape):
        return "a scalar" if shape is None else f"a matrix of shape {shape}"

    return Equivalence(False, "shape", f"{labels[0]} is {kind(shape_a)} but {labels[1]} is {kind(shape_b)}")


def _entry_pairs(A, B) -> list:
    """``[(entry, a_entry, b_entry)]``; ``entry`` is ``None`` for scalars, ``(row, col)`` else."""
    if not isinstance(A, MatrixBase):
        return [(None, A, B)]
    return [((r, c), A[r, c], B[r, c]) for r in range(A.rows) for c in range(A.cols)]


def _free_symbols(expr) -> set:
    return {s for s in expr.free_symbols if isinstance(s, sympy.Symbol)}


def _unify_symbols(pairs: list, symbols) -> list:
    """Make symbols that print alike the same symbol (``Symbol('x', real=True)`` and ``Symbol('x')``).

    Preference: the one in ``symbols``, then the one on side b (the reference answer).
    """
    chosen = {s.name: s for s in (symbols or ())}
    for _, _, bi in pairs:
        for s in _free_symbols(bi):
            chosen.setdefault(s.name, s)
    out = []
    for entry, ai, bi in pairs:
        sides = []
        for side in (ai, bi):
            swap = {s: chosen[s.name] for s in _free_symbols(side)
                    if type(s) is sympy.Symbol and chosen.get(s.name, s) != s}
            sides.append(side.xreplace(swap) if swap else side)
        out.append((entry, *sides))
    return out


def _unexpected_symbols(pairs, symbols, labels) -> Equivalence | None:
    allowed = set(symbols)
    for k, label in ((1, labels[0]), (2, labels[1])):
        extra = set().union(*(_free_symbols(p[k]) for p in pairs)) - allowed
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            expected = ", ".join(map(str, symbols)) or "none"
            return Equivalence(False, "symbols", f"{label} uses {names}, which "
                                                 f"{'is' if len(extra) == 1 else 'are'} not among the "
                                                 f"expected symbols ({expected})")
    return None


# --- stages 1 and 2: symbolic -------------------------------------------------------------

def _identical(ai, bi) -> bool:
    try:
        return ai == bi or (ai - bi) == 0
    except (Exception, RecursionError):
        return False


def _symbolic_stage(pairs: list, deadline: float) -> list:
    """Try to prove ``a - b == 0`` for each open pair; return the pairs not proven.

    The stage gets ``_SYMBOLIC_SHARE`` of the remaining time, at most ``_SYMBOLIC_MAX_SECONDS``,
    shared among the pairs. Each pair first tries the cheap ``expand(together(a - b))``
    (enough for rational functions of exponentials such as sigmoid derivatives), then
    ``simplify``.
    """
    now = time.monotonic()
    stage_end = now + min(max(deadline - now, 0.0) * _SYMBOLIC_SHARE, _SYMBOLIC_MAX_SECONDS)
    open_pairs = []
    for k, pair in enumerate(pairs):
        share = max(stage_end - time.monotonic(), 0.0) / (len(pairs) - k)
        if not (share > 0 and _symbolic_is_safe(pair[1]) and _symbolic_is_safe(pair[2])
                and _proves_zero(pair[1] - pair[2], share)):
            open_pairs.append(pair)
    return open_pairs


def _proves_zero(d, seconds: float) -> bool:
    for attempt, part in ((_expands_to_zero, 0.25), (_simplifies_to_zero, 1.0)):
        finished, zero = _run_limited(lambda: attempt(d), seconds * part)
        if finished and zero:
            return True
    return False


def _expands_to_zero(d) -> bool:
    try:
        return sympy.expand(sympy.together(d)) == 0
    except Exception:  # a failing rewrite just leaves the next attempt
        return False


def _simplifies_to_zero(d) -> bool:
    try:
        return sympy.simplify(d) == 0
    except Exception:
        return False


def _symbolic_is_safe(expr) -> bool:
    """False for inputs where simplify could allocate huge polynomials or exact numbers."""
    for n, node in enumerate(sympy.preorder_traversal(expr)):
        if n > _SYMBOLIC_MAX_NODES:
            return False
        if isinstance(node, sympy.Pow):
            base, exp = node.args
            if base.is_Number and exp.is_Number:
                return False  # an unevaluated numeric power: evaluating it may never finish
            if exp.is_Rational and max(abs(exp.p), abs(exp.q)) > _SYMBOLIC_MAX_EXPONENT:
                return False
    return True


# --- stage 3: random points -----------------------------------------------------------------

_AGREE, _DIFFER, _UNSURE, _UNDEFINED = "agree", "differ", "unsure", "undefined"


class _Undefined(Exception):
    """A side has no finite value at this point (division by zero, overflow, nan)."""


class _NumericStage:
    """Random-point comparison of the open pairs; keeps its random stream and tallies across
    :meth:`run` calls, and reports agreements to ``progress`` as they happen."""

    def __init__(self, pairs: list, seed: int, progress: _Progress):
        self.rng = random.Random(seed)
        self.ctx = mpmath.MPContext()  # private: the global mpmath precision is never touched
        self.progress = progress
        self.counts = {_UNDEFINED: 0, _UNSURE: 0, "a": 0, "b": 0, "both": 0}
        self.attempts = 0
        self.set_pairs(pairs)

    def set_pairs(self, pairs: list) -> None:
        self.pairs = pairs
        exprs = [side for _, ai, bi in pairs for side in (ai, bi)]
        self.syms = sorted(set().union(*(_free_symbols(e) for e in exprs)), key=sympy.default_sort_key)
        self.undefined = _undefined_functions(exprs)
        self.exprs = exprs if self.undefined else [_doit_if_needed(e) for e in exprs]
        self.rtol = _tolerance(exprs)

    def run(self, n_points: int):
        """Sample until ``n_points`` points agree or the attempts run out.

        Returns ``(entry, point, va, vb, tests, ctx)`` for a counterexample, else None.
        """
        while self.progress.agreed < n_points and self.attempts < 4 * n_points + 8:
            self.attempts += 1
            point = _sample(self.syms, self.rng, self.ctx)
            tests = _random_functions(self.undefined, self.rng)
            exprs = [_concretize(e, tests) for e in self.exprs] if tests else self.exprs
            verdict = _compare_point(exprs, point, self.ctx, self.rtol)
            if verdict[0] == _AGREE:
                self.progress.agreed += 1
            elif verdict[0] == _DIFFER:
                k, va, vb = verdict[1:]
                return self.pairs[k][0], point, va, vb, tests, self.ctx
            else:
                self.counts[verdict[0]] += 1
                if verdict[0] == _UNDEFINED:
                    self.counts[verdict[1]] += 1
        return None

    def verdict(self, n_points: int, labels: tuple) -> Equivalence:
        """Equal, undefined on one side only, or undecided, from the tallies."""
        la, lb = labels
        agreed, counts = self.progress.agreed, self.counts
        if agreed >= n_points:
            digits = int(round(-math.log10(self.rtol)))
            return Equivalence(True, "numeric", f"{la} and {lb} agree to {digits} significant digits at "
                                                f"{agreed} random points")
        if (agreed == 0 and counts[_UNSURE] == 0 and counts[_UNDEFINED] > 0
                and counts[_UNDEFINED] in (counts["a"], counts["b"])):
            lab, other = (la, lb) if counts["a"] else (lb, la)
            return Equivalence(False, "numeric", f"{lab} is undefined (division by zero or overflow) at "
                                                 f"every point tried, while {other} has a value there")
        return Equivalence(None, "numeric", f"could not decide: {la} and {lb} agreed at {agreed} of "
                                            f"{n_points} random points; at {counts[_UNDEFINED]} points "
                                            "a side was undefined (division by zero or overflow) and at "
                                            f"{counts[_UNSURE]} the values could not be computed accurately "
                                            "enough")


def _undefined_functions(exprs: list) -> dict:
    """Undefined functions (such as ``g``) by name, with their number of arguments."""
    found = {}
    for e in exprs:
        for app in e.atoms(AppliedUndef):
            found[app.func] = len(app.args)
    return dict(sorted(found.items(), key=lambda kv: str(kv[0])))


def _doit_if_needed(expr):
    """Evaluate leftover Derivative/Subs/Integral objects, unless that could build huge numbers."""
    if not expr.has(sympy.Derivative, sympy.Subs, sympy.Integral, sympy.Sum, sympy.Product):
        return expr
    if not _no_numeric_powers(expr):
        return expr
    try:
        return expr.doit()
    except (Exception, RecursionError):
        return expr


def _no_numeric_powers(expr) -> bool:
    return not any(isinstance(n, sympy.Pow) and n.base.is_Number and n.exp.is_Number
                   for n in sympy.preorder_traversal(expr))


def _random_functions(undefined: dict, rng: random.Random) -> dict:
    """A random smooth test function for each undefined function: a sine, an exponential and
    a quadratic with random rational coefficients, so that f, f', f'' are unrelated."""
    def c():
        return sympy.Rational(rng.randint(1, 9), rng.randint(2, 9)) * rng.choice((-1, 1))

    tests = {}
    for f, arity in undefined.items():
        us = sympy.symbols(f"u_1:{arity + 1}") if arity > 1 else (sympy.Symbol("u"),)
        lin1 = sum(c() * u for u in us) + c()
        lin2 = sum(c() * u for u in us)
        body = c() * sympy.sin(lin1) + c() * sympy.exp(lin2 / 2) + sum(c() * u ** 2 for u in us) + c()
        tests[f] = sympy.Lambda(us, body)
    return tests


def _concretize(expr, tests: dict):
    for f, lam in tests.items():
        expr = expr.replace(f, lam)
    try:
        return expr.doit()
    except (Exception, RecursionError):
        return expr


def _tolerance(exprs: list) -> float:
    """1e-30, or about 1e-10 when a float (known to ~16 digits) appears in the expressions."""
    precs = [f._prec for e in exprs for f in e.atoms(sympy.Float)]
    if not precs:
        return _RTOL
    return max(_RTOL, 2.0 ** (-min(precs) + 20))


def _sample(syms: list, rng: random.Random, ctx) -> dict:
    """Random real values (positive/negative/integer as the symbols' assumptions say)."""
    ctx.prec = bits = _bits(_DPS)
    point = {}
    for s in syms:
        if s.is_integer:
            lo = 1 if s.is_positive else 0 if s.is_nonnegative else -9
            hi = -1 if s.is_negative else 0 if s.is_nonpositive else 9
            point[s] = ctx.mpf(rng.randint(lo, hi))
            continue
        u = ctx.mpf(rng.getrandbits(bits)) / 2 ** bits
        size = ctx.power(10, -1 + 1.7 * u)                   # 0.1 .. 5, log-uniform
        if s.is_nonnegative:
            sign = 1
        elif s.is_nonpositive:
            sign = -1
        else:
            sign = rng.choice((-1, 1))
        point[s] = sign * size
    return point


def _bits(dps: int) -> int:
    return int(dps * 3.3219280948873626) + 4


def _compare_point(exprs: list, point: dict, ctx, rtol: float) -> tuple:
    """Compare every pair at one point: ``(_AGREE,)``, ``(_DIFFER, k, va, vb)``, ``(_UNSURE,)``
    or ``(_UNDEFINED, side)``.

    Each pair is evaluated at 50 digits; if the values are not close, at 100 and then 200
    digits. A difference that stays put as precision grows is real; one that shrinks with
    the precision is rounding error of a true zero.
    """
    verdict = (_AGREE,)
    for k in range(0, len(exprs), 2):
        result = _compare_pair(exprs[k], exprs[k + 1], point, ctx, rtol)
        if result[0] == _DIFFER:
            return (_DIFFER, k // 2, *result[1:])
        if result[0] != _AGREE and verdict[0] == _AGREE:
            verdict = result
    return verdict


def _compare_pair(ea, eb, point: dict, ctx, rtol: float) -> tuple:
    previous = None
    for dps in (_DPS, 2 * _DPS, 4 * _DPS):
        ctx.prec = _bits(dps)
        evaluate = _MpEvaluator(ctx, point)
        va, vb = _value(evaluate, ea), _value(evaluate, eb)
        if va is None or vb is None:
            if previous is not None:
                return (_UNSURE,)
            return (_UNDEFINED, "a" if vb is not None else "b" if va is not None else "both")
        diff = abs(va - vb)
        if diff <= rtol * max(abs(va), abs(vb)):
            return (_AGREE,)
        if previous is not None:
            if diff <= previous * ctx.mpf(2) ** (-_bits(dps) // 4):
                return (_AGREE,)       # vanishes as the precision grows: rounding error of a zero
            if abs(diff - previous) <= ctx.mpf(10) ** -6 * diff:
                return (_DIFFER, va, vb)
        previous = diff
    return (_UNSURE,)


def _value(evaluate, expr):
    try:
        return evaluate(expr)
    except (_Undefined, ZeroDivisionError, ValueError, OverflowError, TypeError, ArithmeticError,
            RecursionError):
        return None


def _counterexample(entry, point: dict, va, vb, tests: dict, ctx, labels: tuple) -> Equivalence:
    la, lb = labels
    where = ", ".join(f"{s} = {_fmt(ctx, v, 6)}" for s, v in point.items()) or "every point"
    reason = f"{la} and {lb} differ"
    if entry is not None:
        reason += f" in entry {list(entry)}"
    reason += (f": at {where}, {la} = {_fmt(ctx, va, 8)} but {lb} = {_fmt(ctx, vb, 8)} "
               f"(difference {_fmt(ctx, va - vb, 4)})")
    if tests:
        funcs = "; ".join(f"{f}({', '.join(map(str, lam.variables))}) = {lam.expr}" for f, lam in tests.items())
        reason += f" (with the test function {funcs})"
    return Equivalence(False, "numeric", reason,
                       point={s: _to_sympy_number(v) for s, v in point.items()},
                       values=(_to_sympy_number(va), _to_sympy_number(vb)), entry=entry)


def _fmt(ctx, v, digits: int) -> str:
    """A value for a message; astronomically large or small ones as a power of ten."""
    if v != 0 and abs(ctx.mag(v)) > 10_000:
        return f"about 10^({ctx.nstr(ctx.log10(abs(v)), 6)})"
    return ctx.nstr(v, digits)


def _to_sympy_number(v):
    if hasattr(v, "_mpc_"):
        return sympy.Float(v.real._mpf_, _DPS) + sympy.I * sympy.Float(v.imag._mpf_, _DPS)
    return sympy.Float(v._mpf_, _DPS)


# --- an mpmath evaluator that cannot blow up ----------------------------------------------

def _mp_heaviside(ctx, x, h0=None):
    if x > 0:
        return ctx.mpf(1)
    if x < 0:
        return ctx.mpf(0)
    if h0 is None:
        raise _Undefined("Heaviside(0)")
    return h0


def _mp_extreme(pick):
    def f(ctx, *values):
        if any(isinstance(v, ctx.mpc) for v in values):
            raise _Undefined("Max/Min of a complex number")
        return pick(values)
    return f


# functions whose mpmath evaluation needs working precision ~ log2|argument|: capped
_REDUCING = {sympy.exp, sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc, sympy.sinh,
             sympy.cosh, sympy.tanh, sympy.coth, sympy.sech, sympy.csch, sympy.gamma, sympy.loggamma,
             sympy.factorial, sympy.erf, sympy.erfc}

_MP_FUNCTIONS: dict = {
    sympy.exp: lambda ctx, x: ctx.exp(x), sympy.log: lambda ctx, x: ctx.ln(x),
    sympy.sin: lambda ctx, x: ctx.sin(x), sympy.cos: lambda ctx, x: ctx.cos(x),
    sympy.tan: lambda ctx, x: ctx.tan(x), sympy.cot: lambda ctx, x: ctx.cot(x),
    sympy.sec: lambda ctx, x: ctx.sec(x), sympy.csc: lambda ctx, x: ctx.csc(x),
    sympy.asin: lambda ctx, x: ctx.asin(x), sympy.acos: lambda ctx, x: ctx.acos(x),
    sympy.atan: lambda ctx, x: ctx.atan(x), sympy.acot: lambda ctx, x: ctx.acot(x),
    sympy.sinh: lambda ctx, x: ctx.sinh(x), sympy.cosh: lambda ctx, x: ctx.cosh(x),
    sympy.tanh: lambda ctx, x: ctx.tanh(x), sympy.coth: lambda ctx, x: ctx.coth(x),
    sympy.sech: lambda ctx, x: ctx.sech(x), sympy.csch: lambda ctx, x: ctx.csch(x),
    sympy.asinh: lambda ctx, x: ctx.asinh(x), sympy.acosh: lambda ctx, x: ctx.acosh(x),
    sympy.atanh: lambda ctx, x: ctx.atanh(x),
    sympy.Abs: lambda ctx, x: abs(x), sympy.sign: lambda ctx, x: ctx.sign(x),
    sympy.re: lambda ctx, x: ctx.re(x), sympy.im: lambda ctx, x: ctx.im(x),
    sympy.conjugate: lambda ctx, x: ctx.conj(x),
    sympy.floor: lambda ctx, x: ctx.floor(x), sympy.ceiling: lambda ctx, x: ctx.ceil(x),
    sympy.erf: lambda ctx, x: ctx.erf(x), sympy.erfc: lambda ctx, x: ctx.erfc(x),
    sympy.gamma: lambda ctx, x: ctx.gamma(x), sympy.loggamma: lambda ctx, x: ctx.loggamma(x),
    sympy.factorial: lambda ctx, x: ctx.factorial(x),
    sympy.atan2: lambda ctx, y, x: ctx.atan2(y, x),
    sympy.Heaviside: _mp_heaviside,
    sympy.Max: _mp_extreme(max), sympy.Min: _mp_extreme(min),
}


class _MpEvaluator:
    """Evaluate a SymPy tree with a private mpmath context at one point.

    Iterative (deep nesting cannot overflow the stack) and memoised on subtrees (network
    expressions repeat the same ``in`` many times). Every value is checked to be finite, and
    exp, sin, ... refuse arguments with more than ``_MAX_ARG_MAG`` bits of exponent, which
    would otherwise need that many bits of working precision.
    """

    def __init__(self, ctx, point: dict):
        self.ctx = ctx
        self.cache = dict(point)

    def __call__(self, expr):
        cache = self.cache
        stack = [expr]
        while stack:
            node = stack[-1]
            if node in cache:
                stack.pop()
                continue
            if self._descends(node):
                pending = [arg for arg in node.args if arg not in cache]
                if pending:
                    stack.extend(pending)
                    continue
                cache[node] = self._finite(self._apply(node, [cache[arg] for arg in node.args]))
            else:
                cache[node] = self._finite(self._leaf(node))
            stack.pop()
        return cache[expr]

    @staticmethod
    def _descends(node) -> bool:
        return isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)) or type(node) in _MP_FUNCTIONS

    def _finite(self, v):
        ctx = self.ctx
        parts = (v.real, v.imag) if isinstance(v, ctx.mpc) else (v,)
        if not all(ctx.isfinite(p) for p in parts):
            raise _Undefined("not finite")
        return v

    def _apply(self, node, values: list):
        ctx = self.ctx
        if isinstance(node, sympy.Add):
            return ctx.fsum(values)
        if isinstance(node, sympy.Mul):
            return ctx.fprod(values)
        if isinstance(node, sympy.Pow):
            return self._power(node, *values)
        if type(node) in _REDUCING and any(ctx.mag(v) > _MAX_ARG_MAG for v in values):
            raise _Undefined("argument too large")
        return _MP_FUNCTIONS[type(node)](ctx, *values)

    def _power(self, node, base, exponent):
        ctx = self.ctx
        if node.exp.is_Integer:                       # exact integer power: fast binary powering
            n = int(node.exp)
            if base == 0 and n < 0:
                raise _Undefined("division by zero")
            return base ** n
        if base == 0:
            if ctx.re(exponent) > 0:
                return ctx.mpf(0)
            raise _Undefined("0 to a non-positive power")
        if ctx.mag(exponent) + max(ctx.mag(ctx.ln(abs(base))), 0) > _MAX_ARG_MAG:
            raise _Undefined("power too large")
        return ctx.power(base, exponent)

    def _leaf(self, node):
        ctx = self.ctx
        if isinstance(node, sympy.Integer):
            return ctx.mpf(int(node))
        if isinstance(node, sympy.Rational):
            return ctx.mpf(node.p) / node.q
        if isinstance(node, sympy.Float):
            return ctx.make_mpf(node._mpf_)
        if node.free_symbols:
            return self._fallback(node)
        return self._number(node.evalf(_dps_of(ctx) + 5))

    def _fallback(self, node):
        """Anything the table does not know (Piecewise, Bessel functions, ...): SymPy's evalf."""
        subs = {s: sympy.Float._new(self.cache[s]._mpf_, self.ctx.prec) for s in node.free_symbols
                if s in self.cache}
        return self._number(node.evalf(_dps_of(self.ctx) + 5, subs=subs))

    def _number(self, value):
        ctx = self.ctx
        if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise _Undefined(f"no finite value: {value}")
        re, im = value.as_real_imag()
        re, im = sympy.Float(re, _dps_of(ctx)), sympy.Float(im, _dps_of(ctx))
        if not (isinstance(re, sympy.Float) and isinstance(im, sympy.Float)):
            raise _Undefined(f"no finite value: {value}")
        if im == 0:
            return ctx.make_mpf(re._mpf_)
        return ctx.mpc(ctx.make_mpf(re._mpf_), ctx.make_mpf(im._mpf_))


def _dps_of(ctx) -> int:
    return int(ctx.prec / 3.3219280948873626)
