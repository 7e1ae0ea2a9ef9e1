"""Tools for instructors, by pipeline stage (see docs/architecture.md and the instructor guide):
``release`` the student notebooks, ``prescreen`` the submissions, ``hardening`` (nbgrader's
repair, execute and feedback steps, the sandbox and the limits), grading ``runs`` (shards,
the gradebook server, the demo class) and ``reports``; the ``catalogues`` of mistakes,
shortcuts and tampering the tests check them with. ``course`` (the course's layout) and
``execute`` (graded cells, and running a notebook in a kernel) serve every stage."""
