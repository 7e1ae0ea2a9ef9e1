"""``backprop-lab similarity``: planted copies in the demo class are flagged, honest pairs are not.

The demo class (``democlass.build``) gives its honest students the catalogued variants of
notebook 1's answers, drawn per student. Into it go three planted copies: an exact copy of a
student's notebook under a new id, a copy with every local variable renamed and independent
lines swapped, and an honest student who replaced half of their answer cells with another's.
All of it is static: no kernel runs."""

from __future__ import annotations

import ast
import csv
import shutil
import subprocess
import sys

import nbformat
import pytest

from backprop_lab.instructor.execute import nbgrader_meta
from backprop_lab.instructor.runs.democlass import build

pytestmark = pytest.mark.slow  # no kernel, but the demo class and three commands take half a minute

ASSIGNMENT, NAME = "01-forward", "forward"
#: (copier, original, how); the copiers s91, s92 are new ids, s14 is an honest student who copied
PLANTED = [("s91", "s05", "exact copy"), ("s92", "s07", "renamed and reordered"), ("s14", "s08", "half the answers")]
#: the answer cells that the partial copy takes from its original (4 of the 7)
HALF = ("neuron", "dense_forward", "mlp_forward", "worked_example_forward")


def _path(course, student):
    return course / "submitted" / student / ASSIGNMENT / f"{NAME}.ipynb"


def _answer_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")]


class _Rename(ast.NodeTransformer):
    """Rename every name a cell assigns, except the functions it defines and their parameters."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            node.id = self.names[node.id]
        return node


def renamed(source: str) -> tuple[str, int]:
    """``source`` with its assigned names renamed, and independent neighbouring assignments
    swapped: ``(new source, number of swaps)``. Names the cell defines for later cells (its
    functions, and at top level ``acts_mazur``, ``O_mazur``, ``W1``...) keep their names."""
    tree = ast.parse(source)
    top = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in ast.walk(node) if isinstance(t, ast.Name)}
    params = {a.arg for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for a in f.args.args}
    outer = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    keep = top | params | outer | {"W1", "W2", "b1", "b2"}  # the cell's results, read by later cells
    names = {n: f"my_{n.lower()}_{k}" for k, n in enumerate(sorted(stored - keep))}
    tree = _Rename(names).visit(tree)
    swaps = 0
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        k = 0
        while k + 1 < len(body):
            s, t = body[k], body[k + 1]
            if isinstance(s, ast.Assign) and isinstance(t, ast.Assign):
                w_s = {n.id for x in s.targets for n in ast.walk(x) if isinstance(n, ast.Name)}
                w_t = {n.id for x in t.targets for n in ast.walk(x) if isinstance(n, ast.Name)}
                r_s = {n.id for n in ast.walk(s.value) if isinstance(n, ast.Name)}
                r_t = {n.id for n in ast.walk(t.value) if isinstance(n, ast.Name)}
                if not (w_s & (r_t | w_t)) and not (w_t & r_s):
                    body[k], body[k + 1] = t, s
                    swaps += 1
                    k += 2
                    continue
            k += 1
    return ast.unparse(tree), swaps + len(names)


def plant(course) -> None:
    """Write the planted copies of :data:`PLANTED` into the demo class at ``course``."""
    (copier, original, _), (renamer, source, _), (partial, lender, _) = PLANTED
    shutil.copytree(_path(course, original).parent, _path(course, copier).parent)
    nb = nbformat.read(_path(course, source), as_version=4)
    changes = 0
    for cell in _answer_cells(nb):
        cell.source, n = renamed(cell.source)
        changes += n
    assert changes >= 10, f"the renamed copy changed only {changes} names and lines"
    _path(course, renamer).parent.mkdir(parents=True)
    nbformat.write(nb, _path(course, renamer))
    own = nbformat.read(_path(course, partial), as_version=4)
    lent = {nbgrader_meta(c)["grade_id"]: c.source for c in _answer_cells(nbformat.read(_path(course, lender), as_version=4))}
    for cell in _answer_cells(own):
        if nbgrader_meta(cell)["grade_id"] in HALF:
            cell.source = lent[nbgrader_meta(cell)["grade_id"]]
    nbformat.write(own, _path(course, partial))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The demo class of 30 students with the planted copies."""
    course = tmp_path_factory.mktemp("similarity") / "course"
    build(course, n_students=30, seed=0)
    plant(course)
    return course


