r"""Figures for the course: loss curves, decision boundaries, per-layer gradient norms and
activation functions.

Every function draws into ``ax`` when it is given one (and returns that axes' figure), or
else into a new :class:`matplotlib.figure.Figure` made without pyplot. Such a figure is not
registered with pyplot, so it is freed like any other object and nothing accumulates in
tests or loops; in a notebook it shows inline when it is a cell's value (elsewhere in a
cell: ``display(fig)``). No function calls ``plt.show()``, so nothing waits when a notebook
runs headless.

>>> from backprop_lab import MLP, plots
>>> net = MLP([2, 4, 1], seed=0)
>>> history = net.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]], epochs=5, progress=False)
>>> fig = plots.loss_curves(history)
>>> fig.axes[0].get_lines()[0].get_ydata().tolist() == history.loss
True

Several panels in one figure: make the axes yourself and pass them::

    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    plots.loss_curves(history, ax=left)
    plots.decision_boundary(net, X, y, ax=right)
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Callable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ._validation import as_count, as_index, as_non_negative, as_samples, describe, is_real
from . import activations
from .activations import Activation, get_activation

__all__ = ["loss_curves", "decision_boundary", "gradient_norms", "activation", "training_summary",
           "backprop_step"]

Array = np.ndarray

#: colours of classes and runs: matplotlib's default cycle, C0 .. C9
_COLORS = [f"C{k}" for k in range(10)]


# --- figures and axes ---------------------------------------------------------------------

class _NotebookFigure(Figure):
    """A pyplot-free Figure that shows itself as a PNG when it is a notebook cell's value.

    With pyplot's inline backend active (``%matplotlib inline``), IPython uses that backend's
    formatter for every Figure instead; ``_repr_png_`` covers notebooks without it.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def _axes(ax, figsize: tuple) -> tuple[Figure, Axes]:
    """The figure and axes to draw into: ``ax`` and its (root) figure, or a new pair."""
    if ax is None:
        fig = _NotebookFigure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from fig.add_subplot()) or None, got {describe(ax)}")
    return ax.figure.figure, ax  # .figure of a SubFigure is the root Figure


# --- input checks ---------------------------------------------------------------------------

def _series(values, what: str) -> Array:
    """A 1-D float array of at least one number."""
    arr = np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating)):
        raise TypeError(f"{what} must hold real numbers; got {describe(values)} of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.bool_):
        raise TypeError(f"{what} must hold real numbers, not booleans")
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one number per epoch or layer); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{what} is empty; expected at least one number")
    return arr.astype(np.float64)


def _labels(labels, n: int, default: Callable[[int], str], what: str) -> list[str]:
    if labels is None:
        return [default(k) for k in range(n)]
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, Sequence) or not all(isinstance(s, str) for s in labels):
        raise TypeError(f"labels must be a list of str, one per {what}; got {describe(labels)}")
    if len(labels) != n:
        raise ValueError(f"got {len(labels)} label(s) for {n} {what}(s); give one label per {what}")
    return list(labels)


def _named_series(data, labels, what: str, allow_history: bool) -> tuple[list, list | None]:
    """Split ``data`` into a list of series (or History objects) and their labels.

    Accepted: one series (a sequence or 1-D array of numbers), a 2-D array (one series per
    row), a list or tuple of series, or a dict ``{label: series}``; with ``allow_history``
    also one History or several.
    """
    if isinstance(data, Mapping):
        if labels is not None:
            raise ValueError(f"{what} is a dict, whose keys are the labels; do not pass labels as well")
        if not data:
            raise ValueError(f"{what} is an empty dict; expected at least one series")
        return list(data.values()), [str(k) for k in data]
    if allow_history and _is_history(data):
        return [data], labels
    if isinstance(data, np.ndarray):
        if data.ndim == 2:
            return list(data), labels
        return [data], labels
    if isinstance(data, (list, tuple)):
        if len(data) == 0:
            raise ValueError(f"{what} is empty; expected at least one series")
        if all(is_real(v) or (isinstance(v, np.ndarray) and v.ndim == 0) for v in data):
            return [data], labels
        return list(data), labels
    kinds = "a History, " if allow_history else ""
    raise TypeError(f"{what} must be {kinds}a list or 1-D array of numbers, a list of those, or a dict "
                    f"{{label: series}}; got {describe(data)}")


