r"""The checks that the course notebooks' test cells call.

Every test cell starts with ``t = task("2.1 dense_forward")`` and then calls the checks of
that task::

    from backprop_lab.grading import task
    t = task("1.3 dense_forward")
    out = t.call(dense_forward, X, W, b)        # not implemented? modified its input?
    t.shape(out, (4, 3), "dense_forward(X, W, b)")
    t.close(out, X @ W + b, "dense_forward(X, W, b)")

A failing check raises :class:`GradingError` (an ``AssertionError``, so nbgrader scores the
cell 0) whose message names the task, what was expected, what was found and, where the
numbers show it, the usual cause::

    Task 1.3 dense_forward: dense_forward(X, W, b) has shape (3, 4); expected (4, 3).
    Hint: the result is the transpose of what was expected: one sample per row, one unit per column.

Tests cannot be fooled by a student cell that replaces NumPy functions (``np.allclose =
lambda *a, **k: True``): :func:`task` restores every NumPy function that a cell replaced
before the test runs, and the checks compare numbers with functions captured when this
module was imported, on plain ``ndarray`` copies, never with the student's objects' own
``__eq__``.
"""

from __future__ import annotations

import math
import sys
import types
from typing import Any, Callable

import numpy as np
import numpy.linalg
import numpy.random
import numpy.testing

__all__ = ["task", "Task", "GradingError", "restore_numpy"]

# --- the real NumPy, captured before any student cell runs -----------------------------

_NAMESPACES = {"numpy": np, "numpy.testing": np.testing, "numpy.linalg": np.linalg, "numpy.random": np.random}
_SNAPSHOT = {name: dict(vars(mod)) for name, mod in _NAMESPACES.items()}
_array = np.array
_abs = np.abs
_isfinite = np.isfinite
_isnan = np.isnan
_argmax = np.argmax
_unravel = np.unravel_index
_ndarray = np.ndarray
_float64 = np.float64
_maximum = np.maximum


def restore_numpy() -> list[str]:
    """Put back every NumPy attribute that was replaced or deleted since import.

    Returns
    -------
    list of str
        The names that were restored, e.g. ``["numpy.allclose"]``.
    """
    restored = []
    for name, mod in _NAMESPACES.items():
        current = vars(mod)
        for attr, original in _SNAPSHOT[name].items():
            if current.get(attr, _MISSING) is not original:
                setattr(mod, attr, original)
                restored.append(f"{name}.{attr}")
    # a student may also have put a fake numpy into sys.modules
    for name, mod in _NAMESPACES.items():
        if sys.modules.get(name) is not mod:
            sys.modules[name] = mod
            restored.append(f"sys.modules[{name!r}]")
    return restored


_MISSING = object()


class GradingError(AssertionError):
    """A failed check; the message is written for the student."""


# --- helpers on plain arrays ------------------------------------------------------------

def _plain(value, what: str, task_name: str) -> np.ndarray:
    """A float64 ``ndarray`` copy of a student's value (no subclass, no custom ``__eq__``)."""
    if value is None:
        raise GradingError(f"Task {task_name}: {what} is None; did the function forget to `return` its result?")
    if isinstance(value, (str, bytes, dict, set)):
        raise GradingError(f"Task {task_name}: {what} is a {type(value).__name__}; expected numbers")
    try:
        arr = _array(value, dtype=_float64, copy=True, subok=False)
    except (TypeError, ValueError) as exc:
        raise GradingError(f"Task {task_name}: {what} is a {type(value).__name__} that is not an array of "
                           f"numbers ({exc})") from None
    if type(arr) is not _ndarray:
        arr = arr.view(_ndarray)
    return arr


def _fmt(x) -> str:
    return f"{x:.6g}"


def _shape_hint(got: tuple, expected: tuple) -> str | None:
    if len(got) == len(expected) == 2 and got == expected[::-1]:
        return ("the result is the transpose of what was expected: arrays hold one sample per row, "
                "and W[j, i] is the weight from unit j to unit i, so W has shape (fan_in, fan_out)")
    if len(got) == 1 and len(expected) == 2 and got[0] in expected:
        return "a 1-D result where a 2-D one was expected: keep the batch axis (one row per sample)"
    if len(got) == 2 and len(expected) == 1 and expected[0] in got:
        return "a 2-D result where a 1-D one was expected: did you forget to sum or average over an axis?"
    if len(got) == 0 and len(expected) > 0:
        return "a single number where an array was expected: did you sum over every axis?"
    if len(got) > 0 and len(expected) == 0:
        return "an array where a single number was expected: reduce it (sum or mean) to one value"
    return None


