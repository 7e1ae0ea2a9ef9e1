"""Tests of backprop_lab.equivalence: the verdicts of equivalent(), its errors on bad input,
and that it returns within its time limit whatever the input."""

import os
import subprocess
import sys
import threading
import time

import pytest
import sympy

from backprop_lab._timelimit import run_limited
from backprop_lab.equivalence import Equivalence, equivalent
from backprop_lab.symbolic import network, sigmoid
from process_helpers import children

x, y, z = sympy.symbols("x y z")


def slack(seconds):
    """Timing assertions: the promised bound, with room for a slow test machine."""
    return seconds + 1.0


# --- verdicts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    (sigmoid(x) * (1 - sigmoid(x)), sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2),
    ((x + y) ** 5, sympy.expand((x + y) ** 5)),
    ((x + 1) * (x - 1), x ** 2 - 1),
    (sympy.sin(x) ** 2 + sympy.cos(x) ** 2, 1),
    ("exp(-x)/(1 + exp(-x))^2", sigmoid(x) * (1 - sigmoid(x))),
    ("sigmoid(x)*(1 - sigmoid(x))", "exp(x)/(1 + exp(x))**2"),
    (0.1 * x, x / 10),                                # floats compare to ~10 digits
    (sympy.Matrix([[x ** 2 - 1, 2 * x]]), sympy.Matrix([[(x - 1) * (x + 1), x + x]])),
    (sympy.log(sympy.exp(x) * sympy.exp(y)), sympy.log(sympy.exp(x + y))),
])
def test_equal_expressions_pass(a, b):
    result = equivalent(a, b)
    assert isinstance(result, Equivalence)
    assert result.equal is True and bool(result), result.reason
    assert result.method in ("identical", "simplify", "numeric")


@pytest.mark.parametrize("a, b", [
    (sigmoid(x) * (1 - sigmoid(x)), sigmoid(x) * (1 + sigmoid(x))),
    (sympy.expand((x + y) ** 60), (x + y) ** 60 + 1),   # differs by 1 in ~1e21: beyond float64
    (x ** 2 - 1, (x - 1) ** 2),
    (sympy.sqrt(x ** 2), x),                             # only equal for x >= 0
    (x + sympy.Rational(1, 10 ** 20), x),                # far below float64, above the 1e-30 tolerance
    ("x*y", "x*z"),
])
def test_different_expressions_fail_with_a_counterexample(a, b):
    result = equivalent(a, b)
    assert result.equal is False and not result
    assert result.method == "numeric"
    assert result.point and len(result.values) == 2
    assert result.values[0] != result.values[1]
    assert "differ" in result.reason and " = " in result.reason


def test_differences_below_the_tolerance_are_not_detected():
    # documented limit: values are compared with relative tolerance 1e-30 (1e-10 with floats)
    assert equivalent(x + sympy.Rational(1, 10 ** 40), x).equal is True
    assert equivalent(x * (1 + 1e-12), x).equal is True


def test_rounding_error_is_not_mistaken_for_a_difference():
    # the 60th power expanded has terms of size ~1e35 that cancel: 50 digits lose most of them
    many = sympy.expand((x - y) ** 60)
    assert equivalent(many, (y - x) ** 60, timeout=3).equal is True


def test_identical_and_trivial_cases():
    assert equivalent(x + 1, 1 + x).method == "identical"
    assert equivalent(2, "2").equal is True
    assert equivalent(x, x + 0 * y).method == "identical"


def test_matrix_shape_mismatch_names_both_shapes():
    result = equivalent(sympy.Matrix([[x, y]]), sympy.Matrix([x, y]))
    assert result.equal is False and result.method == "shape"
    assert "(1, 2)" in result.reason and "(2, 1)" in result.reason
    scalar = equivalent(x, sympy.Matrix([[x]]), labels=("your answer", "the expected Δ"))
    assert scalar.equal is False and "your answer is a scalar" in scalar.reason


def test_matrix_entry_that_differs_is_named():
    result = equivalent(sympy.Matrix([[x, y], [x * y, 1]]), sympy.Matrix([[x, y], [x + y, 1]]))
    assert result.equal is False and result.entry == (1, 0)
    assert "entry [1, 0]" in result.reason


def test_unexpected_symbols_are_reported():
    x1 = sympy.Symbol("x_1")
    result = equivalent("x1 + 1", x1 + 1, symbols=[x1])
    assert result.equal is False and result.method == "symbols"
    assert "x1" in result.reason and "x_1" in result.reason


