"""The grading state: what student code must not change, and how to put it back.

A test is only as good as the machinery that runs it. Student code runs in the same Python
process as the tests, so it can change that machinery: replace a NumPy or library function
the test compares against, patch a builtin, hide IPython's tracebacks, add an input or AST
transformer that rewrites the test cells, register an event callback, install a trace
function. A :class:`World` records every such part when the kernel starts (before any
student code), and before and after each test reports what differs and restores it.

Each part is a :class:`Watch`. :func:`library_world` watches NumPy and this package (what
``task`` restores in any kernel, Validate included); :func:`kernel_world` adds Python's and
IPython's execution machinery (what the grading guard checks, :mod:`.guard`).
"""

from __future__ import annotations

import builtins
import gc
import signal
import sys
import threading
import types
from dataclasses import dataclass

from .. import _fence

__all__ = ["Change", "Watch", "World", "library_world", "kernel_world", "protect_package", "restore_numpy"]

_MISSING = object()
_KEPT = (types.ModuleType, property, staticmethod, classmethod)


def _kept(value) -> bool:
    """What a module or class holds that a test relies on: functions (NumPy's are callable
    objects of their own type), classes, modules, descriptors."""
    return callable(value) or isinstance(value, _KEPT)


@dataclass(frozen=True)
class Change:
    """One difference from the recorded state.

    Attributes
    ----------
    part : str
        What changed, e.g. ``"IPython's input transformers"``.
    detail : str
        How, e.g. ``"1 added: blank_tests"``.
    """

    part: str
    detail: str

    def __str__(self) -> str:
        return f"{self.part}: {self.detail}"


def _label(value) -> str:
    """A short name for a value in a report, with where it was defined: the whole file name
    for the notebook's code (the grader turns it into the cell's name), else the file's."""
    code = getattr(getattr(value, "__func__", value), "__code__", None)
    name = getattr(value, "__qualname__", None) or type(value).__name__
    if code is not None:
        where = code.co_filename if _fence._is_student(code) else code.co_filename.rsplit("/", 1)[-1]
        return f"{name} ({where}:{code.co_firstlineno})"
    return str(name)


class Watch:
    """A part of the grading state: records it, says how it changed, restores it."""

    part = "state"

    def capture(self) -> None:
        raise NotImplementedError

    def changes(self) -> list[str]:
        raise NotImplementedError

    def restore(self) -> None:
        raise NotImplementedError


class AttrsWatch(Watch):
    """Attributes of an object (a module, a class, an instance), by identity.

    Parameters
    ----------
    obj : object
    part : str
        The name in reports.
    names : iterable of str, optional
        The attributes to watch; default every function, class, module and descriptor
        that ``vars(obj)`` holds now.
    allow_new : bool
        Whether attributes added later are fine (``False``: they are removed, so that
        nothing can shadow what the class or module had).
    """

    def __init__(self, obj, part: str, names=None, allow_new: bool = True):
        self.obj, self.part, self.names, self.allow_new = obj, part, names, allow_new

    def _now(self) -> dict:
        if self.names is not None:
            return {n: getattr(self.obj, n, _MISSING) for n in self.names}
        return dict(vars(self.obj))

    def capture(self) -> None:
        now = self._now()
        if self.names is None:
            now = {k: v for k, v in now.items() if _kept(v)}
        self.saved = now
        self.keys = set(vars(self.obj)) if not self.allow_new else None

    def changes(self) -> list[str]:
        now = self._now() if self.names is not None else vars(self.obj)
        out = [f"{k} {'deleted' if now.get(k, _MISSING) is _MISSING else 'replaced by ' + _label(now[k])}"
               for k, v in self.saved.items() if now.get(k, _MISSING) is not v]
        if self.keys is not None:
            out += [f"{k} added ({_label(vars(self.obj)[k])})" for k in vars(self.obj) if k not in self.keys]
        return out

    def restore(self) -> None:
        for k, v in self.saved.items():
            try:
                if v is _MISSING:
                    if hasattr(self.obj, k):
                        delattr(self.obj, k)
                elif getattr(self.obj, k, _MISSING) is not v and vars(self.obj).get(k, _MISSING) is not v:
                    setattr(self.obj, k, v)
            except (AttributeError, TypeError):  # an immutable built-in type: it cannot have changed
                pass
        if self.keys is not None:
            for k in [k for k in vars(self.obj) if k not in self.keys]:
                try:
                    delattr(self.obj, k)
                except (AttributeError, TypeError):
                    pass