def _is_history(obj) -> bool:
    return hasattr(obj, "loss") and hasattr(obj, "val_loss") and not isinstance(obj, (np.ndarray, list, tuple))


# --- loss curves ------------------------------------------------------------------------------

def loss_curves(histories, labels=None, ax: Axes | None = None, log: bool = True) -> Figure:
    r"""The loss per epoch of one or several training runs.

    Parameters
    ----------
    histories : History, sequence of float, or a list or dict of those
        One run: a :class:`backprop_lab.History` (its training loss, solid, and its
        validation loss, dashed in the same colour, if it has one) or a list / 1-D array of
        losses, one per epoch. Several runs: a list of runs, a 2-D array of shape
        ``(n_runs, n_epochs)``, or a dict ``{label: run}``.
    labels : list of str, optional
        One per run (the keys of a dict are used otherwise). Default ``"run 1"``, ...
    ax : matplotlib Axes, optional
        Draw here instead of in a new figure.
    log : bool
        Logarithmic loss axis (losses often fall by orders of magnitude).

    Returns
    -------
    matplotlib.figure.Figure
        Epochs ``1 .. n_epochs`` on the x axis; each line's y-data is the run's losses.
        Non-finite losses (a diverged run) are left out of the line and the run's label
        says ``(diverged)``.

    Raises
    ------
    TypeError
        For anything that is not numbers, a History or a list / dict of those.
    ValueError
        For an empty run, a wrong number of labels, or ``log=True`` with a loss <= 0.

    Examples
    --------
    >>> fig = loss_curves({"lr 0.1": [1.0, 0.5, 0.3], "lr 1": [1.0, 0.2, 0.1]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['lr 0.1', 'lr 1']
    """
    runs, labels = _named_series(histories, labels, "histories", allow_history=True)
    parsed = []
    for k, run in enumerate(runs):
        if _is_history(run):
            train = _series(run.loss, f"histories[{k}].loss")
            val = _series(run.val_loss, f"histories[{k}].val_loss") if len(run.val_loss) else None
            diverged = getattr(run, "stop_reason", "") == "diverged"
        elif is_real(run):
            raise TypeError(f"histories[{k}] is a single number; a run is a list of losses, one per epoch")
        else:
            train, val, diverged = _series(run, f"histories[{k}]"), None, False
        parsed.append((train, val, diverged))
    labels = _labels(labels, len(parsed), lambda k: f"run {k + 1}", "run")
    if log:
        for label, (train, val, _) in zip(labels, parsed):
            for part, arr in (("training", train), ("validation", val)):
                if arr is None:
                    continue
                bad = np.flatnonzero(np.isfinite(arr) & (arr <= 0))
                if bad.size:
                    raise ValueError(f"log=True needs positive losses, but the {part} loss of {label!r} is "
                                     f"{arr[bad[0]]:g} at epoch {bad[0] + 1}; pass log=False")

    fig, ax = _axes(ax, (6.0, 4.0))
    for k, ((train, val, diverged), label) in enumerate(zip(parsed, labels)):
        color = _COLORS[k % len(_COLORS)]
        diverged = diverged or not np.isfinite(train).all()
        note = " (diverged)" if diverged else ""
        ax.plot(np.arange(1, train.size + 1), np.where(np.isfinite(train), train, np.nan), color=color,
                label=f"{label} (training){note}" if val is not None else f"{label}{note}")
        if val is not None:
            ax.plot(np.arange(1, val.size + 1), np.where(np.isfinite(val), val, np.nan), color=color,
                    linestyle="--", label=f"{label} (validation)")
    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss $E$")
    ax.grid(True, which="major", alpha=0.3)
    if len(parsed) > 1 or any(val is not None for _, val, _ in parsed) or labels[0] != "run 1":
        ax.legend()
    return fig


# --- decision boundary ------------------------------------------------------------------------

def _predictor(model_or_predict) -> Callable[[Array], Array]:
    for name in ("predict", "forward"):
        method = getattr(model_or_predict, name, None)
        if callable(method):
            return method
    if callable(model_or_predict):
        return model_or_predict
    raise TypeError("model_or_predict must be a model with predict(X) or forward(X), or a function of X "
                    f"(shape (n, 2)); got {describe(model_or_predict)}")


