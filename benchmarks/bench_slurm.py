"""Benchmark: a class graded as the course's Slurm array job against the local sharded run.

Run:  python benchmarks/bench_slurm.py                 (30 students, every notebook)
      python benchmarks/bench_slurm.py --students 6    (quicker)
      python benchmarks/bench_slurm.py --order slurm,local   (the other way round: on a machine
                                                       whose load changes, run both orders)

Builds the demo class once, then grades two copies of it into two fresh PostgreSQL
gradebooks: with ``backprop-lab grade --shards <cores>`` on this machine, and with
``sbatch --wait --array=0-<cores - 1> docs/cluster/grade-array.sbatch`` on a real single-node
Slurm (munged, slurmctld, slurmd; tests/slurm_cluster.py) started here. Timed: the grading
alone (generate_assignment first, untimed). Prints seconds, notebooks per minute and the ratio,
and checks that both gradebooks hold the same grades, cell by cell.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_grading import nbgrader  # noqa: E402
from slurm_cluster import SlurmCluster, problem  # noqa: E402

from backprop_lab.instructor.runs.autograde import grade  # noqa: E402
from backprop_lab.instructor.runs.democlass import build  # noqa: E402
from backprop_lab.instructor.runs.pgserver import PostgresServer  # noqa: E402


def scores(url: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return {(s.student.id, a.name, n.name, g.name): g.score
                for a in gb.assignments for n in a.notebooks for s in n.submissions for g in s.grades}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--order", default="local,slurm",
                        help="the runs, in this order: local, slurm or both (default %(default)s)")
    args = parser.parse_args(argv)
    order = args.order.split(",")
    if not order or set(order) - {"local", "slurm"} or len(set(order)) != len(order):
        parser.error(f"--order: one or both of local, slurm, comma-separated, got {args.order!r}")
    why = problem()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-slurm-", dir=Path.home()) as tmp:  # not /tmp: sandbox
        work = Path(tmp)
        demo = work / "demo"
        build(demo, n_students=args.students, seed=0)
        notebooks = len(list((demo / "submitted").glob("*/*/*.ipynb")))
        local, slurm_course = work / "local", work / "slurm"
        shutil.copytree(demo, local)
        shutil.copytree(demo, slurm_course)
        with PostgresServer("local") as pg_local, PostgresServer("slurm") as pg_slurm, \
                SlurmCluster(work / "cluster") as slurm:
            nbgrader(local, "generate_assignment", "*", "--force", db=pg_local.url)
            nbgrader(slurm_course, "generate_assignment", "*", "--force", db=pg_slurm.url)
            seconds = {}
            for run in order:
                t0 = time.perf_counter()
                if run == "local":
                    results = grade(local, shards=cores, db_url=pg_local.url)
                    assert all(r.returncode == 0 for r in results), [r.log[-2000:] for r in results if r.returncode]
                else:
                    job = slurm.sbatch(f"--array=0-{cores - 1}",
                                       str(HERE.parent / "docs" / "cluster" / "grade-array.sbatch"), "*",
                                       cwd=slurm_course, env={"GRADEBOOK_URL": pg_slurm.url})
                    assert job.returncode == 0, job.stdout + job.stderr
                seconds[run] = time.perf_counter() - t0
                print(f"{run}: {seconds[run]:.1f} s", flush=True)
            same = scores(pg_local.url) == scores(pg_slurm.url) if len(order) == 2 else None
    print(f"{args.students} students, {notebooks} notebooks, {cores} cores, in the order {', '.join(order)}")
    print(f"{'run':<34}{'seconds':>9}{'notebooks/min':>15}")
    names = {"local": f"local: backprop-lab grade --shards {cores}", "slurm": f"Slurm: array of {cores} tasks"}
    for run in order:
        print(f"{names[run]:<34}{seconds[run]:>9.1f}{notebooks / seconds[run] * 60:>15.1f}")
    if same is not None:
        print(f"Slurm / local time: {seconds['slurm'] / seconds['local']:.2f}; same grades cell by cell: {same}")
    return 0 if same is not False else 1


if __name__ == "__main__":
    sys.exit(main())
