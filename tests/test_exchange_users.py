"""nbgrader's exchange on one shared machine, with real Unix users: an instructor and three
students, each running nbgrader as themselves (``runuser -l``), never as root.

The flow is the one the instructor guide describes ("An exchange on a shared machine"): a
system-wide ``/etc/jupyter/nbgrader_config.py`` names the course and the exchange root; the
instructor generates and releases 01-forward from a copy of this course in their home; the
students fetch it, work and submit (alice fills in the solutions, bob submits it blank, carol
submits blank and later filled in: the later one counts); the instructor collects,
pre-screens, grades in two shards (the hardened pipeline: bubblewrap sandbox, per-kernel
cgroups) and releases feedback, which every student fetches. Then the grades are read from the
gradebook, and every student tries, as themselves, to read what is not theirs.

The users' Python: the interpreter of these tests lives under ``/root`` (``drwx------``), so
:class:`unix_users.UserPython` bind-mounts its tree and the checkout, read-only, under
``/srv``, and every user's shell gets that ``python`` first on ``PATH``. Nothing of the mounts
is writable, and none of what is checked here (homes, the exchange, the instructor's course)
lies in them. Console scripts name root's interpreter in their ``#!`` line, so everything runs
as ``python -m nbgrader`` and ``python -m backprop_lab``.

The grader's kernels get their cgroups as on a department's host: root makes one cgroup per
controller (memory, pids, cpuacct) for the instructor, with a total limit, hands it over
(``chown`` of the folder, ``cgroup.procs`` and ``tasks``) and starts the instructor's grading
inside it (:meth:`unix_users.Site.delegate_cgroups`).

``python -m pytest -s -p no:randomly tests/test_exchange_users.py`` prints how long each step
took.
"""

from __future__ import annotations

import pwd
import shlex
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from backprop_lab.instructor.execute import graded_tests, nbgrader_meta
from backprop_lab.instructor.runs.autograde import sqlite_url

import unix_users
from grading_helpers import make_course, require_sandbox, scores, solution_submission

pytestmark = pytest.mark.nbgrader

COURSE = "backprop101"
A, N = "01-forward", "forward"
INSTRUCTOR = "bplx-instructor"
ALICE, BOB, CAROL = STUDENTS = ("bplx-alice", "bplx-bob", "bplx-carol")
GiB = 2**30


def home(user: str) -> Path:
    return Path(pwd.getpwnam(user).pw_dir)


class Class:
    """The shared machine after the whole flow: the Site, the paths, and each step's time."""

    def __init__(self, site: unix_users.Site):
        self.site = site
        self.run = site.users.run
        self.exchange = site.folder("exchange", 0o1777)
        self.times: dict[str, float] = {}
        self.submitted: dict[str, str] = {}  # student -> the timestamp nbgrader gave the submission

    @property
    def course(self) -> Path:
        """The instructor's course, in their home."""
        return home(INSTRUCTOR) / COURSE

    @contextmanager
    def step(self, name: str):
        start = time.monotonic()
        yield
        self.times[name] = time.monotonic() - start

    def student(self, user: str, *args: str):
        """``python -m nbgrader args`` as the student ``user``, in their home."""
        return self.run(user, shlex.join(["python", "-m", "nbgrader", *args]))

    def instructor(self, module: str, *args: str, **kw):
        """``python -m module args`` as the instructor, in the course."""
        return self.run(INSTRUCTOR, shlex.join(["python", "-m", module, *args]), cwd=str(self.course), **kw)

    def try_as(self, user: str, command: str, path: Path):
        """``command path`` as ``user``, e.g. ``cat`` or ``ls``; its CompletedProcess."""
        return self.run(user, f"{command} -- {shlex.quote(str(path))} > /dev/null", check=False)

    def denied(self, user: str, command: str, path: Path, owner: str) -> None:
        """``user`` may not ``command path``, while its ``owner`` may."""
        mine = self.try_as(owner, command, path)
        assert mine.returncode == 0, f"{owner} cannot {command} their own {path}: {mine.stderr}"
        theirs = self.try_as(user, command, path)
        assert theirs.returncode != 0 and "Permission denied" in theirs.stderr, (
            f"{user} could {command} {owner}'s {path} (exit {theirs.returncode}): {theirs.stderr}")


