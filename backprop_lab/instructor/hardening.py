"""nbgrader, hardened for grading submissions nobody has checked.

Three preprocessors and one setting function for ``nbgrader_config.py``:

* :class:`RepairCells` (before nbgrader's own sanitising): a submission with deleted,
  stripped, edited, retyped or pasted graded cells is repaired against the release
  (:mod:`.integrity`), so that every test is graded (never left as "needs manual grade")
  and a pasted copy no longer aborts the batch for the whole class. What was repaired is
  logged and written next to the autograded notebook (``<notebook>.integrity.json``).
* :class:`HardenedExecute` (nbgrader's ``Execute``): the kernel runs in the sandbox of
  :mod:`.sandbox`; a cell that runs past the timeout is interrupted, and if it ignores the
  interrupt the kernel is restarted and the cells before it re-run, so that only that cell
  scores 0 and the rest of the notebook is still graded.
* :class:`HideHiddenTests` (``generate_feedback``): students' feedback shows neither the
  source of hidden tests nor tracebacks through test cells.

:func:`configure` installs all of them; the course's ``nbgrader_config.py`` calls it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds,
                                    Execute, GetGrades, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)
from nbgrader.preprocessors.base import NbGraderPreprocessor
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from traitlets import Integer

from .execute import is_graded_test
from .integrity import repair
from .sandbox import SandboxedKernelManager

__all__ = ["RepairCells", "HardenedExecute", "HideHiddenTests", "configure", "INTEGRITY_SUFFIX"]

INTEGRITY_SUFFIX = ".integrity.json"


def _coursedir(pp):
    """The CourseDirectory of the converter running a preprocessor (exporter -> converter)."""
    parent = pp.parent
    while parent is not None and not hasattr(parent, "coursedir"):
        parent = getattr(parent, "parent", None)
    return parent.coursedir if parent is not None else None


class RepairCells(NbGraderPreprocessor):
    """Repair a submission's cell structure against the released notebook."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = _coursedir(self)
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
        if coursedir is not None:
            out = Path(coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"]))
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{info['notebook']}{INTEGRITY_SUFFIX}").write_text(json.dumps(
                [{"kind": f.kind, "grade_id": f.grade_id, "detail": f.detail} for f in findings], indent=1))
        return fixed, resources


class HardenedExecute(Execute):
    """nbgrader's Execute, sandboxed, and robust to kernels that ignore interrupts."""

    interrupt_grace = Integer(5, help="Seconds a timed-out cell gets to stop after the interrupt before "
                                      "the kernel is restarted").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        self._ran: list[str] = []

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self._timed_out = False
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.cell_type == "code" and not self._timed_out:
            self._ran.append(cell.source)  # replayed if a later cell forces a restart
        return result

    # nbclient binds the synchronous name to its own coroutine: rebind it to the override
    execute_cell = run_sync(async_execute_cell)

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        reply = await super()._async_poll_for_reply(msg_id, cell, timeout, task_poll_output_msg,
                                                    task_poll_kernel_alive)
        content = reply.get("content", {})
        if timeout is not None and content.get("ename") == self.error_on_timeout.get("ename"):
            self._timed_out = True
            if not await self._responsive(self.interrupt_grace):
                await self._restart_and_replay()
                reply = {**reply, "content": {**content, "evalue": (
                    f"the cell ran longer than {timeout} s and ignored the interrupt: the kernel was restarted "
                    "and the cells before this one run again")}}
        return reply

    async def _responsive(self, grace: float) -> bool:
        """Whether the kernel answers a trivial request within ``grace`` seconds."""
        return await self._execute_quietly("", grace)

    async def _execute_quietly(self, code: str, timeout: float) -> bool:
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        try:
            while True:
                msg = await asyncio.wait_for(self.kc.shell_channel.get_msg(), timeout)
                if msg["parent_header"].get("msg_id") == msg_id:
                    return True
        except (asyncio.TimeoutError, TimeoutError):
            return False

    async def _restart_and_replay(self) -> None:
        self.log.error("The kernel ignored the interrupt: restarting it and re-running the %d cell(s) before",
                       len(self._ran))
        await self.km.restart_kernel(now=True)
        await self.kc.wait_for_ready(timeout=self.startup_timeout)
        for source in self._ran:
            if not await self._execute_quietly(source, self.timeout or 60):
                self.log.error("a re-run cell timed out as well; continuing with what ran")
                break


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
    root = Path(course_root).resolve()
    c.Autograde.sanitize_preprocessors = [RepairCells, ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                          OverwriteCells, CheckCellMetadata]
    c.Autograde.autograde_preprocessors = [HardenedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                           LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.GenerateFeedback.preprocessors = [HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
    c.SandboxedKernelManager.hidden_paths = [
        str(root / name) for name in ("solutions", "submitted", "autograded", "feedback", "release",
                                      "gradebook.db", ".git", "backprop_lab/instructor/mistakes", "tests")]
    c.ExportApp.plugin_class = "backprop_lab.instructor.export.GradesCsvExport"