def test_strings_use_the_symbols_of_the_other_side():
    p = sympy.Symbol("p", positive=True)
    assert equivalent("sqrt(p**2)", p).equal is True       # p is the positive p of side b
    assert equivalent(sympy.Symbol("x", real=True) * 2, "2*x").equal is True
    n = network((2, 1), activation="identity")
    result = equivalent("w1_1_1*x_1 + w1_2_1*x_2 + b1_1", n.in_[1][0], namespace=n.namespace)
    assert result.equal is True


def test_undefined_values_are_handled():
    assert equivalent(sympy.zoo, x).equal is False               # undefined everywhere vs defined
    both = equivalent(sympy.nan, sympy.zoo)
    assert both.equal is None and not both and "undefined" in both.reason
    assert equivalent(x / x, 1).equal is True                     # 0/0 only at one point


def test_the_verdict_is_reproducible():
    a, b = sympy.sin(x) * sympy.exp(y), sympy.sin(x) * sympy.exp(y) * (1 + x * sympy.Rational(1, 10 ** 12))
    first, second = equivalent(a, b, seed=5), equivalent(a, b, seed=5)
    assert first.equal is False and first.point == second.point and first.values == second.values


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["x^2 + (", "x +* 2", "", "   "])
def test_unparseable_string_is_a_value_error_naming_it(text):
    with pytest.raises(ValueError, match=r"\ba\b") as err:
        equivalent(text, x)
    if text.strip():
        assert repr(text) in str(err.value)


def test_non_expressions_are_rejected():
    with pytest.raises(TypeError, match=r"b is a Equality|expected an expression"):
        equivalent(x, sympy.Eq(x, 1))
    with pytest.raises(ValueError, match="not an expression"):
        equivalent("[1, 2]", x)
    with pytest.raises(TypeError, match="bool"):
        equivalent(True, x)
    with pytest.raises(ValueError, match="timeout"):
        equivalent(x, x, timeout=0)
    with pytest.raises(TypeError, match="n_points"):
        equivalent(x, x, n_points=2.5)


# --- the hard time limit ----------------------------------------------------------------------

def _exp_tower(depth):
    e = x
    for _ in range(depth):
        e = sympy.exp(e)
    return e


@pytest.mark.parametrize("make", [
    pytest.param(lambda: ((x + y) ** 60 - sympy.expand((x + y) ** 60), 0), id="power-60"),
    pytest.param(lambda: (_exp_tower(8), sympy.exp(_exp_tower(8))), id="exp-tower"),
    pytest.param(lambda: (x ** (10 ** 8), x ** (10 ** 8) + 1), id="x**1e8"),
    pytest.param(lambda: (x ** (10 ** 8) - x ** (10 ** 8 - 1), x ** (10 ** 8 - 1) * (x - 1)), id="x**1e8-equal"),
    pytest.param(lambda: ("10**(10**8) * x", "x"), id="huge-integer-string"),
    pytest.param(lambda: ("2**(2**(2**10))", "x"), id="power-tower-string"),
    pytest.param(lambda: (sympy.sin(_exp_tower(6)) ** 2 + sympy.cos(_exp_tower(6)) ** 2, 1), id="trig-of-tower"),
])
def test_pathological_inputs_return_in_time(make):
    a, b = make()
    timeout = 1.0
    start = time.monotonic()
    result = equivalent(a, b, timeout=timeout)
    elapsed = time.monotonic() - start
    assert elapsed < slack(timeout), f"took {elapsed:.2f} s"
    assert result.equal in (True, False, None)
    assert result.elapsed <= elapsed


def test_pathological_verdicts_are_right_when_given():
    assert equivalent((x + y) ** 60 - sympy.expand((x + y) ** 60), 0, timeout=2).equal is True
    assert equivalent(x ** (10 ** 8), x ** (10 ** 8) + 1, timeout=1).equal is False
    assert equivalent(x ** (10 ** 8) - x ** (10 ** 8 - 1), x ** (10 ** 8 - 1) * (x - 1), timeout=1).equal is True


@pytest.mark.slow
def test_slow_evaluation_times_out_without_raising():
    # too big for the symbolic stage; 8 points of 2 x 1000 sines take ~0.5 s
    big = sympy.Add(*[sympy.sin(k * x) * sympy.cos(y / k) for k in range(1, 1001)])
    other = big + sympy.sin(x) ** 2 + sympy.cos(x) ** 2 - 1
    start = time.monotonic()
    result = equivalent(big, other, timeout=0.2)
    elapsed = time.monotonic() - start
    assert elapsed < slack(0.2)
    assert result.equal in (True, None)
    if result.equal is None:
        assert result.method == "timeout" and "0.2 s" in result.reason


