r"""Whether two expressions are equal: :func:`equivalent` and its verdict :class:`Equivalence`.

``equivalent(a, b)`` reads both sides (SymPy expressions, numbers, strings or matrices), asks
SymPy whether ``a - b`` is 0 (``expand(together(...))``, then :meth:`sympy.Expr.equals`), and
compares the two at random points with :meth:`sympy.Expr.evalf`, in a forked child that is
killed at the time limit (:func:`backprop_lab._timelimit.run_forked`); two SymPy objects of
different shapes or symbols, or equal as written, are settled in this process, which costs no
fork (most checks of a notebook's tests are of this kind). What the course adds:
the verdict says how it was reached and why, in words a student can act on, with the point
where a wrong answer differs; a generic activation ``g`` is checked through random test
functions; and a difference is confirmed at higher precision before it is reported. ``from
backprop_lab.symbolic import equivalent, Equivalence`` works as well.

The module follows a call: the public function and the verdict sent back by the child,
reading the inputs, the symbolic stage, then the random-point stage.

>>> import sympy
>>> from backprop_lab.symbolic import sigmoid
>>> x = sympy.Symbol("x")
>>> r = equivalent(sympy.diff(sigmoid(x), x), "sigmoid(x)*(1 - sigmoid(x))")
>>> r.equal, r.method
(True, 'simplify')
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import sympy
from sympy.core.function import AppliedUndef
from sympy.matrices import ImmutableMatrix, MatrixBase
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from ._course_symbols import G, _symbol_tuple, sigmoid
from ._timelimit import run_forked, run_limited
from ._validation import as_count, as_index, as_positive, describe, is_real

__all__ = ["Equivalence", "equivalent"]


# --- the verdict and the public function ----------------------------------------------------

@dataclass(frozen=True)
class Equivalence:
    """The verdict of :func:`equivalent`; true in a boolean context only when proven or
    confirmed equal.

    Attributes
    ----------
    equal : bool or None
        ``True``, ``False``, or ``None`` when it could not be decided.
    method : str
        How it was decided: ``"identical"`` (equal as written, or after SymPy's automatic
        cancellation), ``"simplify"`` (SymPy shows ``a - b`` is 0), ``"numeric"`` (random
        points), ``"shape"`` (matrix shapes differ), ``"symbols"`` (a side uses a symbol
        outside ``symbols``), ``"timeout"`` (the time limit ran out) or ``"error"``
        (an unexpected internal failure; the reason names it).
    reason : str
        One or two sentences for feedback, using the labels passed to :func:`equivalent`.
    point : dict or None
        For a numeric counterexample: ``{Symbol: Float}``, the point where the two differ.
    values : tuple or None
        ``(value of a, value of b)`` at ``point``, SymPy numbers.
    entry : tuple or None
        For matrices: the ``(row, column)`` of the entry that differs.
    elapsed : float
        Seconds the call took.
    """

    equal: bool | None
    method: str
    reason: str
    point: dict | None = None
    values: tuple | None = None
    entry: tuple | None = None
    elapsed: float = 0.0

    def __bool__(self) -> bool:
        return self.equal is True

    def __str__(self) -> str:
        return self.reason


#: decimal digits of the numeric stage; the relative tolerance is 10 ** -(_DPS - 20)
_DPS = 50
_RTOL = sympy.Float(1e-30)
#: the symbolic stage may use this share of the remaining time, and at most this long
_SYMBOLIC_SHARE = 0.5
_SYMBOLIC_MAX_SECONDS = 2.0
#: expressions larger than this (tree nodes) or with larger integer exponents skip it: SymPy
#: could fill the memory with their polynomials before the time limit stops it
_SYMBOLIC_MAX_NODES = 4000
_SYMBOLIC_MAX_EXPONENT = 1000
#: random points tried before the symbolic stage, to reject wrong answers quickly
_SCREEN_POINTS = 2


class _BadInput(Exception):
    """Wraps a ValueError/TypeError about the caller's input, to be re-raised as is."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def equivalent(a, b, symbols=None, timeout: float = 5.0, n_points: int = 8, seed: int = 0, *,
               namespace: Mapping | None = None, labels: tuple = ("a", "b")) -> Equivalence:
    r"""Decide whether two expressions are mathematically equal, within a hard time limit.

    Three stages, cheapest first, in a forked child that is killed at the time limit:

    1. **identical**: equal as written (two SymPy objects: checked in this process, without a
       child), or ``a - b`` cancels to 0 on construction;
    2. **simplify**: ``expand(together(a - b))`` is 0 or :meth:`sympy.Expr.equals` says
       ``a`` equals ``b``, given half of the remaining time and at most 2 s (skipped for very
       large expressions or integer exponents above 1000, where it could exhaust memory);
    3. **numeric**: both sides evaluated with :meth:`sympy.Expr.evalf` at 50 digits at
       ``n_points`` random points and compared with relative tolerance :math:`10^{-30}`
       (about :math:`10^{-10}` when the expressions contain floating-point numbers such as
       0.1). A difference is confirmed at doubled precision before it is reported, so rounding
       cannot fake a counterexample. Points where a side is undefined (division by zero) are
       replaced by new ones. Undefined functions such as ``g`` are replaced, at every point,
       by a random smooth test function, so ``g'(in)`` is checked too.

    Two random points are tried before stage 2, so that a wrong answer is rejected at once.

    Symbols are sampled as real numbers of size 0.1 to 5 with random sign (positive if
    the symbol is declared positive, integers if declared integer). Strings are parsed with
    :func:`sympy.parse_expr` (``^`` means power); names in them refer to the symbols of the
    other side, of ``symbols`` and of ``namespace``, and ``sigmoid`` and ``g`` are known.
    Symbols of the two sides with the same name are treated as the same symbol.

    Parameters
    ----------
    a, b : sympy expression, number, str, or Matrix (or 1-D/2-D array of expressions)
        The two sides. Matrices are compared entry by entry; 1-D arrays and lists are rows.
    symbols : sequence of Symbol, optional
        The symbols the answer may use; a side that uses another symbol is not equal
        (method ``"symbols"``). By default every free symbol is allowed.
    timeout : float
        Seconds for the whole call. The limit is hard: the work runs in a forked child that
        is killed at the deadline, whatever it computes, so the call returns within about
        ``timeout`` + 0.1 s, in any thread. Without ``os.fork`` (Windows) it runs in this
        process, where a long computation in C can delay the limit (see
        :func:`backprop_lab._timelimit.run_limited`).
    n_points : int
        Random points that must agree for a numeric "equal".
    seed : int
        Seed of the random points; the same seed gives the same verdict.
    namespace : mapping, optional
        Extra names for parsing strings, e.g. ``net.namespace`` (``w1_1_2`` for
        :math:`w^{(1)}_{1,2}`).
    labels : (str, str)
        How the reason names the two sides, e.g. ``("your answer", "the expected Δ")``.

    Returns
    -------
    Equivalence
        Truthy iff equal; ``.equal`` is ``True``, ``False`` or ``None`` (undecided),
        ``.method`` says how, ``.reason`` why, and a numeric counterexample carries
        ``.point`` and ``.values``.

    Raises
    ------
    ValueError
        If a string cannot be parsed (the message names the argument and quotes it) or
        ``timeout``/``n_points`` are out of range.
    TypeError
        If a side is not an expression (e.g. an equation or a bool) or a parameter has the
        wrong type.

    Pathological but valid expressions never raise: they give a verdict or
    ``equal=None`` within the limit.

    Examples
    --------
    >>> import sympy
    >>> from backprop_lab.symbolic import sigmoid
    >>> x = sympy.Symbol("x")
    >>> r = equivalent(sigmoid(x) * (1 - sigmoid(x)), "exp(-x)/(1 + exp(-x))**2")
    >>> r.equal, r.method
    (True, 'simplify')
    >>> r = equivalent(sigmoid(x) * (1 - sigmoid(x)), sigmoid(x) * (1 + sigmoid(x)), timeout=1)
    >>> r.equal, r.method
    (False, 'numeric')
    """
    timeout = as_positive(timeout, "timeout", "seconds")
    n_points = as_count(n_points, "n_points", 1, "random points to evaluate at")
    seed = as_index(seed, "seed")
    syms = None if symbols is None else _symbol_tuple(
        symbols if not isinstance(symbols, MatrixBase) else list(symbols), "symbols")
    if namespace is not None and not isinstance(namespace, Mapping):
        raise TypeError(f"namespace must be a mapping of names to symbols, got {describe(namespace)}")
    labels = _check_labels(labels)
    start = time.monotonic()
    try:  # most checks of a notebook's tests are settled here, without the cost of a child
        quick = _quick_verdict(a, b, syms, labels)
    except _BadInput as exc:
        raise exc.error from None
    if quick is not None:
        return replace(quick, elapsed=time.monotonic() - start)

    def work(send):
        _decide(a, b, syms, namespace or {}, labels, n_points, seed, start + timeout, send)

    try:
        finished, messages = run_forked(work, timeout)
        result = _received(finished, messages, timeout, n_points, labels)
    except _BadInput as exc:
        raise exc.error from None
    except Exception as exc:  # never raise on a valid input: report instead
        result = Equivalence(None, "error", f"could not compare {labels[0]} and {labels[1]}: "
                                            f"{type(exc).__name__}: {exc}")
    return replace(result, elapsed=time.monotonic() - start)


