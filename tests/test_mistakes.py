"""Every catalogued student mistake, made in the solution, loses points on a graded test.

Each mistake runs until its first failed test: that is enough to know the mistake costs points,
and the cells after it (training runs, mostly) would only cost time. One kernel per notebook
tries all the mistakes of its answer cells, each from the state the correct cells before it
reach, with a control run of the correct cell after each; a mistake it cannot settle that way
runs in a fresh kernel of its own (tests/mistake_runner.py says how, and why that is sound).
A mistake counts as caught only by a graded test that the solution passes."""

from __future__ import annotations

import pytest

from backprop_lab.instructor.catalogues.mistakes import CATALOGUE

from conftest import NOTEBOOKS, selected
from mistake_runner import catch_all

pytestmark = pytest.mark.kernel

SOURCES = {str(nb): nb.source for nb in NOTEBOOKS}


@pytest.fixture(scope="module")
def results(request):
    """Every selected mistake made in its solution notebook: ``{id: Outcome}``."""
    stats = {}
    outcomes = catch_all(selected(request, "mistake"), SOURCES, stats=stats)
    for notebook, numbers in stats.items():
        print(f"{notebook}: {numbers}")
    return outcomes


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[m.id for m in CATALOGUE])
def test_mistake_loses_points(mistake, results):
    outcome = results[mistake.id]
    caught = outcome.caught
    print(f"{mistake.id}: first caught by {sorted(caught)} ({outcome.lost_points():g} points lost, {outcome.path})")
    broken = outcome.solution_failures
    assert caught, (f"{mistake.id} ({mistake.description}) passes every graded test"
                    + (f" that the solution passes (the solution itself fails {sorted(broken)})" if broken else ""))
    assert outcome.lost_points() > 0