def test_work_in_c_is_stopped_at_the_deadline_with_the_courses_message():
    # parsing computes 10**(10**8) exactly: minutes in C, in one bytecode, where no Python
    # signal handler runs; only killing the process that computes it stops it
    start = time.monotonic()
    result = equivalent("10**(10**8) * x", "x", timeout=1, labels=("your answer", "the expected answer"))
    assert time.monotonic() - start < slack(1.0)
    assert result.equal is None and result.method == "timeout" and not result
    assert result.reason == ("could not decide whether your answer equals the expected answer within 1 s "
                             "(stopped while reading the inputs)")
    assert children() == []


def test_a_timeout_says_how_far_the_comparison_got():
    # too big for the symbolic stage; every random point is ~0.2 s of sines at 50 digits
    big = sympy.Add(*[sympy.sin(k * x) * sympy.cos(y / k) for k in range(1, 1001)])
    result = equivalent(big, big + sympy.sin(x) ** 2 + sympy.cos(x) ** 2 - 1, timeout=0.5)
    assert result.method == "timeout"
    assert "within 0.5 s (stopped while evaluating at random points)" in result.reason
    assert children() == []


def test_equivalent_inside_run_limited_keeps_its_symbolic_stage_limit():
    # SymPy's simplify needs more than its share of the time here; the random points settle it.
    # The child must not take the caller's run_limited frame, whose timer it does not have, for
    # its own: its alarm would end the child at the symbolic stage's limit
    a = sympy.Add(*[sympy.sin(k * x + y) ** 2 for k in range(1, 12)])
    b = sympy.Add(*[1 - sympy.cos(k * x + y) ** 2 for k in range(1, 12)])
    finished, result = run_limited(lambda: equivalent(a, b, timeout=3), 20)
    assert finished and (result.equal, result.method) == (True, "numeric"), result.reason


def test_equivalent_works_outside_the_main_thread():
    out = {}
    worker = threading.Thread(target=lambda: out.update(
        result=equivalent(sigmoid(x) * (1 - sigmoid(x)), sympy.diff(sigmoid(x), x))))
    worker.start()
    worker.join(10)
    assert out["result"].equal is True


# --- importing --------------------------------------------------------------------------------

@pytest.mark.slow
def test_importing_equivalence_first_works():
    # backprop_lab.symbolic re-exports equivalent; the import must not be circular either way
    code = ("import backprop_lab.equivalence as e; from backprop_lab.symbolic import Equivalence, equivalent; "
            "assert equivalent is e.equivalent and Equivalence is e.Equivalence")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- in the grading kernel, under the guard -----------------------------------------------------

STUDENT_CELL = """
import os, time, sympy
from backprop_lab.symbolic import equivalent, sigmoid
x = sympy.Symbol("x")
verdicts = [equivalent(sympy.diff(sigmoid(x), x), sigmoid(x) * (1 - sigmoid(x))),
            equivalent(sigmoid(x) * (1 + sigmoid(x)), sigmoid(x) * (1 - sigmoid(x))),
            equivalent("10**(10**8) * x", "x", timeout=1)]
try:
    os.fork()
    forked = "forked"
except PermissionError as exc:
    forked = str(exc)
guard = __import__("sys").modules["backprop_lab.grading.guard"]
print(repr(([(v.equal, v.method) for v in verdicts], guard.installed(), guard._guard.blocked, forked,
            open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read())))
"""


@pytest.mark.kernel
def test_a_students_cell_can_use_equivalent_in_the_guarded_grading_kernel():
    # the cell is the student's code (an IPython cell is in no trusted folder): the guard refuses
    # it os.fork, but lets the library's own time limit fork and kill its child for it
    from jupyter_client import KernelManager

    class GuardedKernel(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return [sys.executable, "-P", "-m", "backprop_lab.grading.kernel", "-f", self.connection_file]

    km = GuardedKernel()
    km.start_kernel(env={**os.environ})
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        out = []
        reply = kc.execute_interactive(STUDENT_CELL, timeout=120, output_hook=lambda msg: out.append(msg))
        assert reply["content"]["status"] == "ok", reply["content"]
        text = "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")
        verdicts, installed, blocked, forked, left = eval(text)
        assert installed
        assert verdicts == [(True, "simplify"), (False, "numeric"), (None, "timeout")]
        assert blocked[:-1] == [] and len(blocked) == 1 and blocked[0].startswith("os.fork (forking)")
        assert "forking is not allowed in a submission" in forked
        assert left.split() == []
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
