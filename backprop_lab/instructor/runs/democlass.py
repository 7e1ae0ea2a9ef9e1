"""A demo class: sample submissions for an instructor's first grading run.

``build(dest)`` makes a complete course folder (config, ``solutions/``, ``notebooks/``, a
student list) with one submission per student and notebook, made from the solutions, the
blank release, the catalogue of common mistakes and that of correct variants:

* every answer cell that a student gets right is the solution's or, where the notebook has
  them, one of the catalogued variants (:mod:`..catalogues.variants`), drawn per student: honest
  students write the same contract differently, as a class does, so that the similarity
  report (``backprop-lab similarity``) has something honest to tell copies from;
* every tenth student (``s01``, ``s11``, ...) hands in correct answers only: full marks;
* the next hands in one notebook blank, the next leaves one out;
* everyone else makes zero to two catalogued mistakes per notebook;
* three students break their notebooks the way students do (a deleted test cell, an
  edited test with raised points, a pasted copy of a graded cell), which the pre-screen
  reports and the repair step undoes.

Everything is seeded: the same call gives the same class.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..course import copy_course, course_root, notebooks
from ..execute import is_graded_test
from ..catalogues import variants
from ..catalogues.mistakes import CATALOGUE, by_id
from .submissions import fill

__all__ = ["build", "Student", "FIRST", "LAST"]

FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Katherine", "Claude",
         "Radia", "Tim", "Margaret", "Dennis", "Hedy", "Ken", "Sophie", "Yann", "Fei-Fei", "Geoffrey"]
LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "McCarthy", "Johnson",
        "Shannon", "Perlman", "Berners-Lee", "Hamilton", "Ritchie", "Lamarr", "Thompson", "Wilson", "LeCun",
        "Li", "Hinton"]


@dataclass
class Student:
    """A demo student and what they handed in."""

    id: str
    first_name: str
    last_name: str
    profile: str
    mistakes: dict = field(default_factory=dict)   # notebook -> [mistake ids]
    missing: list = field(default_factory=list)     # notebooks not handed in
    blank: list = field(default_factory=list)       # notebooks handed in blank
    broken: dict = field(default_factory=dict)      # notebook -> what was broken
    variants: dict = field(default_factory=dict)    # notebook -> [variant ids] of its correct cells


def _pick_mistakes(rng: random.Random, nb: str, k: int) -> list:
    options = [m for m in CATALOGUE if m.notebook == nb]
    rng.shuffle(options)
    chosen, cells = [], set()
    for m in options:
        if len(chosen) == k:
            break
        if m.cell not in cells:  # two edits of one cell may not compose
            chosen.append(m)
            cells.add(m.cell)
    return chosen


def _break(nb, how: str):
    """Damage a submission the way students do."""
    graded = [k for k, c in enumerate(nb.cells) if is_graded_test(c)]
    k = graded[len(graded) // 2]
    if how == "deleted a test cell":
        del nb.cells[k]
    elif how == "edited a test cell and raised its points":
        nb.cells[k].source = "pass  # all good"
        nb.cells[k].metadata["nbgrader"]["points"] = 100
    elif how == "pasted a copy of a graded cell":
        nb.cells.insert(k + 1, nbformat.from_dict(nbformat.v4.new_code_cell(nb.cells[k].source,
                                                                              metadata=dict(nb.cells[k].metadata))))
        nb.cells[k + 1]["id"] = nb.cells[k]["id"]  # a copy keeps the id too
    return nb


def plan(n_students: int, seed: int = 0, root=None) -> list[Student]:
    """Who hands in what (deterministic for a seed), for the notebooks of the course at ``root``."""
    nbs = [str(nb) for nb in notebooks(root)]
    rng = random.Random(seed)
    breakages = ["deleted a test cell", "edited a test cell and raised its points", "pasted a copy of a graded cell"]
    out = []
    for i in range(n_students):
        sid = f"s{i + 1:02d}"
        st = Student(sid, FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)], "")
        kind = i % 10
        if kind == 0:
            st.profile = "solutions"
        elif kind == 1:
            st.profile = "one notebook blank"
            st.blank = [nbs[i % len(nbs)]]
        elif kind == 2:
            st.profile = "one notebook not handed in"
            st.missing = [nbs[i % len(nbs)]]
        else:
            st.profile = "common mistakes"
            for nb in nbs:
                st.mistakes[nb] = [m.id for m in _pick_mistakes(rng, nb, rng.choice([0, 1, 1, 2]))]
            if 3 <= i < 3 + len(breakages):
                st.broken[nbs[i % len(nbs)]] = breakages[i - 3]
                st.profile += f", {breakages[i - 3]}"
        _pick_variants(random.Random(f"{seed}:{sid}"), st, nbs)
        out.append(st)
    return out


def _pick_variants(rng: random.Random, st: Student, nbs: list) -> None:
    """Choose, for each answer region of ``st``'s notebooks that has catalogued variants, in a
    cell without a mistake, the solution's answer or one of the variants (each equally likely).
    ``rng`` is the student's own, so that the variants leave the mistakes and profiles of
    :func:`plan` as they were without them."""
    for nb in nbs:
        mistaken = {by_id(m).cell for m in st.mistakes.get(nb, [])}
        for (cell, _), options in variants.for_notebook(nb).items():
            choice = rng.randrange(len(options) + 1)  # 0: the solution's own answer
            if cell not in mistaken and choice:
                st.variants.setdefault(nb, []).append(options[choice - 1].id)


def build(dest, n_students: int = 30, seed: int = 0, root=None) -> list[Student]:
    """Write the demo class into the folder ``dest`` (created; must not exist or be empty).

    Returns
    -------
    list of Student
        Who handed in what; also written to ``dest/students.csv`` (nbgrader's student list)
        and ``dest/demo-class.csv`` (the profiles).
    """
    root = course_root(root)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty; the demo class needs a fresh folder")
    copy_course(root, dest)
    class_plan = plan(n_students, seed, root)
    sources = {str(nb): (nbformat.read(nb.source, as_version=4), nbformat.read(nb.release, as_version=4), nb)
               for nb in notebooks(root)}
    for st in class_plan:
        for name, (src, rel, nb) in sources.items():
            if name in st.missing:
                continue
            if name in st.blank:
                sub = rel
            else:
                sub = src
                for vid in st.variants.get(name, []):
                    sub = variants.by_id(vid).apply(sub)
                for mid in st.mistakes.get(name, []):
                    sub = by_id(mid).apply(sub)
                sub = fill(rel, sub)
            if name in st.broken:
                sub = _break(sub, st.broken[name])
            path = dest / "submitted" / st.id / nb.assignment / f"{nb.name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(sub, path)
    with open(dest / "students.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "first_name", "last_name", "email"])
        for st in class_plan:
            w.writerow([st.id, st.first_name, st.last_name, f"{st.id}@example.edu"])
    with open(dest / "demo-class.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "profile", "mistakes", "missing", "blank", "broken", "variants"])
        for st in class_plan:
            w.writerow([st.id, st.profile, ";".join(m for ms in st.mistakes.values() for m in ms),
                        ";".join(st.missing), ";".join(st.blank), ";".join(f"{k}: {v}" for k, v in st.broken.items()),
                        ";".join(v for vs in st.variants.values() for v in vs)])
    return class_plan
