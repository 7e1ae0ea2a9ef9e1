"""``backprop-lab course-table``: its parser and its runner."""

from __future__ import annotations

import argparse

__all__ = ["COMMANDS"]


def add_course_table(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("course-table", help="count the tasks, points, answer lines and rubrics of every notebook",
                       description="Print a Markdown table of what each notebook asks of the students: graded "
                                   "tasks, points, answer regions and their non-comment lines, and the written "
                                   "answers that have a rubric. Run it from the course root.")
    return p


def run_course_table(args) -> int:
    from ..course import notebooks
    from .depth import depth, format_table

    print(format_table([depth(nb) for nb in notebooks()]))
    return 0


#: command name -> (add the parser, run it)
COMMANDS = {"course-table": (add_course_table, run_course_table)}
