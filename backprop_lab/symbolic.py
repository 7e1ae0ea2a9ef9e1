r"""A small network in SymPy symbols, in the course's notation, and its deltas derived two ways.

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
  within a hard time limit, with a reason a student can act on; it and its verdict
  :class:`Equivalence` live in :mod:`backprop_lab.equivalence` and can be imported from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import sympy
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.matrices import ImmutableMatrix, MatrixBase

from ._fence import check, reference
from ._validation import as_float_array, as_index, as_int_list, check_finite, describe, lookup
from ._course_symbols import G, _symbol_tuple, sigmoid  # noqa: F401 (sigmoid and G are part of this API)
from .activations import ACTIVATIONS
from .losses import LOSSES, Loss
from .equivalence import Equivalence, equivalent  # re-exported: the notebooks import them from here

__all__ = ["SymbolicNet", "Layers", "Equivalence", "network", "sigmoid", "deltas_direct", "deltas_backprop",
           "weight_gradient", "bias_gradient", "substitute_params", "to_numpy", "equivalent"]

Expr = sympy.Expr
Matrix = ImmutableMatrix


# =====================================================================================
# Activations: each g with its derivative g', written as the course writes it
# =====================================================================================

@dataclass(frozen=True)
class _Activation:
    """One symbolic activation: ``g(in)`` and ``g'(in)`` written through ``in`` and ``a = g(in)``.

    Built from an entry of :data:`~backprop_lab.activations.ACTIVATIONS` (its ``symbolic`` form
    and its ``dg_from_a``, the form the course uses in back-propagation, for the sigmoid
    ``a (1 - a)``, so that comparing it with direct differentiation is a real test), or from
    an undefined function such as ``g``. Softmax couples the outputs of a layer
    (``elementwise=False``): its ``g`` is the numerator ``e^{in}``, which :func:`_activate`
    normalises, and it has no ``dg`` (the layer code handles its Jacobian).
    """

    name: str
    g: Callable[[Expr], Expr]
    dg: Callable[[Expr, Expr], Expr] | None
    elementwise: bool = True
    hidden_ok: bool = True


def _undefined_derivative(f: UndefinedFunction, z: Expr) -> Expr:
    """``f'(z)`` for an undefined ``f``: ``Subs(Derivative(f(u), u), u, z)``, printed as f'(z)."""
    u = sympy.Dummy("u")
    return sympy.Derivative(f(u), u).subs(u, z)


def _generic(f: UndefinedFunction) -> _Activation:
    return _Activation(f.__name__, f, lambda z, a: _undefined_derivative(f, z))


def _from_registry(act) -> _Activation:
    dg = (lambda z, a: act.dg_from_a(a)) if act.elementwise else None
    return _Activation(act.name, lambda z: act.symbolic(z, sympy), dg, act.elementwise, act.hidden_ok)


#: the registry's activations that have a SymPy form, and the generic ``g``
_ACTIVATIONS: dict[str, _Activation] = {
    **{name: _from_registry(act) for name, act in ACTIVATIONS.items() if act.symbolic is not None},
    "g": _generic(G),
}
#: the registry's losses that have a SymPy form
_LOSSES: dict[str, Loss] = {name: loss for name, loss in LOSSES.items() if loss.symbolic is not None}


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
    a = row.applyfunc(act.g)
    return a if act.elementwise else a / sum(a)       # softmax: o_i = e^{in_i} / Σ_k e^{in_k}


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

    @reference("symbolic.SymbolicNet.g_prime")
    def g_prime(self, l: int) -> Matrix:
        r"""``g'(in[l])`` of every unit of layer ``l``, shape (1, n_l), as the course writes it.

        :math:`a(1-a)` for the sigmoid, :math:`1 - a^2` for tanh, 1 for the identity and
        :math:`g'(in)` (a ``Subs`` of a ``Derivative``) for an undefined ``g``.

        Raises
        ------
        ValueError
            For a softmax layer, whose derivative is a Jacobian, not one number per unit.
        """
        check()
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


@reference("symbolic.network")
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
    check()
    sizes = tuple(as_int_list(layer_sizes, "layer_sizes"))
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
    loss_entry = lookup(_LOSSES, loss, "loss")
    hidden = _get_activation(activation, "activation")
    if not hidden.hidden_ok:
        ok = [n for n, act in _ACTIVATIONS.items() if act.hidden_ok]
        raise ValueError(f"{hidden.name} can only be an output activation; choose "
                         f"{', '.join(ok[:-1])} or {ok[-1]} for activation")
    if output_activation is None:
        output_activation = loss_entry.requires or activation
    output = _get_activation(output_activation, "output_activation")
    need = loss_entry.requires
    if need is not None and output.name != need:
        free = next(n for n, entry in _LOSSES.items() if entry.requires is None)
        raise ValueError(f"loss {loss_entry.name!r} is defined on a {need} output, got "
                         f"output_activation={output.name!r}; use {need!r} (or loss={free!r})")
    loss = loss_entry.name

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
    """``E`` of one sample from the output row ``o`` and the targets ``t`` (shape (1, n_L))."""
    return _LOSSES[loss].symbolic(o, t, sympy)


# =====================================================================================
# Derivations
# =====================================================================================

@reference("symbolic.deltas_direct")
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
    check()
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


@reference("symbolic.deltas_backprop")
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
    check()
    _check_net(net)
    L = net.L
    deltas = Layers({L: _output_delta(net)})
    for l in range(L - 1, 0, -1):                     # Δ_j = g'(in_j) Σ_i W_{j,i} Δ_i
        deltas[l] = net.g_prime(l).multiply_elementwise(deltas[l + 1] * net.W[l + 1].T)
    return Layers(sorted(deltas.items()))


@reference("symbolic.deltas_backprop")
def _output_delta(net: SymbolicNet) -> Matrix:
    check()
    o, t, err = net.O, net.t, net.Err
    if net._output.elementwise:                       # Δ_i = Err_i g'(in_i)
        return err.multiply_elementwise(net.g_prime(net.L))
    if _LOSSES[net.loss].fused_delta:                 # its canonical output: Δ_i = t_i − o_i Σ_k t_k
        return t - o * sum(t)
    s = sum(ok * ek for ok, ek in zip(o, err))         # softmax Jacobian: o_i (Err_i − Σ_k o_k Err_k)
    return o.multiply_elementwise(err - Matrix.ones(1, len(o)) * s)


@reference("symbolic.weight_gradient")
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
    check()
    _check_net(net)
    l = _check_layer(net, l)
    j = _check_unit(j, "j", net.layer_sizes[l - 1], f"units of layer {l - 1}")
    i = _check_unit(i, "i", net.layer_sizes[l], f"units of layer {l}")
    return sympy.diff(net.E, net.W[l][j - 1, i - 1])


@reference("symbolic.bias_gradient")
def bias_gradient(net: SymbolicNet, l: int, i: int) -> Expr:
    r""":math:`\partial E / \partial b^{(l)}_i` by direct differentiation (``i`` from 1)."""
    check()
    _check_net(net)
    l = _check_layer(net, l)
    i = _check_unit(i, "i", net.layer_sizes[l], f"units of layer {l}")
    return sympy.diff(net.E, net.b[l][0, i - 1])


def _check_net(net) -> None:
    if not isinstance(net, SymbolicNet):
        raise TypeError(f"net must be a SymbolicNet from backprop_lab.symbolic.network(), got {describe(net)}")


def _check_layer(net: SymbolicNet, l) -> int:
    l = as_index(l, "l", f"an integer layer number 1..{net.L}")
    if not 1 <= l <= net.L:
        raise ValueError(f"l is {l}; layers are numbered 1..{net.L} as in the course")
    return l


def _check_unit(k, name: str, n: int, what: str) -> int:
    k = as_index(k, name, f"an integer unit number 1..{n}")
    if not 1 <= k <= n:
        raise ValueError(f"{name} is {k}; the {what} are numbered 1..{n} as in the course")
    return k


# =====================================================================================
# NumPy bridge
# =====================================================================================

@reference("symbolic.substitute_params")
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
    check()
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


@reference("symbolic.to_numpy")
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
    check()
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
