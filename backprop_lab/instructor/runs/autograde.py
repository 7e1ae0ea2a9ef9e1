"""Grade a class with nbgrader, sharded by student across processes (or machines).

A shard is one ordinary ``nbgrader autograde`` process for a subset of the students (the
others excluded with ``--CourseDirectory.student_id_exclude``), so every shard runs the
course's hardened configuration exactly as a hand-typed command does. Shards write into one
gradebook: SQLite for one machine (the course's ``gradebook.db``, with a generous lock
timeout), or PostgreSQL (``--db postgresql://...``) for several graders or machines.

``shard_of(students, i, k)`` is deterministic, so that the array tasks of a cluster job
(``--shard i/k``) split a class without talking to each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..course import course_root

__all__ = ["students", "select_students", "shard_of", "shard_command", "grade", "ShardResult", "sqlite_url"]


def students(root, submitted: str = "submitted") -> list[str]:
    """Student ids with a folder in ``submitted/``, sorted."""
    folder = Path(root) / submitted
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if folder.is_dir() else []


def select_students(root, student_ids=()) -> list[str]:
    """The students to grade: ``student_ids`` (each must have a folder in ``submitted/``), or all."""
    everyone = students(root)
    if not student_ids:
        return everyone
    unknown = sorted(set(student_ids) - set(everyone))
    if unknown:
        raise ValueError(f"no submission of {', '.join(unknown)} in {Path(root) / 'submitted'}; its students: "
                         f"{', '.join(everyone[:20]) or 'none'}{' ...' if len(everyone) > 20 else ''}")
    return sorted(set(student_ids))


def shard_of(ids: list[str], i: int, k: int) -> list[str]:
    """Shard ``i`` of ``k`` (0-based): every k-th student of the sorted list, from the i-th."""
    if not (isinstance(k, int) and k >= 1 and isinstance(i, int) and 0 <= i < k):
        raise ValueError(f"shard {i}/{k} does not exist: need 0 <= i < k")
    return sorted(ids)[i::k]


def sqlite_url(root) -> str:
    """The course's SQLite gradebook, with a lock timeout long enough for parallel shards."""
    return f"sqlite:///{Path(root).resolve() / 'gradebook.db'}?timeout=120"


def shard_command(root, shard: list[str], everyone: list[str], assignment: str = "*",
                  db_url: str | None = None, extra: tuple = ()) -> list[str]:
    """The ``nbgrader autograde`` command line of one shard."""
    others = sorted(set(everyone) - set(shard))
    cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
           f"--db={db_url or sqlite_url(root)}"]
    if others:
        cmd.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
    return cmd + list(extra)


@dataclass
class ShardResult:
    """What one shard did."""

    index: int
    students: list
    returncode: int
    seconds: float
    log: str


def _shard_env(n_parallel: int) -> dict:
    """Each shard's kernels get their share of the cores for NumPy's threads (unless set)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    threads = str(max(1, (os.cpu_count() or 1) // max(1, n_parallel)))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, threads)
    return env


def grade(root=None, assignment: str = "*", shards: int = 1, db_url: str | None = None,
          only: tuple[int, int] | None = None, extra: tuple = (), log_dir: Path | None = None,
          student_ids=()) -> list[ShardResult]:
    """Autograde the class in ``shards`` parallel nbgrader processes (or only shard ``only = (i, k)``);
    with ``student_ids``, only those students (each must have a folder in ``submitted/``).

    Returns
    -------
    list of ShardResult
        One per shard run; a shard that fails does not stop the others.
    """
    root = course_root(root)
    everyone = students(root)
    chosen = select_students(root, student_ids)
    if only is not None:
        i, k = only
        plan = [(i, shard_of(chosen, i, k))]
    else:
        plan = [(i, shard_of(chosen, i, shards)) for i in range(shards)]
    plan = [(i, s) for i, s in plan if s]
    log_dir = Path(log_dir or root / "autograded")
    log_dir.mkdir(parents=True, exist_ok=True)
    running = []
    for i, shard in plan:
        log_path = log_dir / f".shard-{i}.log"
        log = open(log_path, "w")
        t0 = time.perf_counter()
        proc = subprocess.Popen(shard_command(root, shard, everyone, assignment, db_url, extra), cwd=root,
                                stdout=log, stderr=subprocess.STDOUT, env=_shard_env(len(plan)))
        running.append((i, shard, proc, t0, log, log_path))
    results = []
    for i, shard, proc, t0, log, log_path in running:
        code = proc.wait()
        log.close()
        results.append(ShardResult(i, shard, code, time.perf_counter() - t0, log_path.read_text()))
    return results
