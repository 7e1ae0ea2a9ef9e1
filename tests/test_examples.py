"""The published worked example (Mazur 2015), reproduced through the public MLP API,
and the reference MLP reaching 97% on the digits."""

import time

import numpy as np
import pytest

from backprop_lab import MLP, cli, examples
from backprop_lab.activations import get_activation

P = examples.PUBLISHED
TOL = 1e-8  # the article prints 8 or 9 decimals


@pytest.fixture
def ex():
    return examples.worked_example()


def close(got, name):
    assert abs(got - P[name]) <= TOL, f"{name}: got {got:.12f}, published {P[name]}"


def test_setup_matches_the_article(ex):
    assert ex.X.shape == (1, 2) and ex.T.shape == (1, 2)
    np.testing.assert_array_equal(ex.X, [[0.05, 0.10]])
    np.testing.assert_array_equal(ex.T, [[0.01, 0.99]])
    assert ex.lr == 0.5
    values = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
    assert examples.by_name(ex.weights) == values
    # w1: i1 -> h1, w2: i2 -> h1, ..., as (layer, from j, to i)
    assert examples.WEIGHT_NAMES["w2"] == (1, 1, 0) and examples.WEIGHT_NAMES["w7"] == (2, 0, 1)
    np.testing.assert_array_equal(ex.biases[0], [0.35, 0.35])
    np.testing.assert_array_equal(ex.biases[1], [0.60, 0.60])
    net = examples.network()
    assert net.layer_sizes == [2, 2, 2]
    assert net.activation.name == "sigmoid" and net.output_activation.name == "sigmoid"
    assert net.loss_function.name == "squared_error"


def test_forward_pass_and_error(ex):
    net = ex.network()
    O = net.forward(ex.X)
    close(O[0, 0], "out_o1")
    close(O[0, 1], "out_o2")
    close(net.loss(ex.X, ex.T), "E_total")
    tr = net.trace(ex.X, ex.T)
    close(tr[1].in_[0, 0], "net_h1")
    close(tr[1].a[0, 0], "out_h1")
    close(tr[1].a[0, 1], "out_h2")
    close(tr[2].in_[0, 0], "net_o1")
    E = 0.5 * (ex.T - O) ** 2
    close(E[0, 0], "E_o1")
    close(E[0, 1], "E_o2")


def test_backward_pass_intermediate_values(ex):
    net = ex.network()
    tr = net.trace(ex.X, ex.T)
    g = get_activation("sigmoid")
    close(-tr.Err[0, 0], "dE_total/dout_o1")                      # ∂E/∂o = −(t − o)
    close(g.derivative(tr[2].in_)[0, 0], "dout_o1/dnet_o1")
    close(-tr[2].Delta[0, 0], "delta_o1")                         # Mazur's δ = −Δ
    back = -(tr[2].Delta * ex.weights[1])                         # ∂E_o/∂out_h per output o, column by column
    close(back[0, 0], "dE_o1/dout_h1")                            # δ_o1 w5
    close(back[0, 1], "dE_o2/dout_h1")                            # δ_o2 w7
    close(-(tr[2].Delta @ ex.weights[1].T)[0, 0], "dE_total/dout_h1")
    close(g.derivative(tr[1].in_)[0, 0], "dout_h1/dnet_h1")
    dW, _ = net.gradients(ex.X, ex.T)
    close(dW[1][0, 0], "dE_total/dw5")
    close(dW[0][0, 0], "dE_total/dw1")
    # the teaching trace and the fast path agree
    for l in (1, 2):
        np.testing.assert_allclose(tr[l].dW, dW[l - 1], rtol=1e-12)


def test_one_update_gives_the_published_weights():
    new = examples.by_name(examples.one_update())
    for name in examples.WEIGHT_NAMES:
        close(new[name], name + "+")


def test_one_update_through_the_course_rule_and_trace(ex):
    # W ← W + α a Δ from the trace gives the same weights as W ← W − α dE/dW
    tr = ex.network().trace(ex.X, ex.T)
    via_trace = examples.by_name(tr.updated_weights(ex.lr))
    for name in examples.WEIGHT_NAMES:
        close(via_trace[name], name + "+")


def test_one_update_leaves_biases_and_the_example_alone(ex):
    net = ex.network()
    before = [W.copy() for W in net.weights]
    examples.one_update(net)
    for W, W0 in zip(net.weights, before):
        np.testing.assert_array_equal(W, W0)
    np.testing.assert_array_equal(examples.worked_example().weights[0], [[0.15, 0.25], [0.20, 0.30]])


