"""``backprop-lab grading-limits``: what a submission meets on this grading host.

Run from the course root on a new grading host, before the first ``nbgrader autograde``. It
starts one real grading kernel with the course's ``nbgrader_config.py`` (sandbox, limits,
guard), asks it for the limits it sees (:func:`backprop_lab.grading.limits.report`) and
prints, for every limit, the configured value, what enforces it here and what the kernel saw.
It exits with status 1 when a configured limit is not enforced, or the kernel does not see it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from traitlets.config.loader import PyFileConfigLoader

from ...grading.limits import namespace
from ..course import course_root
from .limits import Enforcement, KernelLimits, enforcement, format_bytes

__all__ = ["Check", "check_host", "format_checks"]

_PROBE = "import json\nfrom backprop_lab.grading.limits import report\nprint(json.dumps(report()))"


@dataclass
class Check:
    """One limit: configured value, what enforces it (or the problem), and the kernel's view."""

    row: Enforcement
    seen: str
    ok: bool


def _load_config(root: Path):
    path = root / "nbgrader_config.py"
    if not path.exists():
        raise FileNotFoundError(f"no nbgrader_config.py in {root}: run this from the course root")
    return PyFileConfigLoader(path.name, path=str(root)).load_config()


def _kernel_view(config) -> dict:
    """Run the probe in a grading kernel, in an empty folder as a submission's."""
    from .hardened_execute import HardenedExecute

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_PROBE)])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory(prefix="backprop-limits-") as folder:
        ep = HardenedExecute(config=config)
        nb, _ = ep.preprocess(nb, {"metadata": {"path": folder}})
    outs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outs if o.get("output_type") == "stream" and o.get("name") == "stdout")
    if not text.strip():
        raise RuntimeError("the grading kernel did not report its limits: "
                           + "; ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in outs))
    return json.loads(text.strip().splitlines()[-1])


def _seen(row: Enforcement, limits: KernelLimits, view: dict) -> tuple[str, bool]:
    """What the kernel saw of one limit, and whether that is the configured limit."""
    def size(key):
        return format_bytes(view[key]) if view.get(key) else "none"

    if row.limit == "memory per process":
        return f"address space {size('address space')}", view.get("address space") == limits.memory
    if row.limit == "memory in all":
        return f"cgroup {size('memory in all')}", view.get("memory in all") == limits.cgroup_memory()
    if row.limit == "processes":
        return f"pids.max {view.get('processes') or 'none'}", view.get("processes") == limits.processes
    if row.limit == "disk":
        folders = ("working folder", "TMPDIR", "/dev/shm")
        return (", ".join(f"{k} {size(k)}" for k in folders),
                all(view.get(k) == limits.disk for k in folders))
    if row.limit == "nothing outlives grading":
        own = view.get("pid namespace") not in (None, namespace("pid"))
        return f"its own PID namespace: {'yes' if own else 'no'}", own or "cgroup" in (row.how or "")
    return "(the grader measures it)", True


def check_host(root=None) -> list[Check]:
    """Every limit of the course's configuration, as this host enforces it and the kernel sees it."""
    root = course_root(root)
    config = _load_config(root)
    limits = KernelLimits(config=config)
    mode = config.get("SandboxedKernelManager", {}).get("mode", "required")
    view = _kernel_view(config)
    checks = []
    for row in enforcement(limits, sandboxed=mode != "off"):
        seen, ok = _seen(row, limits, view)
        checks.append(Check(row, seen, ok and row.problem is None))
    net = view.get("network", [])
    own_net = view.get("network namespace") not in (None, namespace("net"))
    network = config.get("SandboxedKernelManager", {}).get("network", False)
    checks.append(Check(Enforcement("network", "on" if network else "off", "a new network namespace"),
                        f"{'its own namespace' if own_net else 'the host network'}, interfaces: "
                        + (", ".join(net) or "none"), network or (own_net and set(net) <= {"lo"})))
    caps = view.get("capabilities")
    checks.append(Check(Enforcement("capabilities", "none", "bubblewrap --cap-drop ALL"),
                        f"effective set {caps:#x}" if caps is not None else "unknown", caps == 0))
    if limits.output:
        checks.append(Check(Enforcement("output", f"{format_bytes(limits.output)} per cell, "
                                        f"{format_bytes(limits.output_notebook)} per notebook",
                                        "cut by the grader"), "(the grader cuts it)", True))
    return checks


def format_checks(checks: list[Check]) -> str:
    lines = ["| limit | configured | enforced by | the kernel sees | |", "| --- | --- | --- | --- | --- |"]
    for c in checks:
        how = c.row.how or f"NOT ENFORCED: {c.row.problem}"
        lines.append(f"| {c.row.limit} | {c.row.value} | {how} | {c.seen} | {'ok' if c.ok else 'CHECK'} |")
    bad = [c.row.limit for c in checks if not c.ok]
    lines.append("")
    lines.append(f"{len(bad)} limit(s) need attention: {', '.join(bad)}" if bad else
                 "every limit is enforced and seen by the kernel")
    return "\n".join(lines)
