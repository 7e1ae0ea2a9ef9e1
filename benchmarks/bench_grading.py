"""Benchmark: seconds per student to autograde a class, serial vs sharded, SQLite vs PostgreSQL.

Run:  python benchmarks/bench_grading.py                 (30 students, all six notebooks)
      python benchmarks/bench_grading.py --students 12   (quicker)

Builds the demo class once (backprop_lab.instructor.runs.democlass), then grades copies of it:
one nbgrader process for the whole class (serial) and one per core (sharded, the
``backprop-lab grade`` runner), each into SQLite and, where a PostgreSQL server is
installed, into a throw-away PostgreSQL database. Timed: the autograde step alone (the
gradebook is prepared beforehand with ``nbgrader generate_assignment``), after one warm-up
student. Prints a table of seconds per student and the speed-up of sharding.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backprop_lab.instructor.runs.autograde import grade, sqlite_url, students
from backprop_lab.instructor.runs.democlass import build
from backprop_lab.instructor.runs.pgserver import PostgresServer, postgres_bin


def nbgrader(course: Path, *args, db: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--db={db}"], cwd=course,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])


def timed_run(demo: Path, work: Path, shards: int, db_url: str | None) -> float:
    course = work / f"{demo.name}-{shards}-{'pg' if db_url else 'sqlite'}"
    shutil.copytree(demo, course)
    db = db_url or sqlite_url(course)
    nbgrader(course, "generate_assignment", "*", "--force", db=db)
    t0 = time.perf_counter()
    results = grade(course, shards=shards, db_url=db)
    seconds = time.perf_counter() - t0
    failed = [r for r in results if r.returncode]
    if failed:
        raise RuntimeError(f"shard {failed[0].index} failed:\n{failed[0].log[-3000:]}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--shards", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="backprop-bench-", dir=Path.home()))  # not /tmp: see sandbox
    try:
        demo = work / "demo"
        build(demo, n_students=args.students, seed=0)
        n = len(students(demo))
        # warm-up: first kernels in a fresh environment pay for caches
        warm = work / "warm"
        shutil.copytree(demo, warm)
        for extra in students(warm)[1:]:
            shutil.rmtree(warm / "submitted" / extra)
        timed_run(warm, work, 1, None)
        rows = []
        dbs = [("SQLite", None)]
        if postgres_bin() is not None:
            dbs.append(("PostgreSQL", "pg"))
        for name, kind in dbs:
            for shards in (1, args.shards):
                if kind == "pg":
                    with PostgresServer() as pg:
                        secs = timed_run(demo, work, shards, pg.url)
                else:
                    secs = timed_run(demo, work, shards, None)
                rows.append((name, shards, secs))
                print(f"  {name:<11} {shards} shard(s): {secs:7.1f} s", flush=True)
        print(f"\nautograding {n} students x 6 notebooks ({os.cpu_count()} cores):")
        print(f"{'gradebook':<12}{'shards':>7}{'total (s)':>11}{'s/student':>11}{'speed-up':>10}")
        for name, shards, secs in rows:
            base = next(s for nm, k, s in rows if nm == name and k == 1)
            print(f"{name:<12}{shards:>7}{secs:>11.1f}{secs / n:>11.2f}{base / secs:>9.2f}x")
        if len(dbs) == 1:
            print("(PostgreSQL not installed here: apt install postgresql)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
