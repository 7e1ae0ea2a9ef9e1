"""Input checks shared by the public functions of :mod:`backprop_lab`.

Every check raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError``
(right kind, wrong shape or value) with a message that names the argument, what it
got and what was expected, so that a student can act on it without a debugger.
"""

from __future__ import annotations

import difflib
import math
import numbers
import operator
from collections.abc import Iterable

import numpy as np

__all__ = [
    "as_float_array",
    "check_2d",
    "check_finite",
    "check_n_features",
    "lookup",
    "describe",
    "as_index",
    "as_int_list",
    "is_int",
    "is_real",
    "as_count",
    "as_positive",
    "as_non_negative",
    "as_seed",
    "as_samples",
]


def describe(x) -> str:
    """A short description of ``x`` for error messages: type, dtype and shape."""
    if isinstance(x, np.ndarray):
        return f"{x.ndim}-D array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__}"


def as_float_array(x, name: str, dtype=np.float64) -> np.ndarray:
    """Convert ``x`` to a floating array of ``dtype`` without copying when it already is one.

    Raises
    ------
    TypeError
        If ``x`` is not numeric (strings, objects, complex numbers, None).
    """
    if type(x) is np.ndarray and x.dtype == dtype:
        return x  # the common case, kept cheap: this runs on every training step
    if x is None:
        raise TypeError(f"{name} is None; expected a numeric array")
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} could not be made into an array ({exc}); rows must all have the same length") from None
    if arr.dtype == object:
        raise TypeError(f"{name} has dtype object ({describe(x)}); expected numbers, "
                        "e.g. a float array (are some rows of different length, or some entries None?)")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} has dtype {arr.dtype}; expected a numeric (float) array")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} has complex dtype {arr.dtype}; expected real numbers")
    return np.asarray(arr, dtype=dtype)


def check_2d(arr: np.ndarray, name: str, rows: str = "samples", cols: str = "features") -> None:
    """Require a 2-D array ``(n_{rows}, n_{cols})`` and explain how to fix 1-D input."""
    if arr.ndim == 2:
        return
    if arr.ndim == 1:
        raise ValueError(
            f"{name} must be 2-D with shape (n_{rows}, n_{cols}); got a 1-D array of shape {arr.shape}. "
            f"One {rows[:-1]} per row, one {cols[:-1]} per column: for a single {rows[:-1]} use "
            f"{name}.reshape(1, -1), for a single {cols[:-1]} use {name}.reshape(-1, 1)")
    raise ValueError(f"{name} must be 2-D with shape (n_{rows}, n_{cols}); got {arr.ndim}-D shape {arr.shape}")


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming the first NaN or infinite entry of ``arr``."""
    if np.isfinite(arr).all():
        return
    bad = np.argwhere(~np.isfinite(arr))
    where = tuple(int(i) for i in bad[0])
    value = arr[where]
    kind = "NaN" if np.isnan(value) else "an infinite value"
    idx = ", ".join(map(str, where))
    raise ValueError(f"{name} contains {kind} at [{idx}] ({len(bad)} non-finite "
                     f"entr{'y' if len(bad) == 1 else 'ies'} in all); expected finite numbers")


def check_n_features(arr: np.ndarray, name: str, expected: int, what: str) -> None:
    """Require ``arr.shape[1] == expected``."""
    if arr.shape[1] != expected:
        raise ValueError(f"{name} has {arr.shape[1]} columns (shape {arr.shape}) but {what} "
                         f"expects {expected}")


def lookup(registry: dict, name, kind: str):
    """Return ``registry[name]``; an unknown name gets a 'did you mean' suggestion."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be given by name (a str), got {type(name).__name__} {name!r}; "
                        f"known {kind}s: {', '.join(sorted(registry))}")
    key = name.strip().lower().replace("-", "_")
    if key in registry:
        return registry[key]
    close = difflib.get_close_matches(key, list(registry), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(sorted(registry))}{hint}")


def as_int_list(values: Iterable, name: str, minimum: int = 1) -> list[int]:
    """Validate a sequence of positive integers such as ``layer_sizes``."""
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of integers, got {type(values).__name__}") from None
    out = []
    for k, v in enumerate(items):
        if not is_int(v):
            raise TypeError(f"{name}[{k}] is {v!r} ({type(v).__name__}); expected an integer")
        if v < minimum:
            raise ValueError(f"{name}[{k}] is {v}; every layer needs at least {minimum} unit(s)")
        out.append(int(v))
    return out


