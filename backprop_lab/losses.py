r"""Loss functions: the value ``E`` and its gradient with respect to the output layer.

All losses are **averaged over the samples** of a batch and summed over the outputs, so
that for one sample the squared error is exactly :math:`E = \tfrac12 \sum_i (t_i - o_i)^2`.

Conventions (the course's notation): ``O`` (or ``a`` of the last layer) is the network
output, shape ``(n_samples, n_outputs)``; ``Z`` are the output layer's weighted sums
``in``, same shape; ``T`` are the targets, same shape (cross-entropy also takes integer
class labels of shape ``(n_samples,)``).

Cross-entropy and binary cross-entropy are computed from ``Z`` (logits) with log-sum-exp,
so they stay finite for any ``Z``; for their canonical output activations (softmax,
sigmoid) the output gradient is simply ``O - T`` per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._fence import check, reference
from ._validation import as_float_array, check_2d, check_finite, describe, lookup
from .activations import Activation

__all__ = ["logsumexp", "log_softmax", "Loss", "LOSSES", "get_loss", "squared_error", "cross_entropy",
           "binary_cross_entropy", "one_hot"]

Array = np.ndarray


@reference("losses.logsumexp")
def logsumexp(Z: Array) -> Array:
    """Row-wise ``log Σ_i exp(z_i)``, shape ``(n_samples,)``, without overflow."""
    check()
    m = Z.max(axis=1)
    s = np.exp(Z - m[:, None]).sum(axis=1)
    return m + np.log(s)


@reference("losses.log_softmax")
def log_softmax(Z: Array) -> Array:
    """Row-wise ``log softmax(z)``, shape of ``Z``, without overflow."""
    check()
    return Z - logsumexp(Z)[:, None]


# --- plain functions: value of the loss, mean over samples ----------------------------

@reference("losses.squared_error")
def squared_error(O: Array, T: Array) -> float:
    r"""``E = mean over samples of ½ Σ_i (t_i − o_i)²``.

    Parameters
    ----------
    O, T : ndarray, shape (n_samples, n_outputs)
        Network outputs and targets.
    """
    check()
    return _squared_error(*_pair(O, T, "O", "T"))


@reference("losses.cross_entropy")
def cross_entropy(Z: Array, T: Array, from_logits: bool = True) -> float:
    r"""``E = mean over samples of −Σ_i t_i log softmax(z)_i``.

    Parameters
    ----------
    Z : ndarray, shape (n_samples, n_classes)
        Logits (the output layer's ``in``); with ``from_logits=False``, probabilities (a zero
        probability for a target class gives an infinite loss, as it should).
    T : ndarray, shape (n_samples, n_classes) or (n_samples,)
        One-hot (or probability) rows, or integer class labels.
    """
    check()
    Z = as_float_array(Z, "Z")
    check_2d(Z, "Z", cols="classes")
    T = _class_targets(T, Z.shape[1], Z.shape[0], Z.dtype, "T")
    if from_logits:
        return _cross_entropy(Z, T)
    return -_xlogy(T, Z) / Z.shape[0]


@reference("losses.binary_cross_entropy")
def binary_cross_entropy(Z: Array, T: Array, from_logits: bool = True) -> float:
    r"""``E = mean over samples of −Σ_i [t_i log σ(z_i) + (1 − t_i) log(1 − σ(z_i))]``.

    Computed as ``max(z, 0) − z t + log(1 + e^{−|z|})``, finite for every ``z``.
    With ``from_logits=False``, ``Z`` holds probabilities.
    """
    check()
    Z, T = _pair(Z, T, "Z", "T")
    _check_unit_interval(T, "T")
    if not from_logits:
        return 0.0 - (_xlogy(T, Z) + _xlogy(1 - T, 1 - Z)) / Z.shape[0]
    return _binary_cross_entropy(Z, T)


# --- the formulas, once each: checked arrays in, the batch-mean loss out ----------------
# (the public functions above check their arguments; the MLP's targets are checked once,
# by Loss.targets, so its training steps call these directly)

@reference("losses.squared_error")
def _squared_error(O: Array, T: Array) -> float:
    """``O``, ``T`` of shape (n_samples, n_outputs)."""
    check()
    diff = T - O
    return 0.5 * float(np.einsum("ij,ij->", diff, diff)) / O.shape[0]


@reference("losses.cross_entropy")
def _cross_entropy(Z: Array, T: Array) -> float:
    """Logits ``Z`` and targets ``T`` (rows summing to 1) of shape (n_samples, n_classes)."""
    check()
    # -sum t log softmax(z) = sum_i t_i (logsumexp(z) - z_i), every term >= 0. Subtracting per
    # entry, not the batch's two sums, keeps huge logits (a diverging run) from cancelling
    # into a negative or zero loss.
    return float(np.einsum("ij,ij->", T, logsumexp(Z)[:, None] - Z)) / Z.shape[0]


@reference("losses.binary_cross_entropy")
def _binary_cross_entropy(Z: Array, T: Array) -> float:
    """Logits ``Z`` and 0/1 targets ``T`` of shape (n_samples, n_outputs)."""
    check()
    # max(z, 0) - z t + log(1 + e^{-|z|}): no overflow for any z
    return float(np.sum(np.maximum(Z, 0) - Z * T + np.log1p(np.exp(-np.abs(Z))))) / Z.shape[0]


@reference("losses.cross_entropy")
def _xlogy(T: Array, P: Array) -> float:
    """``Σ t log p`` with ``0 log 0 = 0``; ``-inf`` where a target has probability 0 (the
    true loss is then infinite: no clipping hides it)."""
    check()
    if P.size and (P.min() < 0 or P.max() > 1):
        raise ValueError(f"probabilities must lie in [0, 1]; got values from {P.min():g} to {P.max():g} "
                         "(pass logits with from_logits=True)")
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf, masked where t = 0
        return float(np.sum(np.where(T > 0, T * np.log(P), 0.0)))


@reference("losses.one_hot")
def one_hot(labels: Array, n_classes: int, dtype=np.float64, name: str = "labels") -> Array:
    """Integer labels ``(n_samples,)`` to one-hot rows ``(n_samples, n_classes)``."""
    check()
    labels = _int_labels(labels, n_classes, name)
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


# --- the Loss objects used by the MLP --------------------------------------------------

@dataclass(frozen=True)
class Loss:
    """A loss as the MLP uses it.

    Attributes
    ----------
    name : str
    requires : str or None
        The output activation this loss is defined on, and the MLP's default output
        activation (``None``: any; the default is then the hidden activation).
    latex : str
        Formula for notebooks.
    labels : callable or None
        ``labels(O) -> predictions`` from outputs ``O`` of shape (n_samples, n_outputs): 0/1
        labels of the shape of ``O`` for binary cross-entropy; ``None``: the outputs are the
        predictions, unless the output activation has its own ``labels`` (softmax, and so
        cross-entropy: argmax class labels ``(n_samples,)``).
    exclusive : bool
        Whether several outputs are the classes of one label (one-hot targets, compared by
        argmax in ``MLP.accuracy``); False: each output is an independent 0/1 label.
    symbolic : callable or None
        ``symbolic(o, t, sympy) -> E`` of one sample from sequences of SymPy expressions, for
        :mod:`backprop_lab.symbolic`; ``None``: not available symbolically.
    fused_delta : bool
        Whether the output δ is simply ``O − T`` (a loss on its canonical output activation);
        otherwise ``δ = (O − T) ⊙ g'`` (squared error: ``O − T`` is ``dE/dO``).
    """

    name: str
    requires: str | None
    latex: str
    _value: Callable[[Array, Array, Array], float]
    _targets: Callable[[object, int, int, np.dtype], Array]
    _fused_delta: bool
    labels: Callable[[Array], Array] | None = field(default=None, repr=False)
    exclusive: bool = True
    symbolic: Callable | None = field(default=None, repr=False)

    @property
    def fused_delta(self) -> bool:
        return self._fused_delta

    @reference("losses.Loss.targets")
    def targets(self, Y, n_samples: int, n_outputs: int, dtype=np.float64) -> Array:
        """Validate targets and return them as a float array ``(n_samples, n_outputs)``."""
        check()
        return self._targets(Y, n_outputs, n_samples, np.dtype(dtype))

    @reference("losses.Loss.value")
    def value(self, Z: Array, O: Array, T: Array) -> float:
        """Mean loss from the output layer's ``in`` (Z), ``a`` (O) and prepared targets T."""
        check()
        return self._value(Z, O, T)

    @reference("losses.Loss.delta")
    def delta(self, O: Array, T: Array, activation: Activation) -> Array:
        """Per-sample ``∂E_s/∂in`` of the output layer, shape ``(n_samples, n_outputs)``.

        This is the libraries' δ; the course's Δ is its negative.
        """
        check()
        grad = O - T  # squared error: dE/dO; canonical pairs: already dE/dZ
        if self._fused_delta:
            return grad
        return activation.backward(O, grad)

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


