"""The checks of a graded task (:func:`task`, :class:`Task`); see :mod:`backprop_lab.grading`."""

from __future__ import annotations

import functools
import sys
import textwrap
from typing import Any, Callable

import numpy as np
import numpy.linalg
import numpy.random
import numpy.testing

from .. import _fence
from .state import protect_package, restore_numpy

__all__ = ["task", "Task", "GradingError", "watch_cells"]

# --- the real NumPy, captured before any student cell runs --------------------------------

_array = np.array
_abs = np.abs
_isfinite = np.isfinite
_isnan = np.isnan
_argmax = np.argmax
_unravel = np.unravel_index
_ndarray = np.ndarray
_float64 = np.float64


class GradingError(AssertionError):
    """A failed check; the message is written for the student.

    IPython (and so Jupyter, nbgrader's Validate and its feedback) shows it as its message
    alone: the message says what failed and why, and no frame of the test's code is needed,
    which also keeps hidden tests' lines out of what students see.
    """

    def _render_traceback_(self) -> list[str]:
        # wrapped to 80 columns: nbgrader's Validate cuts lines longer than 83 (plus its indent) off
        lines = []
        for k, para in enumerate(f"GradingError: {self}".splitlines()):
            lines += textwrap.wrap(para.strip(), 80, initial_indent="" if k == 0 else "  ",
                                   subsequent_indent="    ", break_on_hyphens=False) or [""]
        lines[0] = lines[0].replace("GradingError", "\x1b[0;31mGradingError\x1b[0m", 1)
        return lines


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
        return ("the result is the transpose of what was expected: data arrays hold one sample per row; "
                "W[j, i] is the weight from unit j to unit i, so W and dE/dW have shape (fan_in, fan_out)")
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
                return ("every entry is half the expected value: is there an extra factor ½, or an average "
                        "over 2 of something that should be summed (e.g. over the outputs)?")
            return f"every entry is {r:.4g} times the expected value: a constant factor is off"
    return None


def _arrays_in(value) -> list:
    """``[(path, array)]`` for an array, or the arrays of a list/tuple of arrays
    (``weights``), with paths like ``"[1]"``."""
    if isinstance(value, _ndarray):
        return [("", value)]
    if isinstance(value, (list, tuple)):
        return [(f"[{k}]", v) for k, v in enumerate(value) if isinstance(v, _ndarray)]
    return []


def _warning_hint(exc: Exception) -> str | None:
    """Tests turn NumPy's floating-point warnings into errors; say what usually causes them."""
    text = str(exc)
    if isinstance(exc, (RuntimeWarning, FloatingPointError)):
        if "overflow" in text:
            return ("a value overflowed: exp() of a large number is infinite; rewrite the formula so that "
                    "exp() only sees arguments <= 0 (e.g. subtract the maximum, or use e^{-|x|})")
        if "divide" in text or "invalid" in text:
            return "a division by zero or log(0) happened: guard it, or use a formula without it"
    return None


def _hints(automatic: str | None, given: str | None) -> str | None:
    """What the numbers show first, then the test's own hint."""
    return "\n".join(h for h in (automatic, given) if h) or None


# --- the checks -------------------------------------------------------------------------

