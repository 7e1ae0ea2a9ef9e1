"""Every catalogued variant (a correct answer written otherwise than the solution) passes its
notebook's visible and hidden tests, so the demo class's honest students keep full marks.

One kernel per notebook: it runs the solution once, then for each variant a *block*: the
variant's cell, every code cell after it up to the notebook's last graded test (so the tests of
later tasks that call the variant's function run too), and the solution's own cell again, which
puts the state back for the next block. Each block's cells carry the variant's id in their
``grade_id``, so an error names the variant that raised it."""

from __future__ import annotations

import copy

import nbformat
import pytest

from backprop_lab.instructor.catalogues.variants import CATALOGUE
from backprop_lab.instructor.execute import is_graded_test, nbgrader_meta, run_notebook

from conftest import NOTEBOOKS

pytestmark = pytest.mark.kernel

SOURCES = {str(nb): nb.source for nb in NOTEBOOKS}


def _tagged(cell, tag: str, index: int):
    cell = copy.deepcopy(cell)
    meta = cell.metadata.setdefault("nbgrader", {})
    meta["grade_id"] = f"{tag}: {nbgrader_meta(cell).get('grade_id', f'cell {index}')}"
    return cell


def blocks(notebook: str):
    """The solution's code cells, then one block per variant of ``notebook`` (see the module)."""
    solution = nbformat.read(SOURCES[notebook], as_version=4)
    cells = solution.cells
    last_test = max(k for k, c in enumerate(cells) if is_graded_test(c))
    out = nbformat.v4.new_notebook(metadata=solution.metadata)
    out.cells = [_tagged(c, "solution", k) for k, c in enumerate(cells) if c.cell_type == "code"]
    for v in (v for v in CATALOGUE if v.notebook == notebook):
        changed = v.apply(solution).cells
        start = next(k for k, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == v.cell)
        out.cells += [_tagged(changed[k], v.id, k) for k in range(start, last_test + 1)
                      if cells[k].cell_type == "code"]
        out.cells.append(_tagged(cells[start], f"{v.id} (restored)", start))
    return out


@pytest.fixture(scope="module")
def errors():
    """``{grade_id: error}`` of every notebook's run of its blocks."""
    found = {}
    for notebook in sorted({v.notebook for v in CATALOGUE}):
        found.update(run_notebook(blocks(notebook), cwd=SOURCES[notebook].parent).errors)
    return found


def test_the_solution_passes(errors):
    """The blocks start from a state the solution reached without an error."""
    raised = {gid: e for gid, e in errors.items() if gid.startswith("solution: ")}
    assert not raised, f"the solution itself raises: {raised}"


@pytest.mark.parametrize("variant", CATALOGUE, ids=[v.id for v in CATALOGUE])
def test_variant_passes_every_test(variant, errors):
    raised = {gid: e for gid, e in errors.items() if gid.startswith(f"{variant.id}: ")}
    assert not raised, f"{variant.id} raises: {raised}"


def test_variants_differ_from_the_solution_and_each_other():
    """A variant that repeats the solution or another variant adds no variety."""
    for notebook in {v.notebook for v in CATALOGUE}:
        solution = nbformat.read(SOURCES[notebook], as_version=4)
        seen = {}
        for v in (v for v in CATALOGUE if v.notebook == notebook):
            texts = seen.setdefault(v.slot, [next(c.source for c in solution.cells
                                                  if nbgrader_meta(c).get("grade_id") == v.cell)])
            text = next(c.source for c in v.apply(solution).cells if nbgrader_meta(c).get("grade_id") == v.cell)
            assert text not in texts, f"{v.id} repeats the solution or another variant of {v.cell}"
            texts.append(text)
