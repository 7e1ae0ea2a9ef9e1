"""What one grading kernel may use: memory, processes, disk, CPU time per cell, output.

A submission is a stranger's code: it may allocate, fork, write, print or spin, and it must not
cost the host or the other students anything. Each limit has a mechanism, and each mechanism
a requirement that a grading host may not meet:

=====================  ==============================================  =====================================
limit                  mechanism                                       needs
=====================  ==============================================  =====================================
memory (one process)   ``RLIMIT_AS`` (``prlimit``): a ``MemoryError``   ``prlimit`` (util-linux)
memory (all of them)   cgroup ``memory`` controller: an OOM kill,      a writable cgroup v1 ``memory``
                       then the kernel is restarted                    hierarchy
processes              cgroup ``pids`` controller (threads count)      a writable cgroup v1 ``pids``
disk                   size-limited tmpfs for the working folder,      bubblewrap (:mod:`.sandbox`)
                       ``TMPDIR`` and ``/dev/shm``; ``RLIMIT_FSIZE``
CPU time per cell      cgroup ``cpuacct`` usage, read by the grader    a writable cgroup v1 ``cpuacct``
nothing outlives       a PID namespace (bubblewrap ``--unshare-pid``)  bubblewrap, or the cgroups
                       and killing what is left in the cgroups
output per cell        cut by the grader (:mod:`.containment`)         nothing
=====================  ==============================================  =====================================

:func:`enforcement` says, before grading starts, which of the configured limits this host
can enforce and why not; autograde logs every one it cannot, so that no limit fails silently.
cgroup v2 (the unified hierarchy) is not used yet: on such a host the memory total, the
process count and the CPU time per cell are reported as not enforced.

The limits are set in ``nbgrader_config.py`` (``c.KernelLimits.memory = 4 * 2**30`` ...); the
defaults suit this course on a 2-core, 24 GiB grader running two shards: an honest kernel
peaks at 1.1 GB of address space, 16 threads and 1.2 s of CPU time in its longest cell.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import time
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode
from traitlets.config import Configurable

from ...grading.limits import own_cgroup

__all__ = ["KernelLimits", "KernelCgroups", "LimitedKernelManager", "Enforcement", "enforcement", "format_bytes"]

GiB, MiB = 2**30, 2**20


class KernelLimits(Configurable):
    """The limits of every grading kernel (``c.KernelLimits.<name>`` in ``nbgrader_config.py``).
    0 switches a limit off."""

    memory = Integer(4 * GiB, help="Bytes of address space each process of the kernel may have: past it, "
                                   "an allocation raises MemoryError. The kernel and all it starts "
                                   "together may use this plus its writable space before an OOM kill "
                                   "restarts it").tag(config=True)
    processes = Integer(128, help="Processes and threads the kernel may have at once (an honest kernel "
                                  "has about 16)").tag(config=True)
    disk = Integer(512 * MiB, help="Bytes each writable folder of the kernel holds (its working folder, its "
                                   "TMPDIR, /dev/shm): past it, a write fails with 'No space left on "
                                   "device'; needs the sandbox").tag(config=True)
    cpu = Integer(30, help="Seconds of CPU time one cell may use, all its processes together: past "
                           "them the kernel is restarted and the cells before re-run (the wall-clock "
                           "limit is c.Execute.timeout)").tag(config=True)
    output = Integer(1 * MiB, help="Bytes of output one cell may keep: the rest is cut, with a note "
                                   "saying so").tag(config=True)
    output_notebook = Integer(8 * MiB, help="Bytes of output one notebook may keep: past them every "
                                            "cell's output is cut").tag(config=True)
    cgroup_root = Unicode("/sys/fs/cgroup", help="Where the cgroup hierarchies are mounted").tag(config=True)

    def cgroup_memory(self) -> int:
        """The memory of the kernel's cgroup: its processes' memory and its tmpfs folders."""
        return self.memory + 3 * self.disk if self.memory else 0


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class Enforcement:
    """Whether one limit is enforced on this host: ``how`` if it is, ``problem`` if not."""

    limit: str
    value: str
    how: str | None = None
    problem: str | None = None


_CONTROLLERS = ("memory", "pids", "cpuacct")


@functools.lru_cache(maxsize=None)
def cgroup_problem(root: str, controller: str) -> str | None:
    """Why kernels cannot get their own cgroup of ``controller`` here, or None when they can."""
    base = Path(root) / controller
    if (Path(root) / "cgroup.controllers").exists():
        return f"{root} is cgroup v2 (the unified hierarchy), which backprop-lab does not use yet"
    own = own_cgroup(controller)
    if not base.is_dir() or own is None:
        return f"no cgroup v1 '{controller}' hierarchy is mounted at {base}"
    probe = base / own.lstrip("/") / f"backprop-lab-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        return f"cannot create a cgroup in {probe.parent} ({exc.strerror}): it is not delegated to this user"
    return None


def enforcement(limits: KernelLimits, sandboxed: bool) -> list[Enforcement]:
    """For every configured limit, how this host enforces it, or why it cannot."""
    root = limits.cgroup_root
    prlimit = shutil.which("prlimit")
    out = []

    def row(limit, value, how, problem):
        out.append(Enforcement(limit, value, None if problem else how, problem))

    no_prlimit = None if prlimit else "prlimit (util-linux) is not installed"
    if limits.memory:
        row("memory per process", format_bytes(limits.memory), "RLIMIT_AS (prlimit): MemoryError", no_prlimit)
        row("memory in all", format_bytes(limits.cgroup_memory()), "cgroup memory: OOM kill, kernel restarted",
            cgroup_problem(root, "memory"))
    if limits.processes:
        row("processes", str(limits.processes), "cgroup pids.max", cgroup_problem(root, "pids"))
    if limits.disk:
        row("disk", f"{format_bytes(limits.disk)} per writable folder",
            "size-limited tmpfs (bubblewrap) and RLIMIT_FSIZE",
            None if sandboxed else "the sandbox is off: the kernel writes to the real disk")
    if limits.cpu:
        row("CPU time per cell", f"{limits.cpu} s", "cgroup cpuacct.usage, read by the grader",
            cgroup_problem(root, "cpuacct"))
    pidns = "a PID namespace (bubblewrap --unshare-pid)" if sandboxed else None
    killable = cgroup_problem(root, "pids") is None or cgroup_problem(root, "memory") is None
    row("nothing outlives grading", "", " and ".join(filter(None, (pidns, killable and "killing the cgroup"))),
        None if pidns or killable else "neither the sandbox nor a cgroup is available")
    return out


_names = count()


_PREFIX = "backprop-lab-"
#: a kernel cgroup this old whose grader is gone is left over from a grader that was killed
STALE_AFTER = 600.0


@functools.cache
def sweep_stale(parent: Path, log=None) -> list[Path]:
    """Remove the empty kernel cgroups under ``parent`` that a killed grader left behind.

    A grader that is SIGKILLed cannot remove its kernels' cgroups. Once per grading process
    and parent, a cgroup named ``backprop-lab-<pid>-<n>`` is removed if no process ``pid``
    exists, it holds no process (the kernel removes only empty cgroups) and it has not
    changed for :data:`STALE_AFTER` seconds (so that a grader in another PID namespace that
    shares this parent, whose pid this one cannot see, keeps the cgroup it has just made).
    Returns the removed paths.
    """
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    now = time.time()
    for path in entries:
        owner = path.name.removeprefix(_PREFIX).split("-")[0]
        if not (path.name.startswith(_PREFIX) and owner.isdigit() and path.is_dir()):
            continue
        try:
            os.kill(int(owner), 0)
            continue                              # its grader is alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue                              # alive, someone else's
        try:
            if now - path.stat().st_mtime < STALE_AFTER or (path / "cgroup.procs").read_text().strip():
                continue
            path.rmdir()
        except OSError:
            continue
        removed.append(path)
        if log is not None:
            log.info("removed the cgroup %s, left over from a grader that is gone", path)
    return removed


class KernelCgroups:
    """The cgroups (v1) of one grading kernel, one per controller that this host delegates.

    Created under the grader's own cgroup, so that a limit set on the grader (a Slurm job, a
    container) still bounds its kernels. The kernel joins them before anything of it runs
    (:meth:`join_argv`), so that nothing it starts can escape them.
    """

    def __init__(self, limits: KernelLimits, log=None):
        self.limits = limits
        self.log = log
        self.paths: dict[str, Path] = {}
        name = f"{_PREFIX}{os.getpid()}-{next(_names)}"
        for ctrl in _CONTROLLERS:
            if not self._wanted(ctrl) or cgroup_problem(limits.cgroup_root, ctrl):
                continue
            parent = Path(limits.cgroup_root) / ctrl / own_cgroup(ctrl).lstrip("/")
            sweep_stale(parent, log)
            path = parent / name
            path.mkdir(exist_ok=True)
            self.paths[ctrl] = path
        self._set_limits()

    def _wanted(self, ctrl: str) -> bool:
        # the pids and memory cgroups also let the grader kill all that the kernel started
        return {"memory": True, "pids": True, "cpuacct": bool(self.limits.cpu)}[ctrl]

    def _set_limits(self) -> None:
        mem = self.paths.get("memory")
        if mem is not None and self.limits.memory:
            (mem / "memory.limit_in_bytes").write_text(str(self.limits.cgroup_memory()))
            swap = mem / "memory.memsw.limit_in_bytes"
            if swap.exists():  # no swapping out to get past the limit
                try:
                    swap.write_text(str(self.limits.cgroup_memory()))
                except OSError:
                    pass
        pids = self.paths.get("pids")
        if pids is not None and self.limits.processes:
            (pids / "pids.max").write_text(str(self.limits.processes))

    def join_argv(self) -> list[str]:
        """A command prefix that puts itself into these cgroups, then runs the rest."""
        script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *(str(p / "cgroup.procs") for p in self.paths.values()), "--"]

    def _read(self, ctrl: str, name: str) -> str | None:
        path = self.paths.get(ctrl)
        try:
            return (path / name).read_text() if path is not None else None
        except OSError:
            return None

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by everything in the kernel's cgroup (None: not measured)."""
        text = self._read("cpuacct", "cpuacct.usage")
        return int(text) / 1e9 if text else None

    def oom_kills(self) -> int:
        """How many processes of the kernel the OOM killer has killed."""
        for line in (self._read("memory", "memory.oom_control") or "").splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def processes_refused(self) -> int:
        """How many times the kernel was refused a new process or thread (pids.max reached)."""
        text = self._read("pids", "pids.events") or ""
        return int(text.split()[1]) if text.startswith("max ") else 0

    def pids(self) -> set[int]:
        out = set()
        for ctrl in ("pids", "memory", "cpuacct"):
            out |= {int(p) for p in (self._read(ctrl, "cgroup.procs") or "").split()}
        return out

    def kill_all(self, timeout: float = 5.0) -> int:
        """SIGKILL every process still in the kernel's cgroups; how many there were."""
        killed: set[int] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = self.pids()
            if not left:
                break
            for pid in left - killed:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            killed |= left
            time.sleep(0.02)
        if self.pids() and self.log is not None:
            self.log.error("processes of a grading kernel survived SIGKILL: %s", sorted(self.pids()))
        return len(killed)

    def remove(self) -> None:
        """Kill what is left and remove the cgroups."""
        self.kill_all()
        for path in self.paths.values():
            try:
                path.rmdir()
            except OSError as exc:
                if self.log is not None:
                    self.log.warning("could not remove the cgroup %s: %s", path, exc)
        self.paths = {}