def _check_labels(labels) -> tuple:
    if (not isinstance(labels, (tuple, list)) or len(labels) != 2
            or not all(isinstance(s, str) for s in labels)):
        raise TypeError(f"labels must be two strings such as ('your answer', 'the expected answer'), "
                        f"got {labels!r}")
    return tuple(labels)


def _decide(a, b, symbols, namespace, labels, n_points, seed, deadline, send) -> None:
    """In the child: the verdict, sent as ``{"verdict": ...}`` (see :func:`_encode`); before it,
    ``{"progress": [stage, points agreed]}`` whenever that changes, for a timeout's reason."""
    try:
        send({"verdict": _encode(_verdict(a, b, symbols, namespace, labels, n_points, seed, deadline,
                                          _Progress(send)))})
    except _BadInput as exc:
        send({"bad_input": [type(exc.error).__name__, str(exc.error)]})
    except Exception as exc:  # RecursionError, MemoryError, a SymPy bug: a verdict that names it
        send({"verdict": {"equal": None, "method": "error", "reason": f"could not compare {labels[0]} and "
                                                                       f"{labels[1]}: {type(exc).__name__}: {exc}"}})


class _Progress:
    """What the stages have done so far, sent to the parent as it changes."""

    def __init__(self, send):
        self.send, self.stage, self.agreed = send, "reading the inputs", 0

    def at(self, stage: str) -> None:
        self.stage = stage
        self.send({"progress": [stage, self.agreed]})

    def agree(self) -> None:
        self.agreed += 1
        self.send({"progress": [self.stage, self.agreed]})


