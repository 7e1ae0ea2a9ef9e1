"""The reference MLP: forward, trace, gradients, step and fit behave as documented."""

import warnings

import numpy as np
import pytest

from backprop_lab import MLP

W1 = np.array([[0.15, 0.25], [0.20, 0.30]])
W2 = np.array([[0.40, 0.50], [0.45, 0.55]])
X1 = np.array([[0.05, 0.10]])
T1 = np.array([[0.01, 0.99]])


def worked_net():
    return MLP.from_params([W1, W2], [np.full(2, 0.35), np.full(2, 0.60)])


def test_constructor_shapes_and_defaults():
    net = MLP([3, 5, 2], seed=0)
    assert [w.shape for w in net.weights] == [(3, 5), (5, 2)]
    assert [b.shape for b in net.biases] == [(5,), (2,)]
    assert net.layer_sizes == [3, 5, 2] and net.n_layers == 2 and net.n_params == 3 * 5 + 5 + 5 * 2 + 2
    assert net.output_activation.name == "sigmoid"  # squared error: same as hidden
    assert MLP([3, 2], loss="cross_entropy").output_activation.name == "softmax"
    assert MLP([3, 2], loss="binary_cross_entropy").output_activation.name == "sigmoid"
    assert "MLP([3, 5, 2]" in repr(net)


def test_seed_reproducible_and_inits_differ():
    a, b, c = MLP([4, 8, 1], seed=1), MLP([4, 8, 1], seed=1), MLP([4, 8, 1], seed=2)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])
    he = MLP([400, 400], activation="relu", init="he", seed=0).weights[0]
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.03)
    xav = MLP([400, 400], init="xavier", seed=0).weights[0]
    assert np.abs(xav).max() <= np.sqrt(6 / 800)
    assert MLP([400, 400], init=0.5, seed=0).weights[0].std() == pytest.approx(0.5, rel=0.03)


def test_float32_network_stays_float32():
    net = MLP([3, 4, 2], seed=0, dtype=np.float32)
    X = np.random.default_rng(0).normal(size=(5, 3))  # float64 input is cast
    assert net.forward(X).dtype == np.float32
    dW, db = net.gradients(X, np.zeros((5, 2)))
    assert all(g.dtype == np.float32 for g in dW + db)
    net.step(X, np.zeros((5, 2)), 0.1)
    assert all(w.dtype == np.float32 for w in net.weights)


def test_forward_is_a_batch_of_independent_rows():
    net = MLP([3, 4, 2], activation="tanh", seed=0)
    X = np.random.default_rng(1).normal(size=(6, 3))
    O = net.forward(X)
    for s in range(6):
        np.testing.assert_allclose(net.forward(X[s:s + 1])[0], O[s], rtol=1e-14)


def test_trace_in_course_notation_matches_worked_example():
    tr = worked_net().trace(X1, T1)
    np.testing.assert_allclose(tr[1].in_, [[0.3775, 0.3925]], rtol=1e-12)
    np.testing.assert_allclose(tr[1].a, [[0.593269992, 0.596884378]], rtol=1e-8)
    np.testing.assert_allclose(tr.O, [[0.75136507, 0.772928465]], rtol=1e-8)
    assert tr.loss == pytest.approx(0.298371109, rel=1e-8)
    # Δ_i = Err_i g'(in_i) = (t - o) o (1 - o)
    o = tr.O[0]
    np.testing.assert_allclose(tr[2].Delta[0], (T1[0] - o) * o * (1 - o), rtol=1e-14)
    # Δ_j = g'(in_j) Σ_i W_{j,i} Δ_i
    h = tr[1].a[0]
    np.testing.assert_allclose(tr[1].Delta[0], h * (1 - h) * (W2 @ tr[2].Delta[0]), rtol=1e-14)
    # W ← W + α a Δ reproduces the published update
    new = tr.updated_weights(0.5)
    assert new[1][0, 0] == pytest.approx(0.35891648, rel=1e-8)   # w5
    assert new[0][0, 0] == pytest.approx(0.149780716, rel=1e-8)  # w1
    assert tr.a(0) is tr.X
    with pytest.raises(IndexError, match="numbered 1..2"):
        tr[0]
    text = str(tr)
    assert "Δ[2]" in text and "in[1]" in text and "0.298371109" in text


