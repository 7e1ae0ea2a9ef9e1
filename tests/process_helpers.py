"""Helpers for the tests of hard time limits: which processes are still there."""

from __future__ import annotations

import os
import time


def children() -> list[int]:
    """The pids of this process's live children (of every thread): a limit must leave none."""
    pids = []
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as f:
            pids += [int(p) for p in f.read().split()]
    return pids


def state(pid: int) -> str:
    """A process's state letter (``R``, ``S``, ``Z`` for a zombie, ...), or ``"gone"``."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def wait_for_pid(pidfile, seconds: float = 30.0) -> int:
    """The pid a process writes to ``pidfile``, once it is there (at most ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return int(pidfile.read_text())
