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

# The hardened pipeline (backprop_lab/instructor/hardening.py): submissions are repaired
# against the release before grading, student kernels run in a sandbox (bubblewrap), a cell
# that ignores interrupts costs only that cell, feedback hides the hidden tests, and
# `nbgrader export` writes one row per student with a column per notebook and task.
import os  # noqa: E402

from backprop_lab.instructor.hardening import configure  # noqa: E402

configure(c, os.path.dirname(os.path.abspath(__file__)))
