"""Tests of backprop_lab.symbolic: the symbolic network, its deltas and the NumPy bridge.

The equivalence check has its own tests (test_equivalence.py); here it is the judge of the
derivations, imported from backprop_lab.symbolic as the notebooks import it.
"""

import numpy as np
import pytest
import sympy

from backprop_lab import MLP
from backprop_lab import symbolic
from backprop_lab.symbolic import (bias_gradient, deltas_backprop, deltas_direct, equivalent, network,
                                   sigmoid, substitute_params, to_numpy, weight_gradient)

x, y = sympy.symbols("x y")

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


def test_equivalent_and_its_verdict_are_re_exported():
    from backprop_lab import equivalence

    assert symbolic.equivalent is equivalence.equivalent
    assert symbolic.Equivalence is equivalence.Equivalence


# --- derivations ------------------------------------------------------------------------------

def test_sigmoid_derivative_found_by_diff_is_sigma_times_one_minus_sigma():
    found = sympy.diff(sigmoid(x), x)
    course = sigmoid(x) * (1 - sigmoid(x))
    assert found != course                 # written differently, so this is a real proof
    result = equivalent(found, course)
    assert result.equal is True and result.method in ("simplify", "numeric")


@pytest.mark.parametrize("sizes, kwargs", [
    ((2, 2, 2), dict(activation="sigmoid")),
    pytest.param((2, 2, 2), dict(activation="g"), marks=pytest.mark.slow),
    ((2, 3, 1), dict(activation="tanh")),
    ((3, 2, 2), dict(activation="identity")),
    pytest.param((2, 2, 3), dict(loss="cross_entropy"), marks=pytest.mark.slow),
    pytest.param((2, 2, 2), dict(output_activation="softmax"), marks=pytest.mark.slow),
    pytest.param((1, 2, 2, 1), dict(activation="sigmoid"), marks=pytest.mark.slow),
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


@pytest.mark.parametrize("name", ["sigmoid", pytest.param("g", marks=pytest.mark.slow)])
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


@pytest.mark.parametrize("problem", ["mazur", pytest.param("random 3-2-2", marks=pytest.mark.slow)])
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
