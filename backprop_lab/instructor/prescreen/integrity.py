"""Check a submitted notebook against its release, and repair what a student broke.

Students delete cells, edit read-only ones, strip or copy cell metadata and paste graded
cells twice. nbgrader 0.9.6 then leaves tests as "needs manual grade" forever (a deleted or
stripped test cell) or aborts the whole batch (a pasted copy of a graded cell). This module
compares a submission with the released notebook, cell by cell, and

* :func:`inspect` reports every difference (the ``backprop-lab pre-screen`` command);
* :func:`repair` returns a notebook that nbgrader can grade: every released cell present
  exactly once, in order, with its released nbgrader metadata (points, flags, grade id);
  copies and unknown cells demoted to ordinary cells; each change recorded as a finding.

nbgrader's own ``OverwriteCells`` then puts the original source (with the hidden tests)
back into every locked cell, so a restored or edited test runs as written by the instructor.
"""

from __future__ import annotations

import copy
import difflib
import uuid
from dataclasses import dataclass, field

from ..execute import is_graded_test, nbgrader_meta
from .scan import allowed_in, library_names, scan

__all__ = ["Finding", "inspect", "repair", "suspicious_code", "KINDS"]

#: kinds of finding, most serious first
KINDS = ("duplicated", "missing", "stripped", "edited", "metadata", "unknown", "suspicious", "added")


@dataclass(frozen=True)
class Finding:
    """One difference between a submission and its release.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    grade_id : str or None
        The cell concerned.
    detail : str
        What was found and, for :func:`repair`, what was done.
    """

    kind: str
    grade_id: str | None
    detail: str

    def __str__(self) -> str:
        where = f" {self.grade_id}" if self.grade_id else ""
        return f"{self.kind}{where}: {self.detail}"


def _read_only(meta: dict) -> bool:
    """A locked cell that is not an answer: its released text is what counts."""
    return bool(meta.get("locked")) and not meta.get("solution")


def _gid(cell) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def _norm(source) -> str:
    text = "".join(source) if isinstance(source, list) else str(source)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _similar(a, b) -> float:
    return difflib.SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


_FLAGS = ("grade", "solution", "locked", "task", "points")

def suspicious_code(source: str) -> list[str]:
    """What in a student's code looks like tampering or a shortcut (a list of reasons)."""
    return [f.why for f in scan(source)]


@dataclass
class _Match:
    """Where each released cell is found in the submission."""

    position: dict = field(default_factory=dict)   # grade_id -> index in the submission
    findings: list = field(default_factory=list)
    demote: set = field(default_factory=set)       # submission indices to turn into plain cells


def _match(sub, rel) -> _Match:
    released = {_gid(c): k for k, c in enumerate(rel.cells) if _gid(c)}
    m = _Match()
    # 1. cells that carry a released grade id; copies and unknown ids are demoted
    by_id: dict = {}
    for k, cell in enumerate(sub.cells):
        gid = _gid(cell)
        if gid is None:
            if nbgrader_meta(cell) or "nbgrader" in cell.get("metadata", {}):
                m.demote.add(k)  # empty or broken nbgrader metadata
            continue
        if gid not in released:
            m.findings.append(Finding("unknown", gid, "a cell with a grade id that is not in the assignment; "
                                                      "graded as an ordinary cell"))
            m.demote.add(k)
            continue
        by_id.setdefault(gid, []).append(k)
    for gid, places in by_id.items():
        keep = places[0]
        if len(places) > 1:
            ref = rel.cells[released[gid]]
            if _read_only(nbgrader_meta(ref)):
                # keep the copy that still reads as released; else the first
                keep = max(places, key=lambda k: (_similar(sub.cells[k].source, ref.source), -k))
            m.findings.append(Finding("duplicated", gid, f"{len(places)} cells carry this grade id (a pasted copy); "
                                                         f"cell {keep} is graded, the other(s) run as ordinary cells"))
            m.demote.update(k for k in places if k != keep)
        m.position[gid] = keep
    # 2. released cells whose id is gone: find a stripped copy between its neighbours
    order = [_gid(c) for c in rel.cells if _gid(c)]
    for r, gid in enumerate(order):
        if gid in m.position:
            continue
        ref = rel.cells[released[gid]]
        lo = max((m.position[g] for g in order[:r] if g in m.position), default=-1)
        hi = min((m.position[g] for g in order[r + 1:] if g in m.position), default=len(sub.cells))
        gap = [k for k in range(lo + 1, hi) if _gid(sub.cells[k]) is None and k not in m.position.values()]
        candidates = [k for k in gap if sub.cells[k].cell_type == ref.cell_type]
        if _read_only(nbgrader_meta(ref)):
            candidates = [k for k in candidates if _similar(sub.cells[k].source, ref.source) >= 0.6]
        if candidates:
            k = max(candidates, key=lambda j: _similar(sub.cells[j].source, ref.source))
            m.position[gid] = k
            m.demote.discard(k)
            m.findings.append(Finding("stripped", gid, f"cell {k} had lost its nbgrader metadata; restored"))
        else:
            m.findings.append(Finding("missing", gid, "deleted from the submission; restored from the release"))
    return m


def _context(rel) -> tuple[dict, dict]:
    """From the release: the library names its read-only code cells bind, and for every
    answer cell the references its tests allow."""
    names = library_names(c.source for c in rel.cells if c.cell_type == "code" and _read_only(nbgrader_meta(c))
                          and not is_graded_test(c))
    allow: dict = {}
    answer = None
    for c in rel.cells:
        meta = nbgrader_meta(c)
        if meta.get("solution") and c.cell_type == "code":
            answer = meta.get("grade_id")
        elif is_graded_test(c) and answer is not None:
            allow[answer] = allow.get(answer, ()) + allowed_in(c.source)
    return names, allow