def _as_labels(values, n: int, what: str) -> Array:
    """Class labels ``(n,)`` from labels, 0/1 scores, a probability column or one-hot rows."""
    arr = np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{what} must be numbers (class labels, scores or one-hot rows); got {describe(values)}")
    if arr.ndim == 0 or arr.shape[0] != n or arr.ndim > 2:
        raise ValueError(f"{what} has shape {arr.shape}; expected ({n},) class labels, ({n}, 1) scores or "
                         f"({n}, n_classes) rows, one per point")
    if arr.ndim == 2 and arr.shape[1] > 1:
        return arr.argmax(axis=1)
    arr = arr.reshape(n).astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinite values")
    if np.all(arr == np.round(arr)):
        if arr.min() < 0:
            raise ValueError(f"{what} holds negative class labels (smallest {arr.min():g}); expected 0, 1, ...")
        return arr.astype(np.int64)
    return (arr >= 0.5).astype(np.int64)  # one output unit: a score, thresholded at 0.5


def decision_boundary(model_or_predict, X, y, ax: Axes | None = None, resolution: int = 200,
                      padding: float = 0.5) -> Figure:
    r"""The classes a model predicts over the plane, with the data points on top.

    Parameters
    ----------
    model_or_predict : model or callable
        An object with ``predict(X)`` (used first) or ``forward(X)``, such as a
        :class:`backprop_lab.MLP`, or a function of ``X``. It is called once, on a
        ``(resolution**2, 2)`` grid, and may return class labels ``(m,)``, one score per
        point ``(m, 1)`` (thresholded at 0.5) or one column per class ``(m, n_classes)``
        (argmax).
    X : array_like, shape (n_samples, 2)
        The data points (two features).
    y : array_like, shape (n_samples,)
        Their class labels ``0 .. n_classes - 1`` (a 0/1 column ``(n_samples, 1)`` or
        one-hot rows ``(n_samples, n_classes)`` are accepted too).
    ax : matplotlib Axes, optional
    resolution : int
        Grid points per axis (at least 2).
    padding : float
        Margin around the data, in the units of ``X``.

    Returns
    -------
    matplotlib.figure.Figure
        Filled regions (a ``contourf`` with levels ``-0.5, 0.5, ..., n_classes - 0.5``),
        one colour per class, and a scatter of ``X`` in the same colours.

    Raises
    ------
    TypeError
        If ``model_or_predict`` can neither predict nor be called, or the data, ``resolution``
        or ``padding`` are not numbers.
    ValueError
        For ``X`` that is not ``(n, 2)``, ``y`` of the wrong length, predictions of the
        wrong shape, or a bad ``resolution`` / ``padding``.
    """
    predict = _predictor(model_or_predict)
    Xa = as_samples(X, "X", n_features=2, what="a decision boundary (drawn in the plane: X of shape (n_samples, 2))")
    labels = _as_labels(y, Xa.shape[0], "y")
    resolution = as_count(resolution, "resolution", 2, "grid points per axis")
    padding = as_non_negative(padding, "padding", "the margin around the data, in its units")

    lo, hi = Xa.min(axis=0) - padding, Xa.max(axis=0) + padding
    hi = np.where(hi > lo, hi, lo + 1.0)  # one point and no padding: still a region to draw
    g0, g1 = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    G0, G1 = np.meshgrid(g0, g1)
    grid = np.column_stack([G0.ravel(), G1.ravel()])
    regions = _as_labels(predict(grid), grid.shape[0], "the model's prediction on the grid").reshape(G0.shape)

    n_classes = int(max(labels.max(), regions.max(), 1)) + 1
    colors = [_COLORS[k % len(_COLORS)] for k in range(n_classes)]
    fig, ax = _axes(ax, (5.0, 4.5))
    ax.contourf(G0, G1, regions, levels=np.arange(n_classes + 1) - 0.5,
                cmap=ListedColormap([to_rgba(c, 0.3) for c in colors]))
    ax.scatter(Xa[:, 0], Xa[:, 1], c=[colors[k] for k in labels], edgecolors="k", linewidths=0.5, s=25, zorder=3)
    present = np.unique(labels)
    ax.legend(handles=[Line2D([], [], marker="o", linestyle="", color=colors[k], markeredgecolor="k",
                              label=f"class {k}") for k in present], loc="best", fontsize="small")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return fig


