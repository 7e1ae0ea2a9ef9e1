r"""The published worked example, reproduced through the public API.

Matt Mazur, *A Step by Step Backpropagation Example* (2015,
https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/), works one
update of a 2-2-2 sigmoid network with squared error by hand. Its names map onto the
course's notation as follows (``W[l][j, i]`` is the weight from unit ``j`` of layer
``l - 1`` to unit ``i`` of layer ``l``, counted from 0)::

    inputs  i1, i2  = a[0] = X = [0.05, 0.10]        targets T = [0.01, 0.99]
    hidden  h1, h2  = units 0, 1 of layer 1          net_h = in[1], out_h = a[1]
    outputs o1, o2  = units 0, 1 of layer 2          net_o = in[2], out_o = a[2] = O

    w1: i1 -> h1 = W[1][0, 0] = 0.15    w5: h1 -> o1 = W[2][0, 0] = 0.40
    w2: i2 -> h1 = W[1][1, 0] = 0.20    w6: h2 -> o1 = W[2][1, 0] = 0.45
    w3: i1 -> h2 = W[1][0, 1] = 0.25    w7: h1 -> o2 = W[2][0, 1] = 0.50
    w4: i2 -> h2 = W[1][1, 1] = 0.30    w8: h2 -> o2 = W[2][1, 1] = 0.55
    b1 = b[1] = [0.35, 0.35]            b2 = b[2] = [0.60, 0.60]

    Mazur's δ_o = ∂E/∂net_o is the libraries' δ, the course's Δ = −δ.

The example updates the eight weights with learning rate 0.5 and keeps the biases fixed.

>>> from backprop_lab import examples
>>> new = examples.by_name(examples.one_update())
>>> round(new["w5"], 8), round(new["w1"], 9)
(0.35891648, 0.149780716)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ._fence import check, reference
from ._validation import as_count
from .activations import get_activation
from .mlp import MLP

__all__ = ["WorkedExample", "WEIGHT_NAMES", "PUBLISHED", "SOURCE", "worked_example", "network",
           "one_update", "by_name", "iterate", "report"]

Array = np.ndarray

SOURCE = "Matt Mazur, A Step by Step Backpropagation Example (2015), " \
         "https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/"

#: Mazur's weight names -> ``(l, j, i)``: ``W[l][j, i]`` with ``l`` counted from 1 as in the
#: course, so the array is ``net.weights[l - 1][j, i]``.
WEIGHT_NAMES: Mapping[str, tuple[int, int, int]] = MappingProxyType({
    "w1": (1, 0, 0), "w2": (1, 1, 0), "w3": (1, 0, 1), "w4": (1, 1, 1),
    "w5": (2, 0, 0), "w6": (2, 1, 0), "w7": (2, 0, 1), "w8": (2, 1, 1),
})

#: The numbers as printed in the article (rounded there to 8 or 9 decimals). Keys use the
#: article's names; ``"w5+"`` is w5 after the update.
PUBLISHED: Mapping[str, float] = MappingProxyType({
    # forward pass
    "net_h1": 0.3775,
    "out_h1": 0.593269992,
    "out_h2": 0.596884378,
    "net_o1": 1.105905967,
    "out_o1": 0.75136507,
    "out_o2": 0.772928465,
    "E_o1": 0.274811083,
    "E_o2": 0.023560026,
    "E_total": 0.298371109,
    # backward pass, output layer
    "dE_total/dout_o1": 0.74136507,
    "dout_o1/dnet_o1": 0.186815602,
    "dE_total/dw5": 0.082167041,
    "delta_o1": 0.138498562,
    # backward pass, hidden layer
    "dE_o1/dout_h1": 0.055399425,
    "dE_o2/dout_h1": -0.019049119,
    "dE_total/dout_h1": 0.036350306,
    "dout_h1/dnet_h1": 0.241300709,
    "dE_total/dw1": 0.000438568,
    # the updated weights
    "w1+": 0.149780716, "w2+": 0.19956143, "w3+": 0.24975114, "w4+": 0.29950229,
    "w5+": 0.35891648, "w6+": 0.408666186, "w7+": 0.511301270, "w8+": 0.561370121,
    # after more updates (see iterate(): these are not all reproduced exactly)
    "E_total after 1 update": 0.291027924,
    "E_total after 10000 updates": 0.0000351085,
    "out_o1 after 10000 updates": 0.015912196,
    "out_o2 after 10000 updates": 0.984065734,
})


@dataclass(frozen=True, eq=False)
class WorkedExample:
    """Everything needed to redo the example (fresh copies on every :func:`worked_example` call).

    Attributes
    ----------
    X : ndarray, shape (1, 2)
        The one sample ``[[i1, i2]] = [[0.05, 0.10]]``.
    T : ndarray, shape (1, 2)
        Its targets ``[[0.01, 0.99]]``.
    weights : list of ndarray, shapes (2, 2) and (2, 2)
        ``[W[1], W[2]]`` in ``(fan_in, fan_out)`` form (see :data:`WEIGHT_NAMES`).
    biases : list of ndarray, shapes (2,) and (2,)
        ``[b[1], b[2]] = [[0.35, 0.35], [0.60, 0.60]]``.
    lr : float
        Learning rate α = 0.5.
    activation, loss : str
        ``"sigmoid"`` in both layers, ``"squared_error"``.
    published : mapping of str to float
        :data:`PUBLISHED`, the article's numbers.
    """

    X: Array
    T: Array
    weights: list
    biases: list
    lr: float = 0.5
    activation: str = "sigmoid"
    loss: str = "squared_error"
    published: Mapping[str, float] = field(default_factory=lambda: PUBLISHED)

    @reference("examples.worked_example")
    def network(self) -> MLP:
        """A fresh :class:`~backprop_lab.MLP` holding these weights and biases."""
        check()
        return MLP.from_params(self.weights, self.biases, activation=self.activation, loss=self.loss)


@reference("examples.worked_example")
def worked_example() -> WorkedExample:
    """The example's inputs, targets, initial parameters and learning rate.

    Returns
    -------
    WorkedExample
        New arrays on every call, so changing them changes nothing elsewhere.
    """
    check()
    return WorkedExample(
        X=np.array([[0.05, 0.10]]),
        T=np.array([[0.01, 0.99]]),
        weights=[np.array([[0.15, 0.25],
                           [0.20, 0.30]]),
                 np.array([[0.40, 0.50],
                           [0.45, 0.55]])],
        biases=[np.array([0.35, 0.35]), np.array([0.60, 0.60])],
    )


@reference("examples.network")
def network() -> MLP:
    """The 2-2-2 sigmoid network of the example with its initial weights and biases."""
    check()
    return worked_example().network()


@reference("examples.one_update")
def _weights_only_step(net: MLP, X: Array, T: Array, lr: float) -> None:
    """``W ← W − α dE/dW`` for every layer, gradients from the weights before the update;
    the biases stay as they are (as in the article)."""
    check()
    dW, _ = net.gradients(X, T)
    for W, g in zip(net.weights, dW):
        W -= lr * g


@reference("examples.one_update")
def one_update(net: MLP | None = None) -> list[Array]:
    """The weights after the example's single update (biases unchanged).

    Parameters
    ----------
    net : MLP, optional
        Start from these weights instead of the example's; it is not modified.

    Returns
    -------
    list of ndarray
        ``[W[1], W[2]]`` after ``W ← W − α ∂E/∂W`` with α = 0.5, all gradients taken from
        the weights before the update. :func:`by_name` turns them into ``{"w1": ...}``.
    """
    check()
    ex = worked_example()
    net = ex.network() if net is None else net.copy()
    _weights_only_step(net, ex.X, ex.T, ex.lr)
    return net.weights


def by_name(weights) -> dict[str, float]:
    """``{"w1": ..., ..., "w8": ...}`` from ``[W[1], W[2]]`` (or an :class:`MLP`)."""
    if isinstance(weights, MLP):
        weights = weights.weights
    if not (isinstance(weights, (list, tuple)) and len(weights) == 2
            and all(np.shape(W) == (2, 2) for W in weights)):
        raise ValueError("weights must be [W[1], W[2]], two arrays of shape (2, 2), as returned by one_update()")
    return {name: float(weights[l - 1][j, i]) for name, (l, j, i) in WEIGHT_NAMES.items()}


@reference("examples.iterate")
def iterate(n_updates: int = 10000, update_biases: bool = False) -> tuple[MLP, Array]:
    """Repeat the example's update ``n_updates`` times on its one sample.

    Parameters
    ----------
    n_updates : int
        Number of updates.
    update_biases : bool
        ``False`` (the article's rule): weights only. ``True``: :meth:`MLP.step`, which
        also moves the biases and learns much faster.

    Returns
    -------
    net : MLP
        The network after the updates.
    errors : ndarray, shape (n_updates + 1,)
        ``errors[k]`` is ``E_total`` after ``k`` updates (``errors[0] = 0.298371109...``).

    Notes
    -----
    With weights only, ``errors[9999] = 3.5108548e-05`` is the article's "after 10,000
    iterations" 0.0000351085 (its loop presumably printed the error measured before the
    10,000th update); ``errors[10000] = 3.5101878e-05``. The article's outputs after
    10,000 iterations (0.015912196, 0.984065734) match neither exactly; they sit between
    10,002 and 10,003 updates. Its error after one update, 0.291027924, differs from
    ``errors[1] = 0.291027774`` by 1.5e-7, although the eight updated weights it prints
    agree with ours to 1e-8.
    """
    check()
    n_updates = as_count(n_updates, "n_updates", 0, "updates of the worked example")
    ex = worked_example()
    net = ex.network()
    errors = np.empty(int(n_updates) + 1)
    errors[0] = net.loss(ex.X, ex.T)
    for k in range(1, int(n_updates) + 1):
        if update_biases:
            net.step(ex.X, ex.T, ex.lr)
        else:
            _weights_only_step(net, ex.X, ex.T, ex.lr)
        errors[k] = net.loss(ex.X, ex.T)
    return net, errors


def _v(x) -> str:
    """A row vector with 9 decimals, the article's precision."""
    return "[" + ", ".join(f"{v:.9f}" for v in np.ravel(x)) + "]"


