"""Hardening: nbgrader, made safe for grading submissions nobody has checked.

The steps, each an nbgrader preprocessor, which :func:`configure` installs from the course's
``nbgrader_config.py``:

* repair (:mod:`.repair`, before nbgrader's own sanitising): :class:`~.repair.RepairCells`
  puts a submission's deleted, stripped, edited, retyped or pasted graded cells right against
  the release, and writes what it found next to the autograded notebook.
* execute (:mod:`.hardened_execute`, nbgrader's ``Execute``):
  :class:`~.hardened_execute.HardenedExecute` runs the notebook in the sandbox
  (:mod:`.sandbox`, bubblewrap) under the limits (:mod:`.limits`: cgroups, rlimits), contains
  what each cell does (:mod:`.containment`) and seals every test cell.
* late work (:mod:`.late`, nbgrader's ``AssignLatePenalties``): :class:`~.late.LatePenalty`
  takes a percent per hour or day late, after a grace period, up to a cap, with per-student
  extensions.
* feedback (:mod:`.feedback`, ``generate_feedback``): :class:`~.feedback.HideHiddenTests`
  shows students neither the source of hidden tests nor tracebacks through test cells.

:mod:`.hostcheck` (``backprop-lab grading-limits``) shows which of the limits a grading host
enforces. The preprocessors are imported when :func:`configure` runs, so that the command
line, which imports this package for its commands, does not load nbgrader.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["configure"]


def configure(c, course_root: str | os.PathLike) -> None:
    """Install the hardened pipeline into an nbgrader config ``c``.

    Parameters
    ----------
    c : traitlets Config
        The ``c`` of ``nbgrader_config.py``.
    course_root : path
        The course root (the folder of ``nbgrader_config.py``): what the sandbox hides is
        found from it.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds,
                                        GetGrades, IgnorePattern, LimitOutput, OverwriteCells,
                                        OverwriteKernelspec, SaveAutoGrades)

    from .feedback import HideHiddenTests
    from .hardened_execute import HardenedExecute
    from .repair import RepairCells

    root = Path(course_root).resolve()
    c.Autograde.sanitize_preprocessors = [RepairCells, ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                          OverwriteCells, CheckCellMetadata]
    c.Autograde.autograde_preprocessors = [HardenedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                           LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.GenerateFeedback.preprocessors = [HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
    c.SandboxedKernelManager.hidden_paths = [
        str(root / name) for name in ("solutions", "submitted", "autograded", "feedback", "release", "gradebook.db",
                                      ".git", "backprop_lab/instructor/catalogues/mistakes", "tests")]
    c.ExportApp.plugin_class = "backprop_lab.instructor.reports.export.GradesCsvExport"
    c.AssignLatePenalties.plugin_class = "backprop_lab.instructor.hardening.late.LatePenalty"
