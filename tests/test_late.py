"""Late work: the course's late-submission plugin, by its rule, and through the real
``nbgrader autograde`` (sharded) and ``nbgrader export`` with a due date in the gradebook and
the submission times nbgrader records (``timestamp.txt``)."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
from nbgrader.api import Gradebook

from backprop_lab.instructor.hardening.late import penalty_percent
from backprop_lab.instructor.runs.autograde import sqlite_url

from grading_helpers import autograde, course_dir, make_course, nbgrader, require_sandbox, solution_submission, submit

A, N = "01-forward", "forward"
HOUR, DAY = 3600, 86400


@pytest.mark.parametrize("late, per, expected", [
    (0, "day", 0), (29 * 60, "day", 0), (30 * 60, "day", 0),  # within the grace period
    (31 * 60, "day", 10), (DAY, "day", 10), (DAY + 1, "day", 20),  # every started day
    (2 * HOUR + 1, "hour", 30),
    (30 * DAY, "day", 50),  # the cap
])
def test_the_penalty_is_a_percent_per_started_unit_after_the_grace_period_up_to_the_cap(late, per, expected):
    assert penalty_percent(late, percent=10, per=per, grace_minutes=30, cap=50) == expected


def test_a_penalty_setting_out_of_range_is_refused_by_name():
    from traitlets import TraitError

    from backprop_lab.instructor.hardening.late import LatePenalty

    with pytest.raises(TraitError, match="percent"):
        LatePenalty(percent=120)
    with pytest.raises(TraitError, match="per"):
        LatePenalty(per="week")


DUE = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
# student: (submitted after the due date, percent lost) with 10 %/day, 30 min grace, cap 50 %,
# and an extension of 72 h for "extended"
LATE = {
    "on-time": (timedelta(hours=-1), 0),
    "in-grace": (timedelta(minutes=20), 0),
    "one-day": (timedelta(hours=25), 20),  # two started days
    "a-month": (timedelta(days=30), 50),
    "extended": (timedelta(hours=73), 10),  # 1 h past the extension
}


@pytest.mark.nbgrader
def test_late_submissions_lose_points_through_autograde_and_export():
    require_sandbox()
    course = make_course(course_dir("late"))
    db = sqlite_url(course)
    nbgrader(course, "generate_assignment", A, "--force", db=db)
    nbgrader(course, "db", "assignment", "add", A, f"--duedate={DUE:%Y-%m-%d %H:%M:%S} UTC", db=db)
    honest = solution_submission(course, f"{A}/{N}")
    for student, (after, _) in LATE.items():
        path = submit(course, student, f"{A}/{N}", honest)
        (path.parent / "timestamp.txt").write_text(f"{DUE + after:%Y-%m-%d %H:%M:%S.%f} UTC")
    autograde(course, A, db, "--LatePenalty.percent=10", "--LatePenalty.per=day", "--LatePenalty.grace=30",
              "--LatePenalty.cap=50", '--LatePenalty.extensions={"01-forward": {"extended": 72}}')
    with Gradebook(db) as gb:
        full = gb.find_notebook(N, A).max_code_score
        for student, (_, pct) in LATE.items():
            nb = gb.find_submission_notebook(N, A, student)
            assert nb.code_score == full, student  # every one of them did all the work
            assert (nb.late_submission_penalty or 0) == pytest.approx(nb.score * pct / 100), student
        # the config's extension is nbgrader's own, in the gradebook
        assert gb.find_submission(A, "extended").extension == timedelta(hours=72)
        assert gb.find_submission(A, "one-day").extension is None
    nbgrader(course, "export", "--to", "grades.csv", db=db)
    with open(course / "grades.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    for student, (_, pct) in LATE.items():
        row = rows[student]
        raw = float(row[f"{A}/{N}"]) + float(row[f"{A}/{N}/late_penalty"])
        assert float(row[f"{A}/{N}/late_penalty"]) == pytest.approx(raw * pct / 100), student
        assert float(row["total"]) == pytest.approx(raw * (1 - pct / 100)), student
