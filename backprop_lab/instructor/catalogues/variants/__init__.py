"""The catalogue of correct answers written another way, for the demo class's honest students.

Students who answer the same small function contract honestly still write it differently: a
loop or a matrix product, checks first or inside the loop, ``np.where`` or boolean indexing. A
demo class made from the one solution has none of that variety, so a similarity check on it
would find every pair alike. Each :class:`Variant` rewrites one solution region of one answer
cell (a cell with several regions has variants for each, drawn independently); every variant
passes its notebook's visible and hidden tests (``tests/test_variants.py``), so a student
built from variants still earns full marks. One module per notebook defines ``VARIANTS``;
:data:`CATALOGUE` gathers them in course order.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ..catalogue import collect, lookup
from ..shortcuts import replace_solution
from ...execute import SOLUTION_REGION, nbgrader_meta

__all__ = ["Variant", "CATALOGUE", "by_id", "for_notebook"]


@dataclass(frozen=True)
class Variant:
    """One correct answer cell, written otherwise than the solution.

    Attributes
    ----------
    id, notebook, cell : str
        As a mistake's (:class:`..mistakes.Mistake`): a short unique name such as
        ``"forward-sigmoid-boolean-mask"``, ``"<assignment>/<notebook>"``, and the ``grade_id``
        of the solution cell that the variant rewrites.
    code : str
        The new code of the cell's ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region
        number :attr:`region`, written without indent (it is indented as its markers are).
    region : int
        Which region of the cell, from 0 in the cell's order.
    """

    id: str
    notebook: str
    cell: str
    code: str
    region: int = 0

    @property
    def slot(self) -> tuple:
        """``(cell, region)``: what the variant rewrites; one variant per slot at a time."""
        return self.cell, self.region

    def apply(self, nb):
        """A copy of the solution notebook ``nb`` with region :attr:`region` of cell
        :attr:`cell` replaced by :attr:`code` (the markers stay, so ``fill`` strips them as usual).

        Raises
        ------
        ValueError
            If the cell is missing or has no such region.
        """
        out = copy.deepcopy(nb)
        cells = [c for c in out.cells if nbgrader_meta(c).get("grade_id") == self.cell]
        if len(cells) != 1:
            raise ValueError(f"variant {self.id!r}: notebook has {len(cells)} cells with grade_id {self.cell!r}")
        cell = cells[0]
        regions = [m.group(2) for m in SOLUTION_REGION.finditer(cell.source)]
        if not 0 <= self.region < len(regions):
            raise ValueError(f"variant {self.id!r}: cell {self.cell!r} has {len(regions)} solution regions, "
                             f"no region {self.region}")
        regions[self.region] = self.code
        cell.source = replace_solution(cell.source, tuple(regions))
        return out


#: every variant of the course, in course order
CATALOGUE: list = collect(__name__, __path__, "VARIANTS")


def by_id(variant_id: str):
    """The catalogued variant with this id."""
    return lookup(CATALOGUE, variant_id, "variant")


def for_notebook(notebook: str) -> dict:
    """``{(cell grade_id, region): [variants]}`` of one notebook (``"<assignment>/<notebook>"``)."""
    out = {}
    for v in CATALOGUE:
        if v.notebook == notebook:
            out.setdefault(v.slot, []).append(v)
    return out
