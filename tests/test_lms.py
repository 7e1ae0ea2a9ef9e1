"""From and to Canvas: its bulk download of submissions collected with the real
``nbgrader zip_collect`` and the course's collector, and its roster read as Canvas exports it.
(The grade export in Canvas's import format is checked on an autograded gradebook, in
tests/test_grading_pipeline.py.)"""

from __future__ import annotations

import io
import zipfile

import nbformat
import pytest

from backprop_lab.instructor.collect.canvas import parse_filename, read_roster

from grading_helpers import course_dir, make_course, nbgrader, solution_submission

A, N = "01-forward", "forward"
COLLECTOR = "--ZipCollectApp.collector_plugin=backprop_lab.instructor.collect.canvas.CanvasCollector"

# as Canvas exports a gradebook: a byte-order mark, the points row, the test student
ROSTER = ("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,01-forward (88001),Current Score\n"
          "    Points Possible,,,,,100.00,(read only)\n"
          '"Smith, Jane",4242,S100,jsmith,Section A,,\n'
          '"Doe, John",4243,S101,jdoe,Section A,,\n'
          '"Lee, Alex",4244,S102,alee,Section B,,\n'
          '"Nguyen, Kim",4245,S103,knguyen,Section B,,\n'
          '"Student, Test",4299,,,Section A,,\n')


@pytest.mark.parametrize("name, expected", [
    ("smithjane_4242_917311_forward.ipynb", ("smithjane", False, "4242", "forward.ipynb")),
    ("doejohn_late_4243_917312_forward-1.ipynb", ("doejohn", True, "4243", "forward.ipynb")),
    ("oconnor-ann_4250_917399_forward-12.ipynb", ("oconnor-ann", False, "4250", "forward.ipynb")),
    ("leealex_4244_917313_work.zip/forward.ipynb", ("leealex", False, "4244", "forward.ipynb")),
    ("leealex_4244_917313_work.zip/sub/my-1.ipynb", ("leealex", False, "4244", "my-1.ipynb")),
])
def test_canvas_file_names_are_parsed(name, expected):
    info = parse_filename("/course/downloaded/01-forward/extracted/" + name)
    assert (info["name"], info["late"], info["user_id"], info["file"]) == expected


@pytest.mark.parametrize("name", ["forward.ipynb", "smithjane_forward.ipynb", "smithjane_x_1_f.ipynb"])
def test_other_file_names_are_not_canvas_ones(name):
    assert parse_filename("/d/extracted/" + name) is None


def test_the_roster_is_read_as_canvas_exports_it(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text(ROSTER, encoding="utf-8")
    roster = read_roster(path)
    assert roster.header[0] == "Student"  # the byte-order mark is not part of the first column's name
    assert roster.points["01-forward (88001)"] == "100.00"
    assert [r["ID"] for r in roster.rows] == ["4242", "4243", "4244", "4245", "4299"]
    # Canvas's Test Student has no SIS login: not one of the course's students
    assert list(roster.by_column("SIS Login ID")) == ["jsmith", "jdoe", "alee", "knguyen"]
    path.write_text(ROSTER.replace("S101,jdoe", "S101,jsmith"), encoding="utf-8")
    with pytest.raises(ValueError, match="'SIS Login ID' 'jsmith' is on two rows"):
        read_roster(path).by_column("SIS Login ID")
    with pytest.raises(ValueError, match="has no column 'Login'; its columns: Student, ID, SIS User ID"):
        roster.by_column("Login")


@pytest.mark.parametrize("text, message", [
    ("name,id\n", "is not a Canvas gradebook CSV: its first row must name the columns 'Student' and 'ID'"),
    ("Student,ID\nJane,4242,extra\n", "row 2: 3 values under 2 columns"),
    ("Student,ID\nJane,x42\n", "row 2: Canvas ID 'x42' of 'Jane' is not a number"),
])
def test_a_broken_roster_is_refused_with_its_row(tmp_path, text, message):
    path = tmp_path / "gradebook.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_roster(path)


def _roster(course, text=ROSTER):
    path = course / "canvas" / "gradebook.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _download(course, files: dict) -> None:
    """Canvas's bulk download of the assignment, where zip_collect looks for it."""
    archive = course / "downloaded" / A / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


def _nb_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


@pytest.mark.nbgrader
def test_a_canvas_download_is_collected_into_the_course():
    course = make_course(course_dir("canvas-collect"))
    roster = _roster(course)
    honest = _nb_bytes(solution_submission(course, f"{A}/{N}"))
    blank = (course / "notebooks" / A / f"{N}.ipynb").read_bytes()
    uploaded = io.BytesIO()
    with zipfile.ZipFile(uploaded, "w") as z:
        z.writestr("forward.ipynb", honest)
    _download(course, {
        "smithjane_4242_917311_forward.ipynb": honest,
        "doejohn_late_4243_917312_forward-1.ipynb": blank,  # uploaded again, and late
        "leealex_4244_917313_work.zip": uploaded.getvalue(),  # a zip of the notebook
        "smithjane_4242_917311_notes.txt": b"not a notebook",
    })
    p = nbgrader(course, "zip_collect", A, COLLECTOR, f"--CanvasCollector.roster={roster}")
    submitted = course / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["alee", "jdoe", "jsmith"]
    assert (submitted / "jsmith" / A / f"{N}.ipynb").read_bytes() == honest
    assert (submitted / "jdoe" / A / f"{N}.ipynb").read_bytes() == blank
    assert (submitted / "alee" / A / f"{N}.ipynb").read_bytes() == honest
    assert not list(submitted.rglob("*.txt"))
    assert "Canvas marked jdoe's submission late" in p.stdout + p.stderr


@pytest.mark.nbgrader
def test_a_download_with_a_student_not_on_the_roster_stops_with_the_file():
    course = make_course(course_dir("canvas-unknown"))
    roster = _roster(course)
    _download(course, {"smithjane_4242_917311_forward.ipynb": b"{}",
                       "newstudent_5000_917400_forward.ipynb": b"{}"})
    p = nbgrader(course, "zip_collect", A, COLLECTOR, f"--CanvasCollector.roster={roster}", check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "newstudent_5000_917400_forward.ipynb: Canvas ID 5000 (newstudent) is not on the roster" in out
    assert not (course / "submitted").exists() or not list((course / "submitted").rglob("*.ipynb"))


@pytest.mark.nbgrader
def test_a_submission_of_a_student_without_a_course_id_stops_with_the_file():
    course = make_course(course_dir("canvas-unnamed"))
    _download(course, {"studenttest_4299_917401_forward.ipynb": b"{}"})
    p = nbgrader(course, "zip_collect", A, COLLECTOR, f"--CanvasCollector.roster={_roster(course)}", check=False)
    assert p.returncode != 0
    assert "'Student, Test' (Canvas ID 4299) has no 'SIS Login ID' on the roster" in p.stdout + p.stderr
