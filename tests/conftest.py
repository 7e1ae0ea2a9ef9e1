"""Shared fixtures: the course's notebooks, executed once per test session."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from backprop_lab.instructor.course import notebooks
from backprop_lab.instructor.execute import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebooks(ROOT)


def notebook_ids(nbs=NOTEBOOKS):
    return [str(nb) for nb in nbs]


@functools.lru_cache(maxsize=None)
def executed(path: str):
    """Run a notebook in a fresh kernel (cached for the session)."""
    return run_notebook(Path(path))


@pytest.fixture(scope="session")
def run():
    return lambda path: executed(str(path))
