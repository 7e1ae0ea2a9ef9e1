"""Tests of backprop_lab._timelimit: run_forked kills its child at the deadline whatever it
computes, leaves nothing running (even when its caller dies) and falls back to run_limited
without os.fork; run_limited stops Python code at the limit, nests, leaves SIGALRM as it found
it, and falls back to a thread outside the main thread."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from backprop_lab import _timelimit
from backprop_lab._timelimit import run_forked, run_limited
from process_helpers import children, state, wait_for_pid


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


def big_power(send):
    """Minutes of exact integer arithmetic in C, in one bytecode: no Python signal handler runs."""
    send("started")
    return 10 ** (10 ** 8)


# --- run_forked -------------------------------------------------------------------------------

def test_forked_work_sends_its_results_back():
    assert run_forked(lambda send: [send(k) for k in ({"a": [1, 2.5]}, "text", None)], 5.0) == \
        (True, [{"a": [1, 2.5]}, "text", None])
    assert children() == []


def test_forked_work_in_c_is_killed_at_the_deadline():
    start = time.monotonic()
    assert run_forked(big_power, 0.5) == (False, ["started"])
    assert time.monotonic() - start < slack(0.5)
    assert children() == []


def test_forked_work_that_raises_is_an_error_naming_it():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run_forked(lambda send: 1 / 0, 5.0)
    assert children() == []


def test_the_child_writes_nothing_to_the_parents_streams(capfd):
    assert run_forked(lambda send: (print("from the child"), print("error", file=sys.stderr), send(1)), 5.0) \
        == (True, [1])
    assert capfd.readouterr() == ("", "")


def test_a_nested_call_gets_no_more_than_the_time_left_to_its_child(tmp_path):
    pidfile = tmp_path / "grandchild"

    def inner(send):
        pidfile.write_text(str(os.getpid()))
        time.sleep(30)

    start = time.monotonic()
    assert run_forked(lambda send: (send("outer"), run_forked(inner, 30.0)), 1.0) == (False, ["outer"])
    assert time.monotonic() - start < slack(1.0)
    grandchild = wait_for_pid(pidfile, 0)
    time.sleep(0.5)   # the grandchild's own alarm: at its deadline (its parent's) + 0.1 s
    assert state(grandchild) in ("gone", "Z"), f"the grandchild {grandchild} outlived its deadline"


def test_the_child_ends_itself_when_its_parent_is_killed(tmp_path):
    pidfile = tmp_path / "child"
    code = ("import os, sys; from backprop_lab._timelimit import run_forked\n"
            "def work(send):\n"
            f"    open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
            "    10 ** (10 ** 8)\n"
            "run_forked(work, 1.0)\n")
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        child = wait_for_pid(pidfile)
    finally:
        parent.kill()
        parent.wait()
    assert state(child) not in ("gone", "Z"), "the child ended with its parent: the test shows nothing"
    time.sleep(slack(1.0))
    assert state(child) in ("gone", "Z"), f"the orphaned child {child} is still running"


def test_forked_work_runs_in_this_thread_outside_the_main_thread():
    out = {}
    worker = threading.Thread(target=lambda: out.update(result=run_forked(big_power, 0.3)))
    worker.start()
    worker.join(10)
    assert out["result"] == (False, ["started"])
    assert children() == []


def test_without_fork_the_work_runs_here_under_run_limited(monkeypatch):
    monkeypatch.delattr(os, "fork")   # as on Windows
    assert run_forked(lambda send: send((os.getpid(), [1])), 1.0) == (True, [[os.getpid(), [1]]])
    assert run_forked(lambda send: (send("started"), time.sleep(5)), 0.2) == (False, ["started"])


# --- run_limited ------------------------------------------------------------------------------

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


def test_the_child_works_under_a_lower_inherited_cpu_limit():
    # a hard RLIMIT_CPU may not be raised: the child keeps the one it inherits (in a process of
    # its own, since this one could not raise it back afterwards)
    code = ("import resource; resource.setrlimit(resource.RLIMIT_CPU, (30, 30))\n"
            "from backprop_lab._timelimit import run_forked\n"
            "print(run_forked(lambda send: send(resource.getrlimit(resource.RLIMIT_CPU)), 100.0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "(True, [[30, 30]])"
