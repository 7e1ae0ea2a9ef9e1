"""An mpmath evaluator of SymPy expressions that cannot blow up, for the numeric stage of
:func:`backprop_lab.equivalence.equivalent`.

:class:`MpEvaluator` evaluates a SymPy tree at one point with a private mpmath context: no
recursion, no change to mpmath's global precision, and every value checked to be finite. Where
there is no finite value (division by zero, overflow, nan) or it would take too long to find
(exp or sin of an argument beyond ``2**_MAX_ARG_MAG``), it raises :class:`Undefined`.
"""

from __future__ import annotations

import sympy

__all__ = ["MpEvaluator", "Undefined", "bits"]

#: arguments of exp, sin, ... with a binary exponent above this count as overflow
_MAX_ARG_MAG = 4096

_BITS_PER_DIGIT = 3.3219280948873626      # log2(10)


class Undefined(Exception):
    """A side has no finite value at this point (division by zero, overflow, nan)."""


def bits(dps: int) -> int:
    """Binary precision (``ctx.prec``) for ``dps`` decimal digits, with 4 guard bits."""
    return int(dps * _BITS_PER_DIGIT) + 4


def _dps(ctx) -> int:
    """Decimal digits of ``ctx``'s precision."""
    return int(ctx.prec / _BITS_PER_DIGIT)


def _mp_heaviside(ctx, x, h0=None):
    if x > 0:
        return ctx.mpf(1)
    if x < 0:
        return ctx.mpf(0)
    if h0 is None:
        raise Undefined("Heaviside(0)")
    return h0


def _mp_extreme(pick):
    def f(ctx, *values):
        if any(isinstance(v, ctx.mpc) for v in values):
            raise Undefined("Max/Min of a complex number")
        return pick(values)
    return f


def _mp_unary(name: str):
    """``f(ctx, x) = ctx.<name>(x)``."""
    return lambda ctx, x: getattr(ctx, name)(x)


# functions whose mpmath evaluation needs working precision ~ log2|argument|: capped
_REDUCING = {sympy.exp, sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc, sympy.sinh,
             sympy.cosh, sympy.tanh, sympy.coth, sympy.sech, sympy.csch, sympy.gamma, sympy.loggamma,
             sympy.factorial, sympy.erf, sympy.erfc}

# SymPy function -> the mpmath function of the same one argument
_MP_UNARY = {
    sympy.exp: "exp", sympy.log: "ln",
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.cot: "cot", sympy.sec: "sec", sympy.csc: "csc",
    sympy.asin: "asin", sympy.acos: "acos", sympy.atan: "atan", sympy.acot: "acot",
    sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.tanh: "tanh", sympy.coth: "coth", sympy.sech: "sech",
    sympy.csch: "csch", sympy.asinh: "asinh", sympy.acosh: "acosh", sympy.atanh: "atanh",
    sympy.sign: "sign", sympy.re: "re", sympy.im: "im", sympy.conjugate: "conj",
    sympy.floor: "floor", sympy.ceiling: "ceil", sympy.erf: "erf", sympy.erfc: "erfc",
    sympy.gamma: "gamma", sympy.loggamma: "loggamma", sympy.factorial: "factorial",
}

_MP_FUNCTIONS: dict = {
    **{f: _mp_unary(name) for f, name in _MP_UNARY.items()},
    sympy.Abs: lambda ctx, x: abs(x),
    sympy.atan2: lambda ctx, y, x: ctx.atan2(y, x),
    sympy.Heaviside: _mp_heaviside,
    sympy.Max: _mp_extreme(max), sympy.Min: _mp_extreme(min),
}


