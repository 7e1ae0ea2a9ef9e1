"""argparse types for the command line: numbers with a range, and an error that names the
option, what was given and what was expected (argparse adds the option's name)."""

from __future__ import annotations

import argparse
import math
from typing import Callable

__all__ = ["number", "positive_int", "non_negative_int", "positive_float", "non_negative_float", "fraction", "share"]


def number(kind: type, ok: Callable[[float], bool], expected: str) -> Callable[[str], float]:
    """An argparse type: parse ``kind`` from text and require ``ok(value)``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    return parse


positive_int = number(int, lambda v: v >= 1, "a positive integer")
non_negative_int = number(int, lambda v: v >= 0, "a non-negative integer")
positive_float = number(float, lambda v: v > 0, "a positive finite number")
non_negative_float = number(float, lambda v: v >= 0, "a finite number >= 0")
fraction = number(float, lambda v: 0 < v < 1, "a fraction strictly between 0 and 1")
share = number(float, lambda v: 0 <= v <= 1, "a number from 0 to 1")
