"""Make student submissions from the instructor's solutions: the released notebook with
every answer cell filled in (optionally with a catalogued mistake), as a student would hand
it in. Used by the demo class, by tests of Validate and of the grading pipeline.
"""

from __future__ import annotations

import copy
import re

from ..execute import nbgrader_meta

__all__ = ["answer_text", "fill"]

_MARKER = re.compile(r"^[ \t]*(### BEGIN SOLUTION|### END SOLUTION)[ \t]*\n?", re.M)


def answer_text(source: str) -> str:
    """A solution cell's source as a student would have written it: the nbgrader markers gone."""
    return _MARKER.sub("", source)


def fill(release_nb, source_nb, mistake=None, answers: dict | None = None):
    """The released notebook with its answer cells filled in.

    Parameters
    ----------
    release_nb : NotebookNode
        The student notebook (``notebooks/...``).
    source_nb : NotebookNode
        Its instructor source (``solutions/...``).
    mistake : Mistake, optional
        Made in the source before its answers are copied.
    answers : dict, optional
        ``grade_id -> source`` overriding individual answer cells (e.g. a blank one).

    Returns
    -------
    NotebookNode
        A copy of ``release_nb``; cells, order and metadata untouched but for the answers.
    """
    if mistake is not None:
        source_nb = mistake.apply(source_nb)
    solutions = {nbgrader_meta(c)["grade_id"]: c.source for c in source_nb.cells
                 if nbgrader_meta(c).get("solution")}
    out = copy.deepcopy(release_nb)
    for cell in out.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if answers and gid in answers:
            cell.source = answers[gid]
        elif gid in solutions:
            cell.source = answer_text(solutions[gid])
    return out