@pytest.mark.parametrize("loss,act", [("squared_error", "sigmoid"), ("cross_entropy", "tanh"),
                                      ("binary_cross_entropy", "relu")])
def test_trace_agrees_with_fast_gradients(loss, act):
    rng = np.random.default_rng(7)
    net = MLP([4, 6, 5, 3], activation=act, loss=loss, seed=7)
    X = rng.normal(size=(9, 4))
    Y = {"squared_error": rng.random((9, 3)), "cross_entropy": rng.integers(0, 3, 9),
         "binary_cross_entropy": rng.integers(0, 2, (9, 3)).astype(float)}[loss]
    tr = net.trace(X, Y)
    dW, db = net.gradients(X, Y)
    for l in range(3):
        np.testing.assert_allclose(tr[l + 1].dW, dW[l], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(tr[l + 1].db, db[l], rtol=1e-10, atol=1e-15)
    assert tr.loss == pytest.approx(net.loss(X, Y), rel=1e-12)


def test_gradients_do_not_change_weights_and_step_uses_old_weights():
    rng = np.random.default_rng(0)
    net = MLP([3, 4, 2], seed=0)
    X, Y = rng.normal(size=(5, 3)), rng.random((5, 2))
    before = [w.copy() for w in net.weights]
    dW, db = net.gradients(X, Y)
    for w, b0 in zip(net.weights, before):
        np.testing.assert_array_equal(w, b0)
    E = net.step(X, Y, 0.3)
    for w, b0, g in zip(net.weights, before, dW):
        np.testing.assert_allclose(w, b0 - 0.3 * g, rtol=1e-14)


def test_step_returns_loss_before_update_and_loss_decreases():
    rng = np.random.default_rng(1)
    net = MLP([2, 8, 1], activation="tanh", seed=1)
    X, Y = rng.normal(size=(20, 2)), rng.random((20, 1))
    E0 = net.loss(X, Y)
    assert net.step(X, Y, 0.1) == pytest.approx(E0, rel=1e-14)
    assert net.loss(X, Y) < E0


def test_step_refuses_to_update_from_nan_weights():
    net = MLP([2, 3, 1], seed=0)
    net.weights[1][0, 0] = np.nan
    before = net.weights[0].copy()
    with pytest.raises(FloatingPointError, match="no update was made"):
        net.step(np.ones((2, 2)), np.ones((2, 1)), 0.1)
    np.testing.assert_array_equal(net.weights[0], before)


def test_fit_xor_history_and_predict():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    net = MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    hist = net.fit(X, y, epochs=3000, lr=2.0, progress=False)
    assert hist.epochs == 3000 and hist.stop_reason == "completed"
    assert hist.loss[-1] < 0.01 < hist.loss[0]
    np.testing.assert_array_equal((net.predict(X) > 0.5).astype(int), y.astype(int))
    assert net.accuracy(X, y) == 1.0
    assert "3000 epochs" in repr(hist)


def test_fit_minibatches_shuffle_reproducible_and_validation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    histories = []
    for _ in range(2):
        net = MLP([3, 6, 2], activation="relu", loss="cross_entropy", seed=4)
        histories.append(net.fit(X[:60], y[:60], epochs=15, lr=0.2, batch_size=16, seed=9,
                                 validation_data=(X[60:], y[60:]), progress=False))
    assert histories[0].loss == histories[1].loss
    assert len(histories[0].val_loss) == 15 and histories[0].batch_size == 16
    assert histories[0].val_loss[-1] < histories[0].val_loss[0]


def test_fit_stopping_rule_and_callback():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(30, 2)), rng.random((30, 1))
    net = MLP([2, 3, 1], seed=2)
    hist = net.fit(X, Y, epochs=5000, lr=0.5, tol=1e-4, patience=5, progress=False)
    assert hist.stop_reason == "converged" and hist.epochs < 5000
    seen = []
    hist = MLP([2, 3, 1], seed=2).fit(X, Y, epochs=50, lr=0.1, progress=False,
                                      callback=lambda e, h, m: seen.append((e, len(h.loss))) or e == 4)
    assert hist.stop_reason == "callback" and hist.epochs == 5 and seen[-1] == (4, 5)


