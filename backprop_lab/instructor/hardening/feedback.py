"""The feedback step (``generate_feedback``): what students see of the graded notebook."""

from __future__ import annotations

import re

from nbgrader.preprocessors.base import NbGraderPreprocessor

from ..execute import is_graded_test

__all__ = ["HideHiddenTests"]

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S)


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback for students: hidden tests' source removed, test tracebacks cut to their message."""

    def preprocess_cell(self, cell, resources, index):
        if is_graded_test(cell):
            cell.source = _HIDDEN.sub("# (hidden tests were run here)\n", cell.source)
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    # a traceback through a test cell shows its lines, hidden ones included
                    out["traceback"] = [f"{out.get('ename')}: {out.get('evalue')}"]
        return cell, resources