class ShadowWatch(Watch):
    """Methods of an instance overridden on the instance itself (``shell.showtraceback = f``)."""

    def __init__(self, obj, part: str):
        self.obj, self.part = obj, part

    def capture(self) -> None:
        cls = type(self.obj)
        self.methods = {n for n in dir(cls) if callable(getattr(cls, n, None))}
        self.saved = {k: v for k, v in vars(self.obj).items() if k in self.methods}

    def changes(self) -> list[str]:
        return [f"{k} replaced by {_label(v)}" for k, v in vars(self.obj).items()
                if k in self.methods and self.saved.get(k, _MISSING) is not v]

    def restore(self) -> None:
        for k in [k for k, v in vars(self.obj).items() if k in self.methods and self.saved.get(k, _MISSING) is not v]:
            if k in self.saved:
                vars(self.obj)[k] = self.saved[k]
            else:
                del vars(self.obj)[k]


def _trusted_callable(value) -> bool:
    """A function or method of the Python installation or a library, not of the notebook."""
    code = getattr(getattr(value, "__func__", value), "__code__", None)
    return code is not None and not _fence._is_student(code)


class ListWatch(Watch):
    """The items of a list that the grader relies on (transformers, callbacks, finders).

    With ``adopt``, items that libraries add (``%matplotlib inline`` registers a
    ``post_execute`` callback) are accepted; items from the notebook's own code are not.
    """

    def __init__(self, get, part: str, adopt: bool = False):
        self.get, self.part, self.adopt = get, part, adopt

    def capture(self) -> None:
        self.list = self.get()
        self.saved = list(self.list)

    def changes(self) -> list[str]:
        now = self.get()
        if now is not self.list:
            return [f"replaced by another list ({len(now)} items)"]
        if self.adopt:
            self.saved += [x for x in now if _trusted_callable(x) and not any(x is s for s in self.saved)]
        added = [_label(x) for x in now if not any(x is s for s in self.saved)]
        removed = [_label(x) for x in self.saved if not any(x is s for s in now)]
        out = [f"added {a}" for a in added] + [f"removed {r}" for r in removed]
        if not out and any(a is not b for a, b in zip(now, self.saved)):
            out = ["reordered"]
        return out

    def restore(self) -> None:
        self.list[:] = self.saved


class DictWatch(Watch):
    """The entries of a dict by identity (message handlers, ``sys.modules``)."""

    def __init__(self, get, part: str, keys=None, allow_new: bool = True):
        self.get, self.part, self.keys, self.allow_new = get, part, keys, allow_new

    def capture(self) -> None:
        d = self.get()
        keys = self.keys(d) if callable(self.keys) else (self.keys if self.keys is not None else list(d))
        self.saved = {k: d.get(k, _MISSING) for k in keys}
        self.all = set(d) if not self.allow_new else None

    def changes(self) -> list[str]:
        d = self.get()
        out = [f"[{k!r}] {'removed' if d.get(k, _MISSING) is _MISSING else 'replaced'}"
               for k, v in self.saved.items() if v is not _MISSING and d.get(k, _MISSING) is not v]
        if self.all is not None:
            out += [f"[{k!r}] added" for k in d if k not in self.all]
        return out

    def restore(self) -> None:
        d = self.get()
        for k, v in self.saved.items():
            if v is not _MISSING and d.get(k, _MISSING) is not v:
                d[k] = v
        if self.all is not None:
            for k in [k for k in d if k not in self.all]:
                del d[k]


class ValueWatch(Watch):
    """One value read by a function and put back by another (``sys.gettrace``)."""

    def __init__(self, get, set_, part: str):
        self.get, self.set, self.part = get, set_, part

    def capture(self) -> None:
        self.saved = self.get()

    def changes(self) -> list[str]:
        now = self.get()
        return [] if now is self.saved or now == self.saved else [f"set to {_label(now)}"]

    def restore(self) -> None:
        if self.get() is not self.saved:
            self.set(self.saved)