def _received(finished: bool, messages: list, timeout: float, n_points: int, labels: tuple) -> Equivalence:
    """The verdict from what the child sent (data only: a child is not trusted to send code)."""
    stage, agreed = "reading the inputs", 0
    for message in messages:
        if "verdict" in message:
            return _decode(message["verdict"])
        if "bad_input" in message:
            kind, text = message["bad_input"]
            raise _BadInput((ValueError if kind == "ValueError" else TypeError)(text))
        stage, agreed = message["progress"]
    if finished:  # the child ended without a verdict: it died (out of memory, say)
        return Equivalence(None, "error", f"could not compare {labels[0]} and {labels[1]}: the comparison "
                                          "ended without a verdict")
    partial = f"; they agreed at {agreed} of {n_points} random points before time ran out" if agreed else ""
    return Equivalence(None, "timeout", f"could not decide whether {labels[0]} equals {labels[1]} "
                                        f"within {timeout:g} s (stopped while {stage}){partial}")


def _encode(verdict: Equivalence) -> dict:
    """The verdict as JSON data: symbols as (name, assumptions), numbers as (real, imaginary) strings."""
    data = {"equal": verdict.equal, "method": verdict.method, "reason": verdict.reason, "entry": verdict.entry}
    if verdict.point is not None:
        data["point"] = [[s.name, s.assumptions0, _number_text(v)] for s, v in verdict.point.items()]
        data["values"] = [_number_text(v) for v in verdict.values]
    return data


