"""Bad input raises ValueError/TypeError naming what was given and what was expected."""

import numpy as np
import pytest

from backprop_lab import MLP, _validation, datasets, examples, gradcheck, stepthrough


@pytest.fixture
def net():
    return MLP([3, 4, 2], seed=0)


def test_wrong_feature_count(net):
    with pytest.raises(ValueError, match=r"X has 5 columns \(shape \(4, 5\)\).*expects 3"):
        net.forward(np.zeros((4, 5)))


def test_one_d_input_explains_reshape(net):
    with pytest.raises(ValueError, match=r"X must be 2-D.*1-D array of shape \(3,\).*reshape\(1, -1\)"):
        net.forward(np.zeros(3))
    with pytest.raises(ValueError, match="2-D.*3-D shape"):
        net.forward(np.zeros((2, 3, 1)))


@pytest.mark.parametrize("bad,kind", [(np.nan, "NaN"), (np.inf, "an infinite value"), (-np.inf, "an infinite value")])
def test_non_finite_input_is_located(net, bad, kind):
    X = np.zeros((4, 3))
    X[2, 1] = bad
    with pytest.raises(ValueError, match=rf"X contains {kind} at \[2, 1\]"):
        net.forward(X)
    Y = np.zeros((4, 2))
    Y[3, 0] = bad
    with pytest.raises(ValueError, match=rf"Y contains {kind} at \[3, 0\]"):
        net.loss(np.zeros((4, 3)), Y)


def test_non_numeric_input(net):
    with pytest.raises(TypeError, match="X has dtype <U"):
        net.forward(np.array([["a", "b", "c"]]))
    with pytest.raises(TypeError, match="X is None"):
        net.forward(None)
    with pytest.raises(ValueError, match="same length"):
        net.forward([[1, 2, 3], [1, 2]])
    with pytest.raises(TypeError, match="complex"):
        net.forward(np.ones((1, 3), dtype=complex))


def test_targets_of_wrong_shape(net):
    X = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"Y has shape \(4, 3\); expected \(4, 2\)"):
        net.loss(X, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Y has shape \(5, 2\); expected \(4, 2\)"):
        net.gradients(X, np.zeros((5, 2)))
    one = MLP([3, 1], seed=0)
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        one.loss(X, np.zeros(4))


def test_labels_out_of_range_and_non_integer():
    net = MLP([3, 4], loss="cross_entropy", seed=0)
    X = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"Y\[2\] is 4, out of range.*4 outputs.*0..3"):
        net.loss(X, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"Y\[0\] is -1"):
        net.loss(X, np.array([-1, 1, 2]))
    with pytest.raises(ValueError, match="non-integer"):
        net.loss(X, np.array([0.5, 1, 2]))
    with pytest.raises(ValueError, match="2 labels but X has 3 samples"):
        net.loss(X, np.array([0, 1]))
    bce = MLP([3, 1], loss="binary_cross_entropy", seed=0)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\].*from 0 to 2"):
        bce.loss(X, np.array([[0.0], [1.0], [2.0]]))


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        MLP([2, 2], activation="relu6")
    with pytest.raises(ValueError, match="unknown loss 'mse'"):
        MLP([2, 2], loss="mse")
    with pytest.raises(ValueError, match="softmax can only be an output activation"):
        MLP([2, 2, 2], activation="softmax")
    with pytest.raises(ValueError, match="'cross_entropy' is defined on a softmax output.*'sigmoid'"):
        MLP([2, 2], loss="cross_entropy", output_activation="sigmoid")
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        MLP([2, 2], init="glorot")


def test_layer_sizes_checked():
    with pytest.raises(ValueError, match=r"layer_sizes\[1\] is 0"):
        MLP([2, 0, 1])
    with pytest.raises(TypeError, match=r"layer_sizes\[0\] is 2.5"):
        MLP([2.5, 1])
    with pytest.raises(ValueError, match="at least an input and an output"):
        MLP([3])
    with pytest.raises(TypeError, match="dtype must be np.float64 or np.float32"):
        MLP([2, 1], dtype=np.int32)


def test_weight_lists_that_do_not_chain():
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(3, 2\) but weights\[0\] has shape \(2, 4\).*4 rows"):
        MLP.from_params([np.zeros((2, 4)), np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"transposed"):
        MLP.from_params([np.zeros((2, 4)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"biases\[0\] must have shape \(4,\).*shape \(3,\)"):
        MLP.from_params([np.zeros((2, 4))], [np.zeros(3)])
    with pytest.raises(ValueError, match=r"weights\[0\] must be a 2-D array"):
        MLP.from_params([np.zeros(4)])
    with pytest.raises(ValueError, match="2 weight arrays but 1 bias"):
        MLP.from_params([np.zeros((2, 4)), np.zeros((4, 1))], [np.zeros(4)])
    with pytest.raises(TypeError, match="weights must be a list"):
        MLP.from_params(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"weights\[0\] contains NaN at \[1, 1\]"):
        MLP.from_params([np.array([[0.0, 1.0], [2.0, np.nan]])])


def test_hand_edited_weights_are_caught(net):
    net.weights[1] = net.weights[1].T
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(2, 4\).*must have 4 rows"):
        net.forward(np.zeros((1, 3)))


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=-0.1), "lr .* positive"), (dict(lr="0.1"), "lr must be a number"),
    (dict(lr=np.nan), "lr .* positive finite"), (dict(epochs=0), "epochs must be a positive integer"),
    (dict(batch_size=0), "batch_size must be a positive integer"), (dict(tol=-1.0), "tol must be"),
    (dict(patience=0), "patience must be"), (dict(validation_data=np.zeros(3)), "validation_data must be a pair")])
