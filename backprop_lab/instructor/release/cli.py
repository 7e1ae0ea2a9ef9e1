"""``backprop-lab release``: its parser and its runner."""

from __future__ import annotations

import argparse
import sys

__all__ = ["COMMANDS"]


def add_release(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("release", help="regenerate the student notebooks/ from solutions/ with nbgrader",
                       description="Run nbgrader generate_assignment on every assignment of solutions/ (or one), "
                                   "writing the student notebooks to notebooks/. With --check, change nothing "
                                   "and report any notebook that differs from what nbgrader generates.")
    p.add_argument("assignment", nargs="?", default="*", help="one assignment id, e.g. 01-forward (default: all)")
    p.add_argument("--check", action="store_true", help="only report drift; exit 1 if there is any")
    return p


def run_release(args) -> int:
    from .release import drift, release

    if args.check:
        problems = drift()
        for line in problems:
            print(line)
        print("notebooks/ is current" if not problems else f"{len(problems)} notebook(s) out of date")
        return 1 if problems else 0
    try:
        written = release(assignment=args.assignment)
    except (RuntimeError, FileNotFoundError) as exc:
        print(f"backprop-lab release: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


#: command name -> (add the parser, run it)
COMMANDS = {"release": (add_release, run_release)}
