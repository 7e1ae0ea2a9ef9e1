"""Tests of backprop_lab.symbolic: the symbolic network, its deltas, the NumPy bridge and
the robust equivalence check (including its hard time limit)."""

import signal
import threading
import time

import numpy as np
import pytest
import sympy

from backprop_lab import MLP
from backprop_lab import symbolic
from backprop_lab.symbolic import (Equivalence, bias_gradient, deltas_backprop, deltas_direct,
                                   equivalent, network, sigmoid, substitute_params, to_numpy,
                                   weight_gradient)

x, y, z = sympy.symbols("x y z")

# the published 2-2-2 worked example (Matt Mazur, "A step by step backpropagation example")
MAZUR_W = [np.array([[0.15, 0.25], [0.20, 0.30]]), np.array([[0.40, 0.50], [0.45, 0.55]])]
MAZUR_B = [np.array([0.35, 0.35]), np.array([0.60, 0.60])]
MAZUR_X = np.array([0.05, 0.10])
MAZUR_T = np.array([0.01, 0.99])


@pytest.fixture(scope="module")
def net():
    return network((2, 2, 2), activation="sigmoid")


@pytest.fixture(scope="module")
def gnet():
    return network((2, 2, 2), activation="g")


def slack(seconds):
    """Timing assertions: the promised bound, with room for a slow test machine."""
    return seconds + 1.0


# --- the symbolic network ---------------------------------------------------------------------

def test_network_uses_the_course_notation(net):
    assert net.layer_sizes == (2, 2, 2) and net.L == 2
    assert net.W[1].shape == (2, 2) and net.b[2].shape == (1, 2)
    assert [s.name for s in net.x] == ["x_1", "x_2"]
    assert [s.name for s in net.t] == ["t_1", "t_2"]
    # W[l][j, i] is the weight from unit j to unit i, named with 1-based units
    assert net.W[1][0, 1].name == "w^{(1)}_{1,2}"
    assert net.b[2][0, 1].name == "b^{(2)}_{2}"
    assert net.a[0] == net.x
    assert net.in_[1] == net.x * net.W[1] + net.b[1]
    assert net.a[1] == net.in_[1].applyfunc(sigmoid)
    assert net.in_[2] == net.a[1] * net.W[2] + net.b[2]
    expected_E = sympy.Rational(1, 2) * sum((t - o) ** 2 for t, o in zip(net.t, net.a[2]))
    assert sympy.expand(net.E - expected_E) == 0
    assert len(net.parameters) == 2 * 4 + 2 * 2
    assert set(net.symbols) == net.E.free_symbols


def test_sigmoid_helper_is_the_logistic_function():
    assert sigmoid(x) == 1 / (1 + sympy.exp(-x))
    assert sigmoid(sympy.Matrix([[x, y]])) == sympy.Matrix([[sigmoid(x), sigmoid(y)]])
    assert float(sigmoid(0)) == 0.5


def test_network_shapes_chain_for_other_sizes():
    n = network((3, 4, 1), activation="tanh")
    assert [n.W[l].shape for l in (1, 2)] == [(3, 4), (4, 1)]
    assert n.a[2][0].has(sympy.tanh)
    assert n.O.shape == (1, 1) and n.Err == n.t - n.O


def test_layers_are_numbered_from_one(net):
    with pytest.raises(KeyError, match=r"numbered 1\.\.2"):
        net.W[0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(activation="sigmod"), r"unknown activation 'sigmod'.*did you mean 'sigmoid'"),
    (dict(activation="softmax"), r"softmax can only be an output activation"),
    (dict(loss="hinge"), r"unknown loss 'hinge'"),
    (dict(loss="cross_entropy", output_activation="sigmoid"), r"cross_entropy.*softmax"),
    (dict(layer_sizes=(3,)), r"at least an input and an output"),
])
def test_network_rejects_bad_configuration(kwargs, message):
    with pytest.raises(ValueError, match=message):
        network(**kwargs)


def test_weight_gradient_checks_unit_numbers(net):
    with pytest.raises(ValueError, match=r"j is 0.*numbered 1\.\.2"):
        weight_gradient(net, 1, 0, 1)
    with pytest.raises(ValueError, match=r"l is 3.*1\.\.2"):
        weight_gradient(net, 3, 1, 1)
    with pytest.raises(TypeError, match="SymbolicNet"):
        deltas_direct("not a net")


# --- derivations ------------------------------------------------------------------------------

def test_sigmoid_derivative_found_by_diff_is_sigma_times_one_minus_sigma():
    found = sympy.diff(sigmoid(x), x)
    course = sigmoid(x) * (1 - sigmoid(x))
    assert found != course                 # written differently, so this is a real proof
    result = equivalent(found, course)
    assert result.equal is True and result.method in ("simplify", "numeric")


