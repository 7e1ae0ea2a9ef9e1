"""The instructor's first run: `backprop-lab grade-demo` grades the demo class end to end."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pytest

from backprop_lab.instructor.course import notebooks
from backprop_lab.instructor.runs.democlass import plan

from grading_helpers import ROOT, course_dir, require_sandbox

pytestmark = pytest.mark.nbgrader

N = 6  # one student of each profile: solutions, one blank, one missing, three broken with mistakes


@pytest.fixture(scope="module")
def run():
    require_sandbox()
    dest = course_dir("demo")
    dest.rmdir()
    proc = subprocess.run([sys.executable, "-m", "backprop_lab", "grade-demo", "--dest", str(dest),
                           "--students", str(N), "--shards", "2", "--timeout", "30"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1500)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dest, proc.stdout


def _table(out):
    lines = out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("student "))
    header = lines[start].split()[1:-2]
    rows = {}
    for line in lines[start + 1:]:
        if not re.match(r"s\d\d ", line):
            break
        parts = line.split()
        rows[parts[0]] = dict(zip(header, parts[1:1 + len(header)]))
    return header, rows


def test_runs_the_real_nbgrader_steps_in_order(run):
    _, out = run
    steps = re.findall(r"^\$ (.*)$", out, re.M)
    assert steps == ["nbgrader db student import students.csv", "nbgrader generate_assignment * --force",
                     "backprop-lab pre-screen", "backprop-lab grade --shards 2",
                     "nbgrader generate_feedback * --force", "nbgrader export --to grades.csv"]


def test_grade_table_matches_what_each_student_handed_in(run):
    dest, out = run
    header, rows = _table(out)
    assert len(header) == len(notebooks(ROOT)) and len(rows) == N
    students = {s.id: s for s in plan(N, 0)}
    for sid, row in rows.items():
        st = students[sid]
        for col in header:
            cell = row[col]
            missing = any(n.startswith(col) for n in st.missing)
            blank = any(n.startswith(col) for n in st.blank)
            if missing:
                assert cell == "-", (sid, col, cell)
                continue
            got, full = (float(x) for x in cell.rstrip("!").split("/"))
            if st.profile == "solutions" or (not blank and not any(
                    n.startswith(col) and ms for n, ms in st.mistakes.items())):
                assert got == full, (sid, col, cell)
            elif blank:
                assert got == 0, (sid, col, cell)
            else:
                assert got < full, f"{sid} made {st.mistakes} in {col} but got {cell}"
        for nb, how in st.broken.items():
            assert row[nb.split("/")[0]].endswith("!"), f"{sid} {how}: the table flags the repair"


def test_prescreen_feedback_and_export(run):
    dest, out = run
    assert "pre-screen:" in out
    with open(dest / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == N + 1 and rows[0]["student_id"] == "(max)"
    handed_in = sorted(p.relative_to(dest / "submitted").with_suffix("") for p in (dest / "submitted").glob("*/*/*.ipynb"))
    feedback = sorted(p.relative_to(dest / "feedback").with_suffix("") for p in (dest / "feedback").glob("*/*/*.html"))
    assert feedback == handed_in, "one feedback page per submitted notebook"