def _decode(data: dict) -> Equivalence:
    point = values = None
    if data.get("point") is not None:
        point = {sympy.Symbol(name, **assumptions): _number(text) for name, assumptions, text in data["point"]}
        values = tuple(_number(text) for text in data["values"])
    entry = tuple(data["entry"]) if data.get("entry") is not None else None
    return Equivalence(data["equal"], data["method"], data["reason"], point, values, entry)


def _number_text(v) -> list:
    re, im = sympy.N(v, _DPS).as_real_imag()
    return [str(re), str(im)]


def _number(text: list):
    re, im = (sympy.Float(t, _DPS) for t in text)
    return re if im == 0 else re + sympy.I * im


def _quick_verdict(a, b, symbols, labels) -> Equivalence | None:
    """The verdict for two SymPy objects whose shapes or symbols differ, or that are equal as
    written; None when that takes the stages (or a string must be parsed). It runs in this
    process: it compares trees and builds no new numbers, so nothing in it can take long."""
    if not all(isinstance(side, (sympy.Expr, MatrixBase)) for side in (a, b)):
        return None
    verdict, pairs = _screen(_to_sympy(a, "a", {}), _to_sympy(b, "b", {}), symbols, labels)
    return verdict


def _screen(A, B, symbols, labels) -> tuple:
    """``(verdict, pairs)``: a verdict from the shapes, the symbols or equality as written, or
    None and the pairs of entries, their symbols unified."""
    mismatch = _shape_mismatch(A, B, labels)
    if mismatch is not None:
        return mismatch, None
    pairs = _unify_symbols(_entry_pairs(A, B), symbols)
    if symbols is not None:
        extra = _unexpected_symbols(pairs, symbols, labels)
        if extra is not None:
            return extra, pairs
    if all(ai == bi for _, ai, bi in pairs):
        return _identical_verdict(labels), pairs
    return None, pairs


def _identical_verdict(labels) -> Equivalence:
    return Equivalence(True, "identical", f"{labels[0]} and {labels[1]} are identical")


def _verdict(a, b, symbols, namespace, labels, n_points, seed, deadline, progress) -> Equivalence:
    verdict, pairs = _screen(*_inputs(a, b, symbols, {"sigmoid": sigmoid, "g": G}, namespace), symbols, labels)
    if verdict is not None:
        return verdict
    progress.at("comparing the expressions as written")
    open_pairs = [p for p in pairs if not _identical(p[1], p[2])]
    if not open_pairs:
        return _identical_verdict(labels)
    # a quick look at two random points first: a wrong answer is then rejected at once,
    # without spending the symbolic stage's time on it
    progress.at("evaluating at random points")
    numeric = _NumericStage(open_pairs, seed, progress)
    found = numeric.run(min(_SCREEN_POINTS, n_points))
    if found is not None:
        return _counterexample(*found, labels)
    progress.at("simplifying a − b")
    open_pairs = _symbolic_stage(open_pairs, deadline)
    if not open_pairs:
        return Equivalence(True, "simplify", f"{labels[0]} − {labels[1]} simplifies to 0")
    progress.at("evaluating at random points")
    numeric.set_pairs(open_pairs)
    found = numeric.run(n_points)
    if found is not None:
        return _counterexample(*found, labels)
    return numeric.verdict(n_points, labels)


# --- reading the inputs --------------------------------------------------------------------

def _inputs(a, b, symbols, course: dict, namespace: Mapping) -> tuple:
    """Both sides as sympy Expr or ImmutableMatrix; strings are parsed with shared names.

    A name means, by precedence: an entry of ``namespace``, a symbol of ``symbols`` or of a
    side, then one of the ``course`` names (``sigmoid``, ``g``).
    """
    known = {s.name: s for s in (symbols or ())}
    for side in (a, b):
        if isinstance(side, (sympy.Basic, MatrixBase)):
            known.update({s.name: s for s in side.free_symbols if type(s) is sympy.Symbol})
    names = {**course, **known, **namespace}
    return _to_sympy(a, "a", names), _to_sympy(b, "b", names)


