"""One submission cannot hurt the host or the batch: every attack of issue 10 runs through one
real `nbgrader autograde` batch (the course config, its sandbox and limits, two shards), with
honest students graded before and after the hostile ones. The honest grades must equal, cell
by cell, those of a batch without the hostile students.

Each attack is appended to the first answer of notebook 1, after the solution's own code, so
that the student has done the work and loses only what the attack costs. The batch runs with
the grading guard off: these limits are the last line, and must hold for a student who got
past the guard (which refuses ctypes, fork and subprocess, and would stop several attacks
before they reach a limit).
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest

from backprop_lab.instructor.runs.autograde import grade, sqlite_url
from backprop_lab.instructor.execute import graded_tests, nbgrader_meta
from backprop_lab.instructor.hardening.repair import INTEGRITY_SUFFIX, read_findings
from backprop_lab.instructor.hardening.limits import KernelLimits
from backprop_lab.instructor.catalogues.mistakes import by_id
from backprop_lab.instructor.catalogues.tampering import FIRST_ANSWER, NOTEBOOK

from grading_helpers import ROOT, course_dir, make_course, nbgrader, require_sandbox, scores, solution_submission, submit

pytestmark = pytest.mark.nbgrader

A, N = NOTEBOOK.split("/")
LIMITS = KernelLimits()
MARK = 9870  # in the command line of every process the attacks start: looked for on the host after grading
# CPU seconds per cell in these batches (the course's default is 30): reached in seconds even on
# a loaded machine, long before the wall-clock timeout; honest cells use at most 1.2 s
CPU = 10

#: name -> (code appended to the first answer, what the student's feedback must say)
ATTACKS = {
    "alloc-16g": ("import numpy as _np\n_big = _np.ones(2 * 2**30)  # 16 GiB",
                  r"MemoryError.*\n?.*each process may use at most 4 GiB"),
    "write-3g-here": ("with open('big.bin', 'wb') as _f:\n    for _ in range(3 * 1024):\n        _f.write(b'x' * 2**20)",
                      r"(No space left on device|File too large).*each writable folder holds at most 512 MiB"),
    "write-3g-tmp": ("import tempfile as _tf\nwith _tf.TemporaryFile() as _f:\n    for _ in range(3 * 1024):\n"
                     "        _f.write(b'x' * 2**20)",
                     r"(No space left on device|File too large).*each writable folder holds at most 512 MiB"),
    "300-processes": (f"import subprocess as _sp\n_kids = [_sp.Popen(['sleep', '{MARK + 1}']) for _ in range(300)]",
                      r"ProcessLimit: This cell started more processes and threads than the 128 a kernel may have"),
    "print-300mb": ("print('x' * 300_000_000)", r"output cut: this cell's output passed 1 MiB"),
    "sigkill-self": ("import os as _os, signal as _sig\n_os.kill(_os.getpid(), _sig.SIGKILL)",
                     r"KernelDied: The kernel died while this cell ran: it was killed by SIGKILL"),
    "os-exit": ("import os as _os\n_os._exit(0)", r"KernelDied: The kernel died while this cell ran: it exited"),
    "ctypes-segfault": ("import ctypes as _ct\n_ct.string_at(0)",
                        r"KernelDied: The kernel died while this cell ran: it was killed by SIGSEGV"),
    # the children hold memory; the kernel, made the OOM killer's first choice, takes more
    "out-of-memory": ("import os as _os, subprocess as _sp, sys as _sys, time as _t\n"
                      "_hold = ('import os, time; b = b\"x\" * (2 * 2**30); open(\"held-%d\" % os.getpid(), \"w\").close(); '\n"
                      f"         'time.sleep({MARK + 2})')\n"
                      "_kids = [_sp.Popen([_sys.executable, '-c', _hold]) for _ in range(2)]\n"
                      "while len([f for f in _os.listdir('.') if f.startswith('held-')]) < 2:\n    _t.sleep(0.1)\n"
                      "open('/proc/self/oom_score_adj', 'w').write('1000')\n"
                      "_mine = [b'x' * 2**28 for _ in range(16)]",
                      r"KernelDied: The kernel ran out of memory: while grading, a kernel and all it starts may use 5.5 GiB"),
    "detached": ("import subprocess as _sp\n"
                 f"_sp.Popen(['sh', '-c', '(sleep {MARK + 3} &) ; (setsid sleep {MARK + 4} &)'], start_new_session=True).wait()",
                 None),
    "cpu-burn": ("import subprocess as _sp, sys as _sys\n"
                 f"_kids = [_sp.Popen([_sys.executable, '-c', 'while True: pass  # {MARK + 5}']) for _ in range(2)]\n"
                 "while True:\n    pass",
                 rf"CPUTimeLimit: This cell used more than {CPU} s of CPU time"),
}
DIES = {"sigkill-self", "os-exit", "ctypes-segfault", "out-of-memory", "cpu-burn", "300-processes"}
HONEST_FIRST, HONEST_LAST, PARTIAL = "aa-honest", "zz-honest", "ab-partial"


def _honest(course) -> dict:
    return {HONEST_FIRST: solution_submission(course, NOTEBOOK),
            PARTIAL: solution_submission(course, NOTEBOOK, mistake=by_id("forward-naive-sigmoid")),
            HONEST_LAST: solution_submission(course, NOTEBOOK)}


def _hostile(course, code: str):
    nb = solution_submission(course, NOTEBOOK)
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == FIRST_ANSWER)
    cell.source = cell.source + "\n" + code + "\n"
    return nb


def _batch(name: str, students: dict):
    course = make_course(course_dir(name))
    db = sqlite_url(course)
    nbgrader(course, "generate_assignment", A, "--force", db=db)
    for student, nb in students.items():
        submit(course, student, NOTEBOOK, nb)
    results = grade(course, A, shards=2, db_url=db,
                    extra=("--GradingKernelManager.guard=False", f"--KernelLimits.cpu={CPU}"))
    assert all(r.returncode == 0 for r in results), "\n".join(r.log[-3000:] for r in results)
    return course, scores(db), "\n".join(r.log for r in results), max(r.seconds for r in results)


def _survivors() -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if re.search(rf"(sleep |sleep\(|# ){MARK // 10}\d", line)]


@pytest.fixture(scope="module")
def batches():
    """(reference batch, batch with the hostile students, what of theirs runs after grading)."""
    require_sandbox()
    assert not _survivors(), "processes of an earlier run are still there"
    honest = _honest(ROOT)
    hostile = {f"h-{name}": _hostile(ROOT, code) for name, (code, _) in ATTACKS.items()}
    reference = _batch("containment-reference", honest)
    batch = _batch("containment", {**honest, **hostile})
    return reference, batch, _survivors()


def _tests(course) -> dict:
    src = nbformat.read(course / "solutions" / A / f"{N}.ipynb", as_version=4)
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in graded_tests(src)}


def _feedback_text(course, student) -> str:
    nb = nbformat.read(course / "autograded" / student / A / f"{N}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == FIRST_ANSWER)
    return "\n".join(o.get("text", "") if o.get("output_type") == "stream" else f"{o.get('ename')}: {o.get('evalue')}"
                     for o in cell.get("outputs", []))


@pytest.mark.parametrize("student", [HONEST_FIRST, PARTIAL, HONEST_LAST])
def test_honest_grades_equal_a_batch_without_hostile_students(batches, student):
    (_, reference, *_), (_, grades, *_), *_ = batches
    assert grades[(student, A, N)] == reference[(student, A, N)]


def test_the_partial_student_is_not_full_marks(batches):
    (course, reference, *_), *_ = batches  # else the equality above would not show much
    got = {g: s for g, (s, _, _) in reference[(PARTIAL, A, N)].items() if g.startswith("test_")}
    assert sum(got.values()) < sum(_tests(course).values())


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_costs_only_the_attacker_and_says_why(batches, attack):
    _, (course, grades, log, _), *_ = batches
    student = f"h-{attack}"
    tests = _tests(course)
    got = {g: s for g, (s, _, manual) in grades[(student, A, N)].items() if g.startswith("test_")}
    assert set(got) == set(tests), "every test cell of the notebook was graded"
    first_test = next(g for g in tests if g.startswith(f"test_{FIRST_ANSWER}"))
    for gid, points in tests.items():
        if gid != first_test:  # the rest of the notebook is graded as for anyone
            assert got[gid] == points, (attack, gid, got[gid])
    if attack in DIES:  # the answer's cell did not finish, so its function was never defined
        assert got[first_test] == 0
    pattern = ATTACKS[attack][1]
    if pattern:
        assert re.search(pattern, _feedback_text(course, student), re.S), _feedback_text(course, student)[:2000]
        findings = read_findings(course / "autograded" / student / A / f"{N}{INTEGRITY_SUFFIX}")
        assert any(f["kind"] == "limit" and f["grade_id"] == FIRST_ANSWER for f in findings), findings


def test_printing_300_mb_leaves_a_small_notebook_and_feedback(batches):
    _, (course, _, _, _), _ = batches
    student = "h-print-300mb"
    path = course / "autograded" / student / A / f"{N}.ipynb"
    assert path.stat().st_size < 2 * LIMITS.output, path.stat().st_size
    nbgrader(course, "generate_feedback", A, f"--student={student}", "--force", db=sqlite_url(course))
    page = course / "feedback" / student / A / f"{N}.html"
    assert page.stat().st_size < 2 * LIMITS.output + 2**20, page.stat().st_size


def test_nothing_a_student_started_outlives_grading(batches):
    *_, survivors = batches
    assert not survivors, survivors


def test_grading_starts_by_stating_no_unenforced_limit(batches):
    _, (_, _, log, _), *_ = batches
    assert "grading WITHOUT" not in log, re.findall(r".*grading WITHOUT.*", log)


def _grading_limits(course):
    return subprocess.run([sys.executable, "-m", "backprop_lab", "grading-limits"], cwd=course,
                          capture_output=True, text=True, timeout=300)


def test_grading_limits_shows_every_limit_enforced_and_seen_by_a_kernel():
    require_sandbox()
    proc = _grading_limits(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line for line in proc.stdout.splitlines() if line.startswith("| ")}
    assert rows["memory per process"].rstrip().endswith("| ok |") and "address space 4 GiB" in rows["memory per process"]
    assert "pids.max 128" in rows["processes"]
    assert "working folder 512 MiB, TMPDIR 512 MiB, /dev/shm 512 MiB" in rows["disk"]
    assert "its own PID namespace: yes" in rows["nothing outlives grading"]
    assert "interfaces: lo |" in rows["network"] and "effective set 0x0" in rows["capabilities"]


def test_a_limit_this_host_cannot_enforce_is_said_at_start(tmp_path):
    """A host with cgroup v2 (faked: a folder with a cgroup.controllers file): the limits that
    need cgroup v1 are reported as not enforced, by grading-limits and by autograde's log at
    start, and grading still works."""
    require_sandbox()
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    course = make_course(course_dir("containment-no-cgroups"))
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.KernelLimits.cgroup_root = {str(tmp_path)!r}\n")
    proc = _grading_limits(course)
    assert proc.returncode == 1, proc.stdout
    for limit in ("memory in all", "processes", "CPU time per cell"):
        assert re.search(rf"\| {limit} \|.*NOT ENFORCED: .*cgroup v2", proc.stdout), proc.stdout
    assert "3 limit(s) need attention" in proc.stdout
    db = sqlite_url(course)
    nbgrader(course, "generate_assignment", A, "--force", db=db)
    submit(course, HONEST_FIRST, NOTEBOOK, solution_submission(ROOT, NOTEBOOK))
    out = nbgrader(course, "autograde", A, "--force", db=db)
    log = out.stdout + out.stderr
    assert re.search(r"WARNING.*grading WITHOUT the processes limit \(128\): .*cgroup v2", log), log[-3000:]
    got = {g: s for g, (s, _, _) in scores(db)[(HONEST_FIRST, A, N)].items() if g.startswith("test_")}
    assert got == _tests(course)
