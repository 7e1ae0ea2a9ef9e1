"""The shortcut catalogue: every implementation task has a shortcut, every shortcut earns
nothing on what it targets, and every shortcut through the library is a real answer that
only the reference fence stops (with the fence off it passes)."""

from __future__ import annotations

import copy

import nbformat
import pytest

from backprop_lab.instructor.execute import after_tests, nbgrader_meta
from backprop_lab.instructor.catalogues.shortcuts import CATALOGUE

from conftest import NOTEBOOKS, notebook_ids, run_all, selected

#: a first cell that switches the fence off (every file counts as the grader's own code), to
#: show that a shortcut would otherwise pass
FENCE_OFF = "import backprop_lab._fence as _fence\n_fence.state._roots = ('',)\n"


def _shortcuts(nb_id: str) -> list:
    return [s for s in CATALOGUE if s.notebook == nb_id]


def _rounds(shortcuts) -> list[list]:
    """The shortcuts in rounds with at most one per answer cell (each round is one run)."""
    rounds: list[list] = []
    for s in shortcuts:
        free = next((r for r in rounds if all(o.cell != s.cell for o in r)), None)
        if free is None:
            rounds.append(free := [])
        free.append(s)
    return rounds


def _with_all(source_path, shortcuts, fence_off: bool):
    nb = nbformat.read(source_path, as_version=4)
    for s in shortcuts:
        nb = s.apply(nb)
    if fence_off:
        nb.cells.insert(0, nbformat.v4.new_code_cell(FENCE_OFF))
    return nb


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_every_implementation_task_has_a_shortcut(nb):
    source = nbformat.read(nb.source, as_version=4)
    answers = [nbgrader_meta(c)["grade_id"] for c in source.cells
               if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    covered = {s.cell for s in _shortcuts(str(nb))}
    assert answers, f"{nb} has no implementation task"
    assert not set(answers) - covered, f"{nb}: no shortcut for {sorted(set(answers) - covered)}"
    tests = {nbgrader_meta(c)["grade_id"] for c in source.cells if nbgrader_meta(c).get("grade")
             and not nbgrader_meta(c).get("solution")}
    for s in _shortcuts(str(nb)):
        assert s.targets and set(s.targets) <= tests, f"{s.id}: targets {s.targets} are not test cells of {nb}"


@pytest.fixture(scope="module")
def runs(request):
    """Every selected notebook with its shortcuts in rounds, with the fence on and off, in parallel
    kernels: ``{(notebook, fence_off, k): (Run, the round's shortcuts)}``."""
    jobs, rounds = {}, {}
    for nb in selected(request, "nb"):
        on = [s for s in _shortcuts(str(nb)) if not s.guard]  # the guard's: in the nbgrader batch
        for fence_off, shortcuts in ((False, on), (True, [s for s in on if s.fenced])):
            for k, round_ in enumerate(_rounds(shortcuts)):
                # a round's verdict is in its target tests: the run ends with the last of them
                jobs[(str(nb), fence_off, k)] = (_with_all(nb.source, round_, fence_off), nb.source.parent,
                                                 after_tests({t for s in round_ for t in s.targets}))
                rounds[(str(nb), fence_off, k)] = round_
    return {key: (run, rounds[key]) for key, run in run_all(jobs).items()}


def _results(runs, nb, fence_off):
    return [v for (n, off, _), v in runs.items() if n == str(nb) and off == fence_off]


@pytest.mark.kernel
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_shortcuts_earn_nothing(nb, runs):
    for result, round_ in _results(runs, nb, fence_off=False):
        failed = result.failed_tests
        for s in round_:
            for target in s.targets:
                assert target in failed, f"{s.id} ({s.description}) passes {target}"
                if s.reference is not None and s.fenced:
                    assert "the course library's reference" in failed[target] or "reference fence" in failed[target], \
                        (s.id, target, failed[target])


@pytest.mark.kernel
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_shortcuts_through_the_library_pass_without_the_fence(nb, runs):
    for result, round_ in _results(runs, nb, fence_off=True):
        failed = result.failed_tests
        for s in round_:
            for target in s.targets:
                assert target not in failed, f"{s.id} fails {target} even without the fence: {failed[target]}"