def _pair(O, T, o_name, t_name):
    O = as_float_array(O, o_name)
    T = as_float_array(T, t_name, dtype=O.dtype)
    check_2d(O, o_name, cols="outputs")
    if T.shape != O.shape:
        raise ValueError(f"{t_name} has shape {T.shape} but {o_name} has shape {O.shape}; "
                         "targets need one row per sample and one column per output")
    return O, T


def _check_unit_interval(T, name):
    if T.size and (T.min() < 0 or T.max() > 1):
        raise ValueError(f"{name} must lie in [0, 1] for binary cross-entropy; "
                         f"got values from {T.min():g} to {T.max():g}")


def _int_labels(labels, n_classes, name):
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D integer class labels (n_samples,); got {describe(arr)}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} holds non-integer values; class labels must be whole numbers 0..{n_classes - 1}")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"{name} has dtype {arr.dtype}; class labels must be integers 0..{n_classes - 1}")
    bad = np.flatnonzero((arr < 0) | (arr >= n_classes))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"{name}[{k}] is {arr[k]}, out of range: the network has {n_classes} outputs, "
                         f"so labels must be 0..{n_classes - 1} ({bad.size} label(s) out of range)")
    return arr


def _dense_targets(Y, n_outputs, n_samples, dtype, name="Y"):
    T = as_float_array(Y, name, dtype=dtype)
    if T.ndim == 1 and n_outputs == 1:
        raise ValueError(f"{name} must be 2-D (n_samples, n_outputs) = ({n_samples}, 1); got a 1-D "
                         f"array of shape {T.shape}: use {name}.reshape(-1, 1)")
    check_2d(T, name, cols="outputs")
    if T.shape != (n_samples, n_outputs):
        raise ValueError(f"{name} has shape {T.shape}; expected ({n_samples}, {n_outputs}): "
                         f"one row per sample of X and one column per network output")
    check_finite(T, name)
    return T