def _value_hint(got: np.ndarray, exp: np.ndarray, batch: int | None) -> str | None:
    """Recognise the usual mistakes from the numbers alone."""
    if exp.size == 0:
        return None
    scale = float(np.max(_abs(exp))) or 1.0

    def near(a, b):
        return float(np.max(_abs(a - b))) <= 1e-6 * scale

    if near(got, -exp):
        return ("every entry has the opposite sign: check the sign convention (the course's Δ = −∂E/∂in "
                "is added in the update, the gradient ∂E/∂W is subtracted) and the order in t − o")
    if got.ndim == 2 and got.shape[0] == got.shape[1] and near(got.T, exp):
        return "the result is the transpose of what was expected: check which index is the row"
    nz = _abs(exp) > 1e-12 * scale
    if nz.any():
        ratio = got[nz] / exp[nz]
        r = float(ratio.mean())
        if r != 0 and float(np.max(_abs(ratio - r))) <= 1e-6 * abs(r) and abs(r - 1) > 1e-6:
            if batch and abs(r - batch) <= 1e-6 * batch:
                return (f"every entry is {batch}× too large ({batch} = the batch size): average over the "
                        "samples instead of summing")
            if batch and abs(r * batch - 1) <= 1e-6:
                return f"every entry is {batch}× too small: divide by the batch size once, not twice"
            if abs(r - 2) <= 1e-6:
                return "every entry is twice the expected value: is the ½ of ½ Σ (t − o)² missing?"
            if abs(r - 0.5) <= 1e-6:
                return "every entry is half the expected value: is there an extra factor ½?"
            return f"every entry is {r:.4g} times the expected value: a constant factor is off"
    return None


# --- the checks -------------------------------------------------------------------------

