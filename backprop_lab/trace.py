r"""What one forward and backward pass computed, layer by layer, in the course's notation.

:meth:`backprop_lab.MLP.trace` fills these records; they hold the course's
:math:`\Delta = -\partial E / \partial in` (so that :meth:`Trace.updated_weights` *adds*,
``W ← W + α a Δ``) next to the libraries' ``dE/dW`` (which a step *subtracts*).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._fence import check, reference

__all__ = ["Trace", "LayerTrace"]

Array = np.ndarray


@dataclass
class LayerTrace:
    r"""Every number of one layer ``l`` for one batch, in the course's notation.

    Attributes
    ----------
    l : int
        Layer number, 1-based as in the course (``weights[l - 1]``).
    W, b : ndarray, shapes (fan_in, fan_out) and (fan_out,)
        The weights used (a copy taken before any update).
    in_ : ndarray, shape (n_samples, fan_out)
        Weighted sums :math:`in_i = \sum_j a_j W_{j,i} + b_i` (``in`` is a Python keyword).
    a : ndarray, shape (n_samples, fan_out)
        Activations :math:`a_i = g(in_i)`.
    Delta : ndarray, shape (n_samples, fan_out)
        The course's :math:`\Delta_i = -\partial E_s / \partial in_i` of each sample ``s``
        (not divided by the batch size).
    dW, db : ndarray, shapes of W and b
        :math:`\partial E / \partial W` and :math:`\partial E / \partial b` of the batch-mean
        loss: ``dW = -a[l-1].T @ Delta / n``.
    """

    l: int
    W: Array
    b: Array
    in_: Array
    a: Array
    Delta: Array
    dW: Array
    db: Array


@dataclass
class Trace:
    """Forward and backward pass of one batch, layer by layer (see :meth:`MLP.trace`).

    Attributes
    ----------
    X : ndarray, shape (n_samples, n_features)
        ``a[0]``.
    T : ndarray, shape (n_samples, n_outputs), or None
        Targets (one-hot for class labels); ``None`` for a forward-only trace, which then
        has no ``Err``, ``loss`` or ``Delta``.
    O : ndarray, shape (n_samples, n_outputs)
        The prediction ``a[L]``.
    Err : ndarray, shape (n_samples, n_outputs)
        ``T - O``.
    loss : float
        Batch-mean loss.
    layers : list of LayerTrace
        ``layers[0]`` is layer 1.
    """

    X: Array
    T: Array
    O: Array
    Err: Array
    loss: float
    layers: list

    def __getitem__(self, l: int) -> LayerTrace:
        """``trace[l]``: layer ``l``, counted from 1 as in the course (``trace[0]`` is an error)."""
        if not 1 <= l <= len(self.layers):
            raise IndexError(f"layers are numbered 1..{len(self.layers)} as in the course; got {l}")
        return self.layers[l - 1]

    def a(self, l: int) -> Array:
        """``a[l]``, with ``a[0] = X``."""
        return self.X if l == 0 else self[l].a

    @reference("MLP.trace.updated_weights")
    def updated_weights(self, lr: float) -> list:
        r"""The course's update :math:`W_{j,i} \leftarrow W_{j,i} + \alpha\, a_j \Delta_i`,
        averaged over the batch, for every layer, from the weights *before* the update."""
        check()
        if self.T is None:
            raise ValueError("this trace has no targets, so no Δ: call trace(X, Y) with targets")
        n = self.X.shape[0]
        return [lt.W + lr * (self.a(lt.l - 1).T @ lt.Delta) / n for lt in self.layers]

    def __str__(self) -> str:
        with np.printoptions(precision=6, suppress=True):
            loss = "forward pass only" if self.loss is None else f"loss E = {self.loss:.9g}"
            lines = [f"Trace of {self.X.shape[0]} sample(s), {loss}", f"a[0] = X =\n{self.X}"]
            for lt in self.layers:
                lines += [f"--- layer {lt.l} ---", f"in[{lt.l}] =\n{lt.in_}", f"a[{lt.l}] =\n{lt.a}"]
            if self.T is None:
                return "\n".join(lines)
            lines.append(f"Err = T - O =\n{self.Err}")
            for lt in reversed(self.layers):
                lines += [f"Δ[{lt.l}] =\n{lt.Delta}", f"dE/dW[{lt.l}] =\n{lt.dW}"]
        return "\n".join(lines)

