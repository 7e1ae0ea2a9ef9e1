"""Submissions checked against their release, and repaired so nbgrader can grade them."""

import copy

import nbformat
import pytest

from backprop_lab.instructor.execute import nbgrader_meta
from backprop_lab.instructor.prescreen.integrity import inspect, repair, suspicious_code
from backprop_lab.instructor.runs.submissions import fill

from conftest import NOTEBOOKS

NB = next(nb for nb in NOTEBOOKS if nb.assignment == "05-backward")  # answers, tests, read-only cells and a written answer


@pytest.fixture
def pair():
    rel = nbformat.read(NB.release, as_version=4)
    return fill(rel, nbformat.read(NB.source, as_version=4)), rel


def ids(nb):
    return [nbgrader_meta(c).get("grade_id") for c in nb.cells]


def index(nb, gid):
    return ids(nb).index(gid)


def released_order(nb, rel):
    """The submission's graded cells, in order, with their metadata equal to the release's."""
    ref = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c) for c in rel.cells}
    got = [g for g in ids(nb) if g]
    assert got == [g for g in ids(rel)], "every released cell once, in release order"
    for c in nb.cells:
        if nbgrader_meta(c):
            assert nbgrader_meta(c) == ref[nbgrader_meta(c)["grade_id"]]
    assert len({c["id"] for c in nb.cells}) == len(nb.cells), "cell ids are unique"


def kinds(findings):
    return sorted({(f.kind, f.grade_id) for f in findings})


def test_untouched_submission_has_no_findings(pair):
    sub, rel = pair
    assert inspect(sub, rel) == []
    fixed, findings = repair(sub, rel)
    assert findings == [] and fixed == sub


def test_deleted_test_cell_is_restored_in_place(pair):
    sub, rel = pair
    test = next(g for g in ids(rel) if g and g.startswith("test_"))
    del sub.cells[index(sub, test)]
    assert ("missing", test) in kinds(inspect(sub, rel))
    fixed, findings = repair(sub, rel)
    released_order(fixed, rel)
    assert fixed.cells[index(fixed, test)].source == rel.cells[index(rel, test)].source


def test_deleted_cells_after_a_read_only_cell_and_at_the_top(pair):
    """nbgrader's own add_missing_cells crashes when the cell before the missing one is read-only."""
    sub, rel = pair
    answer = next(g for g in ids(rel) if g.startswith("answer"))
    before = ids(rel)[index(rel, answer) - 1]
    assert nbgrader_meta(rel.cells[index(rel, before)]).get("locked")
    for gid in (answer, ids(rel)[0], ids(rel)[1]):
        del sub.cells[index(sub, gid)]
    fixed, findings = repair(sub, rel)
    released_order(fixed, rel)
    assert {("missing", g) for g in (answer, ids(rel)[0], ids(rel)[1])} <= set(kinds(findings))


@pytest.mark.slow
def test_stripped_metadata_is_recognised_and_restored(pair):
    sub, rel = pair
    test = "test_backward"
    answer = "backward"
    sub.cells[index(sub, test)].metadata = {}
    student_code = sub.cells[index(sub, answer)].source
    sub.cells[index(sub, answer)].metadata = {}
    assert {("stripped", test), ("stripped", answer)} <= set(kinds(inspect(sub, rel)))
    fixed, _ = repair(sub, rel)
    released_order(fixed, rel)
    assert fixed.cells[index(fixed, answer)].source == student_code, "the student's answer is kept"
    assert len(fixed.cells) == len(rel.cells), "no second copy inserted"


def test_edited_read_only_cell_and_raised_points(pair):
    sub, rel = pair
    k = index(sub, "test_backward")
    sub.cells[k].source = "pass"
    sub.cells[k].metadata["nbgrader"]["points"] = 100
    sub.cells[k].metadata["nbgrader"]["grade"] = False
    found = kinds(inspect(sub, rel))
    assert ("edited", "test_backward") in found and ("metadata", "test_backward") in found
    fixed, _ = repair(sub, rel)
    released_order(fixed, rel)
    assert fixed.cells[index(fixed, "test_backward")].source == rel.cells[index(rel, "test_backward")].source


@pytest.mark.slow
@pytest.mark.parametrize("where", ["after", "before", "end"])
def test_pasted_copy_of_a_graded_cell(pair, where):
    sub, rel = pair
    k = index(sub, "test_backward")
    dup = copy.deepcopy(sub.cells[k])  # same grade id, same nbformat cell id
    at = {"after": k + 1, "before": k, "end": len(sub.cells)}[where]
    sub.cells.insert(at, dup)
    assert ("duplicated", "test_backward") in kinds(inspect(sub, rel))
    fixed, _ = repair(sub, rel)
    released_order(fixed, rel)
    assert len(fixed.cells) == len(rel.cells) + 1, "the copy stays, as an ordinary cell"


