"""Tests of backprop_lab._timelimit: run_limited stops Python code at the limit, nests, leaves
SIGALRM as it found it, and falls back to a thread outside the main thread."""

import signal
import threading
import time

from backprop_lab import _timelimit
from backprop_lab._timelimit import run_limited


def slack(seconds):
    """Timing assertions: the promised bound, with room for a slow test machine."""
    return seconds + 1.0


def stubborn():
    """Busy Python code that swallows every Exception, as SymPy code may."""
    while True:
        try:
            sum(range(1000))
        except Exception:  # must not catch the time limit
            pass


def test_a_call_that_finishes_returns_its_result():
    assert run_limited(lambda: 6 * 7, 1.0) == (True, 42)
    assert _timelimit._frames == []


def test_time_limit_interrupts_python_code_that_swallows_exceptions():
    start = time.monotonic()
    assert run_limited(stubborn, 0.2) == (False, None)
    assert time.monotonic() - start < slack(0.2)
    assert _timelimit._frames == []


def test_nested_limits_give_the_inner_call_its_own_budget():
    def outer():
        inner = run_limited(lambda: time.sleep(5), 0.1)
        return inner, "outer went on"

    assert run_limited(outer, 2.0) == (True, ((False, None), "outer went on"))


def test_a_previous_alarm_handler_and_timer_are_restored():
    def outer():
        run_limited(stubborn, 0.1)        # an inner limit that runs out
        run_limited(stubborn, 5.0)        # one that ends at the outer deadline
        stubborn()                        # and the outer limit itself

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *args: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        assert run_limited(outer, 0.3) == (False, None)
        assert fired == []
        assert signal.getsignal(signal.SIGALRM) is not _timelimit._on_alarm
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < remaining <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_outside_the_main_thread_the_call_stops_waiting_at_the_limit():
    out = {}

    def work():
        out["finished"] = run_limited(lambda: 6 * 7, 1.0)
        start = time.monotonic()
        out["limited"] = run_limited(lambda: time.sleep(3), 0.2)
        out["elapsed"] = time.monotonic() - start

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(10)
    assert out["finished"] == (True, 42)
    assert out["limited"] == (False, None) and out["elapsed"] < slack(0.2)
