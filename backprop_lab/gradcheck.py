r"""Check back-propagation against finite differences.

Three small functions of ``f`` and ``x`` (after CS231n's ``gradient_check.py``) and one
whole-model report:

* :func:`numerical_gradient` — central differences
  :math:`\partial f/\partial x_k \approx (f(x + h e_k) - f(x - h e_k)) / 2h`, perturbing
  ``x`` in place (so ``f`` may read ``x`` through a model) and always restoring it;
* :func:`rel_error` — the largest relative difference of two arrays;
* :func:`check_gradients` — every parameter array of a model compared with its numerical
  gradient, reporting the worst entry (``W[2][1, 0]``); works on any object with
  ``weights``, ``biases``, ``loss(X, Y)`` and ``gradients(X, Y)``, so a student's own
  network can be checked too.

Parameter names follow the course: ``W[l]`` and ``b[l]`` for layers ``l = 1 .. L``, which
are ``model.weights[l - 1]`` and ``model.biases[l - 1]`` in Python.
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._fence import check, reference
from ._validation import as_count, as_positive, describe

__all__ = ["numerical_gradient", "rel_error", "check_gradients", "GradCheckReport", "ParamCheck"]

Array = np.ndarray
_EPS = np.finfo(np.float64).eps


def _caller(f: Callable) -> Callable:
    """``f(x)`` or, for a function of no arguments such as ``lambda: net.loss(X, Y)``, ``f()``."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return f
    required = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not required and not any(p.kind == p.VAR_POSITIONAL for p in params):
        return lambda x: f()
    return f


def _scalar(value, what: str) -> float:
    if np.ndim(value) != 0:
        raise ValueError(f"{what} must return a scalar loss; it returned {describe(np.asarray(value))}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must return a number; it returned {type(value).__name__}") from None


def _check_perturbable(x, name: str = "x") -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array that can be changed in place; got {describe(x)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} has dtype {x.dtype}; a finite difference of size h needs a float array "
                        "(use x.astype(np.float64))")
    if not x.flags.writeable:
        raise ValueError(f"{name} is read-only; numerical_gradient perturbs it in place")
    if x.dtype != np.float64:
        warnings.warn(f"{name} has dtype {x.dtype}: finite differences need float64 to be accurate; "
                      "expect relative errors around 1e-2", RuntimeWarning, stacklevel=3)


@reference("gradcheck.numerical_gradient")
def numerical_gradient(f: Callable, x: Array, h: float = 1e-5) -> Array:
    r"""Gradient of a scalar function by central differences.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` (or ``f() -> float`` reading ``x`` through a model). Called
        ``2 * x.size`` times.
    x : ndarray of float, any shape
        The point. Each entry is perturbed by ``±h`` in place, one at a time, and restored
        afterwards — also when ``f`` raises.
    h : float
        Step size.

    Returns
    -------
    ndarray, same shape as ``x``, float64
        :math:`(f(x + h e_k) - f(x - h e_k)) / 2h` for every entry ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0])
    >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), x).round(6)
    array([2., 4.])
    """
    check()
    _check_perturbable(x)
    h = as_positive(h, "h", "the step of the central difference")
    call = _caller(f)
    grad = np.zeros(x.shape, dtype=np.float64)
    for k in np.ndindex(x.shape):
        old = x[k]
        try:
            x[k] = old + h
            fp = _scalar(call(x), "f")
            x[k] = old - h
            fm = _scalar(call(x), "f")
        finally:
            x[k] = old  # restore even when f raises
        grad[k] = (fp - fm) / (2 * h)
    return grad


@reference("gradcheck.rel_error")
def rel_error(a: Array, b: Array) -> float:
    r"""Largest relative difference :math:`\max_k |a_k - b_k| / \max(|a_k| + |b_k|, 10^{-12})`.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
        0 for identical arrays; around 1e-7 or less for a correct float64 gradient; 1 when
        the signs differ.
    """
    check()
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs two arrays of the same shape; got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


# --- whole-model check ------------------------------------------------------------------

@dataclass
class ParamCheck:
    """The check of one parameter array.

    Attributes
    ----------
    name : str
        ``"W[l]"`` or ``"b[l]"``, layers counted from 1.
    attr, index : str, int
        Where it lives: ``model.<attr>[index]``.
    shape : tuple
    max_rel_error : float
        Largest relative error over the checked entries (or directions).
    worst : tuple of int or int
        Index of the worst entry (``mode="directional"``: the number of the direction).
    analytic, numeric : float
        The two values at the worst entry.
    checked : int
        Entries (or directions) checked.
    ok : bool
    """

    name: str
    attr: str
    index: int
    shape: tuple
    max_rel_error: float
    worst: tuple | int | None
    analytic: float
    numeric: float
    checked: int
    ok: bool

    @property
    def where(self) -> str:
        """The worst entry, in the course's and in Python's indexing."""
        if isinstance(self.worst, tuple):
            idx = ", ".join(map(str, self.worst))
            return f"{self.name}[{idx}] ({self.attr}[{self.index}][{idx}])"
        if self.worst is None:
            return self.name
        return f"{self.name}, direction {self.worst}"