def _to_sympy(value, name: str, names: dict):
    if isinstance(value, str):
        return _parse(value, name, names)
    if isinstance(value, MatrixBase):
        return _matrix(value, name)
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = np.asarray(value, dtype=object)
        if arr.ndim not in (1, 2):
            raise _BadInput(ValueError(f"{name} is a {arr.ndim}-D array; expected a scalar, a row (1-D) "
                                       "or a matrix (2-D)"))
        return _matrix(sympy.Matrix(arr.reshape(1, -1) if arr.ndim == 1 else arr).applyfunc(
            lambda v: _to_sympy(v, name, names)), name)
    if isinstance(value, (bool, np.bool_)):
        raise _BadInput(TypeError(f"{name} is a bool ({value}); expected an expression or a number"))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return sympy.sympify(value)
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, sympy.Basic):
        raise _BadInput(TypeError(f"{name} is a {type(value).__name__} ({value}); expected an expression, "
                                  "not an equation, condition or container"))
    try:  # Fraction, Decimal, objects with _sympy_()
        converted = sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError):
        converted = None
    if isinstance(converted, sympy.Expr):
        return converted
    raise _BadInput(TypeError(f"{name} is a {type(value).__name__}; expected a sympy expression, a "
                              "number, a string or a Matrix"))


def _matrix(m: MatrixBase, name: str) -> ImmutableMatrix:
    bad = [v for v in m if not isinstance(v, sympy.Expr)]
    if bad:
        raise _BadInput(TypeError(f"{name} has an entry {bad[0]!r} of type {type(bad[0]).__name__}; "
                                  "expected expressions"))
    return ImmutableMatrix(m)


def _parse(text: str, name: str, names: dict):
    if not text.strip():
        raise _BadInput(ValueError(f"{name} is an empty string; expected an expression such as 'x*(1 - x)'"))
    try:
        expr = parse_expr(text, local_dict=dict(names), transformations=standard_transformations + (convert_xor,))
    except (RecursionError, MemoryError):
        raise  # too big rather than wrong: reported as undecided, not as a parse error
    except Exception as exc:
        raise _BadInput(ValueError(f"could not parse {name}={text!r} as an expression "
                                   f"({type(exc).__name__}: {exc})")) from None
    if isinstance(expr, MatrixBase):
        return _matrix(expr, name)
    if is_real(expr):
        return sympy.sympify(expr)
    if not isinstance(expr, sympy.Expr):
        raise _BadInput(ValueError(f"{name}={text!r} parses to an object of type {type(expr).__name__}, "
                                   "not an expression"))
    return expr


def _shape_mismatch(A, B, labels) -> Equivalence | None:
    shape_a = A.shape if isinstance(A, MatrixBase) else None
    shape_b = B.shape if isinstance(B, MatrixBase) else None
    if shape_a == shape_b:
        return None

    def kind(shape):
        return "a scalar" if shape is None else f"a matrix of shape {shape}"

    return Equivalence(False, "shape", f"{labels[0]} is {kind(shape_a)} but {labels[1]} is {kind(shape_b)}")


def _entry_pairs(A, B) -> list:
    """``[(entry, a_entry, b_entry)]``; ``entry`` is ``None`` for scalars, ``(row, col)`` else."""
    if not isinstance(A, MatrixBase):
        return [(None, A, B)]
    return [((r, c), A[r, c], B[r, c]) for r in range(A.rows) for c in range(A.cols)]


def _free_symbols(expr) -> set:
    return {s for s in expr.free_symbols if isinstance(s, sympy.Symbol)}


def _unify_symbols(pairs: list, symbols) -> list:
    """Make symbols that print alike the same symbol (``Symbol('x', real=True)`` and ``Symbol('x')``).

    Preference: the one in ``symbols``, then the one on side b (the reference answer).
    """
    chosen = {s.name: s for s in (symbols or ())}
    for _, _, bi in pairs:
        for s in _free_symbols(bi):
            chosen.setdefault(s.name, s)
    out = []
    for entry, ai, bi in pairs:
        sides = []
        for side in (ai, bi):
            swap = {s: chosen[s.name] for s in _free_symbols(side)
                    if type(s) is sympy.Symbol and chosen.get(s.name, s) != s}
            sides.append(side.xreplace(swap) if swap else side)
        out.append((entry, *sides))
    return out


