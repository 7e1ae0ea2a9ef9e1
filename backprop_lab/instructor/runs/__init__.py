"""Grading runs: ``nbgrader autograde`` split by student into parallel shards
(:mod:`.autograde`), a throw-away PostgreSQL gradebook (:mod:`.pgserver`), and the demo class
(:mod:`.democlass`), whose submissions are the solutions with the catalogues' variants and mistakes
applied (:mod:`.submissions`)."""
