"""One walk of nbgrader's gradebook, shared by every report: each student against each
notebook of the course."""

from __future__ import annotations

from nbgrader.api import Gradebook, MissingEntry

__all__ = ["walk"]


def _submitted(gb: Gradebook, assignment: str, notebook: str, student: str):
    """The student's graded notebook, or ``None`` if it was not handed in."""
    try:
        return gb.find_submission_notebook(notebook, assignment, student)
    except MissingEntry:
        return None


def walk(gb: Gradebook) -> tuple[list, list]:
    """``(columns, rows)`` of the gradebook ``gb``, read while it is open.

    Returns
    -------
    columns : list of (str, nbgrader.api.Notebook)
        ``(assignment name, notebook)`` for every notebook of the course, sorted by
        assignment and notebook name.
    rows : list of (nbgrader.api.Student, list)
        For every student, sorted by id, the student and, for each column in order, the
        graded notebook (``nbgrader.api.SubmittedNotebook``) or ``None`` if it was not handed in.
    """
    columns = [(a.name, n) for a in sorted(gb.assignments, key=lambda a: a.name)
               for n in sorted(a.notebooks, key=lambda n: n.name)]
    rows = [(student, [_submitted(gb, a, nb.name, student.id) for a, nb in columns])
            for student in sorted(gb.students, key=lambda s: s.id)]
    return columns, rows