def _bce_targets(Y, n_outputs, n_samples, dtype, name="Y"):
    T = _dense_targets(Y, n_outputs, n_samples, dtype, name)
    _check_unit_interval(T, name)
    return T


def _class_targets(Y, n_outputs, n_samples, dtype, name="Y"):
    arr = np.asarray(Y)
    if arr.ndim == 1:
        if arr.shape[0] != n_samples:
            raise ValueError(f"{name} has {arr.shape[0]} labels but X has {n_samples} samples")
        return one_hot(arr, n_outputs, dtype, name)
    T = _dense_targets(arr, n_outputs, n_samples, dtype, name)
    if T.size and (T.min() < 0 or np.abs(T.sum(axis=1) - 1.0).max() > 1e-6):
        raise ValueError(f"{name} rows must be one-hot (or probabilities summing to 1) for cross-entropy; "
                         f"row sums range from {T.sum(axis=1).min():g} to {T.sum(axis=1).max():g}. "
                         "Integer labels of shape (n_samples,) are accepted too")
    return T


def _threshold(O: Array) -> Array:
    return (O >= 0.5).astype(np.int64)


def _symbolic_se(o, t, sp):
    return sp.Rational(1, 2) * sum((ti - oi) ** 2 for ti, oi in zip(t, o))


def _symbolic_ce(o, t, sp):
    return -sum(ti * sp.log(oi) for ti, oi in zip(t, o))


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("squared_error", None, r"E = \tfrac{1}{2} \sum_i (t_i - o_i)^2",
         lambda Z, O, T: _squared_error(O, T), _dense_targets, False,
         symbolic=_symbolic_se),
    Loss("cross_entropy", "softmax", r"E = -\sum_i t_i \log o_i",
         lambda Z, O, T: _cross_entropy(Z, T), _class_targets, True,
         symbolic=_symbolic_ce),
    Loss("binary_cross_entropy", "sigmoid", r"E = -\sum_i [t_i \log o_i + (1 - t_i) \log (1 - o_i)]",
         lambda Z, O, T: _binary_cross_entropy(Z, T), _bce_targets, True,
         labels=_threshold, exclusive=False),
)}


def get_loss(name: str | Loss) -> Loss:
    """Look a loss up by name: ``"squared_error"``, ``"cross_entropy"``, ``"binary_cross_entropy"``."""
    if isinstance(name, Loss):
        return name
    return lookup(LOSSES, name, "loss")
