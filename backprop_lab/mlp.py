r"""The reference multi-layer perceptron, in the course's notation.

A batch goes in at once, one sample per row and one feature per column. Layer ``l``
(``l = 1 .. L``) has weights ``W[l]`` of shape ``(fan_in, fan_out)`` and biases ``b[l]``
of shape ``(fan_out,)``, so ``W[l][j, i]`` is the weight :math:`W_{j,i}` from unit ``j``
to unit ``i``. (In Python the lists are 0-based: ``weights[0]`` is ``W[1]``.)

Forward pass::

    in[l] = a[l-1] @ W[l] + b[l]        a[0] = X
    a[l]  = g(in[l])                    a[L] = O, the prediction

Backward pass, two equivalent sign conventions that are never mixed silently:

* the course's :math:`\Delta = -\partial E / \partial in` (updates *add*)::

      Δ[L] = Err ⊙ g'(in[L])              Err = T - O (squared error)
      Δ[l] = g'(in[l]) ⊙ (Δ[l+1] @ W[l+1].T)
      W[l] ← W[l] + α a[l-1].T @ Δ[l] / n

* the libraries' :math:`\delta = \partial E / \partial in = -\Delta` (updates *subtract*),
  which :meth:`MLP.gradients` returns as ``dE/dW`` and :meth:`MLP.step` applies as
  ``W ← W − α dE/dW``.

:meth:`MLP.gradients` is the second (``MLP._backprop`` yields one layer's ``dE/dW`` at a
time) and :meth:`MLP.trace`, right beside it, shows every number of the first; the tests
check that they agree. Training, the fast path (a step that updates each layer as soon as
back-propagation has used it) and ``fit`` with its stopping rule, is
:mod:`backprop_lab.training`; the records a trace fills are :mod:`backprop_lab.trace`.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from ._fence import check, reference
from ._validation import (as_float_array, as_int_list, as_positive, as_samples, as_seed, check_finite,
                          describe, is_real)
from . import activations as _activations
from . import losses as _losses
from . import training as _training
from .activations import Activation, get_activation
from .losses import Loss, get_loss
from .trace import LayerTrace, Trace
from .training import History

__all__ = ["MLP", "History", "Trace", "LayerTrace"]

Array = np.ndarray
_INITS = ("auto", "xavier", "he", "normal")


class MLP:
    r"""A fully connected network trained with back-propagation.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first: ``[2, 2, 2]`` is 2 inputs, 2 hidden units, 2 outputs.
    activation : str or Activation
        Hidden-layer activation ``g``: a name in :data:`~backprop_lab.activations.ACTIVATIONS`
        whose entry has ``hidden_ok`` (e.g. ``"sigmoid"``, ``"relu"``; not ``"softmax"``).
    output_activation : str or Activation, optional
        Output activation. Default: the one the loss requires (``Loss.requires``: softmax
        for cross-entropy, sigmoid for binary cross-entropy), otherwise the hidden activation.
    loss : str or Loss
        A name in :data:`~backprop_lab.losses.LOSSES`: ``"squared_error"``,
        ``"cross_entropy"`` (softmax output), ``"binary_cross_entropy"`` (sigmoid output).
    init : str or float
        Weight initialisation: ``"xavier"`` (Glorot uniform), ``"he"`` (normal with
        variance ``2 / fan_in``), ``"normal"`` (standard normal) or a float: normal with that
        standard deviation. ``"auto"`` is the activation's ``Activation.init`` (``"he"`` for
        ReLU-like activations, else ``"xavier"``).
        Biases start at zero.
    seed : int or numpy Generator, optional
        Seed for the initial weights.
    dtype : numpy float dtype
        ``np.float64`` (default; gradient checks need it) or ``np.float32``.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` has shape ``(layer_sizes[l], layer_sizes[l + 1])``.
    biases : list of ndarray
        ``biases[l]`` has shape ``(layer_sizes[l + 1],)``.

    Examples
    --------
    >>> import numpy as np
    >>> from backprop_lab import MLP
    >>> net = MLP([2, 3, 1], seed=0)
    >>> net.forward(np.zeros((4, 2))).shape
    (4, 1)
    """

    def __init__(self, layer_sizes: Sequence[int], activation: str = "sigmoid",
                 output_activation: str | None = None, loss: str = "squared_error", *,
                 init: str | float = "auto", seed=None, dtype=np.float64):
        sizes = as_int_list(layer_sizes, "layer_sizes")
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
        self._configure(activation, output_activation, loss, dtype)
        rng = np.random.default_rng(as_seed(seed))
        self.weights = [self._init_weights(rng, init, m, n) for m, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(n, dtype=self.dtype) for n in sizes[1:]]

    @classmethod
    def from_params(cls, weights: Sequence[Array], biases: Sequence[Array] | None = None,
                    activation: str = "sigmoid", output_activation: str | None = None,
                    loss: str = "squared_error", dtype=None) -> "MLP":
        """Build a network from explicit arrays (they are copied).

        Parameters
        ----------
        weights : list of ndarray
            ``weights[l]`` of shape ``(fan_in, fan_out)``; consecutive shapes must chain.
        biases : list of ndarray, optional
            ``biases[l]`` of shape ``(fan_out,)``; zeros when omitted.
        dtype : float dtype, optional
            Defaults to float32 if every weight is float32, else float64.
        """
        if isinstance(weights, np.ndarray) or not isinstance(weights, (list, tuple)):
            raise TypeError(f"weights must be a list of 2-D arrays, one per layer; got {describe(weights)}")
        if len(weights) == 0:
            raise ValueError("weights is empty; expected one (fan_in, fan_out) array per layer")
        if dtype is None:
            dts = {np.asarray(w).dtype for w in weights}
            dtype = np.float32 if dts == {np.dtype(np.float32)} else np.float64
        net = cls.__new__(cls)
        net._configure(activation, output_activation, loss, dtype)
        net.weights = [as_float_array(w, f"weights[{l}]", net.dtype).copy() for l, w in enumerate(weights)]
        if biases is None:
            net.biases = [np.zeros(w.shape[1] if w.ndim == 2 else 0, dtype=net.dtype) for w in net.weights]
        else:
            if isinstance(biases, np.ndarray) or not isinstance(biases, (list, tuple)):
                raise TypeError(f"biases must be a list of 1-D arrays, one per layer; got {describe(biases)}")
            if len(biases) != len(weights):
                raise ValueError(f"got {len(weights)} weight arrays but {len(biases)} bias arrays; "
                                 "expected one of each per layer")
            net.biases = [as_float_array(b, f"biases[{l}]", net.dtype).copy() for l, b in enumerate(biases)]
        net._check_params()
        for l, (w, b) in enumerate(zip(net.weights, net.biases)):
            check_finite(w, f"weights[{l}]")
            check_finite(b, f"biases[{l}]")
        return net

    # --- configuration and checks -----------------------------------------------------

    def _configure(self, activation, output_activation, loss, dtype):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be np.float64 or np.float32, got {self.dtype}")
        self.loss_function: Loss = get_loss(loss)
        self.activation: Activation = get_activation(activation)
        if not self.activation.hidden_ok:
            raise ValueError(f"{self.activation.name} can only be an output activation; choose "
                             f"{_or(_activations.names(hidden=True))} for the hidden layers")
        if output_activation is None:
            output_activation = self.loss_function.requires or self.activation.name
        self.output_activation: Activation = get_activation(output_activation)
        need = self.loss_function.requires
        if need is not None and self.output_activation.name != need:
            raise ValueError(f"loss {self.loss_function.name!r} is defined on a {need} output, got "
                             f"output_activation={self.output_activation.name!r}; use {need!r} "
                             f"(or loss={_free_loss()!r})")

    def _init_weights(self, rng, init, fan_in, fan_out):
        if init == "auto":
            init = self.activation.init
        if isinstance(init, str):
            if init == "xavier":
                lim = math.sqrt(6.0 / (fan_in + fan_out))
                W = rng.uniform(-lim, lim, size=(fan_in, fan_out))
            elif init == "he":
                W = rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)
            elif init == "normal":
                W = rng.standard_normal((fan_in, fan_out))
            else:
                raise ValueError(f"unknown init {init!r}; expected one of {', '.join(_INITS)} or a float std")
        elif is_real(init) and init >= 0:
            W = rng.standard_normal((fan_in, fan_out)) * float(init)
        else:
            raise TypeError(f"init must be one of {', '.join(_INITS)} or a non-negative float, got {init!r}")
        return W.astype(self.dtype)

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer, input first."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def n_layers(self) -> int:
        """Number of weight layers ``L``."""
        return len(self.weights)

    @property
    def n_params(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def _check_params(self):
        """The weight lists may have been edited by hand: make sure their shapes chain."""
        if len(self.weights) != len(self.biases):
            raise ValueError(f"{len(self.weights)} weight arrays but {len(self.biases)} bias arrays")
        for l, W in enumerate(self.weights):
            if not isinstance(W, np.ndarray) or W.ndim != 2:
                raise ValueError(f"weights[{l}] must be a 2-D array (fan_in, fan_out); got {describe(W)}")
            if l and W.shape[0] != self.weights[l - 1].shape[1]:
                prev = self.weights[l - 1]
                hint = " (is it transposed?)" if W.shape[1] == prev.shape[1] else ""
                raise ValueError(
                    f"weights[{l}] has shape {W.shape} but weights[{l - 1}] has shape {prev.shape}: "
                    f"weights[{l}] must have {prev.shape[1]} rows, one per unit of the layer before "
                    f"(shape (fan_in, fan_out)){hint}")
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            if not isinstance(b, np.ndarray) or b.shape != (W.shape[1],):
                raise ValueError(f"biases[{l}] must have shape ({W.shape[1]},) to match weights[{l}] of "
                                 f"shape {W.shape}; got {describe(b)}")

    def _check_X(self, X, name="X") -> Array:
        self._check_params()
        n_in = self.weights[0].shape[0]
        return as_samples(X, name, self.dtype, n_features=n_in,
                          what=f"the network's input layer (layer_sizes[0] = {n_in})")

    def _check_XY(self, X, Y) -> tuple[Array, Array]:
        X = self._check_X(X)
        T = self.loss_function.targets(Y, X.shape[0], self.weights[-1].shape[1], self.dtype)
        return X, T

    # --- forward ----------------------------------------------------------------------

    @reference("MLP.forward")
    def _forward(self, X: Array) -> tuple[list, Array]:
        """Activations ``[a0 = X, a1, ..., aL]`` and the output layer's ``in`` (logits)."""
        check()
        acts = [X]
        L = len(self.weights)
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = acts[-1] @ W                         # in = a_prev W + b
            z += b
            if l < L - 1:
                # back-propagation needs only a (g' is written through a), so the
                # activation overwrites in instead of allocating a new array
                acts.append(self.activation.g(z, out=z))
            else:
                acts.append(self.output_activation.g(z))
        return acts, z

    @reference("MLP.forward")
    def forward(self, X: Array) -> Array:
        """The prediction ``O = a[L]`` for a batch.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples, n_outputs)
        """
        check()
        return self._forward(self._check_X(X))[0][-1]

    __call__ = forward

    @reference("MLP.loss")
    def loss(self, X: Array, Y: Array) -> float:
        """Batch-mean loss ``E`` of the current weights.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        Y : array_like, shape (n_samples, n_outputs), or (n_samples,) integer labels for
            cross-entropy
        """
        check()
        X, T = self._check_XY(X, Y)
        acts, Z = self._forward(X)
        return self.loss_function.value(Z, acts[-1], T)

    # --- backward ---------------------------------------------------------------------

    @reference("MLP.gradients")
    def _backprop(self, acts: list, T: Array, scale: float, out: list | None = None):
        """Back-propagate δ = ∂E/∂in from the output layer to the first, one layer at a time.

        Yields ``(l, dW[l], db[l])`` for ``l = L-1 .. 0`` (0-based), each gradient of the
        summed loss times ``scale`` (``1 / n`` gives the batch mean's). The δ of the layer
        below is computed from ``weights[l]`` *before* ``(l, …)`` is yielded, so a training
        step may update ``weights[l]`` in place at once and every gradient still comes from
        the weights as they were. ``out``, if given, holds one array per layer of that
        layer's weight shape, into which ``dW[l]`` is written (a training step reuses them);
        without it every ``dW[l]`` is a new array.
        """
        check()
        delta = self.loss_function.delta(acts[-1], T, self.output_activation)  # δ[L] = dE_s/din, a new array
        delta *= scale
        for l in range(len(self.weights) - 1, -1, -1):
            gW = np.matmul(acts[l].T, delta, out=None if out is None else out[l])  # dE/dW[j, i] = Σ_s a_j δ_i
            gb = delta.sum(axis=0)                  # dE/db_i = Σ_s δ_i
            if l:                                   # δ_j = g'(in_j) Σ_i W_{j,i} δ_i; the input layer needs none
                delta = self.activation.backward(acts[l], delta @ self.weights[l].T)
            yield l, gW, gb

    @reference("MLP.gradients")
    def gradients(self, X: Array, Y: Array) -> tuple[list, list]:
        """``dE/dW`` and ``dE/db`` of the batch-mean loss for every layer; weights unchanged.

        Returns
        -------
        dW : list of ndarray
            ``dW[l]`` has the shape of ``weights[l]``; ``dW[l][j, i] = ∂E/∂W_{j,i}``.
        db : list of ndarray
            ``db[l]`` has the shape of ``biases[l]``.

        Notes
        -----
        These are the libraries' gradients (δ = ∂E/∂in); the course's update
        ``W ← W + α a Δ`` equals ``W ← W − α dW``.
        """
        check()
        X, T = self._check_XY(X, Y)
        acts, _ = self._forward(X)
        dW, db = [None] * self.n_layers, [None] * self.n_layers
        for l, gW, gb in self._backprop(acts, T, 1.0 / X.shape[0]):
            dW[l], db[l] = gW, gb
        return dW, db

    # --- the course's Δ, beside the δ path above ----------------------------------

    @reference("MLP.trace")
    def trace(self, X: Array, Y: Array | None = None) -> Trace:
        r"""Every number of one forward and backward pass, in the course's notation.

        Written for reading, separately from the fast path of :meth:`gradients`, which it
        agrees with: ``trace[l].dW == gradients(X, Y)[0][l - 1]``.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        Y : targets as for :meth:`loss`, optional
            Without targets only the forward pass is traced (``Delta``, ``dW``, ``db``,
            ``Err`` and ``loss`` are ``None``).

        Returns
        -------
        Trace
            ``trace[l].in_``, ``.a``, ``.Delta`` (the course's Δ = −∂E_s/∂in, per sample),
            ``.dW``, ``.db`` for ``l = 1 .. L``; ``trace.Err = T − O``.
        """
        check()
        if Y is None:
            X, T = self._check_X(X), None
        else:
            X, T = self._check_XY(X, Y)
        n, L = X.shape[0], len(self.weights)
        ins, acts = [], [X]
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            g = self.output_activation if l == L - 1 else self.activation
            ins.append(acts[-1] @ W + b)                 # in = a_prev W + b
            acts.append(g.g(ins[-1]))                    # a = g(in)
        O = acts[-1]
        Deltas = [None] * L
        if T is not None:
            Deltas[-1] = -self.loss_function.delta(O, T, self.output_activation)  # Δ_i = Err_i g'(in_i) (squared error)
            for l in range(L - 2, -1, -1):               # Δ_j = g'(in_j) Σ_i W_{j,i} Δ_i
                Deltas[l] = self.activation.derivative(ins[l]) * (Deltas[l + 1] @ self.weights[l + 1].T)
        layers = []
        for l in range(L):
            D = Deltas[l]
            dW, db = (None, None) if D is None else (-(acts[l].T @ D) / n, -D.sum(axis=0) / n)
            layers.append(LayerTrace(l + 1, self.weights[l].copy(), self.biases[l].copy(), ins[l], acts[l + 1],
                                     D, dW, db))
        if T is None:
            return Trace(X, None, O, None, None, layers)
        return Trace(X, T, O, T - O, self.loss_function.value(ins[-1], O, T), layers)

    # --- training (the fast path lives in backprop_lab.training) --------------------

    @reference("MLP.step")
    def step(self, X: Array, Y: Array, lr: float) -> float:
        """One gradient-descent update ``W ← W − lr · dE/dW`` (and the biases) on one batch.

        All gradients are computed from the current weights before any of them changes.

        Returns
        -------
        float
            The loss before the update.

        Raises
        ------
        FloatingPointError
            If the loss is NaN or infinite (the weights are then left unchanged).
        """
        check()
        lr = as_positive(lr, "lr", "the learning rate α")
        X, T = self._check_XY(X, Y)
        loss = _training.step(self, X, T, lr)
        if not math.isfinite(loss):
            raise FloatingPointError(f"the loss is {loss} before the update, so no update was made; "
                                     f"the weights hold NaN/inf (a learning rate of {lr:g} may have diverged)")
        return loss

    @reference("MLP.fit")
    def fit(self, X: Array, Y: Array, epochs: int = 100, lr: float = 0.1, batch_size: int | None = None,
            shuffle: bool = True, seed=None, validation_data: tuple | None = None,
            tol: float | None = None, patience: int = 10, progress: bool = True,
            callback: Callable | None = None) -> History:
        """Train with (mini-batch) gradient descent.

        Parameters
        ----------
        X, Y : training data, as for :meth:`loss`.
        epochs : int
            Maximum number of passes over the data.
        lr : float
            Learning rate α.
        batch_size : int, optional
            Samples per update; ``None`` uses the whole batch (plain gradient descent).
        shuffle : bool
            Reshuffle the samples every epoch.
        seed : int, optional
            Seed for the shuffling.
        validation_data : (X_val, Y_val), optional
            Loss measured after every epoch, recorded in ``History.val_loss``; the stopping
            rule then watches it instead of the training loss.
        tol : float, optional
            Stopping rule: stop when the watched loss has not improved by more than ``tol``
            for ``patience`` consecutive epochs. ``None`` disables it.
        patience : int
            See ``tol``.
        progress : bool
            Show a progress bar (tqdm) with the current loss.
        callback : callable, optional
            ``callback(epoch, history, model)`` after every epoch (for live plots); return
            ``True`` to stop.

        Returns
        -------
        History
            If the loss becomes NaN or infinite, training stops with
            ``stop_reason == "diverged"`` and a ``RuntimeWarning``.
        """
        check()
        return _training.fit(self, X, Y, epochs=epochs, lr=lr, batch_size=batch_size, shuffle=shuffle,
                             seed=seed, validation_data=validation_data, tol=tol, patience=patience,
                             progress=progress, callback=callback)

    # --- prediction -------------------------------------------------------------------

    @reference("MLP.predict")
    def predict(self, X: Array) -> Array:
        """Predictions: class labels ``(n_samples,)`` for a softmax output, 0/1 labels
        ``(n_samples, n_outputs)`` for binary cross-entropy, else the outputs ``O``."""
        check()
        O = self.forward(X)
        rule = self.output_activation.labels or self.loss_function.labels
        return O if rule is None else rule(O)

    @reference("MLP.accuracy")
    def accuracy(self, X: Array, labels: Array) -> float:
        """Fraction of samples classified correctly.

        ``labels``: integer labels ``(n_samples,)`` or one-hot rows for a softmax output; 0/1
        targets ``(n_samples, n_outputs)`` otherwise (outputs are thresholded at 0.5, or
        compared by argmax when there are several outputs and squared error).
        """
        check()
        O = self.forward(X)
        labels = np.asarray(labels)
        # class labels when the outputs are class probabilities (softmax) or several outputs
        # stand for one label's classes; else each output is its own 0/1 label
        if self.output_activation.labels is not None or (O.shape[1] > 1 and self.loss_function.exclusive):
            if labels.ndim == 2:
                labels = labels.argmax(axis=1)
            if labels.shape != (O.shape[0],):
                raise ValueError(f"labels has shape {labels.shape}; expected ({O.shape[0]},) class labels")
            return float(np.mean(O.argmax(axis=1) == labels))
        if labels.shape != O.shape:
            raise ValueError(f"labels has shape {labels.shape}; expected {O.shape} 0/1 targets")
        return float(np.mean((O >= 0.5) == (labels >= 0.5)))

    # --- housekeeping -----------------------------------------------------------------

    def copy(self) -> "MLP":
        """An independent copy (weights and biases copied)."""
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        new.weights = [w.copy() for w in self.weights]
        new.biases = [b.copy() for b in self.biases]
        return new

    def __repr__(self) -> str:
        return (f"MLP({self.layer_sizes}, activation={self.activation.name!r}, "
                f"output_activation={self.output_activation.name!r}, loss={self.loss_function.name!r}, "
                f"dtype={self.dtype.name})")


def _or(names: Sequence[str]) -> str:
    """``"a, b or c"``."""
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def _free_loss() -> str:
    """The first loss defined on any output activation (the hint when a pairing is wrong)."""
    return next(name for name, loss in _losses.LOSSES.items() if loss.requires is None)