class MpEvaluator:
    """Evaluate a SymPy tree with a private mpmath context at one point.

    Iterative (deep nesting cannot overflow the stack) and memoised on subtrees (network
    expressions repeat the same ``in`` many times). Every value is checked to be finite, and
    exp, sin, ... refuse arguments with more than ``_MAX_ARG_MAG`` bits of exponent, which
    would otherwise need that many bits of working precision.

    Parameters
    ----------
    ctx : mpmath.MPContext
        The context to compute in, at its current precision.
    point : dict
        ``{Symbol: mpf}``, the value of every free symbol.

    Calling it on an expression returns an ``mpf`` or ``mpc``; it raises :class:`Undefined`
    (or an mpmath ``ArithmeticError``, ``ValueError`` or ``TypeError``) where there is no
    finite value. One evaluator can evaluate several expressions at the same point and
    shares the subtrees they have in common.

    Examples
    --------
    >>> import mpmath, sympy
    >>> x = sympy.Symbol("x")
    >>> ctx = mpmath.MPContext()
    >>> ctx.prec = bits(30)
    >>> ctx.nstr(MpEvaluator(ctx, {x: ctx.mpf(2)})(sympy.exp(x) / x), 20)
    '3.6945280494653251136'
    """

    def __init__(self, ctx, point: dict):
        self.ctx = ctx
        self.cache = dict(point)

    def __call__(self, expr):
        cache = self.cache
        stack = [expr]
        while stack:
            node = stack[-1]
            if node in cache:
                stack.pop()
                continue
            if self._descends(node):
                pending = [arg for arg in node.args if arg not in cache]
                if pending:
                    stack.extend(pending)
                    continue
                cache[node] = self._finite(self._apply(node, [cache[arg] for arg in node.args]))
            else:
                cache[node] = self._finite(self._leaf(node))
            stack.pop()
        return cache[expr]

    @staticmethod
    def _descends(node) -> bool:
        return isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)) or type(node) in _MP_FUNCTIONS

    def _finite(self, v):
        ctx = self.ctx
        parts = (v.real, v.imag) if isinstance(v, ctx.mpc) else (v,)
        if not all(ctx.isfinite(p) for p in parts):
            raise Undefined("not finite")
        return v

    def _apply(self, node, values: list):
        ctx = self.ctx
        if isinstance(node, sympy.Add):
            return ctx.fsum(values)
        if isinstance(node, sympy.Mul):
            return ctx.fprod(values)
        if isinstance(node, sympy.Pow):
            return self._power(node, *values)
        if type(node) in _REDUCING and any(ctx.mag(v) > _MAX_ARG_MAG for v in values):
            raise Undefined("argument too large")
        return _MP_FUNCTIONS[type(node)](ctx, *values)

    def _power(self, node, base, exponent):
        ctx = self.ctx
        if node.exp.is_Integer:                       # exact integer power: fast binary powering
            n = int(node.exp)
            if base == 0 and n < 0:
                raise Undefined("division by zero")
            return base ** n
        if base == 0:
            if ctx.re(exponent) > 0:
                return ctx.mpf(0)
            raise Undefined("0 to a non-positive power")
        if ctx.mag(exponent) + max(ctx.mag(ctx.ln(abs(base))), 0) > _MAX_ARG_MAG:
            raise Undefined("power too large")
        return ctx.power(base, exponent)

    def _leaf(self, node):
        ctx = self.ctx
        if isinstance(node, sympy.Integer):
            return ctx.mpf(int(node))
        if isinstance(node, sympy.Rational):
            return ctx.mpf(node.p) / node.q
        if isinstance(node, sympy.Float):
            return ctx.make_mpf(node._mpf_)
        if node.free_symbols:
            return self._fallback(node)
        return self._number(node.evalf(_dps(ctx) + 5))

    def _fallback(self, node):
        """Anything the table does not know (Piecewise, Bessel functions, ...): SymPy's evalf."""
        subs = {s: sympy.Float._new(self.cache[s]._mpf_, self.ctx.prec) for s in node.free_symbols
                if s in self.cache}
        return self._number(node.evalf(_dps(self.ctx) + 5, subs=subs))

    def _number(self, value):
        ctx = self.ctx
        if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise Undefined(f"no finite value: {value}")
        re, im = value.as_real_imag()
        re, im = sympy.Float(re, _dps(ctx)), sympy.Float(im, _dps(ctx))
        if not (isinstance(re, sympy.Float) and isinstance(im, sympy.Float)):
            raise Undefined(f"no finite value: {value}")
        if im == 0:
            return ctx.make_mpf(re._mpf_)
        return ctx.mpc(ctx.make_mpf(re._mpf_), ctx.make_mpf(im._mpf_))

