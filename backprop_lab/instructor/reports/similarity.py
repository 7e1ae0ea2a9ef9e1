"""Which pairs of submissions answer an assignment suspiciously alike (``backprop-lab similarity``).

What is compared: each student's *answers*, the code cells that nbgrader marks as solution
cells (``solution: true``, not a graded test), of every notebook of the assignment, in the
release's order. What is left out:

* the released scaffold: every line of an answer cell that is also a line of that cell in the
  release (``notebooks/``: the signature, the docstring, ``# YOUR CODE HERE``,
  ``raise NotImplementedError()``, the given code around the answer) is dropped, and the
  release's text of every answer cell is copydetect's *boilerplate*: a fingerprint of it never
  counts as a match;
* the tests, the setup and every other locked cell: they are not answers;
* the written (Markdown) answers: they are prose, which copydetect's tokenizer (made for code)
  does not compare well, and whoever grades them by hand in formgrader reads them side by side.

How: copydetect's winnowing (``copydetect.CodeFingerprint``, ``compare_files``) on each
student's answers, every pair of students. Names are replaced by one letter and whitespace and
comments are dropped before fingerprinting, so renamed variables and new comments change
nothing; fingerprints are :data:`NOISE` tokens long, about one line of answer, so reordered
lines still match line by line. ``similarity a→b`` is the share of a's answer tokens that b's
answers contain too.

Commonplace code: a fingerprint that more than :data:`COMMON` of the submissions contain is
what the class writes anyway (the obvious one-liners of a small contract); like the scaffold,
it becomes boilerplate and never counts (MOSS's ``-m`` does the same).

The flag: students who answer the same short function contract write similar code, so a pair
is flagged only when it is much more alike than the class usually is: ``score = max(a→b,
b→a)`` at least :func:`cutoff`, the larger of ``threshold`` (default :data:`THRESHOLD`) and the
point halfway from the score the class's most alike 5 % of pairs reach to 1 (identical
answers), with at least :data:`MIN_TOKENS` tokens in common. A flag is a reason to look at the
pair, not proof of copying.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from ..course import course_root, notebooks
from ..execute import is_graded_test, nbgrader_meta

__all__ = ["Answers", "Pair", "Report", "NOISE", "GUARANTEE", "THRESHOLD", "COMMON", "USUAL", "MIN_TOKENS",
           "answer_cells", "student_answers", "commonplace", "compare", "usual", "cutoff", "similarity", "write_csv", "write_html"]

#: copydetect's noise threshold: the shortest match that counts, in filtered characters (a
#: name is one character, whitespace and comments none): about one line of an answer
NOISE = 15
#: copydetect's guarantee threshold: every match at least this long is found. Equal to
#: :data:`NOISE`, so that every fingerprint is kept (a winnowing window of 1): answers are
#: short, and winnowing would pick fingerprints by the order of Python's string hashes, which
#: changes from run to run (``PYTHONHASHSEED``), and the scores with it
GUARANTEE = NOISE
#: the lowest score that is ever flagged (``--threshold``)
THRESHOLD = 0.6
#: a fingerprint that more than this share of the class has is commonplace, not evidence
COMMON = 0.25
#: the class's usual high: this quantile of its pair scores (the 95th percentile)
USUAL = 0.95
#: a flagged pair shares at least this many answer tokens (so that two nearly blank
#: submissions, whose few tokens match, are not flagged)
MIN_TOKENS = 50


def _is_answer(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("solution")) and not is_graded_test(cell)


def answer_cells(release_nb) -> dict:
    """``{grade_id: released text}`` of the answer code cells of a released notebook, in order."""
    return {nbgrader_meta(c)["grade_id"]: c.source for c in release_nb.cells if _is_answer(c)}


def _own_lines(text: str, scaffold: str) -> str:
    """``text`` without the lines that the scaffold has too (compared without their indent)."""
    given = {line.strip() for line in scaffold.splitlines() if line.strip()}
    return "\n".join(line for line in text.splitlines() if line.strip() and line.strip() not in given)


@dataclass
class Answers:
    """One student's answers to an assignment.

    Attributes
    ----------
    student : str
    text : str
        The answer cells' own lines, notebook by notebook and cell by cell in the release's
        order, each cell after a comment line ``# <notebook>/<grade_id>`` (comments do not count).
    fingerprint : copydetect.CodeFingerprint
    """

    student: str
    text: str
    fingerprint: object = field(repr=False, default=None)


def student_answers(student: str, submitted: dict, released: dict, boilerplate) -> Answers:
    """The answers of one student.

    Parameters
    ----------
    submitted : dict
        ``{notebook name: NotebookNode}``: what the student handed in (a notebook left out is
        missing from it).
    released : dict
        ``{notebook name: {grade_id: released text}}`` (:func:`answer_cells` of each release).
    boilerplate : ndarray of int
        copydetect's hashes of the released text.
    """
    parts = []
    for name, cells in released.items():
        nb = submitted.get(name)
        handed_in = {} if nb is None else {nbgrader_meta(c).get("grade_id"): c.source for c in nb.cells
                                           if c.cell_type == "code"}
        for gid, scaffold in cells.items():
            own = _own_lines(handed_in.get(gid, ""), scaffold)
            if own:
                parts.append(f"# {name}/{gid}\n{own}")
    text = "\n".join(parts) + "\n"
    fingerprint = CodeFingerprint(student, NOISE, GUARANTEE - NOISE + 1, boilerplate, language="python",
                                  fp=io.StringIO(text))
    return Answers(student, text, fingerprint)


def _boilerplate(released: dict):
    """copydetect's hashes of every released answer cell (every k-gram, as its
    ``CopyDetector`` takes them from its boilerplate files)."""
    hashes = [CodeFingerprint("release", NOISE, 1, language="python", fp=io.StringIO(text)).hashes
              for cells in released.values() for text in cells.values()]
    return np.unique(np.array([h for hs in hashes for h in hs], dtype=np.int64))


def commonplace(answers, share=None):
    """copydetect's hashes that more than ``share`` (default :data:`COMMON`) of the
    submissions ``answers`` contain: what the class commonly writes, which says nothing about
    who copied whom (as MOSS's ``-m`` leaves out passages found in more than m programs)."""
    share = COMMON if share is None else share
    answers = list(answers)
    counts = {}
    for a in answers:
        for h in a.fingerprint.hashes:
            counts[h] = counts.get(h, 0) + 1
    most = max(2, share * len(answers))
    return np.array(sorted(h for h, n in counts.items() if n > most), dtype=np.int64)


@dataclass
class Pair:
    """Two students' answers compared.

    Attributes
    ----------
    a, b : str
        The students, ``a < b``.
    a_to_b, b_to_a : float
        The share of a's answer tokens found in b's answers, and the other way round.
    tokens : int
        Answer tokens in common (of a's).
    slices : tuple
        copydetect's copied slices of a's and of b's text (2 × n arrays of starts and ends).
    flagged : bool
    """

    a: str
    b: str
    a_to_b: float
    b_to_a: float
    tokens: int
    slices: tuple = field(repr=False, default=((), ()))
    flagged: bool = False

    @property
    def score(self) -> float:
        """``max(a_to_b, b_to_a)``: one copying the other's answers, whichever is shorter, shows."""
        return max(self.a_to_b, self.b_to_a)


def compare(answers: list) -> list:
    """Every pair of ``answers`` (a list of :class:`Answers`), highest score first."""
    pairs = []
    for x, y in itertools.combinations(sorted(answers, key=lambda s: s.student), 2):
        tokens, (sx, sy), slices = compare_files(x.fingerprint, y.fingerprint)
        pairs.append(Pair(x.student, y.student, float(sx), float(sy), int(tokens), slices))
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return pairs


def usual(scores) -> float:
    """What the class's alike pairs usually reach: the :data:`USUAL` quantile of ``scores``
    (0 for fewer than 20 pairs)."""
    scores = sorted(scores)
    return statistics.quantiles(scores, n=20)[round(USUAL * 20) - 1] if len(scores) >= 20 else 0.0


def cutoff(scores, threshold: float = THRESHOLD) -> float:
    """The lowest flagged score: ``max(threshold, (usual + 1) / 2)``, halfway from what the
    class's most alike 5 % of pairs reach (:func:`usual` of ``scores``, one per pair) to
    identical answers."""
    return max(threshold, (usual(scores) + 1.0) / 2)


@dataclass
class Report:
    """The similarity of one assignment's submissions.

    Attributes
    ----------
    assignment : str
    answers : dict
        ``{student: Answers}``.
    pairs : list of Pair
        Highest score first.
    cutoff : float
        The lowest flagged score (:func:`cutoff`).
    threshold : float
        The floor asked for.
    """

    assignment: str
    answers: dict
    pairs: list
    cutoff: float
    threshold: float

    @property
    def flagged(self) -> list:
        return [p for p in self.pairs if p.flagged]


def similarity(assignment: str, root=None, threshold: float = THRESHOLD) -> Report:
    """Compare every pair of submissions of ``assignment`` in the course at ``root``
    (``submitted/<student>/<assignment>/<notebook>.ipynb``).

    Raises
    ------
    ValueError
        If the course has no such assignment, or fewer than two students handed it in.
    """
    root = course_root(root)
    nbs = [nb for nb in notebooks(root) if nb.assignment == assignment]
    if not nbs:
        known = sorted({nb.assignment for nb in notebooks(root)})
        raise ValueError(f"no assignment {assignment!r} in {root / 'solutions'}; known: {', '.join(known)}")
    released = {nb.name: answer_cells(nbformat.read(nb.release, as_version=4)) for nb in nbs}
    boilerplate = _boilerplate(released)
    folders = sorted(p for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    if len(folders) < 2:
        raise ValueError(f"{len(folders)} submission(s) of {assignment} in {root / 'submitted'}: "
                         "nothing to compare")
    handed_in = {}
    for folder in folders:
        handed_in[folder.parent.name] = {nb.name: nbformat.read(folder / f"{nb.name}.ipynb", as_version=4)
                                         for nb in nbs if (folder / f"{nb.name}.ipynb").is_file()}
    answers = {s: student_answers(s, sub, released, boilerplate) for s, sub in handed_in.items()}
    common = commonplace(answers.values())
    if len(common):
        boilerplate = np.union1d(boilerplate, common)
        answers = {s: student_answers(s, sub, released, boilerplate) for s, sub in handed_in.items()}
    pairs = compare(list(answers.values()))
    lowest = cutoff([p.score for p in pairs], threshold)
    for p in pairs:
        p.flagged = p.score >= lowest and p.tokens >= MIN_TOKENS
    return Report(assignment, answers, pairs, lowest, threshold)


CSV_COLUMNS = ["student_a", "student_b", "similarity_a_to_b", "similarity_b_to_a", "overlapping_tokens", "flagged"]


def write_csv(report: Report, path) -> Path:
    """Every pair, highest score first: :data:`CSV_COLUMNS` (similarities to 3 decimals,
    ``flagged`` ``yes``/``no``)."""
    path = Path(path)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for p in report.pairs:
            w.writerow([p.a, p.b, f"{p.a_to_b:.3f}", f"{p.b_to_a:.3f}", p.tokens, "yes" if p.flagged else "no"])
    return path


_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 90em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
tr.flagged { background: #fde2e2; }
.pair { display: flex; gap: 1em; }
.pair > div { flex: 1; overflow-x: auto; }
pre { background: #f6f6f6; padding: 0.6em; font-size: 85%; }
.match { background: #ffd54f; }
"""


def _highlighted(text: str, slices) -> str:
    """``text`` as HTML, the matched regions in ``<span class="match">``."""
    if len(slices) == 0 or len(slices[0]) == 0:
        return html.escape(text)
    out, _ = highlight_overlap(text, np.asarray(slices), '<span class="match">', "</span>", escape_html=True)
    return out


def write_html(report: Report, path, shown: int = 10) -> Path:
    """A page for a person: the rule, the flagged pairs with their matching regions side by
    side, and the ``shown`` most alike pairs that were not flagged, for comparison."""
    path = Path(path)
    scores = [p.score for p in report.pairs]
    median, high = (statistics.median(scores) if scores else 0.0), usual(scores)
    flagged = report.flagged
    rows = flagged + [p for p in report.pairs if not p.flagged][:shown]
    e = html.escape
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Similarity of {e(report.assignment)}</title>"
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Similarity of {e(report.assignment)}</h1>",
        f"<p>{len(report.answers)} submissions, {len(report.pairs)} pairs; "
        f"<strong>{len(flagged)} flagged</strong>.</p>",
        "<h2>How to read this page</h2>",
        "<p>Each student's answer cells are compared with every other student's, with the released scaffold "
        "(signatures, docstrings, <code>raise NotImplementedError()</code>), the tests and the written answers left "
        "out. Names, whitespace and comments do not count, so renamed variables and reworded comments still match. "
        "<em>a→b</em> is the share of a's answer tokens that b's answers contain too; the score is the larger of "
        "a→b and b→a.</p>",
        f"<p>A pair is flagged when its score is at least <strong>{report.cutoff:.3f}</strong>: the larger of the "
        f"threshold {report.threshold:.3f} and the point halfway from {high:.3f}, the score that the most alike 5 % "
        f"of this class's pairs reach (the median pair: {median:.3f}), to 1, identical answers; and the pair has at "
        f"least {MIN_TOKENS} tokens in common. Code that more than {COMMON:.0%} of the class wrote alike counts as "
        "commonplace, as the scaffold does. Students answering the same small contract write similar code, so a "
        "flag means a pair is much more alike than this class usually is: <strong>a reason to look, not proof of "
        "copying</strong>. Matching regions are highlighted below.</p>",
        "<h2>Pairs</h2><table><tr><th>student a</th><th>student b</th><th>a→b</th><th>b→a</th>"
        "<th>tokens in common</th><th>flagged</th></tr>",
    ]
    for p in rows:
        parts.append(f"<tr class='{'flagged' if p.flagged else ''}'><td>{e(p.a)}</td><td>{e(p.b)}</td>"
                     f"<td>{p.a_to_b:.3f}</td><td>{p.b_to_a:.3f}</td><td>{p.tokens}</td>"
                     f"<td>{'yes' if p.flagged else 'no'}</td></tr>")
    parts.append("</table>")
    if len(rows) < len(report.pairs):
        parts.append(f"<p>The other {len(report.pairs) - len(rows)} pairs are less alike; every pair is in "
                     "similarity.csv.</p>")
    for p in flagged:
        a, b = report.answers[p.a], report.answers[p.b]
        parts.append(f"<h2 id='{e(p.a)}-{e(p.b)}'>{e(p.a)} and {e(p.b)}: {p.a_to_b:.3f} / {p.b_to_a:.3f}</h2>"
                     "<div class='pair'>"
                     f"<div><h3>{e(p.a)}</h3><pre>{_highlighted(a.text, p.slices[0])}</pre></div>"
                     f"<div><h3>{e(p.b)}</h3><pre>{_highlighted(b.text, p.slices[1])}</pre></div></div>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
