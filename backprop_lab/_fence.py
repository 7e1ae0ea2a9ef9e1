"""The reference fence: the library's own implementations refuse to answer a graded task.

The course library holds a reference implementation of nearly everything the students are
asked to write (the MLP's forward and backward pass, the losses, the gradient checker,
the symbolic deltas). It stays in the students' environment: it is there to explore and to
check against. But while a graded test exercises a student's answer, a reference may not
serve the student's code, or the task's points would go to the library.

Every reference starts with one line, ``check()``, and is registered under a public name
with :func:`reference`::

    @reference("gradcheck.rel_error")
    def rel_error(a, b):
        check()
        ...

The check is inside the function's own code, so no unguarded copy exists to reach: aliases,
bound methods, partials, subclasses, copies and ``from_params`` networks all run it.

While the fence is *armed* (by :mod:`backprop_lab.grading` during a test), a reference
refuses when the call comes from student code: walking out from the reference, the first
frame that is either student code or another reference decides. A reference called from a
reference (the library calling itself) is allowed; one reached from student code is refused
unless the task allows it (``task("6.4 train", allow=["MLP.loss", "MLP.gradients"])`` lets a
student's training loop use the network it is given). Student code is any code that does
not come from the Python installation or this package: notebook cells, strings given to
``exec``, files written next to the notebook. The test cell that is running is registered as
the grader's own. A call on any other thread than the main one, while armed, is refused too:
a thread's stack would hide who started it.

A refusal raises :class:`FencedReference` and is recorded, so that a student who catches the
exception still loses the task's points. This module is part of the network core: it imports
nothing from the rest of the package.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
from types import CodeType

__all__ = ["reference", "check", "FencedReference", "Violation", "references", "armed", "state"]

#: code object of every reference -> its public name (e.g. "MLP.gradients")
_REGISTRY: dict[CodeType, str] = {}


class FencedReference(AssertionError):
    """A reference implementation refused to serve student code during a graded test.

    An ``AssertionError``, so that a test cell that lets it through scores 0 in nbgrader.
    """


class Violation:
    """One refused call: which task was being graded and which reference was called."""

    __slots__ = ("task", "reference")

    def __init__(self, task: str, reference: str):
        self.task, self.reference = task, reference

    def __repr__(self) -> str:
        return f"Violation(task={self.task!r}, reference={self.reference!r})"


class _State:
    """What the fence knows: armed or not, for which task, what it allows, what it refused."""

    __slots__ = ("depth", "task", "allow", "violations", "test_files", "_roots", "_student_code")

    def __init__(self):
        self.depth = 0                       # > 0: armed (nested arms from t.call and the test cell)
        self.task: str | None = None
        self.allow: tuple[str, ...] = ()
        self.violations: list[Violation] = []
        self.test_files: frozenset[str] = frozenset()
        self._roots: tuple[str, ...] | None = None
        self._student_code: dict[CodeType, bool] = {}


state = _State()


def reference(name: str):
    """Register a function (or the function of a classmethod, staticmethod or property) as
    the reference ``name``. The function itself must call :func:`check` first; it is
    returned unchanged, so that no unguarded copy exists.
    """
    def register(obj):
        func = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
        code = getattr(func, "__code__", None)
        if code is None:
            raise TypeError(f"reference {name!r}: {obj!r} is not a Python function")
        if "check" not in code.co_names:
            raise TypeError(f"reference {name!r}: {func.__qualname__} does not call check()")
        _REGISTRY[code] = name
        return obj
    return register


def references() -> dict[str, list[str]]:
    """Every registered reference: public name -> the functions (``file:name``) that check it."""
    out: dict[str, list[str]] = {}
    for code, name in _REGISTRY.items():
        out.setdefault(name, []).append(f"{code.co_filename}:{code.co_name}")
    return out


def armed() -> bool:
    """Whether a graded test is running (the fence refuses student calls)."""
    return state.depth > 0


def check() -> None:
    """The first line of every reference: refuse student code while a test runs."""
    if state.depth:  # one attribute read when no test runs: references stay as fast as before
        _decide(sys._getframe(2), sys._getframe(1).f_code)


def _decide(frame, own_code: CodeType) -> None:
    name = _REGISTRY.get(own_code, own_code.co_name)
    if _allowed(name):
        return
    if threading.current_thread() is not threading.main_thread():
        _refuse(name)
    while frame is not None:
        code = frame.f_code
        if code in _REGISTRY:
            return  # called by another reference: that one has been decided already
        if _is_student(code):
            _refuse(name)
        frame = frame.f_back


def _allowed(name: str) -> bool:
    return any(name == a or name.startswith(a + ".") for a in state.allow)


def _refuse(name: str) -> None:
    task = state.task or "this task"
    state.violations.append(Violation(task, name))
    raise FencedReference(message(task, name))


def message(task: str, name: str) -> str:
    """The one line a student reads when a task's answer called a reference."""
    return (f"Task {task}: your code called the course library's reference {name}, which does what this "
            f"task asks you to write; no points for this task until your own code does it")


def _is_student(code: CodeType) -> bool:
    cached = state._student_code.get(code)
    if cached is None:
        filename = code.co_filename
        cached = not (filename.startswith("<frozen ") or filename.startswith(_trusted_roots()))
        if len(state._student_code) < 100_000:
            state._student_code[code] = cached
    return cached and code.co_filename not in state.test_files


def _trusted_roots() -> tuple[str, ...]:
    """Folders whose code is the grader's: the Python installation and this package."""
    if state._roots is None:
        paths = sysconfig.get_paths()
        roots = {os.path.dirname(os.path.abspath(__file__))}
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            if paths.get(key):
                roots.add(os.path.realpath(paths[key]))
                roots.add(os.path.abspath(paths[key]))
        state._roots = tuple(sorted(r.rstrip(os.sep) + os.sep for r in roots))
    return state._roots


# --- arming, for backprop_lab.grading -------------------------------------------------

def arm(task: str, allow=(), test_file: str | None = None) -> None:
    """Arm the fence for ``task`` (nested calls count; :func:`disarm` once per arm).

    Only the outermost arm says what is allowed: code running under the fence cannot widen it.
    """
    if state.depth == 0:
        state.task = task
        state.allow = tuple(allow)
        if test_file is not None:
            state.test_files = frozenset({test_file})
    state.depth += 1


def disarm() -> None:
    """Undo one :func:`arm`."""
    state.depth = max(state.depth - 1, 0)


def disarm_all() -> None:
    """Disarm completely (the test cell has ended)."""
    state.depth = 0
