"""Kernel cgroups left behind by a grader that was killed are swept when grading starts
(backprop_lab.instructor.hardening.limits.sweep_stale), on the host's real cgroup v1 pids
hierarchy: only empty ones, whose grader is gone, that have not changed for a while."""

import os
import subprocess
import time
from pathlib import Path

import pytest

from backprop_lab.grading.limits import own_cgroup
from backprop_lab.instructor.hardening.limits import STALE_AFTER, sweep_stale

PIDS = Path("/sys/fs/cgroup/pids")


def _parent() -> Path:
    own = own_cgroup("pids")
    parent = PIDS / own.lstrip("/") if own is not None else None
    if parent is None or not os.access(parent, os.W_OK):
        if os.environ.get("BACKPROP_LAB_REQUIRE_SANDBOX"):
            pytest.fail(f"no writable cgroup v1 pids hierarchy at {PIDS}")
        pytest.skip("needs a writable cgroup v1 pids hierarchy")
    return parent


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_only_empty_old_cgroups_of_a_gone_grader_are_swept():
    parent, dead = _parent(), _dead_pid()
    old = time.time() - 2 * STALE_AFTER
    made = {name: parent / f"backprop-lab-{name}" for name in
            (f"{dead}-1", f"{dead}-2", f"{dead}-3", "1-4", f"{os.getpid()}-5")}
    sleeper = None
    try:
        for name, path in made.items():
            path.mkdir()
            if not name.endswith("-2"):          # -2 was just made: it stays fresh
                os.utime(path, (old, old))
        sleeper = subprocess.Popen(["sleep", "60"])
        (made[f"{dead}-3"] / "cgroup.procs").write_text(str(sleeper.pid))
        os.utime(made[f"{dead}-3"], (old, old))
        removed = sweep_stale.__wrapped__(parent)
        assert removed == [made[f"{dead}-1"]]
        assert not made[f"{dead}-1"].exists()
        # fresh, holding a process, its grader alive (pid 1), this grader's own: all kept
        for name in (f"{dead}-2", f"{dead}-3", "1-4", f"{os.getpid()}-5"):
            assert made[name].is_dir(), name
        assert sleeper.poll() is None            # the sweep kills nothing
    finally:
        if sleeper is not None:
            sleeper.kill()
            sleeper.wait()
        for path in made.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:                  # the sleeper is leaving its cgroup
                    time.sleep(0.05)
