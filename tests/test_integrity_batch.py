"""Points only for the student's own work, through the real pipeline: one `nbgrader autograde`
batch with the course config and the sandbox grades honest students (first and last), one
student per catalogued shortcut and one per tampering technique. Every shortcut and every
technique earns 0 on what it targets and is flagged, by the grader (the integrity report,
the test's message) and by pre-screen; the honest students get full marks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from backprop_lab.instructor.runs.autograde import sqlite_url
from backprop_lab.instructor.course import notebooks
from backprop_lab.instructor.execute import graded_tests, nbgrader_meta
from backprop_lab.instructor.hardening.repair import INTEGRITY_SUFFIX, read_findings
from backprop_lab.instructor.catalogues.shortcuts import CATALOGUE as SHORTCUTS
from backprop_lab.instructor.catalogues.tampering import CATALOGUE as TAMPERING, FIRST_ANSWER, NOTEBOOK

from grading_helpers import (autograde, course_dir, make_course, nbgrader, require_sandbox, scores, solution_submission,
                             submit)

pytestmark = pytest.mark.nbgrader

NOTEBOOKS = [str(nb) for nb in notebooks()]
HONEST = ("aa-honest", "zz-honest")  # graded before and after everyone else


def _student(kind: str, entry_id: str) -> str:
    return f"{kind}-{entry_id}"


def tampered(course, tamper, blank=None):
    """The blank release of the catalogue's notebook with the technique in its first answer."""
    a, n = NOTEBOOK.split("/")
    nb = blank or nbformat.read(course / "notebooks" / a / f"{n}.ipynb", as_version=4)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == FIRST_ANSWER)
    cell.source = cell.source + "\n" + tamper.code.strip("\n") + "\n"
    return nb


def _graded_unguarded():
    """The tampered submissions graded with the grading guard off, in a course of their own:
    ``{(student, assignment, notebook): {grade_id: ...}}``."""
    again = make_course(course_dir("integrity-unguarded"))
    db = sqlite_url(again)
    a, _ = NOTEBOOK.split("/")
    nbgrader(again, "generate_assignment", a, "--force", db=db)
    for t in TAMPERING:
        submit(again, _student("tamper", t.id), NOTEBOOK, tampered(again, t))
    autograde(again, a, db, "--GradingKernelManager.guard=False")
    return scores(db)


@pytest.fixture(scope="module")
def unguarded(request):
    """The batch without the guard (when its test is selected), started at once in a thread and
    graded beside the main batch: that batch's two shards do not end together (the honest
    students' 14 notebooks fall in one), and this one takes the core the other leaves idle. A
    Future: its test waits for the grades (and sees any failure)."""
    if not any(getattr(item, "originalname", None) == "test_tampering_is_real_without_the_guard"
               and item.module is request.module for item in request.session.items):
        return None
    require_sandbox()
    pool = ThreadPoolExecutor(1)
    future = pool.submit(_graded_unguarded)
    pool.shutdown(wait=False)
    return future


@pytest.fixture(scope="module")
def batch(unguarded):
    require_sandbox()
    course = make_course(course_dir("integrity"))
    db = sqlite_url(course)
    nbgrader(course, "generate_assignment", "*", "--force", db=db)
    for student in HONEST:
        for nb in NOTEBOOKS:
            submit(course, student, nb, solution_submission(course, nb))
    for s in SHORTCUTS:
        submit(course, _student("shortcut", s.id), s.notebook, solution_submission(course, s.notebook, mistake=s))
    for t in TAMPERING:
        submit(course, _student("tamper", t.id), NOTEBOOK, tampered(course, t))
    log = autograde(course, "*", db)
    return course, scores(db), log


def _tests(course, nb_id) -> dict:
    a, n = nb_id.split("/")
    src = nbformat.read(course / "solutions" / a / f"{n}.ipynb", as_version=4)
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in graded_tests(src)}


def _auto(grades, student, nb_id) -> dict:
    a, n = nb_id.split("/")
    return {g: score for g, (score, _, manual) in grades[(student, a, n)].items() if g.startswith("test_")}


