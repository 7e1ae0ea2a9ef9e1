"""Every catalogued student mistake, made in the solution, loses points on a graded test.

Each run stops at its first failed test: that is enough to know the mistake costs points, and
the cells after it (training runs, mostly) would only cost time."""

from __future__ import annotations

import nbformat
import pytest

from backprop_lab.instructor.execute import first_failed_test
from backprop_lab.instructor.mistakes import CATALOGUE

from conftest import NOTEBOOKS, run_all, selected

SOURCES = {str(nb): nb.source for nb in NOTEBOOKS}


@pytest.fixture(scope="module")
def results(request):
    """Every selected mistake made in its solution notebook, run in parallel kernels."""
    jobs = {}
    for m in selected(request, "mistake"):
        path = SOURCES[m.notebook]
        jobs[m.id] = (m.apply(nbformat.read(path, as_version=4)), path.parent, first_failed_test)
    return run_all(jobs)


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[m.id for m in CATALOGUE])
def test_mistake_loses_points(mistake, results):
    result = results[mistake.id]
    failed = result.failed_tests
    print(f"{mistake.id}: first caught by {sorted(failed)} ({result.lost_points():g} points lost)")
    assert failed, f"{mistake.id} ({mistake.description}) passes every graded test"
    assert result.lost_points() > 0
