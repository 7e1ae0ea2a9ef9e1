r"""The checks that the course notebooks' test cells call.

Every test cell starts with ``t = task("2.1 dense_forward")`` and then calls the checks of
that task::

    from backprop_lab.grading import task
    t = task("1.3 dense_forward")
    out = t.call(dense_forward, X, W, b)        # not implemented? modified its input?
    t.shape(out, (4, 3), "dense_forward(X, W, b)")
    t.close(out, X @ W + b, "dense_forward(X, W, b)")

A failing check raises :class:`GradingError` (an ``AssertionError``, so nbgrader scores the
cell 0) whose message names the task, what was expected, what was found and, where the
numbers show it, the usual cause::

    Task 1.3 dense_forward: dense_forward(X, W, b) has shape (3, 4); expected (4, 3).
    Hint: the result is the transpose of what was expected: one sample per row, one unit per column.

Tests cannot be fooled by a student cell that replaces NumPy functions (``np.allclose =
lambda *a, **k: True``): :func:`task` restores every NumPy function that a cell replaced
before the test runs, and the checks compare numbers with functions captured when this
module was imported, on plain ``ndarray`` copies, never with the student's objects' own
``__eq__``.
"""

from .checks import GradingError, Task, task, watch_cells
from .state import protect_package, restore_numpy

__all__ = ["task", "Task", "GradingError", "restore_numpy", "protect_package", "watch_cells"]

# Importing grading records NumPy's functions and the library's before any answer could replace
# them (each notebook's setup cell imports it first); every task() adds the modules loaded since.
protect_package()
