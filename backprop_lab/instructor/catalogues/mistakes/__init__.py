"""The catalogue of common student mistakes, each one an edit of a solution cell.

Every mistake is applied to the instructor's solution and must lose points on at least
one graded test cell (``tests/test_mistakes.py``); the demo class of the instructor guide
uses the same catalogue as sample submissions. One module per notebook defines
``MISTAKES``; :data:`CATALOGUE` gathers them in course order.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ..catalogue import collect, lookup
from ...execute import nbgrader_meta

__all__ = ["Mistake", "CATALOGUE", "by_id"]


@dataclass(frozen=True)
class Mistake:
    """One common mistake.

    Attributes
    ----------
    id : str
        Short unique name, e.g. ``"forward-transposed-weights"``.
    notebook : str
        ``"<assignment>/<notebook>"``, e.g. ``"01-forward/forward"``.
    cell : str
        ``grade_id`` of the solution cell that the mistake edits.
    find, replace : str
        The edit: ``find`` must occur exactly once in that cell's source.
    description : str
        What the student did, in one sentence.
    """

    id: str
    notebook: str
    cell: str
    find: str
    replace: str
    description: str

    def apply(self, nb):
        """A copy of the notebook ``nb`` with the mistake made in its cell ``self.cell``.

        Raises
        ------
        ValueError
            If the cell is missing or ``find`` does not occur exactly once in it.
        """
        out = copy.deepcopy(nb)
        cells = [c for c in out.cells if nbgrader_meta(c).get("grade_id") == self.cell]
        if len(cells) != 1:
            raise ValueError(f"mistake {self.id!r}: notebook has {len(cells)} cells with grade_id {self.cell!r}")
        cell = cells[0]
        count = cell.source.count(self.find)
        if count != 1:
            raise ValueError(f"mistake {self.id!r}: {self.find!r} occurs {count} times in cell {self.cell!r}, "
                             "expected exactly once")
        cell.source = cell.source.replace(self.find, self.replace)
        return out


#: every mistake of the course, in course order
CATALOGUE: list = collect(__name__, __path__, "MISTAKES")


def by_id(mistake_id: str):
    """The catalogued mistake with this id."""
    return lookup(CATALOGUE, mistake_id, "mistake")