class CodeWatch(Watch):
    """The code, defaults and closures of functions: a function object can keep its
    identity while ``__code__`` is swapped."""

    part = "library code"

    def __init__(self, functions, part: str = "library code"):
        self.functions, self.part = list(functions), part

    def capture(self) -> None:
        self.saved = [(f, f.__code__, f.__defaults__, f.__kwdefaults__) for f in self.functions]

    def changes(self) -> list[str]:
        return [f"{f.__module__}.{f.__qualname__}: its code was replaced" for f, c, d, k in self.saved
                if f.__code__ is not c or f.__defaults__ is not d or f.__kwdefaults__ is not k]

    def restore(self) -> None:
        for f, c, d, k in self.saved:
            if f.__code__ is not c or f.__defaults__ is not d or f.__kwdefaults__ is not k:
                f.__code__, f.__defaults__, f.__kwdefaults__ = c, d, k


class SignalWatch(Watch):
    """Timer signals: a handler run by a timer could change the state in the middle of a test."""

    part = "timer signals"
    SIGNALS = tuple(getattr(signal, s) for s in ("SIGALRM", "SIGVTALRM", "SIGPROF") if hasattr(signal, s))
    TIMERS = tuple(getattr(signal, t) for t in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF") if hasattr(signal, t))

    def capture(self) -> None:
        self.saved = {s: signal.getsignal(s) for s in self.SIGNALS}

    def changes(self) -> list[str]:
        out = [f"{signal.Signals(s).name} handler set to {_label(signal.getsignal(s))}" for s, h in self.saved.items()
               if signal.getsignal(s) is not h]
        out += [f"a timer is running ({t})" for t in self.TIMERS if signal.getitimer(t) != (0.0, 0.0)]
        return out

    def restore(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for t in self.TIMERS:
            signal.setitimer(t, 0)
        for s, h in self.saved.items():
            if signal.getsignal(s) is not h and h is not None:
                signal.signal(s, h)


class ThreadWatch(Watch):
    """Threads running student code: they could change the state at any moment of a test.
    They cannot be stopped from outside, so every test they live through is reported."""

    part = "threads"

    def capture(self) -> None:
        pass

    def changes(self) -> list[str]:
        out = []
        for t in threading.enumerate():
            for fn in (getattr(t, "_target", None), getattr(t, "function", None), getattr(type(t), "run", None)):
                code = getattr(fn, "__code__", None)
                if code is not None and _fence._is_student(code):
                    out.append(f"thread {t.name!r} runs {_label(fn)}")
                    break
        return out

    def restore(self) -> None:
        pass


class FenceWatch(Watch):
    """The reference fence's own state: where trusted code lives, and its memo of which code
    is the student's (a poisoned memo would let student code pass for the grader's)."""

    part = "the reference fence"

    def capture(self) -> None:
        self.roots = _fence._trusted_roots()

    def changes(self) -> list[str]:
        out = []
        if _fence.state._roots != self.roots:
            out.append(f"its trusted folders changed to {_fence.state._roots!r}")
        memo = _fence.state._student_code
        if not isinstance(memo, dict):
            return out + ["its memo of student code was replaced"]
        roots = self.roots
        forged = [c for c, student in list(memo.items()) if not student and not (
            c.co_filename.startswith("<frozen ") or c.co_filename.startswith(roots))]
        if forged:
            out.append(f"{len(forged)} piece(s) of notebook code marked as the grader's "
                       f"({forged[0].co_filename}:{forged[0].co_firstlineno})")
        return out

    def restore(self) -> None:
        _fence.state._roots = self.roots
        if not isinstance(_fence.state._student_code, dict):
            _fence.state._student_code = {}
        else:
            for c in [c for c, student in list(_fence.state._student_code.items()) if not student]:
                if not (c.co_filename.startswith("<frozen ") or c.co_filename.startswith(self.roots)):
                    del _fence.state._student_code[c]


class World:
    """All watched parts: :meth:`capture` once, then :meth:`check` and :meth:`restore`."""

    def __init__(self, watches=()):
        self.watches: list[Watch] = list(watches)

    def add(self, *watches: Watch) -> None:
        for w in watches:
            w.capture()
            self.watches.append(w)

    def capture(self) -> "World":
        for w in self.watches:
            w.capture()
        return self

    def check(self) -> list[Change]:
        out: list[Change] = []
        for w in self.watches:
            try:
                found = [Change(w.part, d) for d in w.changes()]
            except Exception as exc:  # a part so broken it cannot be read: that is a change too
                found = [Change(w.part, f"cannot be read ({type(exc).__name__})")]
            out += [c for c in found if c not in out]  # two watches may see the same change
        return out

    def restore(self) -> None:
        for w in self.watches:
            try:
                w.restore()
            except Exception:  # restore every part that can be restored
                pass


# --- the library: NumPy and backprop_lab ------------------------------------------------

_NUMPY = ("numpy", "numpy.linalg", "numpy.random", "numpy.testing")
_library = World()
_watched_modules: set = set()


def _package_modules():
    return [(n, m) for n, m in list(sys.modules.items())
            if (n == "backprop_lab" or n.startswith("backprop_lab.")) and isinstance(m, types.ModuleType)]


def _functions_of(obj) -> list:
    out = []
    for v in vars(obj).values():
        f = v.fget if isinstance(v, property) else getattr(v, "__func__", v)
        if isinstance(f, types.FunctionType):
            out.append(f)
    return out


def _module_watches(name: str, mod) -> list[Watch]:
    """A backprop_lab module: its attributes, its classes' attributes, its functions' code."""
    watches: list[Watch] = [AttrsWatch(mod, name)]
    functions = _functions_of(mod)
    for attr, value in list(vars(mod).items()):
        if isinstance(value, type) and value.__module__ == name:
            watches.append(AttrsWatch(value, f"{name}.{attr}", allow_new=False))
            functions += _functions_of(value)
    own = [f for f in functions if f.__module__ == name]
    if own:
        watches.append(CodeWatch(own, f"{name} code"))
    return watches


def protect_package() -> None:
    """Record every loaded ``backprop_lab`` module not recorded yet (its functions, classes
    and their code), and NumPy's namespaces. Called when the package is imported and by
    every ``task()``: modules imported since (``backprop_lab.symbolic``) are added."""
    if not _watched_modules:
        for name in _NUMPY:
            mod = sys.modules.get(name)
            if mod is not None:
                _library.add(AttrsWatch(mod, name), DictWatch(lambda: sys.modules, "sys.modules", keys=[name]))
                _watched_modules.add(name)
        _library.add(AttrsWatch(sys.modules["numpy"].ndarray, "numpy.ndarray"))
    for name, mod in _package_modules():
        if name not in _watched_modules:
            _watched_modules.add(name)
            _library.add(*_module_watches(name, mod),
                         DictWatch(lambda: sys.modules, "sys.modules", keys=[name]))


def library_world() -> World:
    """The watches of NumPy and backprop_lab (what :func:`restore_numpy` restores)."""
    protect_package()
    return _library


def restore_numpy() -> list[str]:
    """Put back every NumPy or backprop_lab function, class, module or code object that was
    replaced or deleted since it was recorded.

    Returns
    -------
    list of str
        What was restored, e.g. ``["numpy: allclose replaced by <lambda> (...)"]``.
    """
    changes = _library.check()
    if changes:
        _library.restore()
    return [str(c) for c in changes]


# --- the kernel: Python's and IPython's execution machinery -------------------------------

def _classes_of(*objs) -> list[type]:
    seen: list[type] = []
    for obj in objs:
        for cls in type(obj).__mro__:
            if cls is not object and cls not in seen:
                seen.append(cls)
    return seen


def kernel_world(shell=None, kernel=None) -> World:
    """Everything that decides how a cell runs and what nbgrader sees of it.

    Capture it when no student code has run yet, with IPython's builtin and display traps
    active (they swap ``builtins`` and ``sys.displayhook`` while a cell runs).
    """
    world = World()
    # ipykernel swaps builtins.input and IPython sys.excepthook while a cell runs: not watched
    world.add(AttrsWatch(builtins, "builtins", names=[k for k, v in vars(builtins).items()
                                                      if _kept(v) and k not in ("input", "raw_input")]),
              AttrsWatch(sys, "sys hooks", names=("displayhook", "breakpointhook", "unraisablehook",
                                                  "stdout", "stderr", "meta_path", "path_hooks", "modules")),
              ListWatch(lambda: sys.meta_path, "sys.meta_path (import finders)"),
              ListWatch(lambda: sys.path_hooks, "sys.path_hooks"),
              ValueWatch(sys.gettrace, sys.settrace, "sys.settrace (a trace function)"),
              ValueWatch(sys.getprofile, sys.setprofile, "sys.setprofile (a profile function)"),
              AttrsWatch(threading, "threading hooks", names=("_trace_hook", "_profile_hook", "excepthook")),
              ListWatch(lambda: gc.callbacks, "gc.callbacks"),
              SignalWatch(), ThreadWatch(), FenceWatch(),
              AttrsWatch(_fence, "the reference fence"),
              AttrsWatch(_fence.state, "the reference fence's state", names=("violations",)),
              DictWatch(lambda: _fence._REGISTRY, "the reference fence's registry"))
    modules = [n for n in ("builtins", "sys", "types", "importlib", "warnings", "threading", "signal", "traceback",
                           "inspect", "ast", "codeop", "IPython", "ipykernel", "jupyter_client", "zmq", "json",
                           "hashlib", "hmac", "secrets") if n in sys.modules]
    modules += [n for n in sys.modules if n.startswith(("IPython.core", "ipykernel.", "backprop_lab"))]
    world.add(DictWatch(lambda: sys.modules, "sys.modules", keys=sorted(set(modules))))
    objects = [sys.stdout, sys.stderr]
    if shell is not None:
        world.add(AttrsWatch(shell, "IPython shell", names=(
                      "input_transformers_cleanup", "input_transformers_post", "ast_transformers",
                      "input_transformer_manager", "custom_exceptions", "CustomTB", "displayhook", "display_pub",
                      "display_formatter", "compile", "InteractiveTB", "SyntaxTB", "events", "user_ns",
                      "user_global_ns", "ast_node_interactivity", "autoawait", "loop_runner", "builtin_trap",
                      "display_trap", "history_manager", "payload_manager", "kernel")),
                  ListWatch(lambda: shell.input_transformers_cleanup, "IPython's input transformers (cleanup)"),
                  ListWatch(lambda: shell.input_transformers_post, "IPython's input transformers"),
                  ListWatch(lambda: shell.ast_transformers, "IPython's AST transformers"),
                  DictWatch(lambda: shell.user_ns, "the notebook's __builtins__", keys=["__builtins__"]))
        itm = shell.input_transformer_manager
        for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
            if isinstance(getattr(itm, attr, None), list) and getattr(itm, attr) is not shell.input_transformers_cleanup:
                world.add(ListWatch(lambda attr=attr: getattr(itm, attr), f"IPython's {attr}"))
        for event in list(shell.events.callbacks):
            world.add(ListWatch(lambda e=event: shell.events.callbacks[e], f"IPython's {event} callbacks",
                                adopt=True))
        world.add(DictWatch(lambda: shell.events.callbacks, "IPython's events", allow_new=False))
        objects += [shell, shell.events, shell.displayhook, shell.display_pub, shell.compile,
                    shell.input_transformer_manager, shell.InteractiveTB, shell.SyntaxTB, shell.display_formatter]
    if kernel is not None:
        world.add(AttrsWatch(kernel, "the kernel", names=("shell_handlers", "control_handlers", "session",
                                                          "iopub_socket", "iopub_thread", "shell")),
                  DictWatch(lambda: kernel.shell_handlers, "the kernel's message handlers", allow_new=False),
                  DictWatch(lambda: kernel.control_handlers, "the kernel's control handlers", allow_new=False))
        objects += [kernel, kernel.session]
    for obj in objects:
        world.add(ShadowWatch(obj, f"{type(obj).__name__} methods"))
    for cls in _classes_of(*objects):
        if cls.__module__.split(".")[0] in ("IPython", "ipykernel", "jupyter_client", "traitlets", "zmq",
                                            "backprop_lab"):
            world.add(AttrsWatch(cls, f"{cls.__module__}.{cls.__qualname__}", allow_new=False))
    world.add(_LibraryWatch())
    return world


class _LibraryWatch(Watch):
    """NumPy and backprop_lab as :func:`library_world` watches them, modules imported since the
    kernel started included (``backprop_lab.symbolic``, recorded before the next cell runs)."""

    part = "the library"

    def capture(self) -> None:
        protect_package()

    def changes(self) -> list[str]:
        return [str(c) for c in _library.check()]

    def restore(self) -> None:
        _library.restore()
