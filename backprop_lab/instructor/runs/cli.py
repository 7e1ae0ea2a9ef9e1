"""``backprop-lab grade`` and ``grade-demo``: their parsers and their runners."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from ..._argtypes import positive_int

__all__ = ["COMMANDS"]


def _shard_spec(text: str) -> tuple[int, int]:
    try:
        i, k = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/k, e.g. 0/4, got {text!r}") from None
    if not 0 <= i < k:
        raise argparse.ArgumentTypeError(f"shard {text}: need 0 <= i < k")
    return i, k


def add_grade(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("grade", help="autograde the class with nbgrader, in parallel shards",
                       description="Run nbgrader autograde on submitted/, split by student into parallel "
                                   "nbgrader processes that write into one gradebook. --shard i/k runs one "
                                   "shard only (for cluster array jobs; see the instructor guide).")
    p.add_argument("assignment", nargs="?", default="*", help="one assignment id (default: all)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--shards", type=positive_int, default=os.cpu_count() or 1,
                       help="parallel nbgrader processes (default: the number of cores, %(default)s here)")
    group.add_argument("--shard", type=_shard_spec, help="run only shard i of k, e.g. 0/8")
    p.add_argument("--db", help="gradebook URL (default: the course's gradebook.db); e.g. postgresql://...")
    p.add_argument("--student", action="append", default=[], metavar="ID",
                   help="grade (again) only this student; may be given several times")
    p.add_argument("--reset-manual", action="store_true",
                   help="clear the manual scores and comments of the students graded (kept by default)")
    _add_run_options(p)
    p.epilog = ("Grading again (after a test cell changed, or for one student on request) keeps every manual "
                "score and comment unless --reset-manual, and prints what changed.")
    return p


def _add_run_options(p) -> None:
    p.add_argument("--timeout", type=positive_int, help="seconds per cell (default: nbgrader_config.py's)")
    p.add_argument("--sandbox", choices=["required", "auto", "off"],
                   help="the autograding sandbox (default: nbgrader_config.py's, required)")


def _extra(args) -> tuple:
    extra = []
    if getattr(args, "timeout", None):
        extra.append(f"--Execute.timeout={args.timeout}")
    if getattr(args, "sandbox", None):
        extra.append(f"--SandboxedKernelManager.mode={args.sandbox}")
    return tuple(extra)


def _report_shards(results) -> int:
    failed = [r for r in results if r.returncode != 0]
    for r in results:
        print(f"shard {r.index}: {len(r.students)} student(s), {r.seconds:.1f} s, exit {r.returncode}")
    for r in failed:
        print(f"--- shard {r.index} failed; the end of its log:\n{r.log[-3000:]}", file=sys.stderr)
    return 1 if failed else 0


def run_grade(args) -> int:
    from ..course import course_root
    from .autograde import grade, select_students, sqlite_url
    from .regrade import changes, format_changes, reset_manual, snapshot

    root = course_root()
    try:
        select_students(root, args.student)
    except ValueError as exc:
        print(f"backprop-lab grade: {exc}", file=sys.stderr)
        return 2
    db = args.db or sqlite_url(root)
    whole = args.shard is None  # one array task of a cluster job sees only its shard
    before = snapshot(db, args.assignment, args.student) if whole else None
    if args.reset_manual:
        print(f"cleared {reset_manual(db, args.assignment, args.student)} manual score(s) and comment(s)")
    results = grade(root, assignment=args.assignment, shards=args.shards, db_url=args.db, only=args.shard,
                    extra=_extra(args), student_ids=args.student)
    code = _report_shards(results)
    if whole:
        after = snapshot(db, args.assignment, args.student)
        print(format_changes(changes(before, after), len(after)))
    return code


def add_grade_demo(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("grade-demo", help="grade the demo class end to end (the instructor's first run)",
                       description="Build the demo class (sample submissions from the solutions, their correct "
                                   "variants, the blank notebooks and the catalogue of common mistakes) in a fresh "
                                   "folder, then run the real nbgrader pipeline on it: a fresh gradebook, "
                                   "pre-screen, autograde (sharded), generate_feedback and export, and print the "
                                   "grade table.")
    p.add_argument("--dest", default="demo-class", help="folder to create (default: %(default)s)")
    p.add_argument("--students", type=positive_int, default=30, help="class size (default: %(default)s)")
    p.add_argument("--shards", type=positive_int, default=os.cpu_count() or 1, help="parallel nbgrader processes")
    p.add_argument("--db", help="gradebook URL (default: dest/gradebook.db)")
    p.add_argument("--seed", type=int, default=0)
    _add_run_options(p)
    return p


def run_grade_demo(args) -> int:
    from .autograde import grade, sqlite_url
    from .democlass import build
    from ..prescreen.prescreen import format_report, prescreen
    from ..reports.results import class_grades, format_grades

    dest = Path(args.dest).resolve()
    print(f"building a demo class of {args.students} students in {dest}")
    try:
        build(dest, n_students=args.students, seed=args.seed)
    except FileExistsError as exc:
        print(f"backprop-lab grade-demo: {exc}", file=sys.stderr)
        return 2
    db = args.db or sqlite_url(dest)

    def nbgrader(*argv) -> int:
        cmd = [sys.executable, "-m", "nbgrader", *argv, f"--db={db}"]
        print("$ nbgrader " + " ".join(argv), flush=True)
        proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stdout[-2000:] + proc.stderr[-4000:], file=sys.stderr)
        return proc.returncode

    steps = [("db", "student", "import", "students.csv"), ("generate_assignment", "*", "--force")]
    for step in steps:
        if nbgrader(*step):
            return 1
    print(f"$ backprop-lab pre-screen\n{format_report(prescreen(dest))}")
    print(f"$ backprop-lab grade --shards {args.shards}", flush=True)
    if _report_shards(grade(dest, shards=args.shards, db_url=db, extra=_extra(args))):
        return 1
    for step in [("generate_feedback", "*", "--force"), ("export", "--to", "grades.csv")]:
        if nbgrader(*step):
            return 1
    columns, table = class_grades(db, dest)
    print(format_grades(columns, table))
    print(f"feedback: {dest / 'feedback'}\ngrades:   {dest / 'grades.csv'}")
    return 0


#: command name -> (add the parser, run it)
COMMANDS = {"grade": (add_grade, run_grade), "grade-demo": (add_grade_demo, run_grade_demo)}
