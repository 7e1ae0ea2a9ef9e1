"""Tools for instructors: release the student notebooks, the catalogue of common mistakes,
and (see the README's instructor guide) grading the class with nbgrader."""