def as_index(k, name: str, expected: str = "an integer") -> int:
    """An integer argument: Python, NumPy and SymPy integers pass (``Matrix(2, 2, lambda j, i: ...)``
    hands SymPy's to a callback); bools, floats and anything else raise ``TypeError``."""
    if isinstance(k, (bool, np.bool_)):
        raise TypeError(f"{name} must be {expected}, got bool {k!r}")
    try:
        return operator.index(k)
    except TypeError:
        raise TypeError(f"{name} must be {expected}, got {type(k).__name__} {k!r}") from None


def is_int(x) -> bool:
    """Whether ``x`` is an integer (Python, NumPy or SymPy), and not a bool: ``True`` is an
    ``int`` to Python, but a flag passed where a count belongs is a mistake."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def is_real(x) -> bool:
    """Whether ``x`` is a real number (an integer or a float, Python or NumPy), and not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _integer_phrase(minimum: int) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer >= {minimum}"


def as_count(n, name: str, minimum: int = 1, what: str | None = None) -> int:
    """An integer of at least ``minimum``, such as a number of epochs or samples.

    ``what`` says what the number counts, e.g. ``"grid points per axis"``; it goes into the
    message: ``resolution must be an integer >= 2 (grid points per axis), got 1``.

    Raises
    ------
    TypeError
        If ``n`` is not an integer: a bool, a float (also ``10.0``), a string.
    ValueError
        If ``n < minimum``.
    """
    expected = _integer_phrase(minimum) + (f" ({what})" if what else "")
    if not is_int(n):
        raise TypeError(f"{name} must be {expected}, got {type(n).__name__} {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be {expected}, got {n!r}")
    return int(n)


def _as_real(x, name: str, what: str | None) -> float:
    if not is_real(x):
        raise TypeError(f"{name} must be a number{f' ({what})' if what else ''}, got {type(x).__name__} {x!r}")
    return float(x)


def as_positive(x, name: str, what: str | None = None) -> float:
    """A finite real number ``> 0``, such as a learning rate or a step size, as a float.

    ``what`` says what it is: ``as_positive(lr, "lr", "the learning rate α")`` raises
    ``lr (the learning rate α) must be a positive finite number, got -0.1``.

    Raises
    ------
    TypeError
        If ``x`` is not a real number (bools and strings included).
    ValueError
        If ``x`` is NaN, infinite, zero or negative.
    """
    value = _as_real(x, name, what)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}{f' ({what})' if what else ''} must be a positive finite number, got {x!r}")
    return value


def as_non_negative(x, name: str, what: str | None = None) -> float:
    """A finite real number ``>= 0``, such as a noise level or a tolerance, as a float.

    Raises
    ------
    TypeError
        If ``x`` is not a real number (bools and strings included).
    ValueError
        If ``x`` is NaN, infinite or negative.
    """
    value = _as_real(x, name, what)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}{f' ({what})' if what else ''} must be a non-negative finite number (>= 0), "
                         f"got {x!r}")
    return value


def as_seed(seed, name: str = "seed"):
    """A seed for random numbers: ``None``, a non-negative integer (returned as ``int``) or a
    :class:`numpy.random.Generator` (returned as is, so that its stream continues).

    ``np.random.default_rng(as_seed(seed))`` is then the generator to draw from.
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if not is_int(seed):
        raise TypeError(f"{name} must be None, a non-negative int or a numpy Generator; "
                        f"got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed}")
    return int(seed)


def as_samples(x, name: str, dtype=np.float64, n_features: int | None = None,
               what: str = "the network's input layer") -> np.ndarray:
    """A data matrix of shape ``(n_samples, n_features)`` with at least one sample and only
    finite entries, as a floating array of ``dtype`` (not copied if it already is one).

    The checks of :func:`as_float_array`, :func:`check_2d`, then, if ``n_features`` is
    given, :func:`check_n_features` (``what`` names what expects that many columns), then
    at least one row and :func:`check_finite`, in that order.
    """
    arr = as_float_array(x, name, dtype)
    check_2d(arr, name)
    if n_features is not None:
        check_n_features(arr, name, n_features, what)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {arr.shape})")
    check_finite(arr, name)
    return arr
