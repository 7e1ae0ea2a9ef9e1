"""Regrades with ``backprop-lab grade``: after a test cell changed, for one student on request
(``--student``) and for the whole assignment, through the real sharded ``nbgrader autograde``.
Manual scores and comments stay unless ``--reset-manual``, and the command says what changed."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from backprop_lab.instructor.catalogues.mistakes import by_id
from backprop_lab.instructor.execute import nbgrader_meta
from backprop_lab.instructor.runs.autograde import sqlite_url

from grading_helpers import course_dir, make_course, nbgrader, require_sandbox, solution_submission, submit

pytestmark = pytest.mark.nbgrader

A, N = "01-forward", "forward"
CHANGED = "test_dense_forward"  # the test cell whose points the instructor changes
WRITTEN = "answer_saturation"   # a written answer, graded by hand


def grade(course, *args, check=True):
    p = subprocess.run([sys.executable, "-m", "backprop_lab", "grade", A, "--shards", "2", *args], cwd=course,
                       capture_output=True, text=True, timeout=900)
    if check:
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def cell(db, student, gid):
    with Gradebook(db) as gb:
        g = gb.find_grade(gid, N, A, student)
        c = next((c for c in gb.find_submission_notebook(N, A, student).comments if c.name == gid), None)
        return g.score, g.max_score, g.manual_score, c.manual_comment if c else None


@pytest.fixture(scope="module")
def course():
    require_sandbox()
    course = make_course(course_dir("regrade"))
    db = sqlite_url(course)
    nbgrader(course, "generate_assignment", A, "--force", db=db)
    submit(course, "honest", f"{A}/{N}", solution_submission(course, f"{A}/{N}"))
    submit(course, "naive", f"{A}/{N}", solution_submission(course, f"{A}/{N}",
                                                             mistake=by_id("forward-naive-sigmoid")))
    submit(course, "blank", f"{A}/{N}", nbformat.read(course / "notebooks" / A / f"{N}.ipynb", as_version=4))
    first = grade(course)
    return course, db, first.stdout


def test_a_first_grade_lists_every_graded_cell_as_new(course):
    course, db, out = course
    assert "regrade: 27 of 27 graded cell(s) changed" in out  # 9 graded cells, 3 students
    assert f"  honest  {A}/{N}  {CHANGED}: new: 2" in out


def test_regrades_keep_manual_grades_and_say_what_changed(course):
    course, db, _ = course
    # a grader's score and comment on a written answer, as the formgrader writes them
    with Gradebook(db) as gb:
        gb.find_grade(WRITTEN, N, A, "honest").manual_score = 1
        next(c for c in gb.find_submission_notebook(N, A, "honest").comments if c.name == WRITTEN).manual_comment = \
            "Clear, and the saturation argument is right."
        gb.db.commit()
    # the instructor makes a test cell worth more, and generates the assignment again
    path = course / "solutions" / A / f"{N}.ipynb"
    src = nbformat.read(path, as_version=4)
    next(c for c in src.cells if nbgrader_meta(c).get("grade_id") == CHANGED).metadata["nbgrader"]["points"] = 4
    nbformat.write(src, path)
    nbgrader(course, "generate_assignment", A, "--force", db=db)
    naive_before = cell(db, "naive", CHANGED)

    # one student, on request
    out = grade(course, "--student", "honest").stdout
    assert cell(db, "honest", CHANGED)[:2] == (4, 4)
    assert cell(db, "honest", WRITTEN)[2:] == (1, "Clear, and the saturation argument is right.")
    assert cell(db, "naive", CHANGED) == naive_before  # not regraded
    assert f"  honest  {A}/{N}  {CHANGED}: 2 -> 4" in out
    assert "naive" not in out and "blank" not in out
    assert "regrade: 1 of 9 graded cell(s) changed" in out

    # the whole assignment, told otherwise this time: the manual grade and comment go
    out = grade(course, "--reset-manual").stdout
    assert "cleared 2 manual score(s) and comment(s)" in out
    assert f"  naive  {A}/{N}  {CHANGED}: 2 -> 4" in out  # the naive sigmoid still builds a correct layer
    assert f"  honest  {A}/{N}  {WRITTEN}: 1 -> 0, manual score cleared, comment cleared" in out
    assert "blank" not in out  # nothing else changed
    assert "regrade: 2 of 27 graded cell(s) changed" in out
    assert cell(db, "honest", WRITTEN)[2:] == (None, None)


def test_a_regrade_of_an_unknown_student_names_the_known_ones(course):
    course, db, _ = course
    p = grade(course, "--student", "nobody", "--reset-manual", check=False)
    assert p.returncode == 2
    assert "no submission of nobody in" in p.stderr and "its students: blank, honest, naive" in p.stderr
