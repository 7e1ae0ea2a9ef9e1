"""The grading guard: what runs inside a student's kernel while nbgrader autogrades it.

A process that the student's code controls cannot vouch for itself, so the guard does not
try to. It makes tampering visible to the grader outside the kernel
(:class:`backprop_lab.instructor.hardening.hardened_execute.HardenedExecute`), which decides:

1. **Before any student code.** ``python -m backprop_lab.grading.kernel`` installs the guard,
   starts ipykernel and records the grading state (:func:`.state.kernel_world`): Python's and
   IPython's execution machinery, NumPy and this package. It also adds an audit hook
   (PEP 578, which Python code cannot remove) that refuses the interfaces no answer needs:
   trace and profile functions, ``ctypes``, new processes and signals to others (but for the
   child that the library's hard time limit forks for SymPy's work and kills,
   :func:`backprop_lab._timelimit.run_forked`),
   ``gc``'s object graph, new code objects, rewriting a function's code, more audit hooks,
   and the deep-learning frameworks whose autograd would do a whole task (``torch``, ...).
2. **Before each test.** The grader wraps every graded test cell it sends between a
   prologue and an epilogue, both naming a nonce it chose for this cell of this run. The
   prologue, :func:`begin_test`, compares the state with the record, restores it, registers
   the test cell as the grader's own code for the reference fence
   (:mod:`backprop_lab._fence`) and publishes what differed.
3. **After each test.** The epilogue, :func:`seal`, compares the state again and publishes
   the seal: the nonce, what changed during the test, the fence's refusals and the audit
   hook's. A test cell without its seal did not run to its end, whatever its outputs say;
   one whose reports show tampering ran under a changed machinery. Either way the grader
   gives it 0.
4. **In the student's own cells** (answers, and cells the student added; the grader names
   them once, by a hash of their source, with :func:`expect_answers`) the fence is armed too,
   so that no reference result can be computed at the top of an answer and kept for a test to
   find. What they called is reported with the next test, whose task then earns nothing.

The grader reaches these functions through ``sys.modules`` (the wrapped test cell) or a user
expression of an execute request (:func:`expect_answers`, and :func:`probe` when a test cell
did not even start), which IPython's input transformers never see.
"""

from __future__ import annotations

import sys
import threading

from .. import _fence, _timelimit
from .state import Change, World, kernel_world

__all__ = ["install", "attach", "begin_test", "seal", "expect_answers", "probe", "SEAL_MIME", "installed"]

#: the MIME type of the seal a test cell publishes (removed by the grader before saving)
SEAL_MIME = "application/vnd.backprop-lab.seal+json"


class _Guard:
    __slots__ = ("world", "shell", "blocked", "reported", "marks", "installed", "answers", "running",
                 "fenced_answers")

    def __init__(self):
        self.world: World | None = None
        self.shell = None
        self.blocked: list[str] = []   # every refused attempt, in order
        self.reported = 0              # how many of them a seal has reported
        self.marks: dict = {}
        self.installed = False
        self.answers: dict = {}        # sha1 of a student cell's source -> (grade_id, task, allow)
        self.running = None            # (grade_id, violations before) while such a cell runs
        self.fenced_answers: dict = {} # grade_id -> references it called, not yet reported


_guard = _Guard()

# events refused when raised on behalf of student code: the direct caller of the audited
# function (those Python's own machinery also uses), or any frame of the stack
_DIRECT = frozenset({"code.__new__", "function.__new__", "marshal.loads", "gc.get_referrers", "gc.get_referents",
                     "gc.get_objects", "sys._current_frames"})
_STACK = frozenset({"sys.settrace", "sys.setprofile", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
                    "os.system", "subprocess.Popen", "os.kill", "os.killpg", "signal.pthread_kill",
                    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata", "ctypes.cdata/buffer",
                    "ctypes.addressof", "ctypes.string_at", "ctypes.wstring_at", "ctypes.PyObj_FromPtr",
                    "ctypes.call_function", "ctypes.create_string_buffer", "ctypes.create_unicode_buffer",
                    "ctypes.set_errno", "ctypes.get_errno"})