def _unexpected_symbols(pairs, symbols, labels) -> Equivalence | None:
    allowed = set(symbols)
    for k, label in ((1, labels[0]), (2, labels[1])):
        extra = set().union(*(_free_symbols(p[k]) for p in pairs)) - allowed
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            expected = ", ".join(map(str, symbols)) or "none"
            return Equivalence(False, "symbols", f"{label} uses {names}, which "
                                                 f"{'is' if len(extra) == 1 else 'are'} not among the "
                                                 f"expected symbols ({expected})")
    return None


# --- stages 1 and 2: symbolic -------------------------------------------------------------

def _identical(ai, bi) -> bool:
    try:
        return ai == bi or (ai - bi) == 0
    except Exception:
        return False


def _symbolic_stage(pairs: list, deadline: float) -> list:
    """Try to prove ``a - b == 0`` for each open pair; return the pairs not proven.

    The stage gets ``_SYMBOLIC_SHARE`` of the remaining time (at most ``_SYMBOLIC_MAX_SECONDS``),
    so that the random points still get the rest. It runs under :func:`run_limited`, in the
    child: a second child would cost a fork per check, and should C code delay this softer
    limit, the child's own deadline still holds. Every pair first tries the cheap
    ``expand(together(a - b))`` (enough for rational functions of exponentials such as sigmoid
    derivatives), then SymPy's ``a.equals(b)``.
    """
    seconds = min(max(deadline - time.monotonic(), 0.0) * _SYMBOLIC_SHARE, _SYMBOLIC_MAX_SECONDS)
    left = [k for k, (_, ai, bi) in enumerate(pairs) if _symbolic_is_safe(ai) and _symbolic_is_safe(bi)]
    proven: list = []

    def prove():
        for zero in (_expand_together_is_zero, _equals):
            for k in [k for k in left if k not in proven]:
                if zero(pairs[k][1], pairs[k][2]):
                    proven.append(k)

    if left and seconds > 0:
        run_limited(prove, seconds)
    return [p for k, p in enumerate(pairs) if k not in proven]


def _expand_together_is_zero(a, b) -> bool:
    try:
        return sympy.expand(sympy.together(a - b)) == 0
    except Exception:  # a failing rewrite just leaves the next attempt
        return False


def _equals(a, b) -> bool:
    try:
        return a.equals(b) is True
    except Exception:
        return False


def _symbolic_is_safe(expr) -> bool:
    """False for inputs where SymPy could fill the memory with huge polynomials."""
    for n, node in enumerate(sympy.preorder_traversal(expr)):
        if n > _SYMBOLIC_MAX_NODES:
            return False
        if isinstance(node, sympy.Pow):
            exp = node.exp
            if exp.is_Rational and max(abs(exp.p), abs(exp.q)) > _SYMBOLIC_MAX_EXPONENT:
                return False
    return True


# --- stage 3: random points -----------------------------------------------------------------

_AGREE, _DIFFER, _UNSURE, _UNDEFINED = "agree", "differ", "unsure", "undefined"