def _flags(source, context, gid=None) -> list[str]:
    names, allow = context
    return [str(f) for f in scan(source, names, allow.get(gid, ()))]


def _compare(sub_cell, ref_cell, gid: str, context=None) -> list[Finding]:
    out = []
    meta, ref_meta = nbgrader_meta(sub_cell), nbgrader_meta(ref_cell)
    changed = [f"{k}: {ref_meta.get(k)!r} -> {meta.get(k)!r}" for k in _FLAGS if meta.get(k) != ref_meta.get(k)]
    if changed and meta:
        out.append(Finding("metadata", gid, "nbgrader metadata changed (" + "; ".join(changed) + "); reset"))
    if sub_cell.cell_type != ref_cell.cell_type:
        out.append(Finding("metadata", gid, f"cell type changed from {ref_cell.cell_type} to {sub_cell.cell_type}; reset"))
    if _read_only(ref_meta) and _norm(sub_cell.source) != _norm(ref_cell.source):
        out.append(Finding("edited", gid, "a read-only cell was edited; the original is graded"))
    if ref_meta.get("solution") and sub_cell.cell_type == "code" and context is not None:
        for why in _flags(sub_cell.source, context, gid):
            out.append(Finding("suspicious", gid, f"the answer, {why}"))
    return out


def inspect(sub, rel) -> list[Finding]:
    """Every difference between a submission and its released notebook.

    Parameters
    ----------
    sub, rel : NotebookNode
        The submitted notebook and the released (student) version of it.

    Returns
    -------
    list of Finding
        Sorted by seriousness (:data:`KINDS`); empty for an untouched submission.
    """
    m = _match(sub, rel)
    released = {_gid(c): c for c in rel.cells if _gid(c)}
    findings = list(m.findings)
    context = _context(rel)
    for gid, k in m.position.items():
        if not any(f.grade_id == gid and f.kind == "stripped" for f in findings):
            findings += _compare(sub.cells[k], released[gid], gid, context)
        elif sub.cells[k].cell_type == "code" and nbgrader_meta(released[gid]).get("solution"):
            findings += [Finding("suspicious", gid, f"the answer, {why}") for why in _flags(sub.cells[k].source,
                                                                                          context, gid)]
    matched = set(m.position.values())
    for k, cell in enumerate(sub.cells):
        if k not in matched and k not in m.demote:
            if cell.cell_type == "code":
                for why in _flags(cell.source, context):
                    findings.append(Finding("suspicious", None, f"added cell {k}, {why}"))
            findings.append(Finding("added", None, f"cell {k} ({cell.cell_type}) was added by the student"))
    return sorted(findings, key=lambda f: KINDS.index(f.kind))


def _fresh_id() -> str:
    return uuid.uuid4().hex[:8]


def repair(sub, rel):
    """A copy of the submission that nbgrader can grade, and what was changed.

    Every released cell appears once, in release order relative to the others, with the
    released nbgrader metadata; answers (solution cells) keep the student's text; locked
    cells get the released text (nbgrader restores the hidden tests). Pasted copies and
    unknown graded cells become ordinary cells; cells a student added stay where they are.

    Returns
    -------
    (NotebookNode, list of Finding)
    """
    m = _match(sub, rel)
    out = copy.deepcopy(sub)
    released = {_gid(c): c for c in rel.cells if _gid(c)}
    findings = list(m.findings)
    for k in m.demote:
        out.cells[k].metadata.pop("nbgrader", None)
        for key in ("deletable", "editable"):
            out.cells[k].metadata.pop(key, None)
    for gid, k in m.position.items():
        cell, ref = out.cells[k], released[gid]
        if not any(f.grade_id == gid and f.kind == "stripped" for f in findings):
            findings += [f for f in _compare(cell, ref, gid) if f.kind != "suspicious"]
        _adopt(cell, ref)
    # insert released cells that are missing, each after the released cell before it
    order = [_gid(c) for c in rel.cells if _gid(c)]
    placed = {id(out.cells[k]): gid for gid, k in m.position.items()}
    for r, gid in enumerate(order):
        if gid in m.position:
            continue
        new = copy.deepcopy(released[gid])
        new["id"] = _fresh_id()
        prev = [g for g in order[:r] if g in m.position or g in placed.values()]
        at = 0
        if prev:
            anchor = next(c for c in out.cells if placed.get(id(c)) == prev[-1])
            at = out.cells.index(anchor) + 1
        out.cells.insert(at, new)
        placed[id(new)] = gid
    # nbformat cell ids must be unique too (a pasted cell repeats its id)
    seen = set()
    for cell in out.cells:
        if cell.get("id") in seen or not cell.get("id"):
            cell["id"] = _fresh_id()
        seen.add(cell["id"])
    return out, sorted(findings, key=lambda f: KINDS.index(f.kind))


def _adopt(cell, ref) -> None:
    """Give a matched cell the released metadata (and text, unless it is an answer)."""
    if cell.cell_type != ref.cell_type:
        cell.cell_type = ref.cell_type
        if ref.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    cell.metadata["nbgrader"] = copy.deepcopy(nbgrader_meta(ref))
    for key in ("deletable", "editable"):
        if key in ref.metadata:
            cell.metadata[key] = ref.metadata[key]
        else:
            cell.metadata.pop(key, None)
    if not nbgrader_meta(ref).get("solution"):
        cell.source = ref.source