# --- gradient norms -----------------------------------------------------------------------------

def gradient_norms(norms, labels=None, ax: Axes | None = None, log: bool = True) -> Figure:
    r"""Per-layer gradient norms as bars; several series side by side.

    Parameters
    ----------
    norms : sequence of float, or a list, 2-D array or dict of those
        One series: ``norms[l - 1]`` is the norm of layer ``l``'s gradient,
        e.g. :math:`\lVert \partial E / \partial W^{[l]} \rVert`. Several series (a list of
        series, an array of shape ``(n_series, n_layers)`` or a dict ``{label: series}``)
        are drawn side by side per layer, e.g. sigmoid next to ReLU. Series may differ in
        length (networks of different depth).
    labels : list of str, optional
        One per series (the keys of a dict are used otherwise).
    ax : matplotlib Axes, optional
    log : bool
        Logarithmic axis: vanishing gradients shrink by orders of magnitude.

    Returns
    -------
    matplotlib.figure.Figure
        One bar container per series; bar ``l - 1`` of a series has the height of its
        ``norms[l - 1]`` and sits at layer ``l`` on the x axis (1 = next to the input).

    Raises
    ------
    TypeError
        For values that are not real numbers.
    ValueError
        For an empty series, a negative or non-finite norm, or a wrong number of labels.

    Examples
    --------
    >>> fig = gradient_norms({"sigmoid": [1e-4, 1e-3, 1e-2], "relu": [0.1, 0.1, 0.2]})
    >>> [float(bar.get_height()) for bar in fig.axes[0].containers[1]]
    [0.1, 0.1, 0.2]
    """
    series, labels = _named_series(norms, labels, "norms", allow_history=False)
    parsed = []
    for k, s in enumerate(series):
        if is_real(s):
            raise TypeError(f"norms[{k}] is a single number; a series is a list of norms, one per layer")
        arr = _series(s, f"norms[{k}]" if len(series) > 1 else "norms")
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            raise ValueError(f"norms of series {k + 1}, layer {bad[0] + 1} is {arr[bad[0]]:g}; a norm is a finite "
                             "number >= 0 (is it a gradient, not a norm? use np.linalg.norm)")
        parsed.append(arr)
    labels = _labels(labels, len(parsed), lambda k: f"series {k + 1}", "series")
    n_layers = max(arr.size for arr in parsed)
    width = 0.8 / len(parsed)

    fig, ax = _axes(ax, (6.0, 4.0))
    for k, (arr, label) in enumerate(zip(parsed, labels)):
        offset = (k - (len(parsed) - 1) / 2) * width
        ax.bar(np.arange(1, arr.size + 1) + offset, arr, width=width, label=label,
               color=_COLORS[k % len(_COLORS)])
    if log:
        ax.set_yscale("log")
    ax.set_xticks(np.arange(1, n_layers + 1))
    ax.set_xlabel("layer $l$ (1 = next to the input)")
    ax.set_ylabel(r"$\Vert \partial E / \partial W^{[l]} \Vert$")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    if len(parsed) > 1 or labels[0] != "series 1":
        ax.legend()
    return fig


# --- activation functions ------------------------------------------------------------------------

