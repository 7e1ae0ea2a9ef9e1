"""Executing a submission so that what one cell does costs only that cell.

:class:`ContainedExecute` is nbgrader's ``Execute`` (autograde, validate) with the grading
kernel of :mod:`.limits` and :mod:`.sandbox`, and four more rules:

* **A cell that runs too long** (``c.Execute.timeout``, wall clock) is interrupted; if it
  ignores the interrupt, the kernel is restarted and the cells before it re-run.
* **A cell that uses too much CPU** (``c.KernelLimits.cpu`` seconds, all its processes
  together, read from the kernel's cgroup) is stopped the same way, at once: a cell that
  keeps two cores busy for the whole timeout takes them from the other shards.
* **A kernel that dies** (``SIGKILL``, ``os._exit``, a segfault, an out-of-memory kill), whose
  messages break, or that was refused processes (its own threads are refused too, and it can
  no longer report what its cells do) costs only the cell it died in: the kernel is restarted, the cells before are re-run, and the rest
  of the notebook is graded. nbclient would otherwise raise ``DeadKernelError``, and nbgrader
  give the whole notebook 0.
* **Output** past ``c.KernelLimits.output`` bytes in one cell, or ``output_notebook`` in the
  notebook, is cut with a visible note, so that the autograded notebook and its feedback
  stay small (errors are kept, shortened, because they decide the grade).

Each of these, and each limit a cell ran into (a ``MemoryError``, a full disk), is written to the cell as a note and recorded as a ``limit`` finding of the
integrity report (``<notebook>.integrity.json``).
"""

from __future__ import annotations

import asyncio
import signal

import nbformat
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import Execute
from jupyter_core.utils import run_sync
from traitlets import Integer

from ...grading.guard import SEAL_MIME
from ..execute import nbgrader_meta
from .limits import KernelLimits, format_bytes

__all__ = ["ContainedExecute"]

_SEAL_SIZE = 65536  # a seal is a few hundred bytes: larger ones are cut like any output


def _size(content: dict) -> int:
    """About how many bytes an output message's content keeps in the notebook."""
    if "text" in content:
        return len(content["text"])
    if "data" in content:
        return sum(len(v) if isinstance(v, str) else len(str(v)) for v in content["data"].values())
    return len(content.get("evalue", "")) + sum(len(line) for line in content.get("traceback", []))


def _note(text: str):
    return nbformat.v4.new_output("stream", name="stderr", text=f"[grader] {text}\n")


