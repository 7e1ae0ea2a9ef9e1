"""The class's grades as a table: one row per student, one column per notebook."""

from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook

from ..hardening.repair import INTEGRITY_SUFFIX, read_findings
from .gradebook import walk

__all__ = ["class_grades", "format_grades"]


def _flags(root: Path, student: str, assignment: str, notebook: str) -> list[str]:
    path = root / "autograded" / student / assignment / f"{notebook}{INTEGRITY_SUFFIX}"
    return [f"{f['kind']} {f['grade_id'] or ''}".strip() for f in read_findings(path) if f["kind"] != "added"]


def class_grades(db_url: str, root) -> tuple[list[str], dict]:
    """``(notebook columns, {student: {column: cell}})`` where a cell is
    ``{"auto": float, "max_auto": float, "manual_pending": int, "flags": [...]}`` or ``None``
    for a notebook not handed in."""
    root = Path(root)
    table = {}
    with Gradebook(db_url) as gb:
        columns, students = walk(gb)
        names = [(a, nb.name) for a, nb in columns]
        for student, submitted in students:
            table[student.id] = {f"{a}/{n}": None if nb is None else {
                "auto": float(nb.code_score), "max_auto": float(nb.max_code_score),
                "manual_pending": sum(1 for g in nb.grades if g.needs_manual_grade),
                "flags": _flags(root, student.id, a, n)} for (a, n), nb in zip(names, submitted)}
    return [f"{a}/{n}" for a, n in names], table


def format_grades(columns: list[str], table: dict) -> str:
    """A fixed-width table: autograded points per notebook, ``!`` where the submission had to
    be repaired, ``+k`` for written answers awaiting manual grading, ``-`` for not handed in."""
    short = [c.split("/")[0] for c in columns]
    width = max(9, *(len(s) for s in short))
    lines = [f"{'student':<8}" + "".join(f"{s:>{width + 2}}" for s in short) + f"{'auto total':>14}"]
    for student, row in table.items():
        cells, total, max_total = [], 0.0, 0.0
        for col in columns:
            g = row[col]
            if g is None:
                cells.append("-")
                continue
            total += g["auto"]
            max_total += g["max_auto"]
            text = f"{g['auto']:g}/{g['max_auto']:g}"
            text += "!" if g["flags"] else ""
            cells.append(text)
        lines.append(f"{student:<8}" + "".join(f"{c:>{width + 2}}" for c in cells) + f"{total:>9g}/{max_total:<4g}")
    lines.append("x/y: autograded points; ! the submission was repaired before grading (see pre-screen); "
                 "- not handed in; written answers await manual grading")
    return "\n".join(lines)