def test_pasted_answer_cell_keeps_the_first(pair):
    sub, rel = pair
    k = index(sub, "backward")
    dup = copy.deepcopy(sub.cells[k])
    dup.source = "# my scratch copy\n" + dup.source
    sub.cells.insert(len(sub.cells), dup)
    fixed, findings = repair(sub, rel)
    released_order(fixed, rel)
    assert fixed.cells[index(fixed, "backward")].source == sub.cells[k].source


def test_unknown_grade_id_and_added_cells(pair):
    sub, rel = pair
    extra = nbformat.v4.new_code_cell("print('scratch')")
    fake = nbformat.v4.new_code_cell("pass")
    fake.metadata["nbgrader"] = {"grade": True, "grade_id": "my_bonus", "points": 50, "locked": False,
                                 "solution": False, "schema_version": 3}
    sub.cells[3:3] = [extra, fake]
    found = kinds(inspect(sub, rel))
    assert ("unknown", "my_bonus") in found and ("added", None) in found
    fixed, _ = repair(sub, rel)
    released_order(fixed, rel)


def test_changed_cell_type_is_reset(pair):
    sub, rel = pair
    k = index(sub, "test_backward")
    sub.cells[k] = nbformat.v4.new_markdown_cell(sub.cells[k].source, metadata=sub.cells[k].metadata)
    assert ("metadata", "test_backward") in kinds(inspect(sub, rel))
    fixed, _ = repair(sub, rel)
    assert fixed.cells[index(fixed, "test_backward")].cell_type == "code"


@pytest.mark.parametrize("code,why", [
    ("np.allclose = lambda *a, **k: True", "replaces a NumPy function"),
    ("numpy.testing.assert_allclose = print", "replaces a NumPy function"),
    ("import backprop_lab\nbackprop_lab.grading.task = None", "replaces part of backprop_lab"),
    ("class A:\n    def __eq__(self, o):\n        return True", "defines __eq__"),
    ("open('../../solutions/04-backward/backward.ipynb')", "names a grading folder"),
    ("import socket", "opens network connections"),
])
def test_suspicious_code(code, why):
    assert any(why in r for r in suspicious_code(code))
    assert suspicious_code("x = np.allclose(a, b)\nif a == b:\n    pass") == []


def _suspicious(nb, sub):
    rel = nbformat.read(nb.release, as_version=4)
    return [f for f in inspect(sub, rel) if f.kind == "suspicious"]


@pytest.mark.slow
def test_scan_flags_no_honest_answer():
    """Neither the solutions nor any catalogued (honest) mistake looks like a shortcut or tampering."""
    from backprop_lab.instructor.catalogues.mistakes import CATALOGUE

    for nb in NOTEBOOKS:
        rel, src = nbformat.read(nb.release, as_version=4), nbformat.read(nb.source, as_version=4)
        assert _suspicious(nb, fill(rel, src)) == [], nb
        for m in (m for m in CATALOGUE if m.notebook == str(nb)):
            assert _suspicious(nb, fill(rel, src, mistake=m)) == [], m.id


@pytest.mark.slow
def test_scan_flags_every_shortcut_through_the_library_and_every_tampering_technique():
    from backprop_lab.instructor.catalogues.shortcuts import CATALOGUE as SHORTCUTS
    from backprop_lab.instructor.catalogues.tampering import CATALOGUE as TAMPERING, FIRST_ANSWER, NOTEBOOK

    for nb in NOTEBOOKS:
        rel, src = nbformat.read(nb.release, as_version=4), nbformat.read(nb.source, as_version=4)
        for s in (s for s in SHORTCUTS if s.notebook == str(nb) and (s.reference or s.guard)):
            flags = [f for f in _suspicious(nb, fill(rel, src, mistake=s)) if f.grade_id == s.cell]
            assert flags and all("line " in f.detail for f in flags), s.id
        if str(nb) == NOTEBOOK:
            for t in TAMPERING:
                sub = fill(rel, src)
                cell = next(c for c in sub.cells if nbgrader_meta(c).get("grade_id") == FIRST_ANSWER)
                cell.source += "\n" + t.code
                assert [f for f in _suspicious(nb, sub) if f.grade_id == FIRST_ANSWER], t.id