class Task:
    """The checks of one graded task; create it with :func:`task`.

    Parameters
    ----------
    name : str
        As the notebook numbers it, e.g. ``"1.3 dense_forward"``; it starts every message.
    allow : tuple of str
        References of the course library that the student's code may call while this task
        is tested (see :func:`task`).
    """

    def __init__(self, name: str, allow: tuple = ()):
        self.name = name
        self.allow = tuple(allow)
        self._fenced_at = len(_fence.state.violations)

    def _fenced(self, mark: int | None = None) -> None:
        """Fail if the student's code called a fenced reference since ``mark`` (default: since
        the task started), even if it caught the refusal."""
        new = _fence.state.violations[self._fenced_at if mark is None else mark:]
        if new:
            self.fail(_fence.message(self.name, new[0].reference).split(": ", 1)[1])

    def _run_student(self, fn, args, kwargs):
        """Call student code with the fence armed for this task; refusals fail the task, and
        so does student code that changed the fence while it ran."""
        fence = _fence.state
        mark = len(fence.violations)
        _fence.arm(self.name, self.allow)
        before = (fence.depth, fence.task, fence.allow, fence.test_files, fence.violations)
        try:
            return fn(*args, **kwargs)
        except _fence.FencedReference:
            self._fenced(mark)
            raise
        finally:
            after = (fence.depth, fence.task, fence.allow, fence.test_files, fence.violations)
            if after[:4] != before[:4] or after[4] is not before[4]:
                fence.depth, fence.task, fence.allow, fence.test_files, fence.violations = before
                _fence.disarm()
                self.fail(f"{getattr(fn, '__name__', 'your code')} changed the grading's reference fence while "
                          "it ran; no points for this task")
            _fence.disarm()
            self._fenced(mark)

    def fail(self, message: str, hint: str | None = None):
        """Raise :class:`GradingError` with the task's name and an optional hint."""
        text = f"Task {self.name}: {message}"
        if hint:
            text += f"\nHint: {hint}"
        raise GradingError(text)

    # calling student code

    def call(self, fn: Callable, *args, check_unchanged: bool = True, hint: str | None = None, **kwargs) -> Any:
        """Call a student's function and return its result.

        Fails with a clear message if ``fn`` is not a function, is not implemented yet
        (raises ``NotImplementedError``) or, with ``check_unchanged``, modifies any of its
        NumPy array arguments in place. ``hint`` is added when the function raises.
        """
        label = getattr(fn, "__name__", repr(fn))
        if not callable(fn):
            self.fail(f"{label} is a {type(fn).__name__}, not a function; did a later cell reuse the name?")
        before = [(key, path, arr.copy()) for key, value in [*enumerate(args), *kwargs.items()]
                  for path, arr in _arrays_in(value)]
        not_implemented = False
        try:
            result = self._run_student(fn, args, kwargs)
        except NotImplementedError:
            not_implemented = True  # reported below, without the stub's traceback
        except GradingError:
            raise
        except Exception as exc:  # the student's exception, named with its place
            self.fail(f"calling {label} raised {type(exc).__name__}: {exc}", _hints(_warning_hint(exc), hint))
        if not_implemented:
            self.fail(f"{label} is not implemented yet (it raises NotImplementedError); write your "
                      "solution in its cell, in place of `raise NotImplementedError()`, and run that cell")
        restore_numpy()  # the function itself may have replaced NumPy functions
        if check_unchanged:
            for key, path, old in before:
                new = dict(_arrays_in(args[key] if isinstance(key, int) else kwargs[key])).get(path)
                if new is None or new.shape != old.shape or \
                        not bool(((new == old) | (_isnan(new) & _isnan(old))).all()):
                    which = f"argument {key + 1}" if isinstance(key, int) else f"argument {key!r}"
                    self.fail(f"{label} modified its input ({which}{path}) in place",
                              "compute a new array instead of changing the one passed in "
                              "(e.g. `a = a + b`, not `a += b`, on an argument)")
        return result

    def raises(self, exc_type: type, fn: Callable, *args, match: str | None = None, **kwargs) -> None:
        """The student's function must raise ``exc_type`` (whose message contains ``match``)."""
        label = getattr(fn, "__name__", repr(fn))
        try:
            self._run_student(fn, args, kwargs)
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
            self.fail(f"{what} has shape {arr.shape}; expected {expected}", _hints(_shape_hint(arr.shape, expected), hint))
        return arr

    def dtype(self, value, kind: str = "f", what: str = "the result") -> None:
        """Require a NumPy array whose dtype kind is ``kind`` (``"f"`` float, ``"i"`` int)."""
        if not isinstance(value, _ndarray):
            self.fail(f"{what} is a {type(value).__name__}; expected a NumPy array")
        kinds = {"f": "floating-point", "i": "integer", "b": "boolean"}
        if value.dtype.kind != kind and not (kind == "i" and value.dtype.kind == "u"):
            self.fail(f"{what} has dtype {value.dtype}; expected a {kinds.get(kind, kind)} array",
                      "integer arrays round every result: create arrays with floats (0.0, dtype=float)"
                      if kind == "f" and value.dtype.kind in "iu" else None)

    def finite(self, value, what: str = "the result") -> np.ndarray:
        """Require no NaN or infinite entries; returns the plain array."""
        arr = self.array(value, what)
        bad = ~_isfinite(arr)
        if bad.any():
            where = tuple(int(i) for i in _unravel(int(_argmax(bad)), arr.shape)) if arr.ndim else ()
            self.fail(f"{what} contains {'NaN' if _isnan(arr).any() else 'infinite values'} "
                      f"({int(bad.sum())} of {arr.size} entries; first at {list(where)})",
                      "the usual causes: exp() of a large number overflows (subtract the row maximum "
                      "before exp, or use a stable formula), log(0) is -inf, 0/0 or inf - inf is NaN")
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
            self.fail(msg, _hints(_value_hint(arr, exp, batch), hint))
        return arr

    def scalar(self, value, expected: float, what: str = "the result", rtol: float = 1e-7,
               atol: float = 1e-10, hint: str | None = None, batch: int | None = None) -> float:
        """Require a single number close to ``expected`` (``batch`` as for :meth:`close`)."""
        if isinstance(value, _ndarray) and value.ndim > 0:
            self.fail(f"{what} is an array of shape {value.shape}; expected a single number",
                      "use float(...) or .item(), or sum/average to a scalar")
        arr = self.close(value, expected, what, rtol=rtol, atol=atol, hint=hint, batch=batch)
        return float(arr)

    def true(self, condition: bool, message: str, hint: str | None = None) -> None:
        """A plain condition, with a message for when it does not hold."""
        if condition is not True and not (isinstance(condition, (np.bool_,)) and bool(condition)):
            self.fail(message, hint)

    # symbolic

    def equivalent(self, expr, expected, what: str = "your expression", symbols=None,
                   timeout: float = 5.0, hint: str | None = None, namespace: dict | None = None):
        """Require a SymPy expression equal to ``expected`` however it is written.

        ``namespace`` maps names in string answers to symbols (e.g. ``net.namespace``).
        """
        from ..symbolic import equivalent

        if expr is None:
            self.fail(f"{what} is None; assign your expression to it")
        try:
            result = equivalent(expr, expected, symbols=symbols, timeout=timeout, namespace=namespace,
                                labels=(what, "the expected expression"))
        except (ValueError, TypeError) as exc:
            self.fail(f"{what} could not be read as an expression: {exc}")
        if result.equal is True:
            return result
        if result.equal is None:
            self.fail(f"{what} could not be compared with the expected expression within {timeout:g} s "
                      f"({result.reason})", hint or "simplify your expression")
        self.fail(f"{what} is not equal to the expected expression: {result.reason}", hint)


