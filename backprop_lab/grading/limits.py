"""The limits a kernel runs under, as the kernel itself sees them.

``backprop-lab grading-limits`` runs :func:`report` in a real grading kernel of the course
(sandbox, limits, guard) to show, on a new grading host, what a submission will meet; any
kernel can call it too::

    >>> from backprop_lab.grading.limits import report
    >>> report()["address space"]          # doctest: +SKIP
    4294967296

Only what the kernel can see is reported. The CPU time per cell and the output cap are
enforced by the grader outside the kernel, and are not in it.
"""

from __future__ import annotations

import os
import resource
import tempfile
from pathlib import Path

__all__ = ["report", "own_cgroup", "namespace"]


def _rlimit(name: str) -> int | None:
    soft, _ = resource.getrlimit(getattr(resource, name))
    return None if soft == resource.RLIM_INFINITY else soft


def own_cgroup(controller: str) -> str | None:
    """This process's cgroup in the v1 hierarchy of ``controller`` (``/process_api/x``), or None."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                return path
    except OSError:
        pass
    return None


def _cgroup_value(controller: str, name: str, root: str = "/sys/fs/cgroup") -> int | None:
    """A cgroup v1 limit of this process (None: no such cgroup, or no limit)."""
    path = own_cgroup(controller)
    try:
        text = (Path(root) / controller / path.lstrip("/") / name).read_text().strip() if path else "max"
        value = None if text == "max" else int(text)
    except (OSError, ValueError):
        return None
    return None if value is None or value >= 2**62 else value


def _space(folder: str) -> int | None:
    """The size of the file system ``folder`` is on, if it is a private tmpfs (else None)."""
    try:
        mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return None
    real = os.path.realpath(folder)
    best = max((m for m in mounts if real == m[1] or real.startswith(m[1].rstrip("/") + "/")),
               key=lambda m: len(m[1]), default=None)
    if best is None or best[2] != "tmpfs":
        return None
    st = os.statvfs(real)
    return st.f_blocks * st.f_frsize


def namespace(kind: str) -> int | None:
    """The inode of this process's ``kind`` namespace: compare it with the grader's."""
    try:
        return os.stat(f"/proc/self/ns/{kind}").st_ino
    except OSError:
        return None


def _network() -> list[str]:
    """The network interfaces of this process's network namespace."""
    try:
        lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    except OSError:
        return []
    return sorted(line.split(":", 1)[0].strip() for line in lines)


def _capabilities() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except OSError:
        pass
    return None


def report() -> dict:
    """The limits of this process: values in bytes or counts, ``None`` where there is none.

    Keys: ``address space`` (RLIMIT_AS), ``file size`` (RLIMIT_FSIZE), ``core dumps``,
    ``memory in all`` and ``processes`` (its cgroups), ``working folder``, ``TMPDIR`` and
    ``/dev/shm`` (the size of their tmpfs), ``pid namespace`` and ``network namespace``
    (their inodes: the grader's differ when the kernel has its own), ``network`` (the
    interfaces it sees) and ``capabilities`` (the effective set, as a number).
    """
    return {
        "address space": _rlimit("RLIMIT_AS"),
        "file size": _rlimit("RLIMIT_FSIZE"),
        "core dumps": _rlimit("RLIMIT_CORE"),
        "memory in all": _cgroup_value("memory", "memory.limit_in_bytes"),
        "processes": _cgroup_value("pids", "pids.max"),
        "working folder": _space(os.getcwd()),
        "TMPDIR": _space(tempfile.gettempdir()),
        "/dev/shm": _space("/dev/shm"),
        "pid namespace": namespace("pid"),
        "network namespace": namespace("net"),
        "network": _network(),
        "capabilities": _capabilities(),
    }
