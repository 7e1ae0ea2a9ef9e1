"""The course's grades in Canvas's gradebook import format (*Grades → Import*), written into
the roster that Canvas exported (:func:`..collect.canvas.read_roster`).

``nbgrader export --exporter=backprop_lab.instructor.reports.canvas.CanvasGradesExport
--CanvasGradesExport.roster=canvas/gradebook.csv --to canvas-import.csv`` writes:

- the roster's identity columns as Canvas exported them (``Student, ID, SIS User ID,
  SIS Login ID, Section``, whichever it has): Canvas matches an imported row on ``ID``;
- one column per nbgrader assignment: the roster's column for it when one is named
  ``<assignment> (<Canvas assignment id>)`` (or as :attr:`CanvasGradesExport.columns` says),
  else a new column named after the assignment, which Canvas's import creates;
- a ``Points Possible`` row: the assignment's maximum;
- each student's points: the sum of their notebooks' scores, after any late penalty. Empty when they handed nothing
  in, and empty, with a warning, while a written answer of theirs is not graded by hand yet:
  an import changes only the cells that have a value, and a partial total would be a wrong
  grade in the LMS.

A student of the gradebook whom the roster does not list stops the export with their id.
"""

from __future__ import annotations

import csv
import re

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Unicode

from ..collect.canvas import IDENTITY, read_roster
from .export import after_penalty
from .gradebook import walk

__all__ = ["CanvasGradesExport", "canvas_table"]

_CANVAS_COLUMN = re.compile(r"(?P<name>.+) \((?P<id>\d+)\)")


def _column_for(assignment: str, header: list, columns: dict) -> str:
    """The roster's column for ``assignment``, or the new column's name."""
    if assignment in columns:
        return columns[assignment]
    named = [h for h in header if (m := _CANVAS_COLUMN.fullmatch(h)) and m["name"] == assignment]
    if len(named) > 1:
        raise ValueError(f"the roster has {len(named)} columns for {assignment!r}: {named}; say which one "
                         "with CanvasGradesExport.columns")
    return named[0] if named else assignment


def _pending(nb) -> bool:
    return any(g.needs_manual_grade and g.manual_score is None for g in nb.grades)


def canvas_table(gb: Gradebook, roster, student_id_column: str = "SIS Login ID", columns=None,
                 assignments=(), students=()):
    """``(header, points_row, rows, pending)`` of the import CSV; ``pending`` lists
    ``(student, assignment)`` left empty because a written answer waits for its grade."""
    columns = dict(columns or {})
    by_id = roster.by_column(student_id_column)
    cols, walked = walk(gb)
    order = list(dict.fromkeys(a for a, _ in cols if not assignments or a in assignments))
    unknown = sorted(s.id for s, _ in walked if s.id not in by_id and (not students or s.id in students))
    if unknown:
        raise ValueError(f"{len(unknown)} student(s) of the gradebook are not on the Canvas roster "
                         f"{roster.path} (column {student_id_column!r}): {', '.join(unknown)}")
    identity = [h for h in roster.header if h in IDENTITY]
    targets = [_column_for(a, roster.header, columns) for a in order]
    header = identity + targets
    maxima = {a: sum(nb.max_score for name, nb in cols if name == a) for a in order}
    points = ["Points Possible" if h == "Student" else "" for h in identity] + [f"{maxima[a]:g}" for a in order]
    scores, pending = {}, []
    for student, notebooks in walked:
        for a in order:
            handed = [nb for (name, _), nb in zip(cols, notebooks) if name == a and nb is not None]
            if not handed:
                continue
            if any(_pending(nb) for nb in handed):
                pending.append((student.id, a))
                continue
            scores[student.id, a] = sum(after_penalty(nb) for nb in handed)
    ids = {row["ID"]: sid for sid, row in by_id.items()}
    rows = []
    for row in roster.rows:
        sid = ids.get(row["ID"])
        if students and sid not in students:
            continue
        values = [f"{scores[sid, a]:g}" if (sid, a) in scores else "" for a in order]
        rows.append([row[h] for h in identity] + values)
    return header, points, rows, pending


class CanvasGradesExport(ExportPlugin):
    """Write the grades as a Canvas gradebook import CSV (see the module's doc)."""

    roster = Unicode("", help="The gradebook CSV exported from Canvas, whose students and "
                              "columns the import keeps").tag(config=True)
    student_id_column = Unicode("SIS Login ID", help="The roster's column that holds the course's "
                                                     "student ids").tag(config=True)
    columns = Dict(Unicode(), help="{nbgrader assignment: the roster's column header} where the "
                                   "column is not named '<assignment> (<id>)'").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        if not self.roster:
            raise ValueError("CanvasGradesExport.roster is not set: export the gradebook CSV from Canvas "
                             "(Grades → Export) and pass --CanvasGradesExport.roster=<file>")
        header, points, rows, pending = canvas_table(
            gradebook, read_roster(self.roster), self.student_id_column, self.columns,
            assignments=self.assignment, students=self.student)
        for student, assignment in pending:
            self.log.warning("%s: %s has a written answer not graded by hand yet; left empty",
                             student, assignment)
        dest = self.to or "canvas-import.csv"
        with open(dest, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerow(points)
            writer.writerows(rows)
        self.log.info("wrote %d students' grades in %d assignment column(s) to %s for Canvas's import",
                      len(rows), sum(1 for h in header if h not in IDENTITY), dest)
