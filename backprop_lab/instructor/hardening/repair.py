"""The repair step of autograde: a submission's cell structure put right against the release.

:class:`RepairCells` runs before nbgrader's own sanitising. A submission with deleted,
stripped, edited, retyped or pasted graded cells is repaired against the released notebook
(:func:`backprop_lab.instructor.prescreen.integrity.repair`, whose comparison the pre-screen
reports), so that every test is graded (never left as "needs manual grade") and a pasted
copy no longer aborts the batch for the whole class. What was repaired is logged and written next to the autograded
notebook (``<notebook>.integrity.json``), where the execute step adds what it found.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbgrader.preprocessors.base import NbGraderPreprocessor

from ..prescreen.integrity import repair

__all__ = ["RepairCells", "INTEGRITY_SUFFIX", "read_findings", "write_findings", "coursedir_of"]

INTEGRITY_SUFFIX = ".integrity.json"


def coursedir_of(pp):
    """The CourseDirectory of the converter running a preprocessor (exporter -> converter)."""
    parent = pp.parent
    while parent is not None and not hasattr(parent, "coursedir"):
        parent = getattr(parent, "parent", None)
    return parent.coursedir if parent is not None else None


def _report_path(coursedir, info) -> Path:
    out = Path(coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"]))
    return out / f"{info['notebook']}{INTEGRITY_SUFFIX}"


def write_findings(coursedir, info, findings: list[dict], append: bool) -> None:
    """Write (or add to) the integrity report next to the autograded notebook."""
    if coursedir is None:
        return
    path = _report_path(coursedir, info)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = read_findings(path) if append else []
    path.write_text(json.dumps(old + findings, indent=1))


def read_findings(path) -> list[dict]:
    """The findings of an integrity report (``[]`` if there is none)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return []


class RepairCells(NbGraderPreprocessor):
    """Repair a submission's cell structure against the released notebook."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = coursedir_of(self)
        root = Path(coursedir.root if coursedir else os.getcwd())
        release_dir = coursedir.release_directory if coursedir else "notebooks"
        path = root / release_dir / info["assignment"] / f"{info['notebook']}.ipynb"
        if not path.exists():
            self.log.warning("no released notebook %s to check the submission against", path)
            return nb, resources
        fixed, findings = repair(nb, nbformat.read(path, as_version=4))
        for f in findings:
            if f.kind != "added":
                self.log.warning("%s/%s/%s: %s", info["student"], info["assignment"], info["notebook"], f)
        write_findings(coursedir, info, [{"kind": f.kind, "grade_id": f.grade_id, "detail": f.detail}
                                         for f in findings], append=False)
        return fixed, resources
