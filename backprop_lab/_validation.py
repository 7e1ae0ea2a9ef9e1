"""Input checks shared by the public functions of :mod:`backprop_lab`.

Every check raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError``
(right kind, wrong shape or value) with a message that names the argument, what it
got and what was expected, so that a student can act on it without a debugger.
"""

from __future__ import annotations

import difflib
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
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
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