#: the library's hard time limit forks a copy of the kernel for SymPy's work and kills it at the
#: deadline; it may, even when a student's cell called it (``equivalent`` in an answer cell):
#: only that function, which forks and kills nothing but its own child (the pid stays local)
_OWN_CHILD = (frozenset({"os.fork", "os.kill"}), _timelimit.run_forked.__code__)
_SETATTR = frozenset({"__code__", "__defaults__", "__kwdefaults__", "__class__", "__bases__"})
# frameworks whose autograd does a whole backward pass; nothing in the course imports them
_FRAMEWORKS = frozenset({"torch", "tensorflow", "jax", "jaxlib", "keras", "autograd", "mxnet", "paddle", "theano",
                         "chainer", "micrograd", "tinygrad"})
_WATCHED = _DIRECT | _STACK | {"import", "sys.addaudithook", "object.__setattr__", "object.__delattr__"}
_WHAT = {"sys.settrace": "installing a trace function", "sys.setprofile": "installing a profile function",
         "sys.addaudithook": "adding an audit hook", "code.__new__": "building a code object",
         "function.__new__": "building a function from a code object", "marshal.loads": "loading marshalled code",
         "subprocess.Popen": "starting a process", "os.system": "starting a process", "os.fork": "forking",
         "os.kill": "sending a signal to a process", "os.killpg": "sending a signal to a process group"}
_busy = threading.local()


def _student_frame(frame, whole_stack: bool):
    while frame is not None:
        if _fence._is_student(frame.f_code):
            return frame
        if not whole_stack:
            return None
        frame = frame.f_back
    return None


def _audit(event: str, args: tuple) -> None:
    if event not in _WATCHED:  # the common case, first: ``id()`` alone raises tens of thousands per plot
        return
    if event == "import":
        if args and isinstance(args[0], str) and args[0].partition(".")[0] in _FRAMEWORKS:
            _refuse(f"import {args[0].partition('.')[0]}", sys._getframe(1))
        return
    if event == "sys.addaudithook":
        if _guard.installed:
            _refuse(event, sys._getframe(1))
        return
    if event in _OWN_CHILD[0] and sys._getframe(1).f_code is _OWN_CHILD[1]:
        return
    if event in _STACK:
        whole = True
    elif event in _DIRECT:
        whole = False
    elif event in ("object.__setattr__", "object.__delattr__") and len(args) > 1 and args[1] in _SETATTR:
        whole = False
        event = f"setting {args[1]}"
    else:
        return
    if getattr(_busy, "on", False):  # an event raised by this hook itself
        return
    _busy.on = True
    try:
        where = _student_frame(sys._getframe(1), whole)
    finally:
        _busy.on = False
    if where is not None:
        _refuse(event, where)


def _refuse(event: str, frame) -> None:
    what = _WHAT.get(event, event.split(".")[0] if event.startswith(("ctypes", "os.", "gc.")) else event)
    if event.startswith("import "):
        what = f"using {event[7:]} (its autograd does the task)"
    where = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
    _guard.blocked.append(f"{event} ({what}) at {where}")
    error = ImportError if event.startswith("import ") else PermissionError  # optional imports fall back
    raise error(f"grading: {what} is not allowed in a submission ({event}); the grader recorded this attempt")


def installed() -> bool:
    """Whether this kernel runs the guard."""
    return _guard.installed


def install() -> None:
    """Install the audit hook: before ipykernel starts, before any student code."""
    if _guard.installed:
        return
    sys.addaudithook(_audit)
    _guard.installed = True


