"""The course's SymPy vocabulary, shared by :mod:`.symbolic` and :mod:`.equivalence` (which
symbolic re-exports, so neither may import the other): the generic activation ``g``, the
sigmoid, and a checked list of symbols."""

from __future__ import annotations

import sympy
from sympy.matrices import MatrixBase

from ._validation import describe

__all__ = ["G", "sigmoid"]

#: the generic activation ``g``: an undefined function, so that ``g'(in)`` stays symbolic
G = sympy.Function("g")


def sigmoid(x):
    r"""The logistic function :math:`\sigma(x) = 1 / (1 + e^{-x})` as a SymPy expression.

    Parameters
    ----------
    x : sympy expression, number, or Matrix
        A Matrix is mapped element by element.

    Returns
    -------
    sympy expression or Matrix

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> sigmoid(x)
    1/(1 + exp(-x))
    >>> sympy.simplify(sympy.diff(sigmoid(x), x) - sigmoid(x) * (1 - sigmoid(x)))
    0
    """
    if isinstance(x, MatrixBase):
        return x.applyfunc(sigmoid)
    return 1 / (1 + sympy.exp(-sympy.sympify(x)))


def _symbol_tuple(symbols, name: str) -> tuple:
    """``symbols`` as a tuple of sympy Symbols (checked: the name ``name`` is in the message)."""
    if isinstance(symbols, (sympy.Symbol, str)) or not hasattr(symbols, "__iter__"):
        raise TypeError(f"{name} must be a sequence of sympy Symbols, got {describe(symbols)}")
    syms = tuple(symbols)
    bad = [s for s in syms if not isinstance(s, sympy.Symbol)]
    if bad:
        raise TypeError(f"{name} must contain only sympy Symbols; got {bad[0]!r} ({type(bad[0]).__name__})")
    return syms