class ContainedExecute(Execute):
    """nbgrader's Execute in which no cell can cost more than itself (see the module)."""

    interrupt_grace = Integer(5, help="Seconds a timed-out cell gets to stop after the interrupt before "
                                      "the kernel is restarted").tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = KernelLimits(parent=self)
        self._reset()

    def _reset(self) -> None:
        self._ran: list[str] = []         # the sources of the cells that ran, replayed after a restart
        self._findings: list[dict] = []
        self._out_cell: dict[int, int] = {}
        self._out_total = 0
        self._cut: set[int] = set()

    def preprocess(self, nb, resources=None, km=None):
        self._reset()
        return super().preprocess(nb, resources, km=km)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        self._kernel_ready()
        return kc

    def _kernel_ready(self) -> None:
        seal = getattr(self.km, "seal_sockets", None)
        if seal is not None:
            seal()

    # -- one cell -------------------------------------------------------------------------

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        #: why the grader stopped this cell ("timeout", "cpu", "processes", "died"), or None
        self.stopped = None
        cgroups = getattr(self.km, "cgroups", None)
        counters = (cgroups.oom_kills(), cgroups.processes_refused()) if cgroups else (0, 0)
        watch = asyncio.ensure_future(self._watch_cpu(cgroups)) if cell.cell_type == "code" else None
        self._broken = None
        try:
            result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            result = cell
            if self.stopped is None:
                self.stopped = "died"
        except Exception as exc:  # noqa: BLE001 (the kernel's messages broke: a cell of a stranger's code did it)
            self.log.exception("the kernel's messages broke while a cell ran")
            result, self.stopped, self._broken = cell, "died", f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            if watch is not None:
                watch.cancel()
        if self.stopped is None and cgroups is not None and cgroups.processes_refused() > counters[1]:
            # the kernel's own threads are refused too: its messages break, and later cells would
            # run in a kernel that can no longer report them
            self.stopped = "processes"
        if self.stopped in ("cpu", "died", "processes"):
            await self._recover(cell, cell_index, counters)
        if cell.cell_type == "code":
            self._notes(cell, cell_index)
        return result

    execute_cell = run_sync(async_execute_cell)

    async def _watch_cpu(self, cgroups) -> None:
        """Stop the kernel when this cell has used more than its CPU time."""
        if cgroups is None or not self.limits.cpu or cgroups.cpu_seconds() is None:
            return
        start = cgroups.cpu_seconds()
        while cgroups.cpu_seconds() - start <= self.limits.cpu:
            await asyncio.sleep(0.25)
        self.stopped = "cpu"
        self.log.error("a cell used more than %s s of CPU time: stopping the kernel", self.limits.cpu)
        await asyncio.to_thread(cgroups.kill_all)

    async def _recover(self, cell, cell_index: int, counters) -> None:
        """The kernel died in this cell (or was stopped): say why, restart it, go on."""
        why = await self._death_cause(counters)
        gid = nbgrader_meta(cell).get("grade_id") or f"cell {cell_index}"
        await self._restart_and_replay(f"The kernel died in {gid} ({why})")
        text = (f"{why}. The kernel was restarted, the cells before this one were run again, and the rest "
                "of the notebook was graded.")
        ename = {"cpu": "CPUTimeLimit", "processes": "ProcessLimit"}.get(self.stopped, "KernelDied")
        cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"]))
        self._findings.append({"kind": "limit", "grade_id": gid, "detail": why})

    async def _death_cause(self, counters) -> str:
        cgroups = getattr(self.km, "cgroups", None)
        if self.stopped == "cpu":
            return (f"This cell used more than {self.limits.cpu} s of CPU time (all its processes together), "
                    "the limit while grading, and was stopped")
        if self.stopped == "processes":
            return (f"This cell started more processes and threads than the {self.limits.processes} a kernel may "
                    "have while grading, and was stopped")
        if self._broken is not None:
            return f"The kernel stopped answering properly while this cell ran ({self._broken})"
        if cgroups is not None and cgroups.oom_kills() > counters[0]:
            return (f"The kernel ran out of memory: while grading, a kernel and all it starts may use "
                    f"{format_bytes(self.limits.cgroup_memory())}")
        code = None
        try:
            code = await self.km.provisioner.poll()
        except Exception:  # no provisioner: nothing more to say
            pass
        if code is not None and (code < 0 or code > 128):
            num = -code if code < 0 else code - 128  # bubblewrap exits with 128 + the signal
            try:
                name = signal.Signals(num).name
            except ValueError:
                name = f"signal {num}"
            return f"The kernel died while this cell ran: it was killed by {name}"
        return f"The kernel died while this cell ran: it exited{f' with status {code}' if code is not None else ''}"

    def _notes(self, cell, cell_index: int) -> None:
        """Say, in the cell, which limit an error in it ran into."""
        errors = " ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.get("output_type") == "error")
        notes = []
        if "MemoryError" in errors:
            notes.append(f"while grading, each process may use at most {format_bytes(self.limits.memory)} of memory")
        if "No space left on device" in errors or "File too large" in errors:
            notes.append(f"while grading, each writable folder holds at most {format_bytes(self.limits.disk)}")
        gid = nbgrader_meta(cell).get("grade_id") or f"cell {cell_index}"
        for text in notes:
            cell.outputs.append(_note(text))
            self._findings.append({"kind": "limit", "grade_id": gid, "detail": text})

    # -- output ---------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        content = msg["content"]
        kind = msg["msg_type"]
        if kind in ("display_data", "execute_result") and SEAL_MIME in content.get("data", {}) \
                and _size(content) < _SEAL_SIZE:
            return super().output(outs, msg, display_id, cell_index)
        size = _size(content)
        room, what = self._room(cell_index)
        if size <= room:
            self._count(cell_index, size)
            return super().output(outs, msg, display_id, cell_index)
        if kind == "stream" and room > 0:
            msg = {**msg, "content": {**content, "text": content["text"][:room]}}
        elif kind == "error":  # kept: it decides the grade
            msg = {**msg, "content": {**content, "evalue": content.get("evalue", "")[:2000],
                                      "traceback": [line[:2000] for line in content.get("traceback", [])[-10:]]}}
        else:
            msg = None
        out = None
        if msg is not None:
            self._count(cell_index, _size(msg["content"]))
            out = super().output(outs, msg, display_id, cell_index)
        if cell_index not in self._cut:
            self._cut.add(cell_index)
            outs.append(_note(f"output cut: {what}; the rest was dropped"))
            gid = nbgrader_meta(self.nb.cells[cell_index]).get("grade_id") or f"cell {cell_index}"
            self._findings.append({"kind": "limit", "grade_id": gid, "detail": f"output cut: {what}"})
        return out

    def _count(self, cell_index: int, size: int) -> None:
        self._out_cell[cell_index] = self._out_cell.get(cell_index, 0) + size
        self._out_total += size

    def _room(self, cell_index: int) -> tuple[int, str]:
        """How many more bytes this cell may output, and which limit says so."""
        rooms = [(1 << 62, "")]
        if self.limits.output:
            rooms.append((self.limits.output - self._out_cell.get(cell_index, 0), (
                f"this cell's output passed {format_bytes(self.limits.output)}, the most one cell keeps "
                "while grading")))
        if self.limits.output_notebook:
            rooms.append((self.limits.output_notebook - self._out_total, (
                f"the notebook's output passed {format_bytes(self.limits.output_notebook)}, the most one "
                "notebook keeps while grading")))
        room, what = min(rooms, key=lambda r: r[0])
        return max(room, 0), what

    # -- timeouts and restarts ------------------------------------------------------------

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        reply = await super()._async_poll_for_reply(msg_id, cell, timeout, task_poll_output_msg,
                                                    task_poll_kernel_alive)
        content = reply.get("content", {})
        if timeout is not None and content.get("ename") == self.error_on_timeout.get("ename"):
            self.stopped = "timeout"
            if not await self._responsive(self.interrupt_grace):
                await self._restart_and_replay("The kernel ignored the interrupt")
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

    async def _restart_and_replay(self, why: str) -> None:
        self.log.error("%s: restarting it and re-running the %d cell(s) before", why, len(self._ran))
        await self.km.restart_kernel(now=True)
        await self.kc.wait_for_ready(timeout=self.startup_timeout)
        self._kernel_ready()
        await self._after_restart()
        for source in self._ran:
            if not await self._execute_quietly(source, self.timeout or 60):
                self.log.error("a re-run cell timed out as well; continuing with what ran")
                break

    async def _after_restart(self) -> None:
        """What a new kernel needs before the cells are re-run (the grading guard's state)."""