def _users_and_course(cls: Class) -> None:
    site = cls.site
    site.users.add(INSTRUCTOR)
    for s in STUDENTS:
        site.users.add(s)
    make_course(cls.course)
    with open(cls.course / "nbgrader_config.py", "a") as f:
        # the course's own config is read after the system-wide one: it must name the same course
        f.write(f"\nc.CourseDirectory.course_id = {COURSE!r}  # this department's id for the course\n")
    shutil.chown(cls.course, INSTRUCTOR, INSTRUCTOR)
    for p in cls.course.rglob("*"):
        shutil.chown(p, INSTRUCTOR, INSTRUCTOR)


def _work(cls: Class, student: str, filled: bool) -> None:
    """The student's notebook in their home: left as fetched, or filled in with the solutions,
    which root hands over in a file only that student may read and the student copies."""
    if not filled:
        return
    handout = cls.site.folder("handouts", 0o711) / f"{student}.ipynb"
    nbformat.write(solution_submission(cls.course, f"{A}/{N}"), handout)
    shutil.chown(handout, student, student)
    handout.chmod(0o600)
    cls.run(student, f"cp {shlex.quote(str(handout))} {A}/{N}.ipynb")


def _submit(cls: Class, student: str) -> None:
    out = cls.student(student, "submit", A)
    # "Submitted as: <course> <assignment> <timestamp>"
    stamps = [line.split("Submitted as: ", 1)[1].split(" ", 2)[2].strip()
              for line in (out.stdout + out.stderr).splitlines() if "Submitted as: " in line]
    assert stamps, f"{student}'s submit said nothing of a timestamp:\n{out.stderr}"
    cls.submitted[student] = stamps[-1]


def _flow(cls: Class) -> None:
    with cls.step("set-up: /etc/jupyter/nbgrader_config.py (waits while another test holds it)"):
        cls.site.system_config(f"c = get_config()  # noqa: F821\n"
                               f"c.CourseDirectory.course_id = {COURSE!r}\n"
                               f"c.Exchange.root = {str(cls.exchange)!r}\n")
    with cls.step("set-up: 4 users, the course in the instructor's home"):
        _users_and_course(cls)
    with cls.step("instructor: generate_assignment"):
        cls.instructor("nbgrader", "generate_assignment", A, "--force")
    with cls.step("instructor: release_assignment"):
        cls.instructor("nbgrader", "release_assignment", A)
    for s in STUDENTS:
        with cls.step(f"{s}: fetch_assignment"):
            cls.student(s, "fetch_assignment", A)
    with cls.step(f"{ALICE}: fill in, submit"):
        _work(cls, ALICE, filled=True)
        _submit(cls, ALICE)
    with cls.step(f"{BOB}: submit blank"):
        _submit(cls, BOB)
    with cls.step(f"{CAROL}: submit blank, fill in, submit again"):
        _submit(cls, CAROL)
        first = cls.submitted[CAROL]
        _work(cls, CAROL, filled=True)
        _submit(cls, CAROL)
        assert cls.submitted[CAROL] != first, "carol's two submissions have one timestamp"
    with cls.step("instructor: collect"):
        cls.instructor("nbgrader", "collect", A)
    with cls.step("instructor: pre-screen"):
        cls.prescreen = cls.instructor("backprop_lab", "pre-screen", A)
    cls.cgroups = cls.site.delegate_cgroups(INSTRUCTOR, memory=16 * GiB, processes=2048)
    with cls.step("instructor: grading-limits (delegated cgroups)"):
        cls.limits = cls.instructor("backprop_lab", "grading-limits", check=False, cgroups=cls.cgroups)
    with cls.step("instructor: grade --shards 2 (delegated cgroups)"):
        cls.grade = cls.instructor("backprop_lab", "grade", A, "--shards", "2", cgroups=cls.cgroups)
    with cls.step("instructor: generate_feedback"):
        cls.instructor("nbgrader", "generate_feedback", A)
    with cls.step("instructor: release_feedback"):
        cls.instructor("nbgrader", "release_feedback", A)
    for s in STUDENTS:
        with cls.step(f"{s}: fetch_feedback"):
            cls.student(s, "fetch_feedback", A)


@pytest.fixture(scope="module")
def klass():
    unix_users.require()
    require_sandbox()
    site = unix_users.Site()
    try:
        cls = Class(site)
        start = time.monotonic()
        try:
            _flow(cls)
        finally:
            cls.times["whole flow"] = time.monotonic() - start
            print("\nexchange flow, seconds per step:")
            for name, seconds in cls.times.items():
                print(f"  {seconds:6.1f}  {name}")
        yield cls
    finally:
        site.close()


