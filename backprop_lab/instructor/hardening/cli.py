"""``backprop-lab grading-limits``: its parser and its runner."""

from __future__ import annotations

import argparse

__all__ = ["COMMANDS"]


def add_grading_limits(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("grading-limits", help="show the limits a submission meets on this grading host",
                       description="Start one real grading kernel with the course's nbgrader_config.py and print, "
                                   "for every limit (memory, processes, disk, CPU time per cell, output, "
                                   "network, capabilities), the configured value, what enforces it on this host "
                                   "and what the kernel saw. Exits 1 if a limit is not enforced. Run it from the "
                                   "course root on every new grading host.")
    return p


def run_grading_limits(args) -> int:
    from .hostcheck import check_host, format_checks

    checks = check_host()
    print(format_checks(checks))
    return 0 if all(c.ok for c in checks) else 1


#: command name -> (add the parser, run it)
COMMANDS = {"grading-limits": (add_grading_limits, run_grading_limits)}
