"""What a test needs of the machine: a test whose system part is missing is skipped, and fails
instead where CI says the part is there (``.ci/run`` sets ``BACKPROP_LAB_REQUIRE_*``), so that a
broken CI machine never turns a promise into a skip."""

from __future__ import annotations

import os


def need(problem: str | None, variable: str, hint: str = "") -> None:
    """Return when ``problem`` is None; else fail if the environment sets ``variable``, or skip,
    saying why (and ``hint``: how to get the part)."""
    import pytest

    if problem is None:
        return
    if os.environ.get(variable):
        pytest.fail(f"{variable} is set but {problem}")
    pytest.skip(f"{problem}{'; ' + hint if hint else ''}")
