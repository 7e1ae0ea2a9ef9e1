"""``nbgrader export`` for this course: one row per student, a column per notebook and per
graded task, read from the gradebook.

Columns: ``student_id, first_name, last_name, email, total, max_total``, then for every
notebook ``<assignment>/<notebook>`` (its score) followed by
``<assignment>/<notebook>/<grade_id>`` for each of its graded cells (tests and written
answers). A notebook a student did not submit is left empty; a written answer not yet graded
by hand is empty too. The second row holds the maximum of every column.
"""

from __future__ import annotations

import csv

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

__all__ = ["GradesCsvExport", "grade_table"]


def _fmt(x) -> str:
    return "" if x is None else f"{float(x):g}"


def grade_table(gb: Gradebook) -> tuple[list[str], list[str], list[list[str]]]:
    """``(header, max_row, rows)`` of the course's grades, as :class:`GradesCsvExport` writes them."""
    header = ["student_id", "first_name", "last_name", "email", "total", "max_total"]
    columns = []  # (assignment, notebook, grade_id or None)
    maxima = []
    for assignment in sorted(gb.assignments, key=lambda a: a.name):
        for notebook in sorted(assignment.notebooks, key=lambda n: n.name):
            columns.append((assignment.name, notebook.name, None))
            maxima.append(notebook.max_score)
            for cell in notebook.grade_cells:  # in the notebook's order
                columns.append((assignment.name, notebook.name, cell.name))
                maxima.append(cell.max_score)
    header += ["/".join(p for p in col if p) for col in columns]
    total_max = sum(m for col, m in zip(columns, maxima) if col[2] is None)
    max_row = ["(max)", "", "", "", _fmt(total_max), _fmt(total_max)] + [_fmt(m) for m in maxima]
    rows = []
    for student in sorted(gb.students, key=lambda s: s.id):
        values, total = [], 0.0
        for assignment, notebook, gid in columns:
            try:
                nb = gb.find_submission_notebook(notebook, assignment, student.id)
            except MissingEntry:
                values.append("")
                continue
            if gid is None:
                values.append(_fmt(nb.score))
                total += nb.score
            else:
                grade = next((g for g in nb.grades if g.name == gid), None)
                score = None if grade is None or (grade.needs_manual_grade and grade.manual_score is None) \
                    else grade.score
                values.append(_fmt(score))
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
