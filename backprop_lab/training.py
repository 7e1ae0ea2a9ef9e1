"""Training the reference network: one gradient-descent step, and ``fit`` with its stopping rule.

This is the fast path. :meth:`MLP.gradients <backprop_lab.MLP.gradients>` returns ``dE/dW``
as new arrays, for reading and checking; a training step instead subtracts each layer's
``α · dE/dW`` from its weights as soon as back-propagation has used them
(:meth:`MLP._backprop <backprop_lab.MLP._backprop>` yields one layer at a time, top first),
so every gradient still comes from the weights as they were before the step.

:meth:`MLP.step <backprop_lab.MLP.step>` and :meth:`MLP.fit <backprop_lab.MLP.fit>` call
:func:`step` and :func:`fit`; the functions take the network first.
"""

from __future__ import annotations

import math
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._fence import check, reference
from ._validation import as_count, as_non_negative, as_positive, as_seed

__all__ = ["History", "fit", "step"]

Array = np.ndarray

#: network -> one array per layer that its training steps write dW into
_gradient_buffers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class History:
    """What :meth:`MLP.fit` did, epoch by epoch.

    Attributes
    ----------
    loss : list of float
        Training loss per epoch: the mean of the mini-batch losses, each measured before
        its update.
    val_loss : list of float
        Loss on ``validation_data`` after each epoch (empty without validation data).
    stop_reason : str
        ``"completed"``, ``"converged"`` (the stopping rule fired), ``"callback"`` or
        ``"diverged"`` (the loss became NaN or infinite).
    lr, batch_size : float, int
    """

    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    stop_reason: str = "completed"
    lr: float = 0.0
    batch_size: int = 0

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.loss)

    @property
    def diverged(self) -> bool:
        return self.stop_reason == "diverged"

    def __repr__(self) -> str:
        last = f", last loss {self.loss[-1]:.6g}" if self.loss else ""
        val = f", last val_loss {self.val_loss[-1]:.6g}" if self.val_loss else ""
        return f"History({self.epochs} epochs{last}{val}, stop_reason={self.stop_reason!r})"


@reference("MLP.step")
def step(net, X: Array, T: Array, lr: float) -> float:
    """One in-place step ``W ← W − lr · dE/dW`` (and the biases) on a checked batch.

    Parameters
    ----------
    net : MLP
    X : ndarray, shape (n_samples, n_features), already checked (``net._check_X``)
    T : ndarray, shape (n_samples, n_outputs), the checked targets
    lr : float

    Returns
    -------
    float
        The batch-mean loss before the step. If it is NaN or infinite no update is made.
    """
    check()
    acts, Z = net._forward(X)
    loss = net.loss_function.value(Z, acts[-1], T)
    if math.isfinite(loss):
        # the loss is a batch mean: scaling δ once by lr / n scales every gradient, so that
        # each layer's update is one subtraction
        for l, gW, gb in net._backprop(acts, T, lr / X.shape[0], _gradient_buffer(net)):
            net.weights[l] -= gW          # W[l] has already carried δ to the layer below
            net.biases[l] -= gb
    return loss


def _gradient_buffer(net) -> list:
    """Arrays of the shapes and dtypes of ``net.weights`` to write a step's ``dW`` into.

    A fresh 1024 × 1024 gradient costs its page faults at every step, about a quarter of a
    step at the benchmark's largest size (``benchmarks/bench_step.py``); at teaching sizes
    it makes no difference. They are made again when the weights' shapes change (weights
    set by hand) and go with the network (a weak reference, so the MLP holds no workspace).
    """
    bufs = _gradient_buffers.get(net)
    if bufs is None or [(b.shape, b.dtype) for b in bufs] != [(W.shape, W.dtype) for W in net.weights]:
        bufs = _gradient_buffers[net] = [np.empty_like(W) for W in net.weights]
    return bufs


@reference("MLP.fit")
def fit(net, X: Array, Y: Array, epochs: int = 100, lr: float = 0.1, batch_size: int | None = None,
        shuffle: bool = True, seed=None, validation_data: tuple | None = None,
        tol: float | None = None, patience: int = 10, progress: bool = True,
        callback: Callable | None = None) -> History:
    """Train ``net`` in place with (mini-batch) gradient descent; see :meth:`MLP.fit
    <backprop_lab.MLP.fit>` for the parameters."""
    check()
    from tqdm.auto import tqdm

    lr = as_positive(lr, "lr", "the learning rate α")
    epochs, patience = as_count(epochs, "epochs"), as_count(patience, "patience")
    if tol is not None:
        tol = as_non_negative(tol, "tol")
    X, T = net._check_XY(X, Y)
    n = X.shape[0]
    batch_size = min(n if batch_size is None else as_count(batch_size, "batch_size", 1, "or None for all samples"), n)
    val = None
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise TypeError("validation_data must be a pair (X_val, Y_val)")
        val = net._check_XY(*validation_data)
    rng = np.random.default_rng(as_seed(seed))
    hist = History(lr=lr, batch_size=batch_size)
    stop = _StoppingRule(tol, patience)
    # a diverging run overflows inside NumPy first; it is reported once, as "diverged"
    with np.errstate(over="ignore", invalid="ignore"), \
            tqdm(range(epochs), disable=not progress, desc="training", unit="epoch", leave=False) as bar:
        for epoch in bar:
            order = rng.permutation(n) if shuffle and batch_size < n else None
            total = 0.0
            for start in range(0, n, batch_size):
                idx = slice(start, start + batch_size) if order is None else order[start:start + batch_size]
                Xb, Tb = X[idx], T[idx]
                total += step(net, Xb, Tb, lr) * Xb.shape[0]
            epoch_loss = total / n
            hist.loss.append(epoch_loss)
            if val is not None:
                acts, Z = net._forward(val[0])
                hist.val_loss.append(net.loss_function.value(Z, acts[-1], val[1]))
            watched = hist.val_loss[-1] if val is not None else epoch_loss
            if not math.isfinite(watched):
                hist.stop_reason = "diverged"
                warnings.warn(f"training diverged at epoch {epoch + 1}: the loss became {watched}; "
                              f"try a smaller learning rate than {lr:g}", RuntimeWarning, stacklevel=3)
                break
            if progress:
                bar.set_postfix(loss=f"{epoch_loss:.4g}")
            if callback is not None and callback(epoch, hist, net):
                hist.stop_reason = "callback"
                break
            if stop(watched):
                hist.stop_reason = "converged"
                break
    return hist


class _StoppingRule:
    """Stop when the watched loss has not improved by more than ``tol`` for ``patience``
    epochs in a row (never, when ``tol`` is None)."""

    def __init__(self, tol: float | None, patience: int):
        self.tol, self.patience = tol, patience
        self.best, self.wait = math.inf, 0

    def __call__(self, loss: float) -> bool:
        if self.tol is None:
            return False
        if loss < self.best - self.tol:
            self.best, self.wait = loss, 0
        else:
            self.wait += 1
        return self.wait >= self.patience