def _code_grades(klass, student: str) -> dict:
    """``{grade_id: (score, max_score)}`` of the autograded test cells of the student's 01-forward."""
    grades = scores(sqlite_url(klass.course))[(student, A, N)]
    source = nbformat.read(klass.course / "solutions" / A / f"{N}.ipynb", as_version=4)
    tests = [nbgrader_meta(c)["grade_id"] for c in graded_tests(source)]
    return {gid: grades[gid][:2] for gid in tests}


def test_grades_count_the_latest_submission(klass):
    alice = _code_grades(klass, ALICE)
    assert alice and all(score == most for score, most in alice.values()), f"alice's filled-in notebook: {alice}"
    assert sum(most for _, most in alice.values()) == 13, alice
    bob = _code_grades(klass, BOB)
    assert all(score == 0 for score, _ in bob.values()), f"bob's blank notebook: {bob}"
    assert _code_grades(klass, CAROL) == alice, "carol's later, filled-in submission did not count"
    stamp = (klass.course / "submitted" / CAROL / A / "timestamp.txt").read_text().strip()
    assert stamp == klass.submitted[CAROL], (stamp, klass.submitted)


def test_pre_screen_passes_the_class(klass):
    # carol's first submission is not collected: one notebook a student, the blank one no finding
    out = klass.prescreen.stdout + klass.prescreen.stderr
    assert "3 submitted notebook(s), 0 with findings" in out, out


def test_grading_limits_are_enforced_in_the_delegated_cgroups(klass):
    assert klass.limits.returncode == 0, (
        f"grading-limits, run in the instructor's delegated cgroups, reports a limit not enforced:\n"
        f"{klass.limits.stdout}\n{klass.limits.stderr[-3000:]}")
    log = klass.grade.stdout + klass.grade.stderr
    assert "grading WITHOUT" not in log, log[-5000:]
    left = {ctrl: [p.name for p in path.iterdir() if p.is_dir()] for ctrl, path in klass.cgroups.paths.items()}
    assert not any(left.values()), f"grading left its kernels' cgroups behind: {left}"
    # and the same report outside them: the check can fail
    outside = klass.instructor("backprop_lab", "grading-limits", check=False)
    assert outside.returncode == 1 and "not delegated" in outside.stdout + outside.stderr, (
        outside.stdout, outside.stderr[-2000:])


def _feedback(student: str) -> list[Path]:
    return sorted((home(student) / A / "feedback").glob(f"*/{N}.html"))


def test_each_student_gets_their_own_feedback(klass):
    for s in STUDENTS:
        got = _feedback(s)
        assert len(got) == 1, f"{s} fetched {got}"
        assert got[0].parent.name == klass.submitted[s], (s, got, klass.submitted[s])
        assert got[0].stat().st_uid == pwd.getpwnam(s).pw_uid, f"{got[0]} is not {s}'s own file"
        mine = (klass.course / "feedback" / s / A / f"{N}.html").read_bytes()
        assert got[0].read_bytes() == mine, f"{s} fetched feedback that is not the instructor's for {s}"
    assert _feedback(ALICE)[0].read_bytes() != _feedback(BOB)[0].read_bytes()


def test_no_student_reads_another_students_work_or_feedback(klass):
    for owner in STUDENTS:
        cache = home(owner) / ".local/share/jupyter/nbgrader_cache" / COURSE
        theirs = [home(owner) / A / f"{N}.ipynb", _feedback(owner)[0], cache]
        for other in STUDENTS:
            if other != owner:
                for path in theirs:
                    klass.denied(other, "ls" if path == cache else "cat", path, owner)


def test_no_student_lists_the_exchange_inbound_or_feedback(klass):
    # nbgrader keeps submissions and released feedback apart by folders nobody but the instructor
    # may list, and names nobody can guess (a random suffix; a hash of a 64-byte secret kept in the
    # submitter's home): the files inside are world-readable to whoever knows the name
    course = klass.exchange / COURSE
    for s in STUDENTS:
        for folder in ("inbound", "feedback"):
            klass.denied(s, "ls", course / folder, INSTRUCTOR)
    inbound = klass.run(INSTRUCTOR, f"ls {shlex.quote(str(course / 'inbound'))}").stdout.splitlines()
    assert sorted(name.split("+")[0] for name in inbound) == sorted([*STUDENTS, CAROL]), inbound


def test_no_student_reads_the_instructors_course(klass):
    for s in STUDENTS:
        klass.denied(s, "ls", klass.course, INSTRUCTOR)
        for path in ("gradebook.db", f"solutions/{A}/{N}.ipynb", f"submitted/{ALICE}/{A}/{N}.ipynb"):
            klass.denied(s, "cat", klass.course / path, INSTRUCTOR)
