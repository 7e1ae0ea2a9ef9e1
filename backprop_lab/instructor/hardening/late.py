"""Late work: a penalty per hour or day after the due date, with a grace period, a cap and
per-student extensions, as nbgrader's late-submission plugin (``AssignLatePenalties``, a step
of ``nbgrader autograde``).

In ``nbgrader_config.py`` (:func:`..configure` installs the plugin; with ``percent = 0``, the
default, nothing is taken)::

    c.LatePenalty.percent = 10      # of the notebook's score, per started day late
    c.LatePenalty.per = "day"       # or "hour"
    c.LatePenalty.grace = 30        # minutes after the due date that cost nothing
    c.LatePenalty.cap = 50          # never more than this percent of the score
    c.LatePenalty.extensions = {"01-forward": {"alice": 48}}  # hours more for these students

The due date is the assignment's in the gradebook (``nbgrader db assignment add 01-forward
--duedate="2026-11-01 12:00 UTC"``), the submission time is the one nbgrader recorded at
``submit`` (``timestamp.txt``). A submission later than the due date plus the student's
extension plus the grace period loses ``percent`` for every started ``per`` since the due date
(plus extension), at most ``cap``. The extensions of the config are written into the gradebook
(nbgrader's own per-student extension, which the formgrader and feedback show); one the
gradebook already has for a student the config does not name is kept.
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Dict, Enum, Float

__all__ = ["LatePenalty", "penalty_percent"]

_SECONDS = {"hour": 3600, "day": 86400}


def penalty_percent(seconds_late: float, percent: float, per: str, grace_minutes: float, cap: float) -> float:
    """The percent of the score taken from a submission ``seconds_late`` after its due date."""
    if seconds_late <= grace_minutes * 60:
        return 0.0
    return min(cap, percent * math.ceil(seconds_late / _SECONDS[per]))


class LatePenalty(LateSubmissionPlugin):
    """nbgrader's late-submission plugin for the course (see the module's doc)."""

    percent = Float(0.0, min=0.0, max=100.0, help="Percent of a notebook's score taken per started "
                                                   "`per` late (0: no penalty)").tag(config=True)
    per = Enum(("hour", "day"), default_value="day", help="The unit `percent` is taken per").tag(config=True)
    grace = Float(0.0, min=0.0, help="Minutes after the due date (and extension) that cost nothing").tag(config=True)
    cap = Float(100.0, min=0.0, max=100.0, help="At most this percent of the score is taken").tag(config=True)
    extensions = Dict(value_trait=Dict(value_trait=Float(min=0.0)),
                      help="{assignment: {student: hours}}: more time for these students").tag(config=True)

    def _seconds_late(self, student_id: str, seconds: float) -> float:
        """The lateness after the config's extension for this student, written to the gradebook."""
        step = self.parent  # nbgrader's AssignLatePenalties, with the gradebook open
        assignment = getattr(step, "assignment_id", None)
        hours = self.extensions.get(assignment, {}).get(student_id)
        if hours is None:
            return seconds
        gb = step.gradebook
        unknown = sorted(set(self.extensions[assignment]) - {s.id for s in gb.students})
        if unknown:
            self.log.warning("LatePenalty.extensions[%r] names students the gradebook does not know: %s",
                             assignment, ", ".join(unknown))
        gb.grant_extension(assignment, student_id, hours=hours)
        late = gb.find_submission(assignment, student_id).total_seconds_late
        self.log.info("%s has an extension of %g h for %s: %.0f s late", student_id, hours, assignment, late)
        return late

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        late = self._seconds_late(student_id, total_seconds_late)
        pct = penalty_percent(late, self.percent, self.per, self.grace, self.cap)
        self.log.info("%s is %.0f s late: %g%% of %g taken", student_id, late, pct, score)
        return score * pct / 100.0