class Task:
    """The checks of one graded task; create it with :func:`task`.

    Parameters
    ----------
    name : str
        As the notebook numbers it, e.g. ``"1.3 dense_forward"``; it starts every message.
    """

    def __init__(self, name: str):
        self.name = name

    def fail(self, message: str, hint: str | None = None):
        """Raise :class:`GradingError` with the task's name and an optional hint."""
        text = f"Task {self.name}: {message}"
        if hint:
            text += f"\nHint: {hint}"
        raise GradingError(text)

    # calling student code

    def call(self, fn: Callable, *args, check_unchanged: bool = True, **kwargs) -> Any:
        """Call a student's function and return its result.

        Fails with a clear message if ``fn`` is not a function, is not implemented yet
        (raises ``NotImplementedError``) or, with ``check_unchanged``, modifies any of its
        NumPy array arguments in place.
        """
        label = getattr(fn, "__name__", repr(fn))
        if not callable(fn):
            self.fail(f"{label} is a {type(fn).__name__}, not a function; did a later cell reuse the name?")
        before = [(k, a.copy()) for k, a in enumerate(args) if isinstance(a, _ndarray)]
        before += [(k, a.copy()) for k, a in kwargs.items() if isinstance(a, _ndarray)]
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError:
            self.fail(f"{label} is not implemented yet (it raises NotImplementedError); write your "
                      "solution in its cell, in place of `raise NotImplementedError()`, and run that cell")
        except GradingError:
            raise
        except Exception as exc:  # the student's exception, named with its place
            self.fail(f"calling {label} raised {type(exc).__name__}: {exc}")
        restore_numpy()  # the function itself may have replaced NumPy functions
        if check_unchanged:
            for key, old in before:
                new = args[key] if isinstance(key, int) else kwargs[key]
                if new.shape != old.shape or not bool(((new == old) | (_isnan(new) & _isnan(old))).all()):
                    which = f"argument {key + 1}" if isinstance(key, int) else f"argument {key!r}"
                    self.fail(f"{label} modified its input ({which}) in place",
                              "compute a new array instead of changing the one passed in "
                              "(e.g. `a = a + b`, not `a += b`, on an argument)")
        return result

    def raises(self, exc_type: type, fn: Callable, *args, match: str | None = None, **kwargs) -> None:
        """The student's function must raise ``exc_type`` (whose message contains ``match``)."""
        label = getattr(fn, "__name__", repr(fn))
        try:
            fn(*args, **kwargs)
        except NotImplementedError:
            if exc_type is not NotImplementedError:
                self.fail(f"{label} is not implemented yet (it raises NotImplementedError)")
        except exc_type as exc:
            if match is not None and match.lower() not in str(exc).lower():
                self.fail(f"{label} raised {exc_type.__name__} as it should, but its message {str(exc)!r} "
                          f"does not mention {match!r}")
            return
        except Exception as exc:
            self.fail(f"{label} raised {type(exc).__name__}: {exc}; expected {exc_type.__name__}")
        else:
            self.fail(f"{label} returned normally; expected it to raise {exc_type.__name__}")

    # arrays

    def array(self, value, what: str = "the result") -> np.ndarray:
        """The value as a plain float64 array (fails for None, strings, objects)."""
        return _plain(value, what, self.name)

    def shape(self, value, expected: tuple, what: str = "the result", hint: str | None = None) -> np.ndarray:
        """Require ``value.shape == expected``; returns the value as a plain array."""
        arr = self.array(value, what)
        expected = tuple(expected)
        if arr.shape != expected:
            self.fail(f"{what} has shape {arr.shape}; expected {expected}", hint or _shape_hint(arr.shape, expected))
        return arr

    def dtype(self, value, kind: str = "f", what: str = "the result") -> None:
        """Require a NumPy array whose dtype kind is ``kind`` (``"f"`` float, ``"i"`` int)."""
        if not isinstance(value, _ndarray):
            self.fail(f"{what} is a {type(value).__name__}; expected a NumPy array")
        kinds = {"f": "floating-point", "i": "integer", "b": "boolean"}
        if value.dtype.kind != kind and not (kind == "i" and value.dtype.kind == "u"):
            self.fail(f"{what} has dtype {value.dtype}; expected a {kinds.get(kind, kind)} array",
                      "integer arrays round every result: create arrays with floats (0.0, dtype=float)"
                      if kind == "f" else None)

    def finite(self, value, what: str = "the result") -> np.ndarray:
        """Require no NaN or infinite entries; returns the plain array."""
        arr = self.array(value, what)
        bad = ~_isfinite(arr)
        if bad.any():
            where = tuple(int(i) for i in _unravel(int(_argmax(bad)), arr.shape)) if arr.ndim else ()
            self.fail(f"{what} contains {'NaN' if _isnan(arr).any() else 'infinite values'} "
                      f"({int(bad.sum())} of {arr.size} entries; first at {list(where)})",
                      "exp() of a large number overflows: subtract the row maximum before exp, or use a "
                      "stable formula")
        return arr

    def close(self, value, expected, what: str = "the result", rtol: float = 1e-7, atol: float = 1e-10,
              hint: str | None = None, batch: int | None = None) -> np.ndarray:
        """Require ``|value - expected| <= atol + rtol |expected|`` entry by entry.

        ``batch`` (the number of samples) lets the message recognise a result that was
        summed instead of averaged.
        """
        restore_numpy()
        exp = _plain(expected, "the expected value", self.name)
        arr = self.shape(value, exp.shape, what)
        self.finite(arr, what)
        err = _abs(arr - exp)
        tol = atol + rtol * _abs(exp)
        bad = err > tol
        if bad.any():
            k = int(_argmax(err - tol)) if arr.ndim else 0
            idx = tuple(int(i) for i in _unravel(k, arr.shape)) if arr.ndim else ()
            at = f" at index {list(idx)}" if idx else ""
            got_v, exp_v = (arr[idx], exp[idx]) if idx else (float(arr), float(exp))
            msg = (f"{what} is not close enough to the expected value: {int(bad.sum())} of {arr.size} entries "
                   f"differ; the largest difference is{at}: found {_fmt(got_v)}, expected {_fmt(exp_v)} "
                   f"(tolerance {_fmt(float(tol.flat[k]) if arr.ndim else float(tol))})")
            self.fail(msg, hint or _value_hint(arr, exp, batch))
        return arr

    def scalar(self, value, expected: float, what: str = "the result", rtol: float = 1e-7,
               atol: float = 1e-10, hint: str | None = None) -> float:
        """Require a single number close to ``expected``."""
        if isinstance(value, _ndarray) and value.size == 1 and value.ndim > 0:
            self.fail(f"{what} is an array of shape {value.shape}; expected a single number",
                      "use float(...) or .item(), or sum/average to a scalar")
        arr = self.close(value, expected, what, rtol=rtol, atol=atol, hint=hint)
        return float(arr)

    def true(self, condition: bool, message: str, hint: str | None = None) -> None:
        """A plain condition, with a message for when it does not hold."""
        if condition is not True and not (isinstance(condition, (np.bool_,)) and bool(condition)):
            self.fail(message, hint)

    # symbolic

    def equivalent(self, expr, expected, what: str = "your expression", symbols=None,
                   timeout: float = 5.0, hint: str | None = None):
        """Require a SymPy expression equal to ``expected`` however it is written."""
        from .symbolic import equivalent

        if expr is None:
            self.fail(f"{what} is None; assign your expression to it")
        try:
            result = equivalent(expr, expected, symbols=symbols, timeout=timeout,
                                labels=(what, "the expected expression"))
        except (ValueError, TypeError) as exc:
            self.fail(f"{what} could not be read as an expression: {exc}")
        if result.equal is True:
            return result
        if result.equal is None:
            self.fail(f"{what} could not be compared with the expected expression within {timeout:g} s "
                      f"({result.reason})", hint or "simplify your expression")
        self.fail(f"{what} is not equal to the expected expression: {result.reason}", hint)


def task(name: str) -> Task:
    """Start the checks of one task: restores any NumPy function a student cell replaced.

    Parameters
    ----------
    name : str
        The task as the notebook numbers it, e.g. ``"1.3 dense_forward"``.
    """
    restored = restore_numpy()
    if restored:
        print(f"note: restored {', '.join(restored[:5])}{' ...' if len(restored) > 5 else ''}, "
              "which a cell had replaced; tests always use the real NumPy")
    return Task(name)
