"""Benchmark: the time the grading limits add per autograded notebook.

Run:  python benchmarks/bench_containment.py                (3 students x 7 notebooks, 3 rounds)
      python benchmarks/bench_containment.py --students 1   (quicker)

Grades solution submissions of every notebook with the real ``nbgrader autograde`` (one
shard, the sandbox on), once with the course's limits (``c.KernelLimits``: memory, processes,
disk, CPU time per cell, output) and once with every limit switched off, and prints the
median seconds per notebook of each and the overhead.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench_integrity import autograde_seconds

OFF = tuple(f"--KernelLimits.{name}=0" for name in ("memory", "processes", "disk", "cpu", "output", "output_notebook"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    limited, free = [], []
    with tempfile.TemporaryDirectory(prefix="bench-containment-", dir=Path.home()) as tmp:  # not /tmp: sandbox
        work = Path(tmp)
        autograde_seconds(work, 1, "warm-up")
        for r in range(args.rounds):
            limited.append(autograde_seconds(work, args.students, f"on-{r}"))
            free.append(autograde_seconds(work, args.students, f"off-{r}", OFF))
            print(f"round {r + 1}: {limited[-1]:.2f} s per notebook with the limits, {free[-1]:.2f} without",
                  flush=True)
    lim, off = statistics.median(limited), statistics.median(free)
    print(f"\nmedian of {args.rounds} rounds: {lim:.2f} s per notebook with the limits, {off:.2f} s without: "
          f"{lim - off:+.2f} s ({100 * (lim / off - 1):+.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
