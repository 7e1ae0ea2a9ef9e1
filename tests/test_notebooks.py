"""The course notebooks: solutions run and pass, the student release is exactly nbgrader's
output, and no graded test passes on a blank student notebook."""

from __future__ import annotations

import json

import nbformat
import pytest

from backprop_lab.instructor.execute import graded_tests, nbgrader_meta
from backprop_lab.instructor.release.release import drift

from conftest import NOTEBOOKS, ROOT, execute_all, notebook_ids, selected

SECONDS_PER_NOTEBOOK = 20


def test_course_has_the_seven_notebooks():
    assert [nb.assignment for nb in NOTEBOOKS] == [
        "01-forward", "02-loss-chain-rule", "03-computational-graph", "04-deltas", "05-backward",
        "06-training", "07-real-data"], [str(nb) for nb in NOTEBOOKS]
    for nb in NOTEBOOKS:
        assert nb.release.exists(), f"{nb.release} missing: run `backprop-lab release`"


@pytest.mark.nbgrader
def test_student_notebooks_are_exactly_what_nbgrader_generates():
    problems = drift(ROOT)
    assert not problems, "notebooks/ is not what nbgrader generates from solutions/:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def parallel_runs(request):
    """The blank releases of this module's selected tests, run before them one per core instead of
    one after the other (``run`` then returns these runs). The solutions still run one at a time,
    in their own tests: their wall time is checked against SECONDS_PER_NOTEBOOK."""
    execute_all([nb.release for nb in selected(request, "nb", test_every_graded_test_fails_on_the_blank_student_notebook)])


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_solution_runs_top_to_bottom_without_error(nb, run):
    result = run(nb.source)
    assert not result.errors, f"{nb}: cells raised: {result.errors}"
    print(f"{nb}: {result.seconds:.1f} s")
    assert result.seconds <= SECONDS_PER_NOTEBOOK, f"{nb} took {result.seconds:.1f} s (limit {SECONDS_PER_NOTEBOOK} s)"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_every_graded_test_fails_on_the_blank_student_notebook(nb, run, parallel_runs):
    result = run(nb.release)
    tests = [nbgrader_meta(c)["grade_id"] for c in graded_tests(result.nb)]
    assert tests, f"{nb} has no graded test cells"
    passing = [gid for gid in tests if gid not in result.errors]
    assert not passing, f"{nb}: these tests pass on the blank student notebook: {passing}"
    # and they fail because the student has not answered (the stub raised, so the function is
    # not implemented or the answer's name is not defined), not because the test is broken
    for gid in tests:
        err = result.errors[gid]
        assert any(s in err for s in ("NotImplementedError", "not implemented yet", "NameError")), \
            f"{nb}: {gid} fails on the blank notebook for another reason: {err}"


