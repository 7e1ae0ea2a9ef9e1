"""A hard time limit for a call into Python code that may not return in time (SymPy, say).

:func:`run_limited` runs ``fn()`` for at most a given number of seconds and says whether it
finished::

    finished, result = run_limited(lambda: sympy.simplify(d), 0.5)

In the main thread a SIGALRM timer raises :class:`_Timeout` inside whatever Python code is
running, SymPy included; it is a ``BaseException``, so ``except Exception`` does not swallow
it. Limits nest (``equivalent`` gives its simplify stage part of the whole call's budget): a
stack of frames, innermost last, each with its deadline. The handler raises only for the
innermost frame, and only once per ``_REFIRE`` seconds, so that a frame's clean-up code is not
interrupted by its own alarm; the timer keeps firing every ``_INTERVAL`` seconds after a
deadline in case the code swallows the exception. A previous SIGALRM handler and its pending
timer are restored afterwards.

Elsewhere (other threads, or no SIGALRM as on Windows) the work runs in a daemon thread that is
abandoned at the deadline: it may keep computing in the background.

Python runs signal handlers between bytecodes, so in the main thread a long computation in C
(exact big-integer arithmetic, say) delays the alarm until it returns: keep such work out of
``fn``.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable

__all__ = ["run_limited"]

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
