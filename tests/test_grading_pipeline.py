"""The real nbgrader pipeline (autograde, generate_feedback, export, pre-screen) on crafted
hostile submissions: every item of the hardening list ends with correct grades, the rest of
the class graded, and nothing lost."""

from __future__ import annotations

import csv
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from backprop_lab.instructor.runs.autograde import sqlite_url
from backprop_lab.instructor.execute import graded_tests, nbgrader_meta
from backprop_lab.instructor.catalogues.mistakes import by_id
from backprop_lab.instructor.catalogues.tampering import by_id as tamper_by_id

from grading_helpers import (autograde, course_dir, make_course, nbgrader, require_sandbox, scores,
                             solution_submission, submit)

pytestmark = pytest.mark.nbgrader

NB = "01-forward/forward"
A, N = NB.split("/")
# a Unix socket path has at most 107 bytes: the kernel's sockets must not live in a folder
# whose depth grows with the checkout's path and the student's id
LONG_ID = "a.student.whose.id.is.an.email.address.at.a.long.university.name.example.edu"
WRONG_DENSE = "def dense_forward(A_prev, W, b, g):\n    return A_prev @ W, g(A_prev @ W)  # forgot the bias\n"


def _listening_socket():
    """A server on the host's loopback: reachable without the sandbox, not from inside it."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    threading.Thread(target=lambda: [srv.accept() for _ in range(100)], daemon=True).start()
    return srv, srv.getsockname()[1]


def evil_neuron(root, port) -> str:
    """An answer that does its job and also tries what a sandboxed kernel must not do."""
    return f'''
import json, os, socket
def _try(action):
    try:
        return action()
    except Exception as exc:
        return "refused: " + type(exc).__name__
probe = {{
    "read_solutions": _try(lambda: open({str(root)!r} + "/solutions/{A}/{N}.ipynb").read()[:30]),
    "list_solutions": _try(lambda: os.listdir({str(root)!r} + "/solutions")),
    "read_gradebook": _try(lambda: len(open({str(root)!r} + "/gradebook.db", "rb").read())),
    "list_submissions": _try(lambda: os.listdir({str(root)!r} + "/submitted")),
    "write_outside": _try(lambda: open({str(root)!r} + "/pwned.txt", "w").write("x")),
    "write_home": _try(lambda: open(os.path.expanduser("~/pwned.txt"), "w").write("x")),
    "write_tmp": _try(lambda: open("/tmp/pwned-by-a-student.txt", "w").write("x")),
    "network": _try(lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3) and "connected"),
}}
json.dump(probe, open("probe.json", "w"))  # into its working folder: a tmpfs, gone after grading
print("PROBE " + json.dumps(probe))

def neuron(a_prev, w, b, g):
    in_ = float(a_prev @ w + b)
    return in_, g(in_)
'''


# NumPy's comparisons replaced and an answer equal to everything (the tampering catalogue's)
CHEAT = tamper_by_id("numpy-replaced").code


@pytest.fixture(scope="module")
def graded():
    """One batch: honest and hostile students graded by `nbgrader autograde`, in two shards."""
    require_sandbox()
    course = make_course(course_dir("hardening"))
    db = sqlite_url(course)
    nbgrader(course, "generate_assignment", A, "--force", db=db)
    srv, port = _listening_socket()
    ok = solution_submission(course, NB)
    subs = {
        "honest": ok,
        "blank": nbformat.read(course / "notebooks" / A / f"{N}.ipynb", as_version=4),
        "loops": solution_submission(course, NB, answers={
            "neuron": "def neuron(a_prev, w, b, g):\n    while True:\n        pass\n"}),
        "ignores_interrupt": solution_submission(course, NB, answers={
            "neuron": "import signal\ndef neuron(a_prev, w, b, g):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                      "    while True:\n        pass\n"}),
        "catches_interrupt": solution_submission(course, NB, answers={
            "neuron": "def neuron(a_prev, w, b, g):\n    while True:\n        try:\n            while True:\n"
                      "                pass\n        except KeyboardInterrupt:\n            pass\n"}),
        "cheats": solution_submission(course, NB, answers={"neuron": CHEAT}),
        "evil": solution_submission(course, NB, answers={"neuron": evil_neuron(course, port)}),
        "hidden_only": solution_submission(course, NB, mistake=by_id("forward-naive-sigmoid")),
        LONG_ID: ok,
    }
    # structure broken as students break it
    nb = solution_submission(course, NB, answers={"dense_forward": WRONG_DENSE})
    k = _index(nb, "test_dense_forward")
    nb.cells[k].source = "pass  # looks fine to me"
    nb.cells[k].metadata["nbgrader"]["points"] = 100
    subs["edited_test"] = nb
    nb = solution_submission(course, NB)
    k = _index(nb, "test_dense_forward")
    nb.cells[k].metadata["nbgrader"]["grade"] = False
    nb.cells[k].metadata["nbgrader"]["locked"] = False
    nb.cells[k].source = "pass"
    subs["ungraded_test"] = nb
    nb = solution_submission(course, NB)
    del nb.cells[_index(nb, "test_dense_forward")]
    subs["deleted_test"] = nb
    nb = solution_submission(course, NB)
    nb.cells[_index(nb, "test_dense_forward")].metadata = {}
    subs["stripped_test"] = nb
    nb = solution_submission(course, NB)
    answer = next(nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade")
                  and nbgrader_meta(c).get("solution"))
    assert nbgrader_meta(nb.cells[_index(nb, answer) - 1]).get("locked")
    del nb.cells[_index(nb, answer)]
    subs["deleted_answer"] = nb
    nb = solution_submission(course, NB)
    k = _index(nb, "test_dense_forward")
    nb.cells.insert(k + 1, nbformat.from_dict(dict(nb.cells[k])))  # same grade id and cell id
    subs["pasted_copy"] = nb
    for student, nb in subs.items():
        submit(course, student, NB, nb)
    # two shards, one per core: the runaway students' timeouts and the others' cells overlap
    log = autograde(course, A, db, "--Execute.timeout=5", "--HardenedExecute.interrupt_grace=3")
    srv.close()
    return course, db, scores(db), log


def _index(nb, gid):
    return next(k for k, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == gid)


def _tests(course):
    src = nbformat.read(course / "solutions" / A / f"{N}.ipynb", as_version=4)
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in graded_tests(src)}


def auto(grades, student):
    cells = grades[(student, A, N)]
    return {gid: score for gid, (score, _, manual) in cells.items() if gid.startswith("test_")}


def test_whole_batch_graded_and_honest_full_marks(graded):
    course, db, grades, log = graded
    tests = _tests(course)
    students = {s for s, _, _ in grades}
    assert students == {p.name for p in (course / "submitted").iterdir()}, "every submission was graded"
    assert auto(grades, "honest") == tests
    assert all(v == 0 for v in auto(grades, "blank").values())
    for student, cells in grades.items():
        for gid, (score, max_score, manual) in cells.items():
            if gid.startswith("test_"):
                assert not manual, f"{student}: {gid} left as 'needs manual grade'"
                assert max_score == tests[gid], f"{student}: {gid} has max score {max_score}"


def test_a_long_student_id_in_a_deep_folder_is_graded(graded):
    course, _, grades, _ = graded
    assert len(str(course / "autograded" / LONG_ID / A)) > 107, "deep enough to overflow a socket path"
    assert auto(grades, LONG_ID) == _tests(course)


@pytest.mark.parametrize("student", ["loops", "ignores_interrupt", "catches_interrupt"])
def test_runaway_cell_scores_zero_and_the_rest_is_graded(graded, student):
    course, _, grades, log = graded
    expected = {**_tests(course), "test_neuron": 0.0}
    assert auto(grades, student) == expected


def test_kernel_that_ignores_interrupts_is_restarted(graded):
    *_, log = graded
    assert "ignored the interrupt: restarting it" in log


@pytest.mark.parametrize("student,expected", [
    ("edited_test", {"test_dense_forward": 0.0, "test_mlp_forward": 0.0, "test_worked_example_forward": 0.0}),
    ("ungraded_test", {}),
    ("deleted_test", {}),
    ("stripped_test", {}),
    ("pasted_copy", {}),
])
def test_broken_cells_are_restored_with_original_test_and_points(graded, student, expected):
    course, _, grades, _ = graded
    assert auto(grades, student) == {**_tests(course), **expected}


def test_deleted_written_answer_is_restored(graded):
    course, _, grades, _ = graded
    cells = grades[("deleted_answer", A, N)]
    src = nbformat.read(course / "solutions" / A / f"{N}.ipynb", as_version=4)
    answers = [nbgrader_meta(c)["grade_id"] for c in src.cells if nbgrader_meta(c).get("grade")
               and nbgrader_meta(c).get("solution")]
    assert set(answers) <= set(cells), "every written answer has a grade entry"
    assert auto(grades, "deleted_answer") == _tests(course)


def test_replacing_numpy_or_eq_does_not_pass_a_wrong_answer(graded):
    course, _, grades, _ = graded
    assert auto(grades, "cheats")["test_neuron"] == 0.0
    assert auto(grades, "cheats") == {**_tests(course), "test_neuron": 0.0}


def test_sandbox_refuses_and_honest_work_still_counts(graded):
    course, _, grades, _ = graded
    nb = nbformat.read(course / "autograded" / "evil" / A / f"{N}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream")
    probe = json.loads(text.split("PROBE ", 1)[1].splitlines()[0])
    assert not (course / "autograded" / "evil" / A / "probe.json").exists(), \
        "what the kernel writes in its working folder stays in the sandbox"
    assert probe["read_solutions"].startswith("refused"), probe
    assert probe["list_solutions"] == [], probe
    assert probe["read_gradebook"] == 0 or str(probe["read_gradebook"]).startswith("refused"), \
        "the gradebook is hidden behind /dev/null inside the sandbox"
    assert probe["list_submissions"] == [], probe
    for where in ("write_outside", "write_home", "write_tmp"):
        assert probe[where] == "refused: OSError", probe
    assert probe["network"].startswith("refused"), probe
    assert not (course / "pwned.txt").exists()
    assert auto(grades, "evil") == _tests(course), "the answer itself is right and gets its points"


def test_honest_grades_are_the_same_without_the_sandbox(graded):
    course, db, grades, _ = graded
    again = make_course(course_dir("no-sandbox"))
    db2 = sqlite_url(again)
    nbgrader(again, "generate_assignment", A, "--force", db=db2)
    for student in ("honest", "hidden_only"):
        submit(again, student, NB, nbformat.read(course / "submitted" / student / A / f"{N}.ipynb", as_version=4))
    autograde(again, A, db2, "--SandboxedKernelManager.mode=off")
    plain = scores(db2)
    for student in ("honest", "hidden_only"):
        assert plain[(student, A, N)] == grades[(student, A, N)]


def test_prescreen_reports_every_broken_submission(graded):
    course, *_ = graded
    proc = subprocess.run([sys.executable, "-m", "backprop_lab", "pre-screen", A], cwd=course,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    blocks = {m.group(1): m.group(2) for m in re.finditer(r"^(\w+) 01-forward/forward:\n((?:  .*\n?)*)", out, re.M)}
    assert "edited test_dense_forward" in blocks["edited_test"] and "points: 2 -> 100" in blocks["edited_test"]
    assert "metadata test_dense_forward" in blocks["ungraded_test"]
    assert "missing test_dense_forward" in blocks["deleted_test"]
    assert "stripped test_dense_forward" in blocks["stripped_test"]
    assert "duplicated test_dense_forward" in blocks["pasted_copy"]
    assert "missing answer_" in blocks["deleted_answer"]
    assert "replaces a NumPy function" in blocks["cheats"] and "defines __eq__" in blocks["cheats"]
    assert "names a grading folder" in blocks["evil"] or "opens network" in blocks["evil"]
    for clean in ("honest", "blank", "hidden_only"):
        assert clean not in blocks


def test_feedback_reveals_no_hidden_test(graded):
    course, db, grades, _ = graded
    nbgrader(course, "generate_feedback", A, "--force", db=db)
    src = nbformat.read(course / "solutions" / A / f"{N}.ipynb", as_version=4)
    hidden_lines = set()
    for cell in graded_tests(src):
        for region in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
            hidden_lines |= {line.strip() for line in region.splitlines() if len(line.strip()) > 12}
    release = nbformat.read(course / "notebooks" / A / f"{N}.ipynb", as_version=4)
    visible = {line.strip() for c in release.cells for line in c.source.splitlines()}
    hidden_lines -= visible  # lines that are hidden only
    assert len(hidden_lines) > 5
    assert auto(grades, "hidden_only")["test_sigmoid"] == 0.0, "this student fails a hidden test"
    for student in ("hidden_only", "honest", "cheats", "evil"):
        html = (course / "feedback" / student / A / f"{N}.html").read_text()
        import html as html_lib
        text = html_lib.unescape(re.sub(r"<[^>]+>", "", html))
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked[:3]}"
        assert "BEGIN HIDDEN TESTS" not in text
    text = (course / "feedback" / "hidden_only" / A / f"{N}.html").read_text()
    assert "Task 1.2 sigmoid" in text, "the failure message itself is shown"


def _canvas_roster(course, students) -> Path:
    """A roster as Canvas exports it: every graded student (their login is the course's id), one
    who handed nothing in, and Canvas's test student."""
    path = course / "canvas" / "gradebook.csv"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{A} (88001)", "Current Score"])
        w.writerow(["    Points Possible", "", "", "", "", "100.00", "(read only)"])
        for k, sid in enumerate(students + ["absent"]):
            w.writerow([f"Student {k}", str(5000 + k), f"S{k}", sid, "Section A", "", ""])
        w.writerow(["Student, Test", "5999", "", "", "Section A", "", ""])
    return path


def test_canvas_export_parses_back_to_the_gradebook(graded):
    course, db, _, _ = graded
    # a copy of the gradebook in which half the class's written answers are graded by hand
    copy = course / "canvas.db"
    shutil.copy(course / "gradebook.db", copy)
    db = db.replace(str(course / "gradebook.db"), str(copy))
    with Gradebook(db) as gb:
        students = sorted(s.id for s in gb.students)
        for sid in students[::2]:
            for grade in gb.find_submission_notebook(N, A, sid).grades:
                if grade.needs_manual_grade and grade.manual_score is None:
                    grade.manual_score = grade.max_score / 2
        gb.db.commit()
    grades = scores(db)
    roster = _canvas_roster(course, students)
    plugin = "--exporter=backprop_lab.instructor.reports.canvas.CanvasGradesExport"
    nbgrader(course, "export", plugin, f"--CanvasGradesExport.roster={roster}", "--to", "canvas.csv", db=db)
    with open(course / "canvas.csv", newline="") as f:
        header, points, *rows = list(csv.reader(f))
    # Canvas's identity columns as exported, then the assignment's own column, matched by name
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{A} (88001)"]
    assert points[0] == "Points Possible"
    with Gradebook(db) as gb:
        assert float(points[-1]) == gb.find_assignment(A).max_score
        pending = {sid for sid in students if any(g.needs_manual_grade and g.manual_score is None
                                                  for g in gb.find_submission_notebook(N, A, sid).grades)}
    assert pending and len(pending) < len(students)
    by_login = {r[3]: r for r in rows}
    assert set(by_login) == set(students) | {"absent", ""}
    assert by_login["absent"][-1] == "" and by_login[""][-1] == ""  # nothing handed in: left as it is
    for student in students:
        if student in pending:  # a written answer waits for its grade: no partial total
            assert by_login[student][-1] == "", student
        else:
            total = sum(score for score, _, _ in grades[student, A, N].values())
            assert float(by_login[student][-1]) == pytest.approx(total), student
    # a student of the gradebook who is not on the roster stops the export, named
    short = _canvas_roster(course, students[1:])
    p = nbgrader(course, "export", plugin, f"--CanvasGradesExport.roster={short}", "--to", "x.csv", db=db,
                 check=False)
    assert p.returncode != 0 and f"not on the Canvas roster {short} (column 'SIS Login ID'): {students[0]}" in p.stderr


def test_export_csv_matches_the_gradebook(graded):
    course, db, grades, _ = graded
    nbgrader(course, "export", "--to", "grades.csv", db=db)
    with open(course / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    maxima, students = rows[0], {r["student_id"]: r for r in rows[1:]}
    assert maxima["student_id"] == "(max)"
    assert set(students) == {s for s, _, _ in grades}
    for (student, a, n), cells in grades.items():
        row = students[student]
        for gid, (score, max_score, manual) in cells.items():
            col = f"{a}/{n}/{gid}"
            assert float(maxima[col]) == max_score
            if manual and gid.startswith("answer"):
                continue
            assert float(row[col]) == score, (student, col)
        notebook_total = sum(s for s, _, _ in cells.values())
        assert float(row[f"{a}/{n}"]) == pytest.approx(notebook_total)