_warned: set[str] = set()


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel under :class:`KernelLimits`: in its own cgroups,
    with ``prlimit``'s resource limits, and kills all it started when it stops or restarts.

    Put it before the sandbox in the bases (``class K(LimitedKernelManager,
    SandboxedKernelManager)``): the cgroups and the limits then wrap bubblewrap, which the
    kernel cannot leave.
    """

    cgroups: KernelCgroups | None = None
    _kernel_limits: KernelLimits | None = None

    @property
    def limits(self) -> KernelLimits:
        if self._kernel_limits is None:
            self._kernel_limits = KernelLimits(parent=self)
        return self._kernel_limits

    def _sandboxed(self) -> bool:
        return getattr(self, "_workdir", None) is not None

    def warn_unenforced(self) -> list[Enforcement]:
        """Log, once per grading process, every configured limit this host cannot enforce."""
        rows = enforcement(self.limits, self._sandboxed())
        for e in rows:
            if e.problem and e.limit not in _warned:
                _warned.add(e.limit)
                self.log.warning("grading WITHOUT the %s limit%s: %s", e.limit,
                                 f" ({e.value})" if e.value else "", e.problem)
        return rows

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        self.warn_unenforced()
        if self.cgroups is None:
            self.cgroups = KernelCgroups(self.limits, self.log)
        prefix = self.cgroups.join_argv() if self.cgroups.paths else []
        prlimit = shutil.which("prlimit")
        if prlimit:
            # no core dumps: a crashing kernel would write its memory to disk
            rlimits = ["--core=0"]
            if self.limits.memory:
                rlimits.append(f"--as={self.limits.memory}")
            if self.limits.disk:
                rlimits.append(f"--fsize={self.limits.disk}")
            prefix += [prlimit, *rlimits, "--"]
        return prefix + cmd

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        if self.cgroups is not None:
            if restart:
                self.cgroups.kill_all()
            else:
                self.cgroups.remove()
                self.cgroups = None
        await super()._async_cleanup_resources(restart=restart)

    cleanup_resources = _async_cleanup_resources