def attach(shell, kernel) -> None:
    """Record the grading state once ipykernel has built its shell and kernel."""
    from .checks import watch_cells

    watch_cells(shell)  # the namespace and fence bookkeeping of test cells, as in any kernel
    shell.events.register("pre_run_cell", _before_cell)
    shell.events.register("post_run_cell", _after_cell)
    _guard.shell = shell
    with shell.builtin_trap, shell.display_trap:  # builtins and displayhook as while a cell runs
        _guard.world = kernel_world(shell, kernel)


def begin_test(nonce: str, grade_id: str) -> None:
    """The prologue of a test cell: check and restore the state, register the cell as the
    grader's own code, and report what differed (called from the test cell: frame 1)."""
    _fence.state.test_files = frozenset({sys._getframe(1).f_code.co_filename})
    world = _guard.world
    before = world.check() if world is not None else [Change("grading guard", "not attached")]
    if world is not None:
        world.restore()
    _guard.marks[nonce] = (grade_id, len(_fence.state.violations))
    _publish({"nonce": nonce, "phase": "begin", "grade_id": grade_id, "before": [str(c) for c in before],
              "blocked": _unreported(), "answers": _unreported_answers()})


def seal(nonce: str) -> None:
    """The epilogue of a test cell: the proof that it ran to its end, and what happened on the way."""
    grade_id, fenced_at = _guard.marks.pop(nonce, (None, 0))
    world = _guard.world
    during = world.check() if world is not None else []
    if during and world is not None:
        world.restore()
    _publish({"nonce": nonce, "phase": "end", "grade_id": grade_id, "during": [str(c) for c in during],
              "fence": [f"{v.task}: {v.reference}" for v in _fence.state.violations[fenced_at:]],
              "blocked": _unreported()})


def expect_answers(cells: dict) -> None:
    """The student's own cells of the notebook about to run (answers, and cells the student
    added), by the SHA-1 of their source: ``{sha1: [grade_id, task, allow]}``. While one of them
    runs, the fence is armed for its task, so that no reference result can be computed at the
    top of an answer and kept for a test to find."""
    _guard.answers = {k: (gid, task, tuple(allow)) for k, (gid, task, allow) in cells.items()}


def _before_cell(info) -> None:
    import hashlib

    from .state import protect_package

    protect_package()  # library modules the cell before imported, before student code can touch them
    _guard.running = None
    raw = getattr(info, "raw_cell", None)
    if not _guard.answers or not isinstance(raw, str):
        return
    entry = _guard.answers.get(hashlib.sha1(raw.encode()).hexdigest())
    if entry is not None:
        gid, task, allow = entry
        _guard.running = (gid, len(_fence.state.violations))
        _fence.state.test_files = frozenset()
        _fence.arm(task, allow)


def _after_cell(*_) -> None:
    if _guard.running is None:
        return
    gid, mark = _guard.running
    _guard.running = None
    _fence.disarm_all()
    called = [f"{v.task}: {v.reference}" for v in _fence.state.violations[mark:]]
    if called:
        _guard.fenced_answers.setdefault(gid, []).extend(called)


def _unreported_answers() -> dict:
    out, _guard.fenced_answers = _guard.fenced_answers, {}
    return out


def probe() -> str:
    """What differs from the record now (then restored), as JSON: the grader asks this,
    outside any cell, when a test cell did not even start."""
    import json

    world, shell = _guard.world, _guard.shell
    if world is None:
        return json.dumps({"changes": ["the grading guard is not attached"], "blocked": _unreported()})
    with shell.builtin_trap, shell.display_trap:  # as while a cell runs, as when recorded
        changes = world.check()
        world.restore()
    return json.dumps({"changes": [str(c) for c in changes], "blocked": _unreported(),
                       "answers": _unreported_answers()})


def _unreported() -> list[str]:
    new = _guard.blocked[_guard.reported:]
    _guard.reported = len(_guard.blocked)
    return new


def _publish(data: dict) -> None:
    from IPython.display import publish_display_data

    publish_display_data({SEAL_MIME: data, "text/plain": ""})