def activation(name_or_activation: str | Activation, ax: Axes | None = None, x=None) -> Figure:
    r"""An activation :math:`g` and its derivative :math:`g'`, saturation shaded.

    Where :math:`|in|` exceeds ``Activation.saturation``, :math:`g'` is below 2% of its
    maximum: a unit there passes almost no gradient back. Those regions are shaded.

    Parameters
    ----------
    name_or_activation : str or Activation
        A name in :data:`backprop_lab.activations.ACTIVATIONS` (e.g. ``"sigmoid"``) or an
        :class:`backprop_lab.activations.Activation`; only element-wise ones have a curve
        (softmax maps rows).
    ax : matplotlib Axes, optional
    x : array_like, shape (n_points,), optional
        Values of ``in`` to plot at; default 601 points on :math:`[-6, 6]`, wider if the
        saturation threshold lies beyond 4.

    Returns
    -------
    matplotlib.figure.Figure
        Two lines, :math:`g(x)` (solid) and :math:`g'(x)` (dashed), and for a saturating
        activation two shaded spans :math:`in < -s` and :math:`in > s`.

    Raises
    ------
    TypeError
        For something that is neither a name nor an Activation, or a non-numeric ``x``.
    ValueError
        For an unknown name, softmax, or an ``x`` that is not 1-D, finite and of >= 2 points.
    """
    if not isinstance(name_or_activation, (str, Activation)):
        raise TypeError(f"name_or_activation must be an activation name (str) or an Activation, "
                        f"got {describe(name_or_activation)}")
    act = get_activation(name_or_activation)
    if not act.elementwise:
        raise ValueError(f"{act.name} is not element-wise (each output depends on the whole row), so it has no "
                         f"curve g(in) to plot; choose one of {', '.join(activations.names(elementwise=True))}")
    s = act.saturation
    if x is None:
        lim = max(6.0, 1.5 * s) if s else 6.0
        xs = np.linspace(-lim, lim, 601)
    else:
        xs = _series(x, "x")
        if xs.size < 2 or not np.isfinite(xs).all():
            raise ValueError(f"x must hold at least 2 finite values of in; got {xs.size} value(s)"
                             f"{'' if np.isfinite(xs).all() else ' with NaN or inf'}")

    fig, ax = _axes(ax, (5.5, 3.8))
    ax.plot(xs, act(xs), color="C0", label=f"${act.latex}$")
    ax.plot(xs, act.derivative(xs), color="C1", linestyle="--", label=f"${act.dlatex}$")
    if s is not None:
        lo, hi = float(xs.min()), float(xs.max())
        label = rf"saturated: $|in| > {s:g}$, $g' < 2\%$ of its maximum"
        for a, b in ((lo, -s), (s, hi)):
            if b > a:
                ax.axvspan(a, b, color="0.5", alpha=0.15, lw=0, label=label)
                label = None  # one legend entry for both sides
    ax.axhline(0.0, color="0.3", lw=0.6)
    ax.axvline(0.0, color="0.3", lw=0.6)
    ax.set_xlabel("$in$ (the weighted sum)")
    ax.set_ylabel("$g(in)$, $g'(in)$")
    ax.set_title(act.name)
    ax.legend(loc="upper left", fontsize="small")
    return fig


# --- static twins of the widgets ----------------------------------------------------------

def training_summary(history, model, X, y, validation=None) -> Figure:
    """The training dashboard as a still: loss curves beside the decision boundary.

    Parameters
    ----------
    history : History or sequence of float
        What :meth:`MLP.fit` returned.
    model : MLP or callable
        The trained network (see :func:`decision_boundary`).
    X : array_like, shape (n_samples, 2)
    y : array_like, shape (n_samples,)
        Class labels.
    """
    fig = _NotebookFigure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    loss_curves(history, ax=left)
    decision_boundary(model, X, y, ax=right)
    return fig


def backprop_step(net, x, t, step: int, lr: float = 0.5, ax: Axes | None = None) -> Figure:
    """One step of the back-propagation walk-through as a figure (the step-through widget's
    twin): the network diagram with every value known after ``step``, and the formula with
    its numbers as the title.

    Parameters
    ----------
    net : MLP
        A small network (see :func:`backprop_lab.stepthrough.steps`).
    x, t : array_like
        One sample and its target.
    step : int
        0-based; negative counts from the end.
    lr : float
        Learning rate of the update step.
    """
    from .stepthrough import draw, steps

    walk = steps(net, x, t, lr)
    expected = f"an integer in [{-len(walk)}, {len(walk) - 1}]"
    step = as_index(step, "step", expected)
    if not -len(walk) <= step < len(walk):
        raise ValueError(f"step must be {expected}, got {step!r}")
    if ax is None:  # room below the diagram for the two formula lines
        fig = _NotebookFigure(figsize=(12, 6.5))
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.02, right=0.98, top=0.92, bottom=0.2)
    else:
        fig, ax = _axes(ax, (12, 6.5))
    s = walk[step]
    draw(s, net.layer_sizes, ax)
    ax.text(0.0, -0.02, f"${s.formula}$", transform=ax.transAxes, fontsize=15, va="top")
    ax.text(0.0, -0.12, f"${s.example}$", transform=ax.transAxes, fontsize=15, va="top", color="C1")
    return fig