def test_fit_divergence_stops_with_warning():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(30, 2)) * 10, rng.normal(size=(30, 1)) * 100
    net = MLP([2, 16, 1], activation="relu", output_activation="identity", seed=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = net.fit(X, Y, epochs=200, lr=5.0, progress=False)
    # one clear warning, not NumPy's overflow noise first
    assert [str(w.message)[:26] for w in caught] == ["training diverged at epoch"]
    assert "smaller learning rate than 5" in str(caught[0].message)
    assert caught[0].filename == __file__  # the warning names the line that called fit
    assert hist.diverged and hist.epochs < 200


def test_fit_progress_bar_can_be_shown(capsys):
    X, Y = np.zeros((4, 2)), np.zeros((4, 1))
    MLP([2, 1], seed=0).fit(X, Y, epochs=3, progress=True)
    assert "training" in capsys.readouterr().err
    MLP([2, 1], seed=0).fit(X, Y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""


def test_predict_kinds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    labels = MLP([3, 4], loss="cross_entropy", seed=0).predict(X)
    assert labels.shape == (7,) and labels.dtype.kind == "i" and labels.max() < 4
    bits = MLP([3, 2], loss="binary_cross_entropy", seed=0).predict(X)
    assert bits.shape == (7, 2) and set(np.unique(bits)) <= {0, 1}
    assert MLP([3, 2], activation="identity", seed=0).predict(X).dtype == np.float64


def test_forward_only_trace():
    tr = worked_net().trace(X1)
    np.testing.assert_allclose(tr.O, [[0.75136507, 0.772928465]], rtol=1e-8)
    assert tr.loss is None and tr.Err is None and tr[2].Delta is None and tr[1].dW is None
    assert "forward pass only" in str(tr) and "Δ" not in str(tr)
    with pytest.raises(ValueError, match="no targets"):
        tr.updated_weights(0.5)


def test_copy_is_independent():
    net = MLP([2, 2], seed=0)
    twin = net.copy()
    twin.weights[0][0, 0] += 1
    assert net.weights[0][0, 0] != twin.weights[0][0, 0]


def test_step_after_weights_are_replaced_by_hand_uses_the_new_shapes():
    """Training steps reuse arrays for dW; weights set by hand (other shapes, another dtype)
    must get their own, and two networks must never share them."""
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(6, 3)), rng.random((6, 2))
    net = MLP([3, 4, 2], seed=0)
    other = net.copy()
    net.step(X, Y, 0.1)
    net.weights = [rng.normal(size=(3, 5)), rng.normal(size=(5, 2))]
    net.biases = [np.zeros(5), np.zeros(2)]
    fresh = MLP.from_params(net.weights, net.biases)
    net.step(X, Y, 0.1)
    fresh.step(X, Y, 0.1)
    for a, b in zip(net.weights, fresh.weights):
        np.testing.assert_array_equal(a, b)
    before = [w.copy() for w in other.weights]
    dW, _ = other.gradients(X, Y)
    other.step(X, Y, 0.1)
    for w, w0, g in zip(other.weights, before, dW):
        np.testing.assert_allclose(w, w0 - 0.1 * g, rtol=1e-14)
