"""The catalogue of shortcuts: answers that take a task's result from somewhere other than
the student's own work (the course library's reference, the published numbers).

Every implementation task has at least one. Each shortcut replaces the solution region of
one answer cell; graded, it must earn 0 on every test it targets, and where it calls a
fenced reference the test's message must name it (``tests/test_shortcuts.py``, through the
real ``nbgrader autograde`` in ``tests/test_integrity_batch.py``). With the fence switched
off, the same shortcut passes its targets (unless the tests stop it by themselves, ``fenced=False``):
a shortcut that fails on its own proves nothing about the fence.
One module per notebook defines ``SHORTCUTS``; :data:`CATALOGUE` gathers them in course order.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass

from ..catalogue import collect, lookup
from ...execute import SOLUTION_REGION, nbgrader_meta

__all__ = ["Shortcut", "CATALOGUE", "by_id", "replace_solution"]



def replace_solution(source: str, code) -> str:
    """``source`` (a solution cell) with the code between its solution markers replaced by
    ``code``, indented as the markers are; a tuple of codes replaces the cell's regions in
    order (a class with two methods to write)."""
    codes = (code,) if isinstance(code, str) else tuple(code)
    matches = list(SOLUTION_REGION.finditer(source))
    if len(matches) != len(codes):
        raise ValueError(f"the cell has {len(matches)} ### BEGIN SOLUTION / ### END SOLUTION region(s); "
                         f"got {len(codes)} replacement(s)")
    for match, new in reversed(list(zip(matches, codes))):
        body = textwrap.indent(textwrap.dedent(new).strip("\n") + "\n", match.group(1))
        source = source[:match.start(2)] + body + source[match.end(2):]
    return source


@dataclass(frozen=True)
class Shortcut:
    """One way to get a task's points without doing the task.

    Attributes
    ----------
    id : str
        Short unique name, e.g. ``"backward-mlp-gradients"``.
    notebook : str
        ``"<assignment>/<notebook>"``.
    cell : str
        ``grade_id`` of the answer cell whose solution region the shortcut replaces.
    code : str or tuple of str
        The replacement: what the student wrote instead of the task (one per solution
        region of the cell).
    targets : tuple of str
        The test cells (grade ids) it tries to pass; each must earn 0.
    reference : str or None
        The fenced reference it calls (its refusal names it), or ``None`` if it calls none.
    description : str
        What the student did, in one sentence.
    fenced : bool
        True: the reference fence alone stops it (without the fence it would pass). False:
        the tests stop it anyway, because they call the answer on inputs no lookup table or
        copied number can know (fresh symbols, random weights).
    guard : bool
        True: what stops it is the grading guard, which exists only while nbgrader
        autogrades (it refuses deep-learning frameworks, whose autograd would do the task).
    prelude : str
        Code put at the top of the answer cell, outside the function (an alias taken before
        any test runs).
    """

    id: str
    notebook: str
    cell: str
    code: str
    targets: tuple
    reference: str | None
    description: str
    fenced: bool = True
    guard: bool = False
    prelude: str = ""

    def apply(self, nb):
        """A copy of the solution notebook ``nb`` with this shortcut as the answer of ``cell``."""
        out = copy.deepcopy(nb)
        cells = [c for c in out.cells if nbgrader_meta(c).get("grade_id") == self.cell]
        if len(cells) != 1:
            raise ValueError(f"shortcut {self.id!r}: notebook has {len(cells)} cells with grade_id {self.cell!r}")
        cells[0].source = replace_solution(cells[0].source, self.code)
        if self.prelude:
            cells[0].source = textwrap.dedent(self.prelude).strip("\n") + "\n\n\n" + cells[0].source
        return out


#: every shortcut of the course, in course order
CATALOGUE: list = collect(__name__, __path__, "SHORTCUTS")


def by_id(shortcut_id: str):
    """The catalogued shortcut with this id."""
    return lookup(CATALOGUE, shortcut_id, "shortcut")
