"""Canvas: its roster (the gradebook CSV that *Grades → Export* downloads) and its bulk
download of an assignment's submissions (*Assignment → Download Submissions*), collected with
``nbgrader zip_collect``.

Canvas names every file in that download
``<name>[_late]_<user id>_<submission id>_<file as uploaded>``, for example
``smithjane_late_4242_917311_forward-1.ipynb``: ``<name>`` is the student's name, lower case
and without spaces, ``_late`` is there when Canvas counted the submission late, ``<user id>``
is the student's Canvas ID (the roster's ``ID`` column), and Canvas appends ``-1``, ``-2``, …
to a file a student uploaded again under the same name. A student who uploaded a zip gets it
extracted by zip_collect into a folder named after it, so the Canvas name may be on a folder
above the notebook.

The Canvas ID is mapped to the course's student id through the roster: by default its
``SIS Login ID`` column (:attr:`CanvasCollector.student_id_column`), since that is the login a
JupyterHub or the exchange knows the student by. In ``nbgrader_config.py``::

    c.ZipCollectApp.collector_plugin = "backprop_lab.instructor.collect.canvas.CanvasCollector"
    c.CanvasCollector.roster = "canvas/gradebook.csv"

A file whose Canvas ID is not on the roster stops the collection with its name: guessing a
student, or skipping the file, would lose someone's work.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from nbgrader.plugins.zipcollect import FileNameCollectorPlugin
from traitlets import Unicode

__all__ = ["CanvasCollector", "Roster", "read_roster", "parse_filename", "IDENTITY"]

# the columns of a Canvas gradebook CSV that say who a row is (the rest are grades); Canvas
# matches an imported row on ID, and wants the others present as exported
IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
# rows of the export below the header that are not students
_NOT_STUDENTS = ("Points Possible", "Manual Posting", "Muted")

_FILENAME = re.compile(r"(?P<name>[^_/]+?)(?P<late>_late)?_(?P<user_id>\d+)_(?P<submission_id>\d+)_(?P<file>.+)")
_RESUBMITTED = re.compile(r"(?P<stem>.+?)-\d+(?P<ext>\.[^.]+)")


@dataclass(frozen=True)
class Roster:
    """A Canvas gradebook CSV: its header, the points-possible row (or None) and the students.

    ``rows`` are dicts keyed by the header, one per student, in the file's order.
    """

    path: Path
    header: list
    points: dict | None
    rows: list

    def by_canvas_id(self) -> dict:
        return {row["ID"]: row for row in self.rows}

    def by_column(self, column: str) -> dict:
        """The students keyed by ``column`` (their course id). A row with an empty key is left out
        (Canvas's *Test Student* has no SIS login); a repeated key is an error."""
        if column not in self.header:
            raise ValueError(f"the Canvas roster {self.path} has no column {column!r}; its columns: "
                             f"{', '.join(h for h in self.header if h in IDENTITY) or ', '.join(self.header[:6])}")
        out = {}
        for row in self.rows:
            key = row[column].strip()
            if not key:
                continue
            if key in out:
                raise ValueError(f"{column!r} {key!r} is on two rows of {self.path}")
            out[key] = row
        return out


def read_roster(path) -> Roster:
    """Read a gradebook CSV exported from Canvas (it may start with a byte-order mark)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no Canvas roster at {path}: export it from Canvas (Grades → Export → CSV)")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or "Student" not in header or "ID" not in header:
            raise ValueError(f"{path} is not a Canvas gradebook CSV: its first row must name the columns "
                             f"'Student' and 'ID', got {header}")
        points, rows = None, []
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise ValueError(f"{path}, row {line}: {len(values)} values under {len(header)} columns")
            row = dict(zip(header, values))
            first = row["Student"].strip()
            if first in _NOT_STUDENTS or (not row["ID"].strip() and not first):
                if first == "Points Possible":
                    points = row
                continue
            if not row["ID"].strip().isdigit():
                raise ValueError(f"{path}, row {line}: Canvas ID {row['ID']!r} of {first!r} is not a number")
            rows.append(row)
    return Roster(path, header, points, rows)


def parse_filename(path) -> dict | None:
    """The Canvas parts of a downloaded file's path, from the file or the nearest folder above it
    that Canvas named (a zip the student uploaded): ``{"name", "late", "user_id",
    "submission_id", "file"}`` with ``file`` the notebook's name as released (Canvas's ``-N``
    suffix for a file uploaded again removed), or None when no part of the path is Canvas's."""
    path = Path(path)
    for part in [path.name, *(p.name for p in path.parents)]:
        m = _FILENAME.fullmatch(part)
        if m is None:
            continue
        info = m.groupdict()
        info["late"] = bool(info["late"])
        if part != path.name:  # inside an uploaded zip: the notebook keeps its own name
            info["file"] = path.name
        else:
            again = _RESUBMITTED.fullmatch(info["file"])
            if again:
                info["file"] = again["stem"] + again["ext"]
        return info
    return None


class CanvasCollector(FileNameCollectorPlugin):
    """``nbgrader zip_collect``'s collector for a Canvas bulk download (see the module's doc)."""

    roster = Unicode("", help="The course's gradebook CSV exported from Canvas "
                              "(relative to the course root)").tag(config=True)
    student_id_column = Unicode("SIS Login ID", help="The roster's column that holds the course's "
                                                     "student ids").tag(config=True)

    _students = None

    def _by_canvas_id(self) -> dict:
        if self._students is None:
            if not self.roster:
                self._stop("CanvasCollector.roster is not set: point it at the gradebook CSV exported "
                           "from Canvas (Grades → Export), in nbgrader_config.py")
            try:
                roster = read_roster(self.roster)
                ids = roster.by_column(self.student_id_column)  # checks the column and its keys
            except (OSError, ValueError) as exc:
                self._stop(str(exc))
            self._students = {row["ID"]: sid for sid, row in ids.items()}
            self._unnamed = {row["ID"]: row["Student"] for row in roster.rows if row["ID"] not in self._students}
        return self._students

    def _stop(self, message: str):
        """Stop zip_collect as nbgrader's own checks do (before it has moved any file)."""
        self.log.error(message)
        raise SystemExit(1)

    def collect(self, submitted_file: str) -> dict | None:
        """``{"student_id", "file_id"}`` of one downloaded file, or None (skipped) for a file whose
        path Canvas did not name (one an unzipped folder holds beside the submissions, say)."""
        ext = Path(submitted_file).suffix
        if ext not in self.valid_ext:
            return None
        info = parse_filename(submitted_file)
        if info is None:
            self.log.warning("not a Canvas submission file name, skipped: %s", submitted_file)
            return None
        students = self._by_canvas_id()
        if info["user_id"] in self._unnamed:
            self._stop(f"{Path(submitted_file).name}: {self._unnamed[info['user_id']]!r} (Canvas ID "
                       f"{info['user_id']}) has no {self.student_id_column!r} on the roster {self.roster}, "
                       "so the course cannot name them; fill it in Canvas or choose another "
                       "CanvasCollector.student_id_column")
        if info["user_id"] not in students:
            self._stop(f"{Path(submitted_file).name}: Canvas ID {info['user_id']} ({info['name']}) is not "
                       f"on the roster {self.roster}; export the roster again from Canvas, then "
                       "run zip_collect again")
        if info["late"]:
            self.log.info("Canvas marked %s's submission late: %s", students[info["user_id"]], submitted_file)
        return {"student_id": students[info["user_id"]], "file_id": info["file"]}
