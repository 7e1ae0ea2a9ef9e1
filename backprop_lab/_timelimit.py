"""Hard time limits: :func:`run_forked` for work that C code may prolong (SymPy), and
:func:`run_limited` for Python code whose effects the caller needs (a student's function).

:func:`run_forked` runs ``work(send)`` in a forked copy of this process, SIGKILLed at the
deadline; the JSON data the work sends comes back through a pipe::

    finished, messages = run_forked(lambda send: send(str(sympy.factor(e))), 2.0)

Nothing the child computes can delay the kill, and the child also stops itself at the
deadline (a SIGALRM with its default action, and a CPU-time limit). It writes to no stream
of the parent (a kernel's ipykernel and zmq threads do not exist in the child) and ends with
``os._exit``. The grading guard lets this function fork and kill its own child even when a
student's cell called it (:mod:`backprop_lab.grading.guard`). Without ``os.fork`` (Windows)
the work runs here under :func:`run_limited` instead.

:func:`run_limited` runs ``fn()`` in this process for at most a given number of seconds::

    finished, result = run_limited(lambda: backward(root), 0.5)

In the main thread a SIGALRM timer raises :class:`_Timeout` inside whatever Python code is
running; it is a ``BaseException``, so ``except Exception`` does not swallow it. Limits nest:
a stack of frames, innermost last, each with its deadline. The handler raises only for the
innermost frame, and only once per ``_REFIRE`` seconds, so that a frame's clean-up code is not
interrupted by its own alarm; the timer keeps firing every ``_INTERVAL`` seconds after a
deadline in case the code swallows the exception. A previous SIGALRM handler and its pending
timer are restored afterwards.

Elsewhere (other threads, or no SIGALRM as on Windows) the work runs in a daemon thread that is
abandoned at the deadline: it may keep computing in the background.

Python runs signal handlers between bytecodes, so in the main thread a long computation in C
(exact big-integer arithmetic, say) delays the alarm until it returns: such work belongs in
:func:`run_forked`.
"""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import sys
import threading
import time
from typing import Callable

__all__ = ["run_forked", "run_limited"]

_INTERVAL = 0.02
_REFIRE = 0.1


class _Timeout(BaseException):
    """Raised by the alarm handler; a BaseException so that ``except Exception`` in SymPy
    does not swallow it."""

    def __init__(self, frame):
        super().__init__("time limit")
        self.frame = frame


class _Frame:
    __slots__ = ("deadline", "fired_at")

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired_at = None


_frames: list[_Frame] = []


def run_limited(fn: Callable, seconds: float) -> tuple[bool, object]:
    """Run ``fn()`` for at most ``seconds``.

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    seconds : float
        The limit, positive. A call nested in another ``run_limited`` gets at most the time
        left to the outer one.

    Returns
    -------
    finished : bool
        ``False`` when the time ran out.
    result : object
        What ``fn()`` returned, or ``None`` when it did not finish.

    Raises
    ------
    Exception
        Whatever ``fn`` raises propagates.

    Examples
    --------
    >>> run_limited(lambda: 6 * 7, 1.0)
    (True, 42)
    >>> import time
    >>> run_limited(lambda: time.sleep(5), 0.1)
    (False, None)
    """
    if _signals_usable():
        return _run_limited_signal(fn, seconds)
    return _run_limited_thread(fn, seconds)


def _signals_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _on_alarm(signum, frame):
    if not _frames:
        return
    top = _frames[-1]
    now = time.monotonic()
    if now < top.deadline or (top.fired_at is not None and now - top.fired_at < _REFIRE):
        return
    top.fired_at = now
    raise _Timeout(top)


def _arm(deadline: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-4), _INTERVAL)


def _run_limited_signal(fn: Callable, seconds: float) -> tuple[bool, object]:
    now = time.monotonic()
    outer = _frames[-1] if _frames else None
    me = _Frame(now + seconds if outer is None else min(now + seconds, outer.deadline))
    saved = None
    if outer is None:  # take SIGALRM over for the call; give it back, with its timer, afterwards
        saved = (signal.signal(signal.SIGALRM, _on_alarm), signal.setitimer(signal.ITIMER_REAL, 0), now)
    finished, value = False, None
    try:  # the frame is pushed inside the try, so that an early alarm cannot leave it behind
        _frames.append(me)
        _arm(me.deadline)
        value = fn()
        finished = True
    except _Timeout as exc:
        if exc.frame is not me:
            raise
    finally:
        _leave(me, outer, saved)
    return finished, value


def _leave(me: _Frame, outer: _Frame | None, saved) -> None:
    while True:
        try:
            if _frames and _frames[-1] is me:
                _frames.pop()
            if outer is not None:
                _arm(outer.deadline)        # the outer frame's alarm fires (again) when due
            else:
                signal.setitimer(signal.ITIMER_REAL, 0)
                handler, (delay, interval), started = saved
                # None: the previous handler was not set from Python; the default is closest
                signal.signal(signal.SIGALRM, signal.SIG_DFL if handler is None else handler)
                if delay > 0:               # a caller's pending timer, less the time we used
                    signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - started), 1e-4),
                                     interval)
            return
        except _Timeout as exc:             # our own late alarm during clean-up: finish it
            if exc.frame is not me:
                raise


