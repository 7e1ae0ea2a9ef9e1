"""Run a notebook in a real Jupyter kernel and read off which graded cells failed.

This is how the course's own tests check that solutions pass, that blank student notebooks
fail, and that each catalogued mistake loses points; nbgrader's ``autograde`` runs the same
kernels for the real grades.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

__all__ = ["SOLUTION_REGION", "Run", "run_notebook", "first_failed_test", "after_tests", "graded_tests",
           "is_graded_test", "nbgrader_meta"]


#: a solution region of a cell: group 1 is the markers' indent, group 2 the code between them
SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)


def nbgrader_meta(cell) -> dict:
    """The cell's ``nbgrader`` metadata (empty dict if none, or if a submission broke it)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def is_graded_test(cell) -> bool:
    """Whether ``cell`` is an autograded test: a code cell with ``grade`` true and ``solution`` false."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def graded_tests(nb) -> list:
    """The autograded test cells of ``nb``, in order."""
    return [c for c in nb.cells if is_graded_test(c)]


def _error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"
    return None


@dataclass
class Run:
    """An executed notebook.

    Attributes
    ----------
    nb : NotebookNode
        The notebook with outputs.
    seconds : float
        Wall time of the execution, kernel start included.
    errors : dict
        ``grade_id`` (or ``cell <index>`` for cells without one) -> ``"Ename: message"``
        for every cell that raised.
    """

    nb: object
    seconds: float
    errors: dict = field(default_factory=dict)

    @property
    def failed_tests(self) -> dict:
        """Graded test cells that raised: ``grade_id -> error``."""
        ids = {nbgrader_meta(c)["grade_id"] for c in graded_tests(self.nb)}
        return {k: v for k, v in self.errors.items() if k in ids}

    def lost_points(self) -> float:
        """Points of the graded test cells that raised."""
        failed = self.failed_tests
        return sum(float(nbgrader_meta(c).get("points", 0)) for c in graded_tests(self.nb)
                   if nbgrader_meta(c)["grade_id"] in failed)


def run_notebook(nb_or_path, cwd: str | Path | None = None, timeout: int = 120,
                 kernel_name: str = "python3", stop=None) -> Run:
    """Execute the cells in a fresh kernel, continuing after errors.

    Parameters
    ----------
    nb_or_path : NotebookNode or path
    cwd : path, optional
        Working directory of the kernel; default the notebook's folder (as nbgrader does).
    timeout : int
        Seconds per cell.
    stop : callable, optional
        ``stop(cell, error) -> bool``, asked after each code cell with its error (``None`` if it
        ran cleanly): true ends the run there, and the later cells keep no outputs. A test that
        only needs to know *whether* a mistake loses points stops at the first failed test.
    """
    if isinstance(nb_or_path, (str, Path)):
        path = Path(nb_or_path)
        nb = nbformat.read(path, as_version=4)
        cwd = cwd or path.parent
    else:
        nb = nbformat.from_dict(nb_or_path) if isinstance(nb_or_path, dict) else nb_or_path
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": str(cwd or Path.cwd())}})
    t0 = time.perf_counter()
    if stop is None:
        client.execute()
    else:  # nbclient's own loop (NotebookClient.execute), with a way out
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
                if cell.cell_type == "code" and stop(cell, _error(cell)):
                    break
    seconds = time.perf_counter() - t0
    errors = {}
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            err = _error(cell)
            if err:
                errors[nbgrader_meta(cell).get("grade_id", f"cell {k}")] = err
    return Run(nb, seconds, errors)


def first_failed_test(cell, error) -> bool:
    """A ``stop`` for :func:`run_notebook`: end the run at the first graded test that fails."""
    return error is not None and is_graded_test(cell)


def after_tests(grade_ids) -> "callable":
    """A ``stop`` for :func:`run_notebook`: end the run once the test cells ``grade_ids`` have run."""
    left = set(grade_ids)

    def stop(cell, error) -> bool:
        left.discard(nbgrader_meta(cell).get("grade_id"))
        return not left
    return stop