def _run(course, *args):
    proc = subprocess.run([sys.executable, "-m", "backprop_lab", "similarity", ASSIGNMENT, *args], cwd=course,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _pairs(csv_path):
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def test_planted_copies_are_flagged_and_honest_pairs_are_not(course):
    out = _run(course)
    rows = _pairs(course / "reports" / "similarity" / ASSIGNMENT / "similarity.csv")
    students = {p.parent.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}/{NAME}.ipynb")}
    assert len(rows) == len(students) * (len(students) - 1) // 2, "one row per pair of submissions"
    flagged = {(r["student_a"], r["student_b"]) for r in rows if r["flagged"] == "yes"}
    planted = {tuple(sorted((c, o))): how for c, o, how in PLANTED}
    honest = sorted(float(max(r["similarity_a_to_b"], r["similarity_b_to_a"])) for r in rows
                    if (r["student_a"], r["student_b"]) not in planted)
    print(out, f"honest pairs: median {honest[len(honest) // 2]:.3f}, highest {honest[-1]:.3f}")
    for pair, how in planted.items():
        assert pair in flagged, f"the planted copy {pair} ({how}) is not flagged:\n{out}"
        assert f"{pair[0]} {pair[1]}" in out, f"the command does not print the flagged pair {pair}"
    assert flagged == set(planted), f"honest pairs flagged: {sorted(flagged - set(planted))}"
    for r in rows:
        for col in ("similarity_a_to_b", "similarity_b_to_a"):
            assert 0 <= float(r[col]) <= 1, r
        assert int(r["overlapping_tokens"]) >= 0
    page = (course / "reports" / "similarity" / ASSIGNMENT / "similarity.html").read_text()
    assert f"Similarity of {ASSIGNMENT}" in page and "not proof of copying" in page
    for a, b in planted:
        assert f"id='{a}-{b}'" in page, f"the page shows no matching regions of {a} and {b}"
    assert page.count("class=\"match\"") >= 3


def test_the_threshold_decides(course, tmp_path):
    """A floor above the renamed copy's score leaves only the exact copy flagged."""
    out = _run(course, "--threshold", "0.99", "--out", str(tmp_path))
    flagged = {(r["student_a"], r["student_b"]) for r in _pairs(tmp_path / "similarity.csv") if r["flagged"] == "yes"}
    assert flagged == {("s05", "s91")}, out


def test_the_scaffold_is_not_compared(course):
    """Two blank notebooks (the release, handed in as it is) have nothing in common."""
    from backprop_lab.instructor.reports.similarity import similarity

    blank = course.parent / "blank"
    for student in ("b1", "b2"):
        dest = _path(blank, student)
        dest.parent.mkdir(parents=True)
        shutil.copy(course / "notebooks" / ASSIGNMENT / f"{NAME}.ipynb", dest)
    shutil.copytree(course / "solutions", blank / "solutions")
    shutil.copytree(course / "notebooks", blank / "notebooks")
    shutil.copy(course / "nbgrader_config.py", blank)
    report = similarity(ASSIGNMENT, blank)
    assert all(not a.text.strip() for a in report.answers.values()), "the scaffold's lines were kept"
    (pair,) = report.pairs
    assert (pair.a_to_b, pair.b_to_a, pair.tokens, pair.flagged) == (0, 0, 0, False)


def test_an_unknown_assignment_is_a_clear_error(course):
    proc = subprocess.run([sys.executable, "-m", "backprop_lab", "similarity", "99-nothing"], cwd=course,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no assignment '99-nothing'" in proc.stdout and "01-forward" in proc.stdout