class _NumericStage:
    """Random-point comparison of the open pairs; keeps its random stream and tallies across
    :meth:`run` calls, and reports agreements to ``progress`` as they happen."""

    def __init__(self, pairs: list, seed: int, progress: _Progress):
        self.rng = random.Random(seed)
        self.progress = progress
        self.counts = {_UNDEFINED: 0, _UNSURE: 0, "a": 0, "b": 0, "both": 0}
        self.attempts = 0
        self.set_pairs(pairs)

    def set_pairs(self, pairs: list) -> None:
        self.pairs = pairs
        exprs = [side for _, ai, bi in pairs for side in (ai, bi)]
        self.syms = sorted(set().union(*(_free_symbols(e) for e in exprs)), key=sympy.default_sort_key)
        self.undefined = _undefined_functions(exprs)
        self.exprs = exprs if self.undefined else [_doit(e) for e in exprs]
        self.rtol = _tolerance(exprs)

    def run(self, n_points: int):
        """Sample until ``n_points`` points agree or the attempts run out.

        Returns ``(entry, point, va, vb, tests)`` for a counterexample, else None.
        """
        while self.progress.agreed < n_points and self.attempts < 4 * n_points + 8:
            self.attempts += 1
            point = _sample(self.syms, self.rng)
            tests = _random_functions(self.undefined, self.rng)
            exprs = [_concretize(e, tests) for e in self.exprs] if tests else self.exprs
            verdict = _compare_point(exprs, point, self.rtol)
            if verdict[0] == _AGREE:
                self.progress.agree()
            elif verdict[0] == _DIFFER:
                k, va, vb = verdict[1:]
                # name only the symbols this entry depends on: a message listing every symbol of
                # a network would bury the few that matter
                used = _free_symbols(self.pairs[k][1]) | _free_symbols(self.pairs[k][2])
                point = {s: v for s, v in point.items() if s in used}
                return self.pairs[k][0], point, va, vb, tests
            else:
                self.counts[verdict[0]] += 1
                if verdict[0] == _UNDEFINED:
                    self.counts[verdict[1]] += 1
        return None

    def verdict(self, n_points: int, labels: tuple) -> Equivalence:
        """Equal, undefined on one side only, or undecided, from the tallies."""
        la, lb = labels
        agreed, counts = self.progress.agreed, self.counts
        if agreed >= n_points:
            digits = int(round(-math.log10(self.rtol)))
            return Equivalence(True, "numeric", f"{la} and {lb} agree to {digits} significant digits at "
                                                f"{agreed} random points")
        if (agreed == 0 and counts[_UNSURE] == 0 and counts[_UNDEFINED] > 0
                and counts[_UNDEFINED] in (counts["a"], counts["b"])):
            lab, other = (la, lb) if counts["a"] else (lb, la)
            return Equivalence(False, "numeric", f"{lab} is undefined (division by zero or overflow) at "
                                                 f"every point tried, while {other} has a value there")
        return Equivalence(None, "numeric", f"could not decide: {la} and {lb} agreed at {agreed} of "
                                            f"{n_points} random points; at {counts[_UNDEFINED]} points "
                                            "a side was undefined (division by zero or overflow) and at "
                                            f"{counts[_UNSURE]} the values could not be computed accurately "
                                            "enough")


def _undefined_functions(exprs: list) -> dict:
    """Undefined functions (such as ``g``) by name, with their number of arguments."""
    found = {}
    for e in exprs:
        for app in e.atoms(AppliedUndef):
            found[app.func] = len(app.args)
    return dict(sorted(found.items(), key=lambda kv: str(kv[0])))


def _doit(expr):
    """Leftover Derivative/Subs/Integral objects evaluated (``expr.doit()``), or ``expr`` as it
    is where there are none or that fails."""
    if not expr.has(sympy.Derivative, sympy.Subs, sympy.Integral, sympy.Sum, sympy.Product):
        return expr
    try:
        return expr.doit()
    except Exception:
        return expr


def _random_functions(undefined: dict, rng: random.Random) -> dict:
    """A random smooth test function for each undefined function: a sine, an exponential and
    a quadratic with random rational coefficients, so that f, f', f'' are unrelated."""
    def c():
        return sympy.Rational(rng.randint(1, 9), rng.randint(2, 9)) * rng.choice((-1, 1))

    tests = {}
    for f, arity in undefined.items():
        us = sympy.symbols(f"u_1:{arity + 1}") if arity > 1 else (sympy.Symbol("u"),)
        lin1 = sum(c() * u for u in us) + c()
        lin2 = sum(c() * u for u in us)
        body = c() * sympy.sin(lin1) + c() * sympy.exp(lin2 / 2) + sum(c() * u ** 2 for u in us) + c()
        tests[f] = sympy.Lambda(us, body)
    return tests


def _concretize(expr, tests: dict):
    """``expr`` with each undefined function replaced by its test function, and evaluated."""
    for f, lam in tests.items():
        expr = expr.replace(f, lam)
    return _doit(expr)


def _tolerance(exprs: list):
    """1e-30, or about 1e-10 when a float (known to ~16 digits) appears in the expressions."""
    precs = [f._prec for e in exprs for f in e.atoms(sympy.Float)]
    if not precs:
        return _RTOL
    return max(_RTOL, sympy.Float(2.0 ** (-min(precs) + 20)))