@dataclass
class GradCheckReport:
    """Result of :func:`check_gradients`; ``print(report)`` shows a table.

    Attributes
    ----------
    params : list of ParamCheck
        One per parameter array, ``W[1], b[1], W[2], ...``.
    ok : bool
        True when every array passed.
    mode, h, tol, loss
    problems : list of str
        Failures that are not a numerical mismatch (e.g. ``gradients`` changed the weights).
    """

    params: list
    mode: str
    h: float
    tol: float
    loss: float
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(p.ok for p in self.params)

    @property
    def worst(self) -> ParamCheck:
        """The parameter array with the largest relative error."""
        return max(self.params, key=lambda p: p.max_rel_error)

    @property
    def failed(self) -> list:
        return [p for p in self.params if not p.ok]

    def __getitem__(self, name: str) -> ParamCheck:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"no parameter {name!r}; have {', '.join(p.name for p in self.params)}")

    def __str__(self) -> str:
        status = "OK" if self.ok else "FAILED"
        head = (f"Gradient check ({self.mode}, h={self.h:g}, tol={self.tol:g}): {status}\n"
                f"{'param':<7}{'shape':<13}{'checked':>8}  {'max rel. error':>14}  "
                f"{'analytic':>13}  {'numeric':>13}  worst entry")
        rows = []
        for p in self.params:
            mark = "" if p.ok else "  <-- wrong"
            rows.append(f"{p.name:<7}{str(p.shape):<13}{p.checked:>8}  {p.max_rel_error:>14.3e}  "
                        f"{p.analytic:>13.6g}  {p.numeric:>13.6g}  {p.where}{mark}")
        rows += [f"problem: {msg}" for msg in self.problems]
        if not self.ok and self.failed:
            w = self.worst
            rows.append(f"largest error in {w.name}: analytic {w.analytic:.6g} vs numeric {w.numeric:.6g} "
                        f"at {w.where}")
        return "\n".join([head, *rows])

    def _repr_pretty_(self, p, cycle):  # IPython shows the table, not the dataclass
        p.text(str(self))


def _params(model) -> list:
    """``[(name, attr, index, array), ...]`` for W[1], b[1], W[2], b[2], ..."""
    for attr in ("weights", "biases", "loss", "gradients"):
        if not hasattr(model, attr):
            raise TypeError(f"check_gradients needs a model with weights, biases, loss(X, Y) and "
                            f"gradients(X, Y); {type(model).__name__} has no {attr!r}")
    Ws, bs = list(model.weights), list(model.biases)
    if len(Ws) != len(bs):
        raise ValueError(f"model has {len(Ws)} weight arrays but {len(bs)} bias arrays")
    out = []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        _check_perturbable(W, f"weights[{l}]")
        _check_perturbable(b, f"biases[{l}]")
        out += [(f"W[{l + 1}]", "weights", l, W), (f"b[{l + 1}]", "biases", l, b)]
    return out


@reference("gradcheck.check_gradients")
def _analytic(model, X, Y, params) -> tuple[list, list]:
    check()
    before = [p[3].copy() for p in params]
    grads = model.gradients(X, Y)
    problems = []
    if not (isinstance(grads, (tuple, list)) and len(grads) == 2):
        raise TypeError(f"gradients(X, Y) must return (dW_list, db_list); got {describe(grads)}")
    dW, db = list(grads[0]), list(grads[1])
    L = len(params) // 2
    if len(dW) != L or len(db) != L:
        raise ValueError(f"gradients returned {len(dW)} weight and {len(db)} bias gradients; "
                         f"the model has {L} layers")
    flat = []
    for l in range(L):
        flat += [np.asarray(dW[l], dtype=np.float64), np.asarray(db[l], dtype=np.float64)]
    for (name, attr, idx, arr), g, old in zip(params, flat, before):
        if g.shape != arr.shape:
            hint = " (transposed?)" if g.shape == arr.shape[::-1] else ""
            raise ValueError(f"the gradient of {name} has shape {g.shape} but {attr}[{idx}] has shape "
                             f"{arr.shape}{hint}; d{name}[j, i] must match {name}[j, i]")
        if not np.array_equal(arr, old):
            problems.append(f"gradients() changed {attr}[{idx}]; it must compute every gradient "
                            "from the current weights without updating them")
            arr[...] = old
    return flat, problems