@pytest.mark.parametrize("sizes, kwargs", [
    ((2, 2, 2), dict(activation="sigmoid")),
    ((2, 2, 2), dict(activation="g")),
    ((2, 3, 1), dict(activation="tanh")),
    ((3, 2, 2), dict(activation="identity")),
    ((2, 2, 3), dict(loss="cross_entropy")),
    ((2, 2, 2), dict(output_activation="softmax")),
    ((1, 2, 2, 1), dict(activation="sigmoid")),
])
def test_backprop_deltas_equal_direct_differentiation(sizes, kwargs):
    n = network(sizes, **kwargs)
    direct, backprop = deltas_direct(n), deltas_backprop(n)
    assert sorted(direct) == sorted(backprop) == list(range(1, n.L + 1))
    for l in range(1, n.L + 1):
        assert direct[l].shape == backprop[l].shape == (1, sizes[l])
        result = equivalent(backprop[l], direct[l], timeout=5)
        assert result.equal is True, f"layer {l}: {result.reason}"


def test_g_prime_is_written_as_the_course_writes_it(net):
    a = net.a[1]
    assert net.g_prime(1) == a.applyfunc(lambda v: v * (1 - v))
    assert network((2, 1), activation="tanh").g_prime(1)[0] == 1 - network((2, 1), activation="tanh").a[1][0] ** 2
    with pytest.raises(ValueError, match="softmax"):
        network((2, 2), loss="cross_entropy").g_prime(1)


def test_generic_g_keeps_g_prime_visible(gnet):
    delta_out = deltas_backprop(gnet)[2][0]
    assert delta_out.has(sympy.Derivative) and delta_out.atoms(sympy.Function)
    assert "Derivative(g(" in str(delta_out)


def _hidden_delta_variants(n, deltas):
    """Correct and wrong ways of writing the hidden Δ of a 2-2-2 network."""
    gp = n.g_prime(1)
    D2, W2 = deltas[2], n.W[2]
    as_sum = sympy.Matrix([[gp[j] * sum(W2[j, i] * D2[i] for i in range(2)) for j in range(2)]])
    return {
        "sum": as_sum,
        "matrix": gp.multiply_elementwise(D2 * W2.T),
        "missing g'": D2 * W2.T,
        "sign error": -as_sum,
        "swapped indices": sympy.Matrix([[gp[j] * sum(W2[i, j] * D2[i] for i in range(2)) for j in range(2)]]),
    }


@pytest.mark.parametrize("name", ["sigmoid", "g"])
def test_hidden_delta_as_sum_or_matrix_product_is_accepted_and_mistakes_are_not(name):
    n = network((2, 2, 2), activation=name)
    direct = deltas_direct(n)
    variants = _hidden_delta_variants(n, deltas_backprop(n))
    for right in ("sum", "matrix"):
        assert equivalent(variants[right], direct[1]).equal is True, right
    for wrong in ("missing g'", "sign error", "swapped indices"):
        result = equivalent(variants[wrong], direct[1])
        assert result.equal is False and not result, wrong
        assert result.method == "numeric" and result.entry is not None
        assert "differ" in result.reason


def test_counterexample_is_a_real_point_where_the_two_differ(net):
    direct = deltas_direct(net)[1]
    wrong = -deltas_backprop(net)[1]
    result = equivalent(wrong, direct)
    assert result.equal is False
    r, c = result.entry
    at = {s: v for s, v in result.point.items()}
    va = wrong[r, c].evalf(30, subs=at)
    vb = direct[r, c].evalf(30, subs=at)
    assert abs(va - result.values[0]) < 1e-20 and abs(vb - result.values[1]) < 1e-20
    assert abs(va - vb) > 1e-6


# --- the worked example and the reference MLP ------------------------------------------------

def test_worked_example_numbers(net):
    values = substitute_params(net, MAZUR_W, MAZUR_B, MAZUR_X, MAZUR_T)
    w1, w5 = net.W[1][0, 0], net.W[2][0, 0]          # Mazur: w1 = x1->h1, w5 = h1->o1
    assert values[w1] == 0.15 and values[w5] == 0.40
    assert float(net.E.subs(values)) == pytest.approx(0.298371109, abs=1e-9)
    assert float(weight_gradient(net, 2, 1, 1).subs(values)) == pytest.approx(0.082167041, abs=1e-9)
    assert float(weight_gradient(net, 1, 1, 1).subs(values)) == pytest.approx(0.000438568, abs=1e-9)
    # the same through the NumPy bridge
    f = to_numpy(weight_gradient(net, 2, 1, 1), net.symbols)
    assert float(f(values)) == pytest.approx(0.082167041, abs=1e-9)


def _symbolic_gradients(n):
    f_W = [to_numpy(sympy.Matrix(n.W[l].shape[0], n.W[l].shape[1],
                                 lambda j, i: weight_gradient(n, l, j + 1, i + 1)), n.symbols)
           for l in range(1, n.L + 1)]
    f_b = [to_numpy(sympy.Matrix([[bias_gradient(n, l, i + 1) for i in range(n.layer_sizes[l])]]), n.symbols)
           for l in range(1, n.L + 1)]
    return f_W, f_b