def _checked(method):
    """A check runs with the fence armed (a student's value may compute lazily, e.g. in
    ``__array__``) and fails if the student's code called a fenced reference in the task."""
    @functools.wraps(method)
    def check(self, *args, **kwargs):
        _fence.arm(self.name, self.allow)
        try:
            result = method(self, *args, **kwargs)
        except _fence.FencedReference:
            self._fenced()
            raise
        finally:
            _fence.disarm()
        self._fenced()
        return result
    return check


for _name in ("array", "shape", "dtype", "finite", "close", "scalar", "true", "equivalent"):
    setattr(Task, _name, _checked(getattr(Task, _name)))


def task(name: str, allow=()) -> Task:
    """Start the checks of one task.

    Restores any NumPy or backprop_lab function that a student cell replaced, and arms the
    reference fence (:mod:`backprop_lab._fence`) for the rest of the test cell: while it
    runs, the course library's reference implementations refuse to serve the student's
    code, so that the task's points go to the student's own work.

    Parameters
    ----------
    name : str
        The task as the notebook numbers it, e.g. ``"1.3 dense_forward"``.
    allow : iterable of str
        References the student's code may call in this task, because the task gives them
        to it: ``allow=["activations"]`` when the test passes the library's activations in,
        ``allow=["MLP.loss", "MLP.gradients"]`` for a training loop given a network.
    """
    protect_package()  # modules imported since (e.g. backprop_lab.symbolic in a setup cell)
    restored = restore_numpy()
    if restored:
        print(f"note: restored {'; '.join(restored[:3])}{' ...' if len(restored) > 3 else ''}: a cell had "
              "replaced them; tests always use the real NumPy and backprop_lab")
    t = Task(name, allow)
    caller = sys._getframe(1).f_code.co_filename
    guard = sys.modules.get("backprop_lab.grading.guard")
    if guard is not None and guard.installed() and caller not in _fence.state.test_files:
        return t  # autograding: only the test cell the grader sealed may arm the fence as a test
    if _cells.shell is not None:  # in a notebook: the fence stays armed until the cell ends
        if not _cells.in_test:
            _cells.in_test = True
            _fence.arm(name, t.allow, test_file=caller)
        else:
            _fence.state.task, _fence.state.allow = name, t.allow
    else:
        _fence.state.test_files = frozenset({caller})
    return t


class _Cells:
    """What :func:`watch_cells` keeps between IPython's pre- and post-run events."""

    shell = None
    in_test = False
    before: dict | None = None


_cells = _Cells()


def _pre_run_cell(*_):
    _cells.in_test = False
    _cells.before = dict(_cells.shell.user_ns)


def _post_run_cell(*_):
    """After a test cell: disarm the fence and leave the notebook's names as they were, so
    that a test neither hands the student its references nor overwrites the student's
    variables (``X``, ``W``, ...) with its own."""
    if not _cells.in_test:
        return
    _cells.in_test = False
    _fence.disarm_all()
    ns, before = _cells.shell.user_ns, _cells.before or {}
    for k in [k for k in ns if not k.startswith("_")]:
        if k not in before:
            del ns[k]
        elif ns[k] is not before[k]:
            ns[k] = before[k]
    for k, v in before.items():
        if not k.startswith("_") and k not in ns:
            ns[k] = v


def watch_cells(shell=None) -> None:
    """Follow the cells of an IPython shell (done once, when grading is first imported in a
    notebook): a test cell's fence is disarmed and its names removed when it ends."""
    shell = shell if shell is not None else _get_ipython()
    if shell is None or _cells.shell is shell:
        return
    _cells.shell = shell
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", _post_run_cell)
    _pre_run_cell()  # the cell running now (the one importing grading)


def _get_ipython():
    ipython = sys.modules.get("IPython")
    try:
        return ipython.get_ipython() if ipython is not None else None
    except Exception:
        return None


watch_cells()