def _sample(syms: list, rng: random.Random) -> dict:
    """Random real values (positive/negative/integer as the symbols' assumptions say): Python
    ints and floats, so that every precision evaluates at exactly the same point."""
    point = {}
    for s in syms:
        if s.is_integer:
            lo = 1 if s.is_positive else 0 if s.is_nonnegative else -9
            hi = -1 if s.is_negative else 0 if s.is_nonpositive else 9
            point[s] = rng.randint(lo, hi)
            continue
        size = 10 ** (-1 + 1.7 * rng.random())               # 0.1 .. 5, log-uniform
        sign = 1 if s.is_nonnegative else -1 if s.is_nonpositive else rng.choice((-1, 1))
        point[s] = sign * size
    return point


def _compare_point(exprs: list, point: dict, rtol) -> tuple:
    """Compare every pair at one point: ``(_AGREE,)``, ``(_DIFFER, k, va, vb)``, ``(_UNSURE,)``
    or ``(_UNDEFINED, side)``."""
    verdict = (_AGREE,)
    for k in range(0, len(exprs), 2):
        result = _compare_pair(exprs[k], exprs[k + 1], point, rtol)
        if result[0] == _DIFFER:
            return (_DIFFER, k // 2, *result[1:])
        if result[0] != _AGREE and verdict[0] == _AGREE:
            verdict = result
    return verdict


def _compare_pair(ea, eb, point: dict, rtol) -> tuple:
    """One pair at 50 digits; if the values are not close, at 100 and then 200 digits. A
    difference that stays put as precision grows is real; one that shrinks with the precision
    is rounding error of a true zero."""
    previous = None
    for dps in (_DPS, 2 * _DPS, 4 * _DPS):
        at = {s: sympy.Float(v, dps) if isinstance(v, float) else sympy.Integer(v) for s, v in point.items()}
        va, vb = _value(ea, at, dps), _value(eb, at, dps)
        if va is None or vb is None:
            if previous is not None:
                return (_UNSURE,)
            return (_UNDEFINED, "a" if vb is not None else "b" if va is not None else "both")
        diff = abs(va - vb)
        if diff <= rtol * max(abs(va), abs(vb)):
            return (_AGREE,)
        if previous is not None:
            if diff <= previous * sympy.Rational(1, 10 ** (dps // 4)):
                return (_AGREE,)       # vanishes as the precision grows: rounding error of a zero
            if abs(diff - previous) <= sympy.Float(1e-6) * diff:
                return (_DIFFER, va, vb)
        previous = diff
    return (_UNSURE,)


def _value(expr, at: dict, dps: int):
    """``expr`` at the point ``at`` (``{Symbol: Float}``) to ``dps`` digits, or None where it has
    no finite value. The Floats are put in with ``xreplace``, where SymPy evaluates each subtree
    once (``evalf(subs=...)`` would evaluate a network's shared ``in`` again at every use);
    ``evalf`` then evaluates what is left, such as ``sqrt(2)``."""
    try:
        v = expr.xreplace(at).evalf(dps)
    except (ArithmeticError, ValueError, TypeError, RecursionError):
        return None
    if not v.is_number or v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    re, im = v.as_real_imag()
    if not all(isinstance(part, (sympy.Float, sympy.Integer, sympy.Rational)) for part in (re, im)):
        return None
    return v


def _counterexample(entry, point: dict, va, vb, tests: dict, labels: tuple) -> Equivalence:
    la, lb = labels
    where = ", ".join(f"{s} = {_fmt(v, 6)}" for s, v in point.items()) or "every point"
    reason = f"{la} and {lb} differ"
    if entry is not None:
        reason += f" in entry {list(entry)}"
    reason += (f": at {where}, {la} = {_fmt(va, 8)} but {lb} = {_fmt(vb, 8)} "
               f"(difference {_fmt(va - vb, 4)})")
    if tests:
        funcs = "; ".join(f"{f}({', '.join(map(str, lam.variables))}) = {lam.expr}" for f, lam in tests.items())
        reason += f" (with the test function {funcs})"
    return Equivalence(False, "numeric", reason, point={s: sympy.Float(v, _DPS) for s, v in point.items()},
                       values=(va, vb), entry=entry)


def _fmt(v, digits: int) -> str:
    return str(sympy.N(v, digits))