def _m(W) -> str:
    """A matrix, row by row, with 9 decimals."""
    return "[" + ", ".join(_v(row) for row in np.atleast_2d(W)) + "]"


def report(n_updates: int = 10000) -> str:
    """Every number of the example, step by step, in the course's notation.

    Parameters
    ----------
    n_updates : int
        Also train for this many (weights-only) updates and report the error; 0 skips it.

    Returns
    -------
    str
        Forward pass (``in``, ``a``, ``E``), backward pass (``Err``, ``Δ``, ``∂E/∂W``) and
        the update of w1..w8 next to the published values.
    """
    ex = worked_example()
    net = ex.network()
    tr = net.trace(ex.X, ex.T)
    dW, _ = net.gradients(ex.X, ex.T)
    new = by_name(one_update())
    g = get_activation(ex.activation)
    P = ex.published
    per_output = 0.5 * (ex.T - tr.O) ** 2
    lines = [
        "Worked example: " + SOURCE,
        "2-2-2 network, sigmoid g in both layers, squared error E = ½ Σ (t − o)², learning rate α = 0.5",
        "Notation: W[l][j, i] is the weight from unit j to unit i of layer l; Δ = −∂E/∂in (Mazur's δ = −Δ)",
        "",
        f"a[0] = X = {_v(ex.X)}        T = {_v(ex.T)}",
        f"W[1] = {_m(ex.weights[0])}   (rows j = i1, i2; columns i = h1, h2)",
        f"W[2] = {_m(ex.weights[1])}   (rows j = h1, h2; columns i = o1, o2)",
        f"b[1] = {_v(ex.biases[0])}   b[2] = {_v(ex.biases[1])}",
        "",
        "Forward pass: in[l] = a[l-1] @ W[l] + b[l],  a[l] = g(in[l])",
        f"  in[1] = {_v(tr[1].in_)}   (net_h1, net_h2)",
        f"  a[1]  = {_v(tr[1].a)}   (out_h1, out_h2; published {P['out_h1']}, {P['out_h2']})",
        f"  in[2] = {_v(tr[2].in_)}   (net_o1, net_o2)",
        f"  a[2]  = {_v(tr[2].a)}   (out_o1, out_o2; published {P['out_o1']}, {P['out_o2']})",
        f"  E = ½ Σ (t − o)² = {per_output[0, 0]:.9f} + {per_output[0, 1]:.9f} = {tr.loss:.9f}"
        f"   (published E_total = {P['E_total']})",
        "",
        "Backward pass",
        f"  Err = T − O = {_v(tr.Err)}",
        f"  g'(in[2]) = a[2] (1 − a[2]) = {_v(g.derivative(tr[2].in_))}",
        f"  Δ[2] = Err ⊙ g'(in[2]) = {_v(tr[2].Delta)}   (δ_o1 = −Δ[2][0] = {-tr[2].Delta[0, 0]:.9f})",
        f"  Δ[2] @ W[2].T = {_v(tr[2].Delta @ ex.weights[1].T)}   (= −∂E/∂a[1]; "
        f"published ∂E_total/∂out_h1 = {P['dE_total/dout_h1']})",
        f"  g'(in[1]) = {_v(g.derivative(tr[1].in_))}",
        f"  Δ[1] = g'(in[1]) ⊙ (Δ[2] @ W[2].T) = {_v(tr[1].Delta)}",
        "  ∂E/∂W[l][j, i] = −a[l-1]_j Δ[l]_i:",
        f"    ∂E/∂W[2] = {_m(dW[1])}   (∂E/∂w5 published {P['dE_total/dw5']})",
        f"    ∂E/∂W[1] = {_m(dW[0])}   (∂E/∂w1 published {P['dE_total/dw1']})",
        "",
        "Update W ← W − α ∂E/∂W (= W + α a Δ), all from the weights before the update; biases fixed",
        f"  {'name':<4}  {'W[l][j, i]':<10}   {'old':>9}  {'∂E/∂w':>12}  {'new':>11}  published",
    ]
    for name, (l, j, i) in WEIGHT_NAMES.items():
        lines.append(f"  {name:<4}  W[{l}][{j}, {i}]   {ex.weights[l - 1][j, i]:9.6f}  {dW[l - 1][j, i]:12.9f}"
                     f"  {new[name]:.9f}  {P[name + '+']}")
    after = MLP.from_params(one_update(), ex.biases)
    lines += ["", f"E after the update = {after.loss(ex.X, ex.T):.9f}   (published {P['E_total after 1 update']}; "
              "the article's figure is 1.5e-7 higher, although its weights agree)"]
    if n_updates:
        net_n, errors = iterate(n_updates)
        lines.append(f"E after {n_updates:,} weight-only updates = {errors[-1]:.10f}, "
                     f"O = {_v(net_n.forward(ex.X))}")
        if n_updates >= 9999:
            lines.append(f"  (after 9,999 updates E = {errors[9999]:.10f}; the article reports "
                         f"{P['E_total after 10000 updates']:.10f} after 10,000 iterations)")
    return "\n".join(lines)
