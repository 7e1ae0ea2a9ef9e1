"""What the students do in a notebook, counted: tasks, points, answer lines, written answers
and their rubrics (``backprop-lab course-table``; ``tests/test_course_standards.py`` holds the
course to its floors).

An *answer region* is the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of a
solution code cell: what the student writes. Its size is its number of non-blank lines that
are not comments, the measure issue 9 set its floors in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

from ..course import Notebook
from ..execute import SOLUTION_REGION, graded_tests, nbgrader_meta

__all__ = ["Depth", "answer_regions", "depth", "rubric", "RubricError", "format_table"]

_RUBRIC = re.compile(r"^\*\*Rubric \((\d+(?:\.\d+)?) points?\)\*\*[ \t]*$", re.M)
_ITEM = re.compile(r"^- (\d+(?:\.\d+)?) points?: \S", re.M)


class RubricError(ValueError):
    """A written answer's rubric is missing, or its items do not add up to the cell's points."""


def answer_regions(nb) -> list[list[str]]:
    """The answer regions of ``nb``'s solution code cells, in order: each a list of its
    non-blank, non-comment lines (stripped)."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not nbgrader_meta(cell).get("solution"):
            continue
        for match in SOLUTION_REGION.finditer(cell.source):
            body = match.group(2)
            out.append([s for s in (line.strip() for line in body.splitlines()) if s and not s.startswith("#")])
    return out


def rubric(cell) -> list[float]:
    """The points of each item of a written answer's rubric.

    The instructor version of every hand-graded answer ends its model answer with::

        **Rubric (2 points)**
        - 1 point: <what earns it>
        - 1 point: <what earns it>

    Raises
    ------
    RubricError
        If the cell has no rubric, or its total or its items disagree with the cell's points.
    """
    meta = nbgrader_meta(cell)
    gid, points = meta.get("grade_id", "?"), float(meta.get("points", 0))
    found = _RUBRIC.search(cell.source)
    if not found:
        raise RubricError(f"written answer {gid!r} has no '**Rubric (N points)**' line")
    items = [float(p) for p in _ITEM.findall(cell.source[found.end():])]
    if float(found.group(1)) != points or sum(items) != points:
        raise RubricError(f"written answer {gid!r} is worth {points:g} points; its rubric says "
                          f"{found.group(1)} and its items add up to {sum(items):g}")
    return items


@dataclass(frozen=True)
class Depth:
    """The counts of one notebook (see the module docstring)."""

    notebook: str
    tasks: int                 #: graded test cells
    points: float              #: all points, code and written
    regions: list              #: answer lines per region
    written: int               #: hand-graded written answers
    rubrics: int               #: of which have a well-formed rubric

    @property
    def lines(self) -> int:
        return sum(self.regions)


def depth(notebook: Notebook) -> Depth:
    """Count what ``notebook`` (its instructor version) asks of the student."""
    nb = nbformat.read(notebook.source, as_version=4)
    written = [c for c in nb.cells if c.cell_type == "markdown"
               and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]
    with_rubric = 0
    for cell in written:
        try:
            rubric(cell)
            with_rubric += 1
        except RubricError:
            pass
    points = sum(float(nbgrader_meta(c).get("points", 0)) for c in nb.cells if nbgrader_meta(c).get("grade"))
    return Depth(str(notebook), len(graded_tests(nb)), points, [len(r) for r in answer_regions(nb)],
                 len(written), with_rubric)


def format_table(rows: list[Depth]) -> str:
    """A Markdown table of ``rows`` with a total line."""
    out = ["| notebook | tasks | points | answer regions | answer lines | regions of 8+ lines "
           "| written answers (with rubric) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| `{r.notebook}` | {r.tasks} | {r.points:g} | {len(r.regions)} | {r.lines} "
                   f"| {sum(n >= 8 for n in r.regions)} | {r.written} ({r.rubrics}) |")
    regions = [n for r in rows for n in r.regions]
    out.append(f"| **all** | {sum(r.tasks for r in rows)} | {sum(r.points for r in rows):g} | {len(regions)} "
               f"| {sum(regions)} | {sum(n >= 8 for n in regions)} | {sum(r.written for r in rows)} "
               f"({sum(r.rubrics for r in rows)}) |")
    return "\n".join(out)
