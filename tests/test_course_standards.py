"""The course's own standards, over every notebook: one notation (docs/notation.md), a rubric
for every hand-graded answer, the Δ/δ switch said where it happens, and the depth floors of
issue 9 (students write algorithms, not one-liners)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from backprop_lab.instructor.reports.depth import RubricError, answer_regions, depth, rubric
from backprop_lab.instructor.execute import nbgrader_meta

from conftest import NOTEBOOKS, ROOT, notebook_ids

LECTURES = sorted((ROOT / "lectures").glob("*.ipynb"))


def _markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _written(nb):
    return [c for c in nb.cells if c.cell_type == "markdown" and nbgrader_meta(c).get("grade")
            and nbgrader_meta(c).get("solution")]


@pytest.mark.parametrize("path", [nb.source for nb in NOTEBOOKS] + LECTURES + sorted((ROOT / "docs").rglob("*.md")),
                         ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_layer_superscripts_are_in_parentheses(path):
    text = Path(path).read_text()
    brackets = sorted(set(re.findall(r"\w\^\{\[[^\]]*\]\}", text)))
    assert not brackets, f"{path}: layer superscripts in brackets {brackets}; docs/notation.md writes W^{{(l)}}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_every_written_answer_has_a_rubric(nb):
    source = nbformat.read(nb.source, as_version=4)
    for cell in _written(source):
        items = rubric(cell)  # raises RubricError naming the answer
        assert items and all(p > 0 for p in items), nbgrader_meta(cell)["grade_id"]
    release = nb.release.read_text()
    assert "**Rubric" not in release, f"{nb.release} shows a rubric to the students"


def test_a_rubric_must_add_up():
    cell = nbformat.v4.new_markdown_cell("Model answer.\n\n**Rubric (2 points)**\n- 1 point: the sum\n")
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "points": 2, "grade_id": "answer_x"}
    with pytest.raises(RubricError, match="add up to 1"):
        rubric(cell)
    cell.source = "no rubric here"
    with pytest.raises(RubricError, match="no '\\*\\*Rubric"):
        rubric(cell)


_SMALL_DELTA = re.compile(r"\\delta(?![a-zA-Z])|δ")
_SWITCH = re.compile(r"(\\delta|δ)\s*=\s*(-|−)\s*(\\Delta|Δ)")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_where_delta_switches_to_the_libraries_sign_the_text_says_so(nb):
    text = _markdown(nb.source)
    if _SMALL_DELTA.search(text):
        assert _SWITCH.search(text), (f"{nb} uses the libraries' δ = ∂E/∂in but never says δ = −Δ "
                                      "(docs/notation.md)")


def test_the_course_text_typos_are_explained_where_the_rule_first_appears():
    text = _markdown(NOTEBOOKS[0].source)
    assert "multiplication sign" in text and "g^1" in text and "derivative" in text


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=notebook_ids())
def test_every_notebook_has_a_whole_algorithm_to_write(nb):
    regions = answer_regions(nbformat.read(nb.source, as_version=4))
    assert max(map(len, regions)) >= 8, f"{nb}: the longest answer region has {max(map(len, regions))} lines"


def test_students_write_the_course_not_one_liners():
    rows = [depth(nb) for nb in NOTEBOOKS]
    lines = [n for r in rows for n in r.regions]
    assert sum(lines) >= 282, f"answer regions hold {sum(lines)} non-comment lines; the floor is 282"
    assert sum(n >= 8 for n in lines) >= 12, f"{sum(n >= 8 for n in lines)} regions of 8+ lines; the floor is 12"
