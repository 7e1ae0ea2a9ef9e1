"""nbgrader configuration of the backprop-lab course.

Instructors run nbgrader from this folder (the course root): `solutions/` is the source of
every assignment and `notebooks/` its student release. See README, "For instructors".
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "backprop-lab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# Student code stubs: every solution region becomes this, so an unanswered task fails
# its tests loudly instead of passing by accident.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Executing a notebook (autograde, validate): a cell that runs longer than this is
# interrupted and scores 0; the rest of the notebook still runs.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# An unresponsive cell costs that cell, not the submission: a missing iopub message after
# the timeout is recorded as that cell's failure instead of aborting the notebook.
c.Execute.raise_on_iopub_timeout = False

# The hardened pipeline (backprop_lab/instructor/hardening/): submissions are repaired
# against the release before grading, student kernels run in a sandbox (bubblewrap), a cell
# that ignores interrupts costs only that cell, feedback hides the hidden tests, and
# `nbgrader export` writes one row per student with a column per notebook and task.
# What one grading kernel may use (backprop_lab/instructor/hardening/limits.py). Past a limit
# the cell gets a MemoryError, a full disk or a refused process, or the kernel is restarted and
# the rest of the notebook graded; the cell's output says which limit it met. 0 switches a limit
# off. `backprop-lab grading-limits` shows what this host enforces and what a kernel sees.
GiB, MiB = 2**30, 2**20
c.KernelLimits.memory = 4 * GiB          # address space of each process (an honest kernel: 1.1 GB)
c.KernelLimits.processes = 128           # processes and threads at once (an honest kernel: 16)
c.KernelLimits.disk = 512 * MiB          # each writable folder: working folder, TMPDIR, /dev/shm
c.KernelLimits.cpu = 30                  # CPU seconds per cell, all its processes (honest: at most 1.2)
c.KernelLimits.output = 1 * MiB          # output one cell keeps; the rest is cut with a note
c.KernelLimits.output_notebook = 8 * MiB  # output one notebook keeps

# Late work (backprop_lab/instructor/hardening/late.py): the due date is the gradebook's
# (`nbgrader db assignment add 01-forward --duedate="2026-11-01 12:00 UTC"`); a submission
# later than it, plus the student's extension and the grace period, loses `percent` of each
# notebook's score per started `per`, at most `cap`. 0 takes nothing.
c.LatePenalty.percent = 0
c.LatePenalty.per = "day"                 # or "hour"
c.LatePenalty.grace = 30                  # minutes
c.LatePenalty.cap = 50                    # percent
c.LatePenalty.extensions = {}             # {"01-forward": {"alice": 48}}: hours more

# From and to Canvas (docs/instructor-guide.md): `nbgrader zip_collect` of its bulk download, and
# `nbgrader export --exporter=backprop_lab.instructor.reports.canvas.CanvasGradesExport` for its
# gradebook import. Both read the roster Canvas exports (Grades -> Export -> CSV).
# c.ZipCollectApp.collector_plugin = "backprop_lab.instructor.collect.canvas.CanvasCollector"
# c.CanvasCollector.roster = "canvas/gradebook.csv"
# c.CanvasGradesExport.roster = "canvas/gradebook.csv"

import os  # noqa: E402

from backprop_lab.instructor.hardening import configure  # noqa: E402

configure(c, os.path.dirname(os.path.abspath(__file__)))