def test_fit_arguments_checked(net, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        net.fit(np.zeros((4, 3)), np.zeros((4, 2)), progress=False, **kwargs)


def test_validation_data_checked_like_training_data(net):
    with pytest.raises(ValueError, match="X has 2 columns"):
        net.fit(np.zeros((4, 3)), np.zeros((4, 2)), progress=False,
                validation_data=(np.zeros((2, 2)), np.zeros((2, 2))))


# --- the shared checks of backprop_lab._validation, and the modules that use them ---------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: _validation.as_count(True, "epochs"), TypeError, "epochs must be a positive integer, got bool True"),
    (lambda: _validation.as_count(10.0, "epochs"), TypeError, "epochs must be a positive integer, got float 10.0"),
    (lambda: _validation.as_count(0, "epochs"), ValueError, "epochs must be a positive integer, got 0"),
    (lambda: _validation.as_count(-1, "n_updates", 0), ValueError, "n_updates must be a non-negative integer, got -1"),
    (lambda: _validation.as_count(1, "resolution", 2, "grid points per axis"), ValueError,
     "resolution must be an integer >= 2 (grid points per axis), got 1"),
    (lambda: _validation.as_positive("0.1", "lr", "the learning rate α"), TypeError,
     "lr must be a number (the learning rate α), got str '0.1'"),
    (lambda: _validation.as_positive(np.nan, "lr", "the learning rate α"), ValueError,
     "lr (the learning rate α) must be a positive finite number, got nan"),
    (lambda: _validation.as_positive(0, "h"), ValueError, "h must be a positive finite number, got 0"),
    (lambda: _validation.as_non_negative(-1e-3, "tol"), ValueError,
     "tol must be a non-negative finite number (>= 0), got -0.001"),
    (lambda: _validation.as_non_negative(True, "tol"), TypeError, "tol must be a number, got bool True"),
    (lambda: _validation.as_seed(1.5), TypeError, "seed must be None, a non-negative int or a numpy Generator; got float 1.5"),
    (lambda: _validation.as_seed(-2), ValueError, "seed must be a non-negative int, got -2"),
    (lambda: _validation.as_samples(np.zeros((0, 2)), "X"), ValueError, "X has no samples (shape (0, 2))"),
    (lambda: _validation.as_samples(np.zeros((3, 4)), "X", n_features=2, what="the input layer"), ValueError,
     "X has 4 columns (shape (3, 4)) but the input layer expects 2"),
])
def test_shared_checks_name_the_argument_and_what_was_expected(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_shared_checks_return_the_value_in_its_plain_type():
    assert _validation.as_count(np.int64(3), "n") == 3 and type(_validation.as_count(np.int64(3), "n")) is int
    assert type(_validation.as_positive(np.float32(0.5), "lr")) is float
    assert _validation.as_non_negative(0, "noise") == 0.0
    rng = np.random.default_rng(0)
    assert _validation.as_seed(rng) is rng and _validation.as_seed(None) is None and _validation.as_seed(np.uint8(3)) == 3
    X = np.ones((2, 3))
    assert _validation.as_samples(X, "X") is X, "a float64 matrix is not copied"
    assert _validation.as_samples([[1, 2]], "X", dtype=np.float32).dtype == np.float32
    assert not _validation.is_int(True) and not _validation.is_real(np.bool_(False))
    assert _validation.is_int(np.int8(1)) and _validation.is_real(np.float32(1)) and _validation.is_real(2)


@pytest.mark.parametrize("call, error, match", [
    (lambda: gradcheck.numerical_gradient(lambda v: 0.0, np.array([1.0]), h="1e-5"), TypeError, "h must be a number"),
    (lambda: gradcheck.check_gradients(MLP([2, 2], seed=0), np.zeros((1, 2)), np.zeros((1, 2)), k=True), TypeError,
     r"k must be a positive integer \(entries sampled per array\), got bool True"),
    (lambda: gradcheck.check_gradients(MLP([2, 2], seed=0), np.zeros((1, 2)), np.zeros((1, 2)), n_directions=0),
     ValueError, r"n_directions must be a positive integer \(random directions\), got 0"),
    (lambda: examples.iterate(2.0), TypeError, "n_updates must be a non-negative integer.*got float 2.0"),
    (lambda: examples.iterate(True), TypeError, "n_updates must be a non-negative integer.*got bool True"),
    (lambda: stepthrough.steps(examples.worked_example().network(), [[0.05, 0.1]], [[0.01, 0.99]], lr=-1), ValueError,
     r"lr \(the learning rate α\) must be a positive finite number, got -1"),
    (lambda: datasets.train_test_split(np.zeros((4, 2)), np.arange(4) % 2, test_size=True), TypeError,
     "test_size must be a float fraction or an int count, got bool True"),
])
def test_modules_use_the_shared_checks(call, error, match):
    with pytest.raises(error, match=match):
        call()
