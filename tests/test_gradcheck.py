"""The gradient checker: finds real errors, names the layer, never leaves x changed."""

import numpy as np
import pytest

from backprop_lab import MLP
from backprop_lab.gradcheck import check_gradients, numerical_gradient, rel_error


def data(seed=0, n=6, d=3, k=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.random((n, k))


def test_numerical_gradient_of_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = numerical_gradient(lambda v: float(np.sum(np.sin(v) * v)), x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-9)


def test_numerical_gradient_reads_x_through_a_model_without_arguments():
    net = MLP([3, 4, 2], seed=0)
    X, Y = data()
    num = numerical_gradient(lambda: net.loss(X, Y), net.weights[0])
    assert rel_error(num, net.gradients(X, Y)[0][0]) < 1e-7


def test_numerical_gradient_restores_x_even_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    original = x.copy()
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 4:  # second entry, second evaluation
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, original)
    assert calls[3][1] != original[1]  # it was perturbed while f ran
    # and after a normal run too, bit for bit
    numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    np.testing.assert_array_equal(x, original)


def test_numerical_gradient_input_checks():
    with pytest.raises(TypeError, match="float array"):
        numerical_gradient(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(TypeError, match="NumPy array"):
        numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="must return a scalar loss.*shape \\(2,\\)"):
        numerical_gradient(lambda v: v * 2, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"h \(the step of the central difference\) must be a positive finite"):
        numerical_gradient(lambda v: 0.0, np.array([1.0]), h=0)
    with pytest.raises(TypeError, match="h must be a number.*got bool True"):
        numerical_gradient(lambda v: 0.0, np.array([1.0]), h=True)
    ro = np.array([1.0])
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        numerical_gradient(lambda v: 0.0, ro)
    with pytest.warns(RuntimeWarning, match="float64"):
        numerical_gradient(lambda v: float(v.sum()), np.array([1.0], dtype=np.float32))


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error([1.0, 2.0], [1.0, -2.0]) == pytest.approx(1.0)
    assert rel_error([1.0], [1.01]) == pytest.approx(0.01 / 2.01)
    with pytest.raises(ValueError, match=r"same shape; got \(2,\) and \(3,\)"):
        rel_error(np.ones(2), np.ones(3))


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy", "binary_cross_entropy"])
def test_reference_mlp_passes(act, loss):
    rng = np.random.default_rng(1)
    net = MLP([3, 5, 4, 2], activation=act, loss=loss, seed=1)
    X = rng.normal(size=(8, 3))
    Y = rng.integers(0, 2, 8) if loss == "cross_entropy" else rng.random((8, 2))
    report = check_gradients(net, X, Y)
    assert report.ok, str(report)
    assert [p.name for p in report.params] == ["W[1]", "b[1]", "W[2]", "b[2]", "W[3]", "b[3]"]
    assert report.worst.max_rel_error < 1e-6


class OnePercentOff:
    """A 'student' network: the reference, with one layer's weight gradient 1% too large."""

    def __init__(self, net, layer):
        self.net, self.layer = net, layer
        self.weights, self.biases = net.weights, net.biases

    def loss(self, X, Y):
        return self.net.loss(X, Y)

    def gradients(self, X, Y):
        dW, db = self.net.gradients(X, Y)
        dW[self.layer] = dW[self.layer] * 1.01
        return dW, db


@pytest.mark.parametrize("layer", [0, 1, 2])
@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
def test_one_percent_error_in_one_layer_is_flagged_and_named(layer, mode):
    X, Y = data(2)
    net = MLP([3, 4, 4, 2], activation="tanh", seed=2)
    report = check_gradients(OnePercentOff(net, layer), X, Y, mode=mode, seed=0)
    assert not report.ok
    assert [p.name for p in report.failed] == [f"W[{layer + 1}]"]
    assert report.worst.name == f"W[{layer + 1}]"
    assert report.worst.max_rel_error == pytest.approx(0.01 / 2.01, rel=0.05)
    text = str(report)
    assert "FAILED" in text and f"W[{layer + 1}]" in text and "<-- wrong" in text
    if mode != "directional":
        assert f"weights[{layer}][" in report.worst.where


def test_sampled_and_directional_modes_cost():
    X, Y = data(3, d=30)
    net = MLP([30, 50, 2], seed=3)
    calls = {"n": 0}

    class Counting:
        weights, biases = net.weights, net.biases

        def loss(self, X, Y):
            calls["n"] += 1
            return net.loss(X, Y)

        def gradients(self, X, Y):
            return net.gradients(X, Y)

    rep = check_gradients(Counting(), X, Y, mode="sample", k=7, seed=0)
    assert rep.ok and calls["n"] == 1 + 2 * (7 + 7 + 7 + 2)  # b[2] has only 2 entries
    assert rep["W[1]"].checked == 7
    calls["n"] = 0
    rep = check_gradients(Counting(), X, Y, mode="directional", n_directions=3, seed=0)
    assert rep.ok and calls["n"] == 1 + 2 * 3 * 4  # two loss evaluations per direction
    np.testing.assert_array_equal(net.weights[0], MLP([30, 50, 2], seed=3).weights[0])  # restored


def test_student_network_with_wrong_gradient_shape():
    X, Y = data()
    net = MLP([3, 4, 2], seed=0)

    class Transposed(OnePercentOff):
        def gradients(self, X, Y):
            dW, db = self.net.gradients(X, Y)
            return [dW[0].T, dW[1]], db

    with pytest.raises(ValueError, match=r"gradient of W\[1\] has shape \(4, 3\).*\(3, 4\) \(transposed\?\)"):
        check_gradients(Transposed(net, 0), X, Y)


def test_gradients_that_update_weights_are_reported_and_undone():
    X, Y = data()
    net = MLP([3, 4, 2], seed=0)
    before = [w.copy() for w in net.weights]

    class Updating(OnePercentOff):
        def gradients(self, X, Y):
            dW, db = self.net.gradients(X, Y)
            self.net.weights[1] -= 0.5 * dW[1]  # the classic: update while back-propagating
            return self.net.gradients(X, Y)[0][:1] + [dW[1]], db

    rep = check_gradients(Updating(net, 0), X, Y)
    assert not rep.ok and "changed weights[1]" in rep.problems[0]
    np.testing.assert_array_equal(net.weights[1], before[1])


def test_model_without_required_attributes():
    with pytest.raises(TypeError, match="has no 'gradients'"):
        check_gradients(type("M", (), {"weights": [], "biases": [], "loss": None})(), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="unknown mode 'fast'"):
        check_gradients(MLP([1, 1]), np.zeros((1, 1)), np.zeros((1, 1)), mode="fast")


def test_vanishing_gradients_do_not_fail_by_round_off():
    """Deep sigmoid nets have tiny first-layer gradients; they are below the noise of
    the finite difference and must not be flagged."""
    rng = np.random.default_rng(4)
    net = MLP([4] + [6] * 8 + [1], activation="sigmoid", init=0.3, seed=4)
    X, Y = rng.normal(size=(5, 4)), rng.random((5, 1))
    rep = check_gradients(net, X, Y)
    assert np.abs(net.gradients(X, Y)[0][0]).max() < 1e-6
    assert rep.ok, str(rep)
