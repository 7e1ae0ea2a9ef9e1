"""``backprop-lab pre-screen``: before grading, list every submission whose cells differ from
the release (missing, duplicated, stripped, edited or unknown graded cells, changed metadata,
code that looks like tampering), so that an instructor knows what the repair step will do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import course_root
from .integrity import Finding, inspect

__all__ = ["Report", "prescreen", "format_report"]


@dataclass
class Report:
    """Findings of one submitted notebook."""

    student: str
    assignment: str
    notebook: str
    findings: list

    @property
    def serious(self) -> list:
        """Findings other than cells the student added (which are normal)."""
        return [f for f in self.findings if f.kind != "added"]


def prescreen(root=None, assignment: str = "*", submitted: str = "submitted",
              release: str | None = None) -> list[Report]:
    """Compare every ``submitted/<student>/<assignment>/<notebook>.ipynb`` with its release.

    Returns
    -------
    list of Report
        One per submitted notebook, sorted by student, assignment and notebook. A notebook
        that cannot be read at all is reported as one finding of kind ``"missing"``.
    """
    root = course_root(root)
    release_dir = root / (release or "notebooks")
    reports = []
    for path in sorted((root / submitted).glob(f"*/{assignment}/*.ipynb")):
        student, assign = path.parts[-3], path.parts[-2]
        if ".ipynb_checkpoints" in path.parts:
            continue
        ref = release_dir / assign / path.name
        if not ref.exists():
            reports.append(Report(student, assign, path.stem, [Finding("unknown", None,
                                  f"no notebook {path.name} in the release of {assign}")]))
            continue
        try:
            sub = nbformat.read(path, as_version=4)
        except Exception as exc:  # not JSON, not a notebook
            reports.append(Report(student, assign, path.stem, [Finding("missing", None,
                                  f"the file is not a readable notebook ({exc})")]))
            continue
        reports.append(Report(student, assign, path.stem, inspect(sub, nbformat.read(ref, as_version=4))))
    return reports


def format_report(reports: list[Report], verbose: bool = False) -> str:
    """A readable summary: one block per submission with findings."""
    flagged = [r for r in reports if r.serious or (verbose and r.findings)]
    lines = [f"pre-screen: {len(reports)} submitted notebook(s), {len(flagged)} with findings"]
    for r in flagged:
        lines.append(f"{r.student} {r.assignment}/{r.notebook}:")
        lines += [f"  {f}" for f in (r.findings if verbose else r.serious)]
    return "\n".join(lines)
