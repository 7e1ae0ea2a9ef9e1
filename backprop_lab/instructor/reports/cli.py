"""``backprop-lab course-table`` and ``backprop-lab similarity``: their parsers and runners."""

from __future__ import annotations

import argparse

from ..._argtypes import share

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


def add_similarity(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("similarity", help="report pairs of submissions whose answers are suspiciously alike",
                       description="Compare every pair of students' answer cells of one assignment with copydetect "
                                   "into similarity.csv and .html. A flag is a reason to look, not proof of copying. "
                                   "Run it from the course root.")
    p.add_argument("assignment", help="the assignment, e.g. 01-forward")
    p.add_argument("--threshold", type=share, default=None, metavar="T",
                   help="never flag a pair whose score is below T, from 0 to 1 (default: THRESHOLD of "
                        "backprop_lab.instructor.reports.similarity); the class's own cutoff may be higher")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the two files (default: reports/similarity/<assignment>/)")
    return p


def run_similarity(args) -> int:
    from pathlib import Path

    from ..course import course_root
    from .similarity import THRESHOLD, similarity, write_csv, write_html

    threshold = THRESHOLD if args.threshold is None else args.threshold
    try:
        report = similarity(args.assignment, threshold=threshold)
    except (ValueError, FileNotFoundError) as exc:
        print(f"similarity: {exc}")
        return 2
    out = Path(args.out) if args.out else course_root() / "reports" / "similarity" / args.assignment
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = write_csv(report, out / "similarity.csv"), write_html(report, out / "similarity.html")
    print(f"{args.assignment}: {len(report.answers)} submissions, {len(report.pairs)} pairs, "
          f"flagged at a score of {report.cutoff:.3f} or more: {len(report.flagged)}")
    for p in report.flagged:
        print(f"  {p.a} {p.b}  {p.a_to_b:.3f} {p.b_to_a:.3f}  {p.tokens} tokens in common")
    print(f"wrote {csv_path} and {html_path}")
    return 0


#: command name -> (add the parser, run it)
COMMANDS = {"course-table": (add_course_table, run_course_table), "similarity": (add_similarity, run_similarity)}
