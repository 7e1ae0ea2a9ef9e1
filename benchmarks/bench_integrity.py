"""Benchmark: what the integrity checks cost per autograded notebook.

Run:  python benchmarks/bench_integrity.py              (3 students x 6 notebooks, 3 rounds)
      python benchmarks/bench_integrity.py --rounds 5

Two measurements, each against a peer run in the same process, rounds alternating:

* the grading guard (state recorded at kernel start, every test sealed, answer cells fenced):
  ``nbgrader autograde`` of honest submissions with ``--GradingKernelManager.guard=True``
  against ``False``, one shard, the sandbox on as in production;
* the reference fence inside the tests: every solution notebook run in a plain kernel, as
  released, against the same notebook with the fence switched off by its first cell.

Prints the medians and the overhead in percent (the issue's budget: 5%).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from backprop_lab.instructor.runs.autograde import grade, sqlite_url  # noqa: E402
from backprop_lab.instructor.course import copy_course, notebooks  # noqa: E402
from backprop_lab.instructor.execute import run_notebook  # noqa: E402

from grading_helpers import nbgrader, solution_submission, submit  # noqa: E402

FENCE_OFF = "import backprop_lab._fence as _fence\n_fence.state._roots = ('',)\n"


def autograde_seconds(work: Path, n_students: int, tag: str, extra: tuple = ()) -> float:
    """Seconds per notebook to autograde ``n_students`` solution submissions of every notebook
    (one shard), with the extra nbgrader options ``extra``."""
    course = copy_course(ROOT, work / tag)
    db = sqlite_url(course)
    nbgrader(course, "generate_assignment", "*", "--force", db=db)
    for nb in notebooks(ROOT):
        for k in range(n_students):
            submit(course, f"s{k:02d}", str(nb), solution_submission(course, str(nb)))
    t0 = time.perf_counter()
    results = grade(course, shards=1, db_url=db, extra=extra)
    seconds = time.perf_counter() - t0
    if any(r.returncode for r in results):
        raise RuntimeError(results[0].log[-3000:])
    return seconds / (n_students * len(notebooks(ROOT)))


def notebook_seconds(fence: bool) -> float:
    total = 0.0
    for nb in notebooks(ROOT):
        source = nbformat.read(nb.source, as_version=4)
        if not fence:
            source.cells.insert(0, nbformat.v4.new_code_cell(FENCE_OFF))
        run = run_notebook(source, cwd=nb.source.parent)
        if run.failed_tests:
            raise RuntimeError(f"{nb}: {run.failed_tests}")
        total += run.seconds
    return total / len(notebooks(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    guarded, plain, fenced, unfenced = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-integrity-", dir=Path.home()) as tmp:  # not /tmp: sandbox
        work = Path(tmp)
        autograde_seconds(work, 1, "warm-up")
        for r in range(args.rounds):
            guarded.append(autograde_seconds(work, args.students, f"on-{r}", ("--GradingKernelManager.guard=True",)))
            plain.append(autograde_seconds(work, args.students, f"off-{r}", ("--GradingKernelManager.guard=False",)))
            fenced.append(notebook_seconds(True))
            unfenced.append(notebook_seconds(False))
            print(f"round {r + 1}: autograde {guarded[-1]:.2f} / {plain[-1]:.2f} s per notebook, "
                  f"kernel run {fenced[-1]:.2f} / {unfenced[-1]:.2f} s per notebook", flush=True)
    g, p = statistics.median(guarded), statistics.median(plain)
    f, u = statistics.median(fenced), statistics.median(unfenced)
    print(f"\nmedian of {args.rounds} rounds, {args.students} students x {len(notebooks(ROOT))} notebooks:")
    print(f"{'':32}{'with':>8}{'without':>9}{'overhead':>10}")
    print(f"{'grading guard (autograde, s/nb)':32}{g:>8.2f}{p:>9.2f}{100 * (g / p - 1):>9.1f}%")
    print(f"{'reference fence (kernel, s/nb)':32}{f:>8.2f}{u:>9.2f}{100 * (f / u - 1):>9.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
