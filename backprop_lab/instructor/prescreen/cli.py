"""``backprop-lab pre-screen``: its parser and its runner."""

from __future__ import annotations

import argparse

__all__ = ["COMMANDS"]


def add_prescreen(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("pre-screen", help="report submissions with missing, duplicated, edited or unknown cells",
                       description="Compare every notebook in submitted/ with its release and report missing, "
                                   "duplicated, stripped, edited or unknown graded cells, changed metadata and code "
                                   "that looks like tampering. Run it from the course root before grading.")
    p.add_argument("assignment", nargs="?", default="*", help="one assignment id (default: all)")
    p.add_argument("--verbose", action="store_true", help="also list cells the students added")
    return p


def run_prescreen(args) -> int:
    from .prescreen import format_report, prescreen

    reports = prescreen(assignment=args.assignment)
    print(format_report(reports, verbose=args.verbose))
    return 1 if any(r.serious for r in reports) else 0


#: command name -> (add the parser, run it)
COMMANDS = {"pre-screen": (add_prescreen, run_prescreen)}
