"""The execute step of autograde: nbgrader's ``Execute``, hardened.

:class:`HardenedExecute` runs the kernel of :class:`GradingKernelManager`: in the sandbox of
:mod:`.sandbox`, under the limits of :mod:`.limits`, with the grading guard
(:mod:`backprop_lab.grading.guard`) installed before any cell runs; what one cell does costs
only that cell (:mod:`.containment`: a timeout, too much CPU, a dying kernel, too much
output). Every graded test cell is sealed: a fresh nonce per cell and per run, which only the
end of the test publishes, with what the guard saw. A test whose seal is missing or reports
tampering earns no points, and the integrity report (:mod:`.repair`) says why.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import re
import secrets

import nbformat
from jupyter_core.utils import run_sync
from traitlets import Bool

from ...grading.guard import SEAL_MIME
from ..execute import is_graded_test, nbgrader_meta
from .containment import ContainedExecute
from .limits import LimitedKernelManager
from .repair import coursedir_of, write_findings
from .sandbox import SandboxedKernelManager

__all__ = ["GradingKernelManager", "HardenedExecute"]


class GradingKernelManager(LimitedKernelManager, SandboxedKernelManager):
    """The sandboxed kernel, under the limits of :mod:`.limits` (which wrap the sandbox), started
    with the grading guard installed before any cell runs:
    ``python -P -m backprop_lab.grading.kernel`` in place of ``python -m ipykernel_launcher``
    (``-P``: the submission's folder is not searched for modules before the guard is in)."""

    guard = Bool(True, help="Run the grading guard in the kernel and seal every test cell; off: "
                            "tampering inside the kernel goes unseen").tag(config=True)
    guarded = False

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if not self.guard:
            return cmd
        for k in range(len(cmd) - 1):
            if cmd[k] == "-m" and cmd[k + 1] == "ipykernel_launcher":
                self.guarded = True
                return cmd[:k] + ["-P", "-m", "backprop_lab.grading.kernel"] + cmd[k + 2:]
        self.log.warning("the kernel %s is not started with ipykernel_launcher: grading WITHOUT the integrity "
                         "guard, so tampering inside the kernel goes unseen", cmd)
        return cmd


def _seal_code(nonce: str, gid: str, source: str) -> str:
    """A test cell between the guard's prologue and epilogue (one line each; names nothing)."""
    guard = "__import__('sys').modules['backprop_lab.grading.guard']"
    return f"{guard}.begin_test({nonce!r}, {gid!r})\n{source}\n{guard}.seal({nonce!r})\n"


def _answer_tasks(nb) -> dict:
    """For every answer cell, the task its tests grade and the references they allow
    (``{grade_id: (task, allow)}``), and for every test cell its answer (``{("test", id): answer}``)."""
    from ..prescreen.scan import allowed_in

    out: dict = {}
    answer = None
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            answer = meta.get("grade_id")
        elif is_graded_test(cell) and answer is not None:
            name = re.search(r"""\btask\(\s*["']([^"']+)["']""", cell.source)
            task, allow = out.get(answer, (name.group(1) if name else answer, ()))
            out[answer] = (task, allow + allowed_in(cell.source))
            out[("test", meta.get("grade_id"))] = answer
    return out


def _cell_file(source: str) -> str:
    """The file name (without folder) under which ipykernel compiles a cell's source."""
    from ipykernel.compiler import get_tmp_hash_seed, murmur2_x86

    return f"{murmur2_x86(source, get_tmp_hash_seed())}.py"


class HardenedExecute(ContainedExecute):
    """nbgrader's Execute, sandboxed and contained (:mod:`.containment`), with every test sealed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(*args, **kwargs)
        self._files: dict[str, str] = {}

    def preprocess(self, nb, resources=None, km=None):
        self._files, self._fenced_answers = {}, {}
        self._tasks = _answer_tasks(nb)
        self._answers = {hashlib.sha1(c.source.encode()).hexdigest(): [gid, *self._tasks.get(gid, (
            "(a cell you added)", ()))] for gid, c in ((nbgrader_meta(c).get("grade_id") or f"cell {k}", c)
                                                     for k, c in enumerate(nb.cells))
                         if c.cell_type == "code" and not nbgrader_meta(c).get("locked")}
        self._answers_sent = False
        nb, resources = super().preprocess(nb, resources, km=km)
        info = (resources or {}).get("nbgrader", {})
        if self._findings and info:
            for f in self._findings:
                self.log.warning("%s/%s/%s: %s %s: %s", info["student"], info["assignment"], info["notebook"],
                                 f["kind"], f["grade_id"], f["detail"])
            write_findings(coursedir_of(self), info, self._findings, append=True)
        return nb, resources

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        source = cell.source
        gid = nbgrader_meta(cell).get("grade_id") or f"cell {cell_index}"
        guarded = cell.cell_type == "code" and source.strip() and getattr(self.km, "guarded", False)
        nonce = None
        if guarded and not self._answers_sent:  # once per kernel: name the student's own cells to the guard
            await self._after_restart()
        if guarded and is_graded_test(cell):
            nonce = secrets.token_hex(16)
            cell.source = _seal_code(nonce, gid, source)
        if cell.cell_type == "code":
            self._files[_cell_file(cell.source)] = gid
        try:
            result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            cell.source = source
        if cell.cell_type == "code" and self.stopped is None:
            self._ran.append(source)  # replayed if a later cell forces a restart
        if nonce is not None:
            await self._check_seal(cell, gid, nonce)
        return result

    async def _after_restart(self) -> None:
        if getattr(self.km, "guarded", False):
            await self._guard_expr(f"expect_answers({self._answers!r})")
            self._answers_sent = True

    async def _guard_expr(self, call: str):
        """Call a function of the guard in the kernel, outside any cell (an execute request's
        user expression does not pass through IPython's input transformers); its JSON result."""
        expr = f"__import__('sys').modules['backprop_lab.grading.guard'].{call}"
        msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                                 user_expressions={"guard": expr})
        while True:
            msg = await asyncio.wait_for(self.kc.shell_channel.get_msg(), self.interrupt_grace)
            if msg["parent_header"].get("msg_id") == msg_id:
                value = msg["content"].get("user_expressions", {}).get("guard", {})
                text = value.get("data", {}).get("text/plain")
                return json.loads(ast.literal_eval(text)) if text and text != "None" else None

    async def _probe(self) -> dict:
        """Ask the guard what differs from its record (and put the kernel right)."""
        try:
            return await self._guard_expr("probe()")
        except Exception as exc:  # no answer, or not the guard's: that is a finding too
            return {"changes": [f"the grading guard did not answer ({type(exc).__name__})"], "blocked": []}

    async def _check_seal(self, cell, gid: str, nonce: str) -> None:
        """Keep a test's points only if its seal shows it ran to its end, untouched."""
        reports = [o for o in cell.outputs if o.get("output_type") == "display_data" and SEAL_MIME in o.get("data", {})]
        cell.outputs = [o for o in cell.outputs if not any(o is r for r in reports)]
        failed = any(o.get("output_type") == "error" for o in cell.outputs)
        mine = {}
        for r in reports:
            data = dict(r["data"][SEAL_MIME])
            if data.get("nonce") == nonce and data.get("phase") in ("begin", "end") and data["phase"] not in mine:
                mine[data["phase"]] = data
        void = []
        if len(mine) != len(reports):
            void.append("a seal this grader did not ask for was published")
        begin, end = mine.get("begin"), mine.get("end")
        if begin is None:  # the prologue did not run: ask the guard why, and put the kernel right
            found = await self._probe()
            begin = {"blocked": found["blocked"], "answers": found.get("answers", {})}
            if found["changes"]:
                void.append("this test did not run: the notebook had changed the grading machinery: "
                            + "; ".join(found["changes"]))
        if begin.get("before"):
            void.append("before this test ran, the notebook had changed the grading machinery: "
                        + "; ".join(begin["before"]))
        if end is None:
            if not failed and not void:
                void.append("the test did not run to its end, yet no error was shown: a cell before it changed how "
                            "cells run or what the grader sees")
        else:
            if end.get("during"):
                void.append("while this test ran, the student's code changed the grading machinery: "
                            + "; ".join(end["during"]))
            if end.get("fence") and not failed:
                void.append("the answer called the course library's reference: " + "; ".join(end["fence"]))
        for attempt in begin.get("blocked", []) + (end or {}).get("blocked", []):
            self._findings.append({"kind": "blocked", "grade_id": self._where(attempt) or gid,
                                   "detail": f"refused {self._name_cells(attempt)}"})
        for cell_id, called in begin.get("answers", {}).items():
            self._fenced_answers[cell_id] = called
            self._findings.append({"kind": "fenced", "grade_id": cell_id, "detail": (
                "the cell called the course library's reference at its top level, where no test runs: "
                + "; ".join(called))})
        answer = self._tasks.get(("test", gid))
        if answer in self._fenced_answers:
            void.append(f"its answer cell ({answer}) called the course library's reference at its top level: "
                        + "; ".join(self._fenced_answers[answer]))
        for reason in void:
            self._findings.append({"kind": "tampered", "grade_id": gid, "detail": self._name_cells(reason)})
        if void and (not failed or answer in self._fenced_answers):
            text = f"Integrity: this test earns no points: {self._name_cells(void[0])}"
            cell.outputs.append(nbformat.from_dict({"output_type": "error", "ename": "IntegrityError",
                                                    "evalue": text, "traceback": [text]}))

    _FILE = re.compile(r"[^\s(]*?ipykernel_\d+/(\d+\.py)(:\d+)?")

    def _where(self, text: str) -> str | None:
        m = self._FILE.search(text)
        return self._files.get(m.group(1)) if m else None

    def _name_cells(self, text: str) -> str:
        """Kernel file names of cells (``/tmp/ipykernel_12/3456.py:7``) as grade ids (``neuron, line 7``)."""
        def name(m):
            gid = self._files.get(m.group(1))
            line = f", line {m.group(2)[1:]}" if m.group(2) else ""
            return f"cell {gid}{line}" if gid else m.group(0)
        return self._FILE.sub(name, text)

    # nbclient binds the synchronous name to its own coroutine: rebind it to the override
    execute_cell = run_sync(async_execute_cell)