@reference("gradcheck.check_gradients")
def check_gradients(model, X: Array, Y: Array, *, mode: str = "auto", h: float = 1e-5,
                    tol: float = 1e-6, k: int = 10, n_directions: int = 5, seed=None) -> GradCheckReport:
    r"""Compare ``model.gradients(X, Y)`` with finite differences of ``model.loss(X, Y)``.

    Parameters
    ----------
    model : object
        Anything with ``weights`` and ``biases`` (lists of float arrays that the model
        reads), ``loss(X, Y) -> float`` and ``gradients(X, Y) -> (dW_list, db_list)``.
    X : ndarray, shape (n_samples, n_features)
    Y : targets, as ``model.loss`` takes them
    mode : {"auto", "full", "sample", "directional"}
        ``"full"``: every entry (two loss evaluations each). ``"sample"``: ``k`` random
        entries per array. ``"directional"``: ``n_directions`` random unit directions per
        array, comparing :math:`\nabla E \cdot v` with :math:`(E(\theta + h v) - E(\theta - h v))/2h`
        (two loss evaluations per direction, whatever the array's size). ``"auto"``: full for
        arrays of at most 2000 entries, sampled beyond.
    h : float
        Finite-difference step.
    tol : float
        Largest relative error that passes. Entries whose gradient is below the
        finite-difference noise (about ``100 eps |E| / h``) are compared against that noise
        instead, so a vanishing gradient does not fail by round-off.
    k, n_directions : int
        Sizes of the sampled and directional checks.
    seed : int, optional
        For the sampled entries and the directions.

    Returns
    -------
    GradCheckReport
        ``report.ok``; ``report.worst.where`` names the worst entry; ``print(report)``.
    """
    check()
    if mode not in ("auto", "full", "sample", "directional"):
        raise ValueError(f"unknown mode {mode!r}; expected 'auto', 'full', 'sample' or 'directional'")
    k = as_count(k, "k", 1, "entries sampled per array")
    n_directions = as_count(n_directions, "n_directions", 1, "random directions")
    params = _params(model)
    rng = np.random.default_rng(seed)
    loss0 = _scalar(model.loss(X, Y), "model.loss")
    if not math.isfinite(loss0):
        raise ValueError(f"model.loss(X, Y) is {loss0}; a gradient check needs a finite loss")
    analytic, problems = _analytic(model, X, Y, params)
    noise = 100 * _EPS * max(abs(loss0), 1.0) / h   # round-off of one central difference
    floor = noise / tol
    f = lambda: _scalar(model.loss(X, Y), "model.loss")  # noqa: E731
    checks = []
    for (name, attr, idx, arr), g in zip(params, analytic):
        m = mode if mode != "auto" else ("full" if arr.size <= 2000 else "sample")
        if m == "directional":
            checks.append(_directional(name, attr, idx, arr, g, f, h, floor, tol, n_directions, rng))
            continue
        if m == "full" or arr.size <= k:
            entries = list(np.ndindex(arr.shape))
        else:
            flat = rng.choice(arr.size, size=k, replace=False)
            entries = [np.unravel_index(i, arr.shape) for i in flat]
        num = np.array([_central(f, arr, e, h) for e in entries])
        ana = np.array([g[e] for e in entries])
        checks.append(_summarise(name, attr, idx, arr.shape, ana, num, [tuple(map(int, e)) for e in entries],
                                 floor, tol))
    return GradCheckReport(checks, mode, h, tol, loss0, problems)


@reference("gradcheck.numerical_gradient")
def _central(f, arr, entry, h) -> float:
    check()
    old = arr[entry]
    try:
        arr[entry] = old + h
        fp = f()
        arr[entry] = old - h
        fm = f()
    finally:
        arr[entry] = old
    return (fp - fm) / (2 * h)


def _summarise(name, attr, idx, shape, ana, num, labels, floor, tol) -> ParamCheck:
    err = np.abs(ana - num) / np.maximum(np.abs(ana) + np.abs(num), floor)
    w = int(np.argmax(err)) if err.size else 0
    worst = float(err[w]) if err.size else 0.0
    return ParamCheck(name, attr, idx, tuple(shape), worst, labels[w] if labels else None,
                      float(ana[w]) if err.size else 0.0, float(num[w]) if err.size else 0.0,
                      len(labels), worst <= tol)


@reference("gradcheck.check_gradients")
def _directional(name, attr, idx, arr, g, f, h, floor, tol, n, rng) -> ParamCheck:
    check()
    orig = arr.copy()
    ana, num = [], []
    for _ in range(n):
        v = rng.standard_normal(arr.shape)
        v /= np.linalg.norm(v) or 1.0
        try:
            arr += h * v
            fp = f()
            arr[...] = orig - h * v
            fm = f()
        finally:
            arr[...] = orig
        ana.append(float(np.sum(g * v)))
        num.append((fp - fm) / (2 * h))
    return _summarise(name, attr, idx, arr.shape, np.array(ana), np.array(num), list(range(1, n + 1)), floor, tol)