def _cells(path):
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_notebooks_are_stored_without_outputs(nb):
    for path in (nb.source, nb.release):
        raw = json.loads(path.read_text())
        for k, cell in enumerate(raw["cells"]):
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path}: cell {k} has outputs"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_nbgrader_metadata_is_valid(nb):
    cells = _cells(nb.source)
    ids = [nbgrader_meta(c).get("grade_id") for c in cells]
    assert all(ids), f"{nb}: every cell carries nbgrader metadata with a grade_id (cells {[k for k, i in enumerate(ids) if not i]} do not)"
    assert len(ids) == len(set(ids)), f"{nb}: duplicate grade ids {sorted({i for i in ids if ids.count(i) > 1})}"
    n_auto = n_manual = 0
    for c in cells:
        m = nbgrader_meta(c)
        gid = m["grade_id"]
        assert m.get("schema_version") == 3, f"{nb}: {gid} has schema_version {m.get('schema_version')}"
        if m.get("grade") or m.get("task"):
            assert float(m.get("points", 0)) > 0, f"{nb}: graded cell {gid} has no points"
        if m.get("grade") and not m.get("solution"):
            assert c.cell_type == "code" and m.get("locked"), f"{nb}: test cell {gid} must be a locked code cell"
            n_auto += 1
        if m.get("grade") and m.get("solution"):
            assert c.cell_type == "markdown", f"{nb}: {gid}: manually graded answers are markdown cells"
            n_manual += 1
        if m.get("solution") and c.cell_type == "code":
            assert "### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source, \
                f"{nb}: solution cell {gid} has no solution region"
        if not m.get("solution"):
            assert m.get("locked"), f"{nb}: {gid}: cells that are not answers are locked"
    assert n_auto >= 3, f"{nb}: only {n_auto} autograded test cells"
    assert 1 <= n_manual <= 2, f"{nb}: {n_manual} written answers (expected one or two)"
    assert nbformat.read(nb.source, as_version=4).metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_each_task_has_a_visible_test_and_hidden_tests(nb):
    source = _cells(nb.source)
    release = {nbgrader_meta(c)["grade_id"]: c for c in _cells(nb.release) if nbgrader_meta(c)}
    hidden = 0
    for k, c in enumerate(source):
        m = nbgrader_meta(c)
        if m.get("solution") and c.cell_type == "code":
            nxt = source[k + 1] if k + 1 < len(source) else None
            assert nxt is not None and nbgrader_meta(nxt).get("grade"), \
                f"{nb}: task {m['grade_id']} is not followed directly by its test cell"
        if m.get("grade") and not m.get("solution"):
            if "### BEGIN HIDDEN TESTS" in c.source:
                hidden += 1
                student = release[m["grade_id"]].source
                assert "HIDDEN TESTS" not in student and c.source.split("### BEGIN HIDDEN TESTS")[1].split(
                    "### END HIDDEN TESTS")[0].strip() not in student
            visible = c.source.split("### BEGIN HIDDEN TESTS")[0]
            assert "task(" in visible, f"{nb}: test {m['grade_id']} does not use backprop_lab.grading's task()"
    assert hidden >= 3, f"{nb}: only {hidden} test cells have hidden tests"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_notebook_opens_with_learning_goals(nb):
    first = _cells(nb.source)[0]
    assert first.cell_type == "markdown" and "learning goals" in first.source.lower()


def test_mistake_catalogue_size():
    from backprop_lab.instructor.catalogues.mistakes import CATALOGUE

    assert len(CATALOGUE) >= 20
    assert {m.notebook for m in CATALOGUE} == {str(nb) for nb in NOTEBOOKS}, "every notebook has catalogued mistakes"


def _validate(path) -> str:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    return proc.stdout + proc.stderr


@pytest.mark.nbgrader
def test_validate_passes_a_complete_submission_and_explains_a_wrong_one(tmp_path):
    """What a student sees when pressing Validate (the same validator nbgrader runs)."""
    from backprop_lab.instructor.catalogues.mistakes import by_id
    from backprop_lab.instructor.runs.submissions import fill

    nb = NOTEBOOKS[0]
    release = nbformat.read(nb.release, as_version=4)
    source = nbformat.read(nb.source, as_version=4)
    good = tmp_path / "good" / nb.release.name
    good.parent.mkdir()
    nbformat.write(fill(release, source), good)
    out = _validate(good)
    assert "Success! Your notebook passes all the tests." in out, out

    bad = tmp_path / "bad" / nb.release.name
    bad.parent.mkdir()
    nbformat.write(fill(release, source, mistake=by_id("forward-dense-missing-bias")), bad)
    out = _validate(bad)
    assert "VALIDATION FAILED" in out
    assert "GradingError: Task 1.4 dense_forward:" in out, out
    assert "found" in out and "expected" in out
    assert "Traceback" not in out.split("The error was:")[1].split("=====")[0], "a test failure shows its message only"
    # no line is cut off by the validator (it truncates lines longer than 90 characters)
    for line in out.splitlines():
        if "GradingError" in line:
            assert not line.rstrip().endswith("..."), line


def test_nbgrader_config():
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert cfg.CourseDirectory.course_id == "backprop-lab"
    assert cfg.CourseDirectory.source_directory == "solutions"
    assert cfg.CourseDirectory.release_directory == "notebooks"
    assert 0 < cfg.Execute.timeout <= 120, "a per-cell timeout"
    assert cfg.Execute.raise_on_iopub_timeout is False
    assert "raise NotImplementedError()" in cfg.ClearSolutions.code_stub["python"]
