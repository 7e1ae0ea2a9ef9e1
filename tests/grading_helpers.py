"""Helpers for the tests that run the real nbgrader pipeline on a copy of the course."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from backprop_lab.instructor.course import copy_course
from backprop_lab.instructor.runs.submissions import fill

from needs import need

ROOT = Path(__file__).resolve().parents[1]


def require_sandbox() -> None:
    """Skip (or, where CI sets BACKPROP_LAB_REQUIRE_SANDBOX, fail) without bubblewrap."""
    from backprop_lab.instructor.hardening.sandbox import bwrap_available

    problem = bwrap_available()
    need(None if problem is None else f"the autograding sandbox cannot run here: {problem}",
         "BACKPROP_LAB_REQUIRE_SANDBOX", ".ci/run installs bubblewrap and makes these tests mandatory")


def course_dir(name: str) -> Path:
    """A fresh folder for a test course, in the checkout (build/ is ignored by git)."""
    path = ROOT / "build" / "test-courses" / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def make_course(dest: Path) -> Path:
    """A copy of the course (config, solutions, release) to grade in."""
    return copy_course(ROOT, dest)


def nbgrader(course: Path, *args, db: str | None = None, check: bool = True, timeout: int = 900):
    """Run a real nbgrader command in ``course``; past ``timeout`` its whole process group
    (kernels included) is killed and the test fails with the end of its log."""
    cmd = [sys.executable, "-m", "nbgrader", *args] + ([f"--db={db}"] if db else [])
    with subprocess.Popen(cmd, cwd=course, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as p:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise AssertionError(f"nbgrader {' '.join(args)} ran longer than {timeout} s:\n{err[-5000:]}") from None
    proc = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    if check:
        assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def autograde(course: Path, assignment: str, db: str, *extra: str, shards: int = 2):
    """``nbgrader autograde`` of the class in ``shards`` parallel processes (autograde.grade),
    every one of which must succeed; their logs, joined."""
    from backprop_lab.instructor.runs.autograde import grade

    results = grade(course, assignment, shards=shards, db_url=db, extra=extra)
    assert all(r.returncode == 0 for r in results), "\n".join(r.log[-3000:] for r in results)
    return "\n".join(r.log for r in results)


def submit(course: Path, student: str, nb_path: str, nb) -> Path:
    """Write a submission: submitted/<student>/<assignment>/<notebook>.ipynb."""
    assignment, name = nb_path.split("/")
    path = course / "submitted" / student / assignment / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def solution_submission(course: Path, nb_path: str, mistake=None, answers=None):
    assignment, name = nb_path.split("/")
    rel = nbformat.read(course / "notebooks" / assignment / f"{name}.ipynb", as_version=4)
    src = nbformat.read(course / "solutions" / assignment / f"{name}.ipynb", as_version=4)
    return fill(rel, src, mistake=mistake, answers=answers)


def scores(db_url: str) -> dict:
    """``{(student, assignment, notebook): {grade_id: (score, max_score, needs_manual_grade)}}``."""
    out = {}
    with Gradebook(db_url) as gb:
        for a in gb.assignments:
            for n in a.notebooks:
                for sub in n.submissions:
                    out[(sub.student.id, a.name, n.name)] = {
                        g.name: (g.score, g.max_score, g.needs_manual_grade) for g in sub.grades}
    return out