@pytest.mark.slow
def test_repeated_updates_against_the_article():
    net, errors = examples.iterate(10000)
    assert errors.shape == (10001,)
    close(errors[0], "E_total")
    assert np.all(np.diff(errors) < 0), "the error should fall at every update"
    # one update: our 0.291027774; the article prints 0.291027924 (1.5e-7 higher) though its
    # weights agree with ours to 1e-8 -- documented in examples.iterate
    assert abs(errors[1] - 0.2910277737) < 1e-9
    assert abs(errors[1] - P["E_total after 1 update"]) < 2e-7
    # the article's "after 10,000 iterations" 0.0000351085 is the error after 9,999 updates
    assert abs(errors[9999] - P["E_total after 10000 updates"]) < 5e-11
    assert abs(errors[10000] - 3.5101878e-05) < 1e-12
    O = net.forward(examples.worked_example().X)[0]
    assert abs(O[0] - P["out_o1 after 10000 updates"]) < 2e-6
    assert abs(O[1] - P["out_o2 after 10000 updates"]) < 2e-6


def test_updating_the_biases_too_learns_faster():
    _, fixed = examples.iterate(200)
    _, moving = examples.iterate(200, update_biases=True)
    assert moving[0] == fixed[0] and moving[-1] < fixed[-1]


@pytest.mark.slow
def test_report_shows_every_step():
    text = examples.report(n_updates=0)
    for needle in ("in[1]", "a[1]", "in[2]", "Δ[2]", "Δ[1]", "∂E/∂W[1]", "0.298371109", "0.751365070",
                   "0.772928465", "0.138498562"):
        assert needle in text, f"{needle!r} missing from the report"
    for name in examples.WEIGHT_NAMES:
        line = next(line for line in text.splitlines() if line.strip().startswith(name + " "))
        assert f"{examples.by_name(examples.one_update())[name]:.9f}" in line
    assert "10,000" not in text
    assert "0.0000351019" in examples.report(n_updates=10000)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_updates"):
        examples.iterate(-1)
    with pytest.raises(ValueError, match="shape \\(2, 2\\)"):
        examples.by_name([np.zeros((2, 3)), np.zeros((3, 2))])


@pytest.mark.slow
def test_reference_mlp_reaches_97_percent_on_digits():
    """The standard split (seed 0, 25% test, standardised on the training set), three
    different initialisations and shuffles: 97% on average, and no run below 96.5%.

    Measured for seeds 0 to 29 of this setting: 436 to 442 of the 450 test images right
    (96.9% to 98.2%), mean 439.2 (97.6%), standard deviation 1.5 images; seeds 0, 1, 2 give
    439 each. One image is 0.22%, so a single run's figure moves by a few images with any
    change of rounding; the mean of three runs has a standard deviation of about 0.9 images,
    and its 97% (436.5 images) lies 3 of those below the measured mean. The floor of 96.5%
    (435 images) is below every measured run. A wrong gradient or update falls far below
    both: the untrained network gets about 7%.
    """
    from backprop_lab.datasets import load

    X_train, X_test, y_train, y_test = load("digits", seed=0)
    accuracies = []
    for seed in (0, 1, 2):
        net = MLP([64, 256, 10], activation="relu", loss="cross_entropy", seed=seed)
        hist = net.fit(X_train, y_train, epochs=60, lr=0.05, batch_size=16, seed=seed, progress=False)
        assert not hist.diverged and hist.loss[-1] < 0.05 < hist.loss[0]
        accuracies.append(net.accuracy(X_test, y_test))
    print("digits test accuracy per seed:", [f"{a:.4f}" for a in accuracies])
    assert np.mean(accuracies) >= 0.97, f"test accuracies {accuracies}: their mean is below 0.97"
    assert min(accuracies) >= 0.965, f"test accuracies {accuracies}: one is below 0.965"


def test_cli_train_defaults_are_reproducible():
    again = cli.train("digits", seed=0, epochs=2, log=None)
    assert isinstance(again.model, MLP) and again.model.layer_sizes == [64, *cli.DEFAULTS["hidden"], 10]
    assert again.history.loss == cli.train("digits", seed=0, epochs=2, log=None).history.loss, \
        "the same seed should give the same losses"