def _errors(course, student, nb_id) -> dict:
    """The error text of every test cell of the autograded notebook."""
    a, n = nb_id.split("/")
    nb = nbformat.read(course / "autograded" / student / a / f"{n}.ipynb", as_version=4)
    out = {}
    for c in graded_tests(nb):
        text = " | ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in c.get("outputs", [])
                          if o.get("output_type") == "error")
        out[nbgrader_meta(c)["grade_id"]] = text
    return out


def _findings(course, student, nb_id) -> list:
    a, n = nb_id.split("/")
    return read_findings(course / "autograded" / student / a / f"{n}{INTEGRITY_SUFFIX}")


@pytest.mark.parametrize("student", HONEST)
def test_honest_students_get_full_marks_and_no_finding(batch, student):
    course, grades, _ = batch
    for nb in NOTEBOOKS:
        assert _auto(grades, student, nb) == _tests(course, nb), nb
        assert not [f for f in _findings(course, student, nb) if f["kind"] in ("tampered", "fenced", "blocked")]


@pytest.mark.parametrize("shortcut", SHORTCUTS, ids=[s.id for s in SHORTCUTS])
def test_shortcut_earns_nothing_and_says_why(batch, shortcut):
    course, grades, _ = batch
    student = _student("shortcut", shortcut.id)
    got = _auto(grades, student, shortcut.notebook)
    errors = _errors(course, student, shortcut.notebook)
    for target in shortcut.targets:
        assert got[target] == 0, f"{shortcut.id} earns {got[target]} on {target}"
        if shortcut.reference is not None and (shortcut.fenced or shortcut.guard):
            assert "the course library's reference" in errors[target] or "reference fence" in errors[target], \
                (target, errors[target])
        elif shortcut.guard:
            assert "not allowed in a submission" in errors[target], (target, errors[target])
    assert sum(got.values()) < sum(_tests(course, shortcut.notebook).values())


@pytest.mark.parametrize("tamper", TAMPERING, ids=[t.id for t in TAMPERING])
def test_tampering_earns_nothing_and_is_recorded(batch, tamper):
    course, grades, _ = batch
    student = _student("tamper", tamper.id)
    got = _auto(grades, student, NOTEBOOK)
    assert set(got.values()) == {0.0}, f"{tamper.id} earns {got}"
    found = [f for f in _findings(course, student, NOTEBOOK) if f["kind"] in ("tampered", "blocked", "fenced")]
    if tamper.beats_unguarded:
        assert found, f"{tamper.id} is not in the integrity report"


@pytest.fixture(scope="module")
def prescreen(batch):
    course, *_ = batch
    proc = subprocess.run([sys.executable, "-m", "backprop_lab", "pre-screen", "--verbose"], cwd=course,
                          capture_output=True, text=True)
    blocks = {}
    for m in re.finditer(r"^(\S+) (\S+/\S+):\n((?:  .*\n?)*)", proc.stdout, re.M):
        blocks[(m.group(1), m.group(2))] = m.group(3)
    return blocks


def test_prescreen_flags_every_shortcut_through_the_library_with_cell_and_line(prescreen):
    for s in SHORTCUTS:
        if s.reference is None and not s.guard:
            continue  # typed-in values: nothing to see before grading, the hidden tests stop them
        block = prescreen.get((_student("shortcut", s.id), s.notebook), "")
        assert re.search(rf"suspicious {re.escape(s.cell)}: the answer, line \d+: ", block), (s.id, block)


def test_prescreen_flags_every_tampering_technique(prescreen):
    for t in TAMPERING:
        block = prescreen.get((_student("tamper", t.id), NOTEBOOK), "")
        assert re.search(rf"suspicious {FIRST_ANSWER}: the answer, line \d+: ", block), (t.id, block)


def test_prescreen_flags_no_honest_student(prescreen):
    for student in HONEST:
        for nb in NOTEBOOKS:
            assert "suspicious" not in prescreen.get((student, nb), ""), (student, nb)


def test_tampering_is_real_without_the_guard(unguarded):
    """The same tampered submissions, graded with the grading guard off, earn points: each
    technique is a real attack that only the guard stops."""
    grades = unguarded.result()
    for t in TAMPERING:
        total = sum(_auto(grades, _student("tamper", t.id), NOTEBOOK).values())
        if t.beats_unguarded:
            assert total > 0, f"{t.id} earns nothing even without the guard: not a real attack"
        else:
            assert total == 0, f"{t.id} earns {total} without the guard"
