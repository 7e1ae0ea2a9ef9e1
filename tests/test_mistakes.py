"""Every catalogued student mistake, made in the solution, loses points on a graded test."""

from __future__ import annotations

import nbformat
import pytest

from backprop_lab.instructor.execute import run_notebook
from backprop_lab.instructor.mistakes import CATALOGUE

from conftest import NOTEBOOKS

SOURCES = {str(nb): nb.source for nb in NOTEBOOKS}


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[m.id for m in CATALOGUE])
def test_mistake_loses_points(mistake):
    path = SOURCES[mistake.notebook]
    nb = mistake.apply(nbformat.read(path, as_version=4))
    result = run_notebook(nb, cwd=path.parent)
    failed = result.failed_tests
    print(f"{mistake.id}: caught by {sorted(failed)} ({result.lost_points():g} points lost)")
    assert failed, f"{mistake.id} ({mistake.description}) passes every graded test"
    assert result.lost_points() > 0