def _run_limited_thread(fn: Callable, seconds: float) -> tuple[bool, object]:
    box: dict = {}

    def work():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="backprop_lab.run_limited", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return False, None
    if "error" in box:
        raise box["error"]
    return True, box["value"]


# --- a forked child, killed at the deadline -------------------------------------------------

#: in a child of run_forked: its own deadline (a nested call gets no more) and its pipe
_child: dict = {"deadline": None, "pipe": None}


def run_forked(work: Callable, seconds: float) -> tuple[bool, list]:
    """Run ``work(send)`` in a forked child that is killed ``seconds`` from now.

    Parameters
    ----------
    work : callable
        Called in the child with one argument, ``send``: ``send(data)`` hands JSON data (dicts,
        lists, strings, numbers) to the parent, at once, so that what was sent before the
        deadline survives the kill. Its return value is ignored.
    seconds : float
        The limit, positive. A call made inside another call's child gets at most the time
        left to that child.

    Returns
    -------
    finished : bool
        ``True`` when ``work`` returned before the deadline, ``False`` when the child was killed
        (or died: out of memory, say).
    messages : list
        What ``work`` sent, in order.

    Raises
    ------
    RuntimeError
        If ``work`` raised; the message names the exception.

    Examples
    --------
    >>> run_forked(lambda send: send(6 * 7), 1.0)
    (True, [42])
    >>> run_forked(lambda send: (send("started"), time.sleep(5)), 0.2)
    (False, ['started'])
    """
    if _child["deadline"] is not None:
        seconds = min(seconds, _child["deadline"] - time.monotonic())
    if not hasattr(os, "fork"):
        messages: list = []
        finished, _ = run_limited(lambda: work(lambda data: messages.append(json.loads(json.dumps(data)))),
                                  seconds)
        return finished, messages
    import select

    deadline = time.monotonic() + max(seconds, 0.0)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the work, then _exit; it never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            try:
                _become_child(write_end, deadline)
                work(_send)
                status = 0
            except BaseException as exc:  # the parent raises it, by name
                _send({"_raised": f"{type(exc).__name__}: {exc}"})
        finally:
            os._exit(status)
    os.close(write_end)
    data, eof = bytearray(), False
    try:
        poll = select.poll()
        poll.register(read_end, select.POLLIN)
        while not eof:
            left = deadline - time.monotonic()
            if left <= 0 or not poll.poll(left * 1000):
                break
            chunk = os.read(read_end, 1 << 16)
            data += chunk
            eof = not chunk
    finally:  # also when the caller is interrupted: no child outlives this call
        os.close(read_end)
        if not eof:
            os.kill(pid, signal.SIGKILL)
        status = _reap(pid)
    # a child killed while writing leaves a last line without its newline: not a message
    messages = [json.loads(line) for line in bytes(data).split(b"\n")[:-1]]
    if messages and isinstance(messages[-1], dict) and "_raised" in messages[-1]:
        raise RuntimeError(f"the forked work raised {messages[-1]['_raised']}")
    return eof and status in (0, None), messages


def _become_child(pipe: int, deadline: float) -> None:
    """Stop this child at ``deadline`` whatever it computes, and cut it off the parent's streams."""
    import resource

    if _child["pipe"] is not None:  # a grandchild: its parent's pipe is its parent's business
        os.close(_child["pipe"])
    _child.update(deadline=deadline, pipe=pipe)
    _frames.clear()   # the parent's run_limited frames: their timers do not exist here
    seconds = max(deadline - time.monotonic(), 0.0)
    # the parent kills at the deadline; should it be gone, the child ends itself: SIGALRM with
    # its default action ends the process in the kernel, without waiting for Python code
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, seconds + 0.1)
    # CPU seconds; the hard limit also stops a child that ignores SIGALRM (never above the
    # inherited hard limit, which may not be raised)
    cpu, hard = math.ceil(seconds) + 1, resource.getrlimit(resource.RLIMIT_CPU)[1]
    cpu = cpu if hard == resource.RLIM_INFINITY else min(cpu, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    sys.stdout = sys.stderr = open(os.devnull, "w")  # not ipykernel's streams, whose threads are gone
    gc.freeze()   # the collector leaves the parent's objects alone: no copy of their pages


def _send(data) -> None:
    line = memoryview((json.dumps(data) + "\n").encode())
    while line:
        line = line[os.write(_child["pipe"], line):]


def _reap(pid: int) -> int | None:
    """Wait for the child: its exit code (minus the signal that ended it), or ``None`` when
    SIGCHLD is ignored and the system reaped it already."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return None