def _random_problem(sizes, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(m, k)) for m, k in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=k) for k in sizes[1:]]
    return weights, biases, rng.normal(size=sizes[0]), rng.uniform(size=sizes[-1])


@pytest.mark.parametrize("problem", ["mazur", "random 3-2-2"])
def test_symbolic_gradients_match_the_mlp(problem):
    if problem == "mazur":
        sizes, (weights, biases, xs, ts) = (2, 2, 2), (MAZUR_W, MAZUR_B, MAZUR_X, MAZUR_T)
    else:
        sizes = (3, 2, 2)
        weights, biases, xs, ts = _random_problem(sizes, seed=7)
    n = network(sizes, activation="sigmoid")
    values = substitute_params(n, weights, biases, xs, ts)
    f_W, f_b = _symbolic_gradients(n)
    mlp = MLP.from_params(weights, biases, activation="sigmoid")
    dW, db = mlp.gradients(xs.reshape(1, -1), ts.reshape(1, -1))
    for l in range(n.L):
        np.testing.assert_allclose(np.asarray(f_W[l](values), dtype=float), dW[l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.asarray(f_b[l](values), dtype=float).reshape(-1), db[l], rtol=0, atol=1e-12)
    assert float(n.E.subs(values)) == pytest.approx(mlp.loss(xs.reshape(1, -1), ts.reshape(1, -1)), abs=1e-12)


def test_symbolic_deltas_match_the_mlp_trace():
    sizes = (3, 2, 2)
    weights, biases, xs, ts = _random_problem(sizes, seed=3)
    n = network(sizes, activation="sigmoid")
    values = substitute_params(n, weights, biases, xs, ts)
    trace = MLP.from_params(weights, biases).trace(xs.reshape(1, -1), ts.reshape(1, -1))
    for l, delta in deltas_backprop(n).items():
        got = np.asarray(to_numpy(delta, n.symbols)(values), dtype=float)
        np.testing.assert_allclose(got, trace[l].Delta, rtol=0, atol=1e-12)


def test_substitute_params_reports_wrong_shapes(net):
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(2, 3\).*expects \(2, 2\)"):
        substitute_params(net, [MAZUR_W[0], np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"weights has 1 arrays.*expected 2"):
        substitute_params(net, [MAZUR_W[0]])
    with pytest.raises(ValueError, match=r"x has shape \(3,\)"):
        substitute_params(net, x=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"biases\[0\] contains NaN"):
        substitute_params(net, biases=[np.array([np.nan, 0.0]), np.zeros(2)])
    partial = substitute_params(net, x=MAZUR_X)       # what is left out stays symbolic
    assert set(partial) == set(net.x)


def test_to_numpy_checks_its_input(net, gnet):
    with pytest.raises(ValueError, match=r"undefined function\(s\) g"):
        to_numpy(gnet.E, gnet.symbols)
    with pytest.raises(ValueError, match=r"depends on .*x_2"):
        to_numpy(net.E, [s for s in net.symbols if s.name != "x_2"])
    f = to_numpy(x * y, [x, y])
    np.testing.assert_allclose(f(np.array([1.0, 2.0]), 3.0), [3.0, 6.0])
    with pytest.raises(ValueError, match="no value for y"):
        f({x: 1.0})


# --- equivalence: verdicts ---------------------------------------------------------------------

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


# --- equivalence: bad input --------------------------------------------------------------------

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


# --- equivalence: the hard time limit ----------------------------------------------------------

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


def test_time_limit_interrupts_python_code_that_swallows_exceptions():
    def stubborn():
        while True:
            try:
                sum(range(1000))
            except Exception:  # must not catch the time limit
                pass

    start = time.monotonic()
    assert symbolic._run_limited(stubborn, 0.2) == (False, None)
    assert time.monotonic() - start < slack(0.2)
    assert symbolic._frames == []


def test_nested_limits_give_the_inner_call_its_own_budget():
    def outer():
        inner = symbolic._run_limited(lambda: time.sleep(5), 0.1)
        return inner, "outer went on"

    assert symbolic._run_limited(outer, 2.0) == (True, ((False, None), "outer went on"))


def test_a_previous_alarm_handler_and_timer_are_restored():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *args: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        equivalent(_exp_tower(8), sympy.exp(_exp_tower(8)), timeout=0.3)
        assert fired == []
        assert signal.getsignal(signal.SIGALRM) is not symbolic._on_alarm
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < remaining <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_outside_the_main_thread_the_call_stops_waiting_at_the_limit():
    out = {}

    def work():
        out["easy"] = equivalent(sigmoid(x) * (1 - sigmoid(x)), sympy.diff(sigmoid(x), x))
        start = time.monotonic()
        out["limited"] = symbolic._run_limited(lambda: time.sleep(3), 0.2)
        out["elapsed"] = time.monotonic() - start

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(10)
    assert out["easy"].equal is True
    assert out["limited"] == (False, None) and out["elapsed"] < slack(0.2)
