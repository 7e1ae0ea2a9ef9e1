"""What a regrade changed: the gradebook's grades of an assignment before and after
``backprop-lab grade`` runs again (after a test cell changed, or for one student on request).

nbgrader's ``autograde --force`` writes new automatic scores and keeps every manual score and
comment a grader gave (it flags those grades for review); :func:`reset_manual` clears them
first when the instructor asks (``--reset-manual``).
"""

from __future__ import annotations

from dataclasses import dataclass

from nbgrader.api import Gradebook

__all__ = ["Grade", "snapshot", "reset_manual", "changes", "format_changes"]


@dataclass(frozen=True)
class Grade:
    """One graded cell of one student's notebook, as the gradebook has it."""

    score: float
    auto: float | None
    manual: float | None
    comment: str | None
    late_penalty: float


def _submissions(gb: Gradebook, assignment: str, students):
    for a in gb.assignments:
        if assignment not in ("*", a.name):
            continue
        for nb in a.notebooks:
            for sub in nb.submissions:
                if not students or sub.student.id in students:
                    yield a.name, nb.name, sub


def snapshot(db_url: str, assignment: str = "*", students=()) -> dict:
    """``{(student, assignment, notebook, grade_id): Grade}`` of the gradebook now."""
    out = {}
    with Gradebook(db_url) as gb:
        for a, n, sub in _submissions(gb, assignment, students):
            comments = {c.name: c.manual_comment for c in sub.comments}
            for g in sub.grades:
                out[sub.student.id, a, n, g.name] = Grade(float(g.score), g.auto_score, g.manual_score,
                                                          comments.get(g.name),
                                                          float(sub.late_submission_penalty or 0))
    return out


def reset_manual(db_url: str, assignment: str = "*", students=()) -> int:
    """Clear the manual scores and comments of these students' grades; how many were cleared."""
    cleared = 0
    with Gradebook(db_url) as gb:
        for _, _, sub in _submissions(gb, assignment, students):
            for g in sub.grades:
                if g.manual_score is not None:
                    g.manual_score = None
                    cleared += 1
            for c in sub.comments:
                if c.manual_comment:
                    c.manual_comment = None
                    cleared += 1
        gb.db.commit()
    return cleared


def changes(before: dict, after: dict) -> list[tuple]:
    """``(key, old Grade or None, new Grade or None)`` for every graded cell that differs."""
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


def _what(old: Grade | None, new: Grade | None) -> str:
    if old is None:
        return f"new: {new.score:g}"
    if new is None:
        return f"gone (was {old.score:g})"
    parts = []
    if old.score != new.score:
        parts.append(f"{old.score:g} -> {new.score:g}")
    if old.auto != new.auto:
        parts.append(f"automatic {old.auto} -> {new.auto}")
    if old.manual != new.manual:
        parts.append("manual score cleared" if new.manual is None else f"manual {old.manual} -> {new.manual}")
    elif new.manual is not None:
        parts.append(f"manual score {new.manual:g} kept")
    if old.comment != new.comment:
        parts.append("comment cleared" if not new.comment else "comment changed")
    if old.late_penalty != new.late_penalty:
        parts.append(f"late penalty {old.late_penalty:g} -> {new.late_penalty:g}")
    return ", ".join(parts)


def format_changes(diff: list[tuple], graded: int) -> str:
    """What changed, one line per graded cell, or that nothing did."""
    if not diff:
        return f"regrade: no grade changed ({graded} graded cell(s) compared)"
    lines = [f"regrade: {len(diff)} of {graded} graded cell(s) changed"]
    for (student, a, n, gid), old, new in diff:
        lines.append(f"  {student}  {a}/{n}  {gid}: {_what(old, new)}")
    return "\n".join(lines)
