"""Activations and losses: values, derivatives, stability, names."""

import warnings

import numpy as np
import pytest

from backprop_lab import ACTIVATIONS, LOSSES, get_activation, get_loss
from backprop_lab.gradcheck import numerical_gradient
from backprop_lab.losses import binary_cross_entropy, cross_entropy, one_hot, squared_error

ELEMENTWISE = [name for name, a in ACTIVATIONS.items() if a.elementwise]
EXTREME = np.array([-1e6, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e6])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name):
    g = get_activation(name)
    x = np.linspace(-4, 4, 41) + 0.013  # avoid the kink of relu at exactly 0
    num = np.array([numerical_gradient(lambda v: float(g(v)[0]), np.array([xi])) for xi in x]).ravel()
    np.testing.assert_allclose(g.derivative(x), num, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_through_output_equals_derivative_of_input(name):
    g = get_activation(name)
    x = np.linspace(-6, 6, 101)
    np.testing.assert_allclose(g.dg_from_a(g(x)), g.derivative(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.backward(g(x), np.full_like(x, 2.0)), 2 * g.derivative(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_stable_for_large_inputs(name):
    g = get_activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow / invalid warning fails
        a = g(EXTREME[None, :]) if name == "softmax" else g(EXTREME)
        assert np.all(np.isfinite(a))
        if g.elementwise:
            assert np.all(np.isfinite(g.derivative(EXTREME)))


def test_known_values():
    s = get_activation("sigmoid")
    assert s(np.array([0.0]))[0] == 0.5
    assert s.derivative(np.array([0.0]))[0] == 0.25
    # sigma'(x) for large x: relative accuracy kept (not 1 - 1 = 0)
    assert s.derivative(np.array([30.0]))[0] == pytest.approx(np.exp(-30.0), rel=1e-10)
    assert s(np.array([-30.0]))[0] == pytest.approx(np.exp(-30.0) / (1 + np.exp(-30.0)), rel=1e-14)
    np.testing.assert_allclose(get_activation("tanh").derivative(np.array([20.0])), 4 * np.exp(-40.0), rtol=1e-12)
    np.testing.assert_array_equal(get_activation("relu").derivative(np.array([-1.0, 0.0, 2.0])), [0, 0, 1])
    np.testing.assert_allclose(get_activation("leaky_relu")(np.array([-2.0, 3.0])), [-0.02, 3.0])
    p = get_activation("softmax")(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], [0.5, 0.5, 0.0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_saturation_threshold_is_where_derivative_falls_below_2_percent(name):
    g = get_activation(name)
    peak = g.derivative(np.array([0.0]))[0]
    # the first multiple of 0.01 where g' is below 2% of its peak
    assert g.derivative(np.array([g.saturation]))[0] <= 0.02 * peak < g.derivative(np.array([g.saturation - 0.01]))[0]


def test_softmax_derivative_is_not_elementwise():
    with pytest.raises(ValueError, match="not element-wise"):
        get_activation("softmax").derivative(np.zeros((1, 3)))


def test_softmax_backward_is_jacobian_transpose_product():
    rng = np.random.default_rng(0)
    z, v = rng.normal(size=(1, 4)), rng.normal(size=(1, 4))
    sm = get_activation("softmax")
    a = sm(z)
    J = np.diag(a[0]) - np.outer(a[0], a[0])
    np.testing.assert_allclose(sm.backward(a, v.copy())[0], J.T @ v[0], rtol=1e-12)


@pytest.mark.parametrize("getter,kind", [(get_activation, "activation"), (get_loss, "loss")])
def test_unknown_names_are_named_with_suggestion(getter, kind):
    with pytest.raises(ValueError, match=rf"unknown {kind} 'sigmod'.*expected one of") as err:
        getter("sigmod" if kind == "activation" else "sigmod")
    if kind == "activation":
        assert "did you mean 'sigmoid'" in str(err.value)
    with pytest.raises(TypeError, match=f"{kind} must be given by name"):
        getter(3)


def test_squared_error_of_one_sample_is_half_sum_of_squares():
    o, t = np.array([[0.75136507, 0.772928465]]), np.array([[0.01, 0.99]])
    assert squared_error(o, t) == pytest.approx(0.5 * ((0.01 - 0.75136507) ** 2 + (0.99 - 0.772928465) ** 2), rel=1e-15)
    # a batch averages over samples
    assert squared_error(np.vstack([o, o]), np.vstack([t, t])) == pytest.approx(squared_error(o, t), rel=1e-15)


def test_cross_entropy_from_logits_and_labels():
    Z = np.array([[2.0, 1.0, 0.1], [0.0, 5.0, -1.0]])
    y = np.array([0, 1])
    p = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    ref = -np.mean(np.log(p[[0, 1], y]))
    assert cross_entropy(Z, y) == pytest.approx(ref, rel=1e-12)
    assert cross_entropy(Z, one_hot(y, 3)) == pytest.approx(ref, rel=1e-12)
    assert cross_entropy(p, y, from_logits=False) == pytest.approx(ref, rel=1e-12)
    # huge logits: finite, and equal to the exact limit
    assert cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1])) == pytest.approx(2000.0)


def test_cross_entropy_of_a_diverged_batch_is_not_cancelled_away():
    """A diverging run's logits reach 1e16 and more; a batch with one such sample must still
    give every other sample's loss, not a zero or negative sum (found in notebook 6)."""
    Z = np.array([[3e16, 0.0], [1.0, 2.0], [0.0, 5e16]])
    assert cross_entropy(Z, np.array([0, 1, 1])) == pytest.approx(np.log1p(np.exp(-1.0)) / 3, rel=1e-12)
    Z = np.array([[3e16, 0.0], [2.0, 1.0]])
    assert cross_entropy(Z, np.array([0, 1])) == pytest.approx(np.log1p(np.e) / 2, rel=1e-12)
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(64, 5)) * 10.0 ** rng.uniform(0, 17, size=(64, 1))
    assert cross_entropy(Z, rng.integers(0, 5, 64)) >= 0


def test_binary_cross_entropy_stable():
    Z = np.array([[-800.0, 0.0, 800.0]])
    T = np.array([[1.0, 0.5, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        E = binary_cross_entropy(Z, T)
    assert E == pytest.approx(800.0 + np.log(2) + 800.0)
    Z = np.array([[0.3, -0.2]])
    T = np.array([[1.0, 0.0]])
    p = 1 / (1 + np.exp(-Z))
    ref = -np.sum(T * np.log(p) + (1 - T) * np.log(1 - p))
    assert binary_cross_entropy(Z, T) == pytest.approx(ref, rel=1e-12)
    assert binary_cross_entropy(p, T, from_logits=False) == pytest.approx(ref, rel=1e-12)


def test_loss_inputs_are_checked():
    with pytest.raises(ValueError, match=r"T has shape \(2, 3\) but O has shape \(2, 2\)"):
        squared_error(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="out of range.*labels must be 0..2"):
        cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        binary_cross_entropy(np.zeros((1, 2)), np.array([[0.0, 2.0]]))
    with pytest.raises(ValueError, match="one-hot"):
        cross_entropy(np.zeros((1, 3)), np.array([[0.0, 1.0, 1.0]]))


def test_losses_registry_knows_the_three():
    assert set(LOSSES) == {"squared_error", "cross_entropy", "binary_cross_entropy"}
    assert LOSSES["cross_entropy"].requires == "softmax"
    assert LOSSES["binary_cross_entropy"].requires == "sigmoid"


# --- the registries carry everything the other modules need ---------------------------------

SYMBOLIC = [name for name, a in ACTIVATIONS.items() if a.symbolic is not None and a.elementwise]


@pytest.mark.parametrize("name", SYMBOLIC)
def test_symbolic_form_matches_g_and_its_a_form_is_its_derivative(name):
    sympy = pytest.importorskip("sympy")
    g, x = ACTIVATIONS[name], sympy.Symbol("x")
    expr = g.symbolic(x, sympy)
    xs = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(sympy.lambdify(x, expr, "numpy")(xs) + 0 * xs, g(xs), rtol=1e-12)
    # dg_from_a serves arrays and SymPy alike: the course's a-form of g' is the true derivative
    assert sympy.simplify(g.dg_from_a(expr) - sympy.diff(expr, x)) == 0


def test_entries_state_init_eligibility_and_prediction_rules():
    assert {n for n, a in ACTIVATIONS.items() if a.init == "he"} == {"relu", "leaky_relu"}
    assert [n for n, a in ACTIVATIONS.items() if not a.hidden_ok] == ["softmax"]
    O = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    np.testing.assert_array_equal(ACTIVATIONS["softmax"].labels(O), [1, 0])
    np.testing.assert_array_equal(LOSSES["binary_cross_entropy"].labels(O), (O >= 0.5).astype(np.int64))
    assert LOSSES["squared_error"].labels is None and LOSSES["squared_error"].exclusive
    assert not LOSSES["binary_cross_entropy"].exclusive
    assert [n for n, loss in LOSSES.items() if not loss.fused_delta] == ["squared_error"]


def test_each_loss_formula_is_one_function_shared_by_the_public_function_and_the_mlp():
    rng = np.random.default_rng(3)
    Z, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    T = one_hot(labels, 3)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    S = 1 / (1 + np.exp(-Z))
    assert LOSSES["squared_error"].value(Z, S, T) == squared_error(S, T)
    assert LOSSES["cross_entropy"].value(Z, P, T) == cross_entropy(Z, T)
    assert LOSSES["binary_cross_entropy"].value(Z, S, T) == binary_cross_entropy(Z, T)


def test_a_new_activation_is_one_entry():
    """An Activation built like a registry entry works in the MLP with nothing else changed:
    its init, its derivative through a, and the training step all come from the entry."""
    from backprop_lab import MLP
    from backprop_lab.activations import Activation

    softplus = Activation(
        "softplus", lambda x, out=None: np.logaddexp(0, x, out=out), lambda x: 1 / (1 + np.exp(-x)),
        lambda a: -np.expm1(-a), r"g(x) = \log(1 + e^x)", r"g'(x) = \sigma(x)", init="he",
        symbolic=lambda x, sp: sp.log(1 + sp.exp(x)))
    a = MLP([3, 4, 2], softplus, loss="cross_entropy", seed=0)
    b = MLP([3, 4, 2], "relu", loss="cross_entropy", seed=0)
    for wa, wb in zip(a.weights, b.weights):   # "auto" init comes from the entry: He, as for relu
        np.testing.assert_array_equal(wa, wb)
    X, y = np.random.default_rng(1).normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])
    dW, _ = a.gradients(X, y)
    num = numerical_gradient(lambda: a.loss(X, y), a.weights[0])
    np.testing.assert_allclose(dW[0], num, rtol=1e-6, atol=1e-9)
    assert a.predict(X).shape == (6,)
