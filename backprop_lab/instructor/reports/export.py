"""``nbgrader export`` for this course: one row per student, a column per notebook and per
graded task, read from the gradebook.

Columns: ``student_id, first_name, last_name, email, total, max_total``, then for every
notebook ``<assignment>/<notebook>`` (its score, after any late penalty), its
``<assignment>/<notebook>/late_penalty`` (the points a late submission lost,
:mod:`..hardening.late`), and ``<assignment>/<notebook>/<grade_id>`` for each of its graded
cells (tests and written answers, as graded). A notebook a student did not submit is left empty; a written answer not yet graded
by hand is empty too. The second row holds the maximum of every column.
"""

from __future__ import annotations

import csv

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin

from .gradebook import walk

__all__ = ["GradesCsvExport", "after_penalty", "grade_table"]


def _fmt(x) -> str:
    return "" if x is None else f"{float(x):g}"


def after_penalty(nb) -> float:
    """A graded notebook's score less what it lost for being late."""
    return nb.score - (nb.late_submission_penalty or 0)


def grade_table(gb: Gradebook) -> tuple[list[str], list[str], list[list[str]]]:
    """``(header, max_row, rows)`` of the course's grades, as :class:`GradesCsvExport` writes them."""
    columns, students = walk(gb)
    header = ["student_id", "first_name", "last_name", "email", "total", "max_total"]
    maxima, layout = [], []  # layout: each column's graded cells' ids, in the notebook's order
    total_max = 0.0
    for a, nb in columns:
        cells = list(nb.grade_cells)  # in the notebook's order
        layout.append([cell.name for cell in cells])
        header += [f"{a}/{nb.name}", f"{a}/{nb.name}/late_penalty"] + [f"{a}/{nb.name}/{cell.name}"
                                                                         for cell in cells]
        maxima += [nb.max_score, None] + [cell.max_score for cell in cells]
        total_max += nb.max_score
    max_row = ["(max)", "", "", "", _fmt(total_max), _fmt(total_max)] + [_fmt(m) for m in maxima]
    rows = []
    for student, submitted in students:
        values, total = [], 0.0
        for cells, nb in zip(layout, submitted):
            if nb is None:
                values += [""] * (2 + len(cells))
                continue
            score = after_penalty(nb)
            values += [_fmt(score), _fmt(nb.late_submission_penalty or 0)]
            total += score
            grades = {g.name: g for g in nb.grades}
            for gid in cells:
                grade = grades.get(gid)
                pending = grade is None or (grade.needs_manual_grade and grade.manual_score is None)
                values.append(_fmt(None if pending else grade.score))
        rows.append([student.id, student.first_name or "", student.last_name or "", student.email or "",
                     _fmt(total), _fmt(total_max), *values])
    return header, max_row, rows


class GradesCsvExport(ExportPlugin):
    """Write the course's grades as one CSV (``nbgrader export --to grades.csv``)."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        header, max_row, rows = grade_table(gradebook)
        if self.student:
            rows = [r for r in rows if r[0] in self.student]
        with open(dest, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerow(max_row)
            writer.writerows(rows)
        self.log.info("wrote the grades of %d students to %s", len(rows), dest)
