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
