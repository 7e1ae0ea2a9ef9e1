"""backprop_lab.datasets: shapes, dtypes, seeds, stratified splits, standardisation."""

import numpy as np
import pytest

from backprop_lab import datasets
from backprop_lab.datasets import Dataset, Split, Standardizer


def check_dataset(ds, name, n_samples, n_features, n_classes):
    assert isinstance(ds, Dataset)
    assert ds.name == name
    assert ds.X.shape == (n_samples, n_features), f"X has shape {ds.X.shape}, expected {(n_samples, n_features)}"
    assert ds.X.dtype == np.float64
    assert ds.y.shape == (n_samples,)
    assert ds.y.dtype == np.int64
    assert ds.n_classes == n_classes
    assert set(np.unique(ds.y)) == set(range(n_classes)), "every class should occur"
    assert np.isfinite(ds.X).all()
    assert len(ds.feature_names) == n_features and len(ds.target_names) == n_classes
    X, y = ds  # unpacks like a pair
    assert X is ds.X and y is ds.y


# --- the data sets ---------------------------------------------------------------------

def test_xor_is_the_four_corners_with_a_column_target():
    ds = datasets.xor()
    check_dataset(ds, "xor", 4, 2, 2)
    np.testing.assert_array_equal(ds.X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(ds.y, [0, 1, 1, 0])
    assert ds.T.shape == (4, 1) and ds.T.dtype == np.float64
    np.testing.assert_array_equal(ds.T[:, 0], [0, 1, 1, 0])
    np.testing.assert_array_equal(ds.targets("one_hot"), [[1, 0], [0, 1], [0, 1], [1, 0]])


def test_xor_noisy_copies_keep_the_corner_labels():
    ds = datasets.xor(n=400, noise=0.1, seed=1)
    check_dataset(ds, "xor", 400, 2, 2)
    corners = np.round(ds.X).clip(0, 1).astype(int)  # noise 0.1: nearest corner is the true one
    np.testing.assert_array_equal(ds.y, corners[:, 0] ^ corners[:, 1])
    assert 0.07 < np.std(ds.X - corners) < 0.13
    np.testing.assert_array_equal(datasets.xor(n=6).X[4:], [[0, 0], [0, 1]])  # no noise: exact copies


def test_moons_and_spirals_shapes_and_class_balance():
    m = datasets.moons(n=201, noise=0.1, seed=0)
    check_dataset(m, "moons", 201, 2, 2)
    assert np.bincount(m.y).tolist() == [100, 101]
    s = datasets.spirals(n=301, classes=3, seed=0)
    check_dataset(s, "spirals", 301, 2, 3)
    assert np.bincount(s.y).tolist() == [101, 100, 100]
    assert np.abs(s.X).max() <= 1.0 + 1e-12  # radius at most 1
    s2 = datasets.spirals(n=100, classes=2, noise=0.0, seed=0)
    check_dataset(s2, "spirals", 100, 2, 2)
    assert s2.T.shape == (100, 1) and s.T.shape == (301, 3)


def test_moons_without_noise_lie_on_the_half_circles():
    m = datasets.moons(n=100, noise=0.0, seed=0)
    upper, lower = m.X[m.y == 0], m.X[m.y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)


def test_digits_is_the_bundled_uci_set():
    ds = datasets.digits()
    check_dataset(ds, "digits", 1797, 64, 10)
    assert ds.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(ds.images[5].ravel(), ds.X[5])
    assert ds.X.min() == 0 and ds.X.max() == 16
    assert (ds.X.std(axis=0) == 0).sum() >= 1, "digits has constant pixels (the reason for the standardize test)"
    ds.X[0, 0] = 99.0  # a copy: changing it does not change the next call
    assert datasets.digits().X[0, 0] == 0.0


@pytest.mark.parametrize("name, options", [("xor", dict(n=40, noise=0.2)), ("moons", {}),
                                           ("spirals", dict(classes=2))])
def test_same_seed_same_data_other_seed_other_data(name, options):
    a = datasets.get_dataset(name, seed=3, **options)
    b = datasets.get_dataset(name, seed=3, **options)
    c = datasets.get_dataset(name, seed=4, **options)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


def test_generator_seeds_are_accepted():
    rng = np.random.default_rng(0)
    a, b = datasets.moons(seed=rng), datasets.moons(seed=rng)
    assert not np.array_equal(a.X, b.X), "one Generator used twice continues its stream"


@pytest.mark.parametrize("call, error, words", [
    (lambda: datasets.moons(n=1), ValueError, ["n", "integer >= 2", "got 1"]),
    (lambda: datasets.moons(n=10.0), TypeError, ["n", "integer"]),
    (lambda: datasets.moons(noise=-0.1), ValueError, ["noise", ">= 0"]),
    (lambda: datasets.moons(noise=float("nan")), ValueError, ["noise", "finite"]),
    (lambda: datasets.moons(noise=True), TypeError, ["noise", "number", "bool"]),
    (lambda: datasets.xor(n=True), TypeError, ["n", "integer", "bool"]),
    (lambda: datasets.spirals(classes=1), ValueError, ["classes", "integer >= 2"]),
    (lambda: datasets.spirals(n=2, classes=3), ValueError, ["n", ">= 3", "one sample per class"]),
    (lambda: datasets.xor(seed=-1), ValueError, ["seed", "non-negative"]),
    (lambda: datasets.xor(seed="0"), TypeError, ["seed", "str"]),
    (lambda: datasets.get_dataset("digits", noise=0.1), TypeError, ["digits", "noise"]),
])
def test_bad_arguments_name_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


def test_unknown_name_lists_the_known_ones_and_suggests():
    with pytest.raises(ValueError) as info:
        datasets.load("digts")
    msg = str(info.value)
    assert "digts" in msg and "did you mean 'digits'" in msg
    for name in ("digits", "moons", "spirals", "xor"):
        assert name in msg


def test_targets_encoding_is_checked():
    with pytest.raises(ValueError, match="two classes"):
        datasets.spirals(classes=3).targets("column")
    with pytest.raises(ValueError, match="encoding"):
        datasets.xor().targets("onehot")


# --- train_test_split -----------------------------------------------------------------

def test_split_sizes_partition_and_stratification():
    ds = datasets.digits()
    X_train, X_test, y_train, y_test = datasets.train_test_split(ds.X, ds.y, test_size=0.25, seed=0)
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    # a partition: every sample exactly once (rows of digits are not all distinct, so use X and y together)
    both = np.vstack([np.column_stack([X_train, y_train]), np.column_stack([X_test, y_test])])
    whole = np.column_stack([ds.X, ds.y])
    np.testing.assert_array_equal(np.unique(both, axis=0, return_counts=True)[1],
                                  np.unique(whole, axis=0, return_counts=True)[1])
    # stratified: each class's test count is its share of 450, to within one sample
    expected = 450 * np.bincount(ds.y) / ds.y.size
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - expected) < 1.0)
    assert np.bincount(y_test).sum() == 450


def test_split_is_reproducible_and_shuffled():
    X = np.arange(200, dtype=float).reshape(100, 2)
    y = np.repeat([0, 1], 50)
    a = datasets.train_test_split(X, y, test_size=20, seed=7)
    b = datasets.train_test_split(X, y, test_size=20, seed=7)
    c = datasets.train_test_split(X, y, test_size=20, seed=8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    assert np.bincount(a[3]).tolist() == [10, 10]
    assert not np.all(np.diff(a[2]) >= 0), "the training labels should not come sorted by class"
    # rows are numbered by X[:, 0] // 2: each sample lands in exactly one part, with its own label
    train_rows, test_rows = (a[0][:, 0] // 2).astype(int), (a[1][:, 0] // 2).astype(int)
    assert sorted(np.concatenate([train_rows, test_rows]).tolist()) == list(range(100))
    np.testing.assert_array_equal(a[2], y[train_rows])
    np.testing.assert_array_equal(a[3], y[test_rows])


def test_unstratified_split_takes_targets():
    X = np.zeros((10, 3))
    Y = np.arange(20.0).reshape(10, 2)
    X_train, X_test, Y_train, Y_test = datasets.train_test_split(X, Y, test_size=0.3, seed=0, stratify=False)
    assert Y_train.shape == (7, 2) and Y_test.shape == (3, 2)
    with pytest.raises(ValueError, match="stratify=False"):
        datasets.train_test_split(X, Y, test_size=0.3, seed=0)


@pytest.mark.parametrize("test_size", [0.0, 1.0, 0, 10, -0.5, 1.5])
def test_split_rejects_test_sizes_that_leave_a_part_empty(test_size):
    with pytest.raises(ValueError, match="test_size"):
        datasets.train_test_split(np.zeros((10, 2)), np.arange(10) % 2, test_size=test_size)


def test_split_checks_shapes():
    with pytest.raises(ValueError, match="y has shape"):
        datasets.train_test_split(np.zeros((10, 2)), np.zeros(9, dtype=int))
    with pytest.raises(ValueError, match="2-D"):
        datasets.train_test_split(np.zeros(10), np.zeros(10, dtype=int))


# --- standardize ------------------------------------------------------------------------

def test_standardize_uses_training_statistics_only():
    ds = datasets.digits()
    X_train, X_test, _, _ = datasets.train_test_split(ds.X, ds.y, seed=0)
    S_train, S_test = datasets.standardize(X_train, X_test)
    varying = X_train.std(axis=0) > 0
    np.testing.assert_allclose(S_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(S_train.std(axis=0)[varying], 1.0, rtol=1e-12)
    # constant training columns stay finite: centred to exactly 0, not divided by 0
    assert (~varying).any()
    assert np.isfinite(S_train).all() and np.isfinite(S_test).all()
    np.testing.assert_array_equal(S_train[:, ~varying], 0.0)
    # the test set is transformed with the training mean and std, not its own
    mu, sd = X_train.mean(axis=0), np.where(varying, X_train.std(axis=0), 1.0)
    np.testing.assert_allclose(S_test, (X_test - mu) / sd)
    assert abs(S_test.mean()) > 1e-6 or abs(S_test.std() - 1) > 1e-6


def test_standardize_small_example_and_nearly_constant_columns():
    X_train = np.array([[0.0, 5.0, 0.1], [2.0, 5.0, 0.1], [4.0, 5.0, 0.1]])  # 0.1s: std ~1e-17, not 0
    S_train, S_test = datasets.standardize(X_train, np.array([[2.0, 7.0, 0.3]]))
    np.testing.assert_allclose(S_train[:, 0], [-np.sqrt(1.5), 0, np.sqrt(1.5)])
    np.testing.assert_array_equal(S_train[:, 1:], 0.0)
    np.testing.assert_allclose(S_test, [[0.0, 2.0, 0.2]])
    scaler = Standardizer.fit(X_train)
    assert scaler.constant.tolist() == [False, True, True]
    np.testing.assert_allclose(scaler.inverse_transform(S_train), X_train, atol=1e-12)


def test_standardize_checks_columns():
    with pytest.raises(ValueError, match="3 features"):
        datasets.standardize(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        datasets.standardize(np.array([[0.0], [np.nan]]))


# --- load -------------------------------------------------------------------------------

def test_load_splits_standardises_and_reproduces():
    split = datasets.load("moons", seed=0, n=400, noise=0.1)
    assert isinstance(split, Split)
    X_train, X_test, y_train, y_test = split
    assert X_train.shape == (300, 2) and X_test.shape == (100, 2)
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1.0)
    assert split.n_classes == 2 and split.n_features == 2 and split.name == "moons"
    np.testing.assert_allclose(split.scaler.transform(split.dataset.X).std(axis=0), 1.0, rtol=0.2)
    again = datasets.load("moons", seed=0, n=400, noise=0.1)
    for u, v in zip(split, again):
        np.testing.assert_array_equal(u, v)
    raw = datasets.load("moons", seed=0, n=400, noise=0.1, standardize=False)
    assert raw.scaler is None
    np.testing.assert_allclose(split.scaler.transform(raw.X_test), X_test)


def test_load_digits_reference_split():
    X_train, X_test, y_train, y_test = datasets.load("digits", seed=0)
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert np.isfinite(X_train).all() and np.isfinite(X_test).all()


# --- on top of scikit-learn ---------------------------------------------------------------

def test_moons_split_and_scaling_are_scikit_learns():
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_moons(120, noise=0.3, random_state=5)  # an int seed is scikit-learn's random_state
    ds = datasets.moons(n=120, noise=0.3, seed=5)
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    ours = datasets.train_test_split(X, y, test_size=0.25, seed=3)
    theirs = train_test_split(X, y, test_size=0.25, random_state=3, stratify=y)
    for u, v in zip(ours, theirs):
        np.testing.assert_array_equal(u, v)
    scaler = StandardScaler().fit(ours[0])
    np.testing.assert_allclose(datasets.standardize(ours[0], ours[1])[1], scaler.transform(ours[1]))


def test_large_int_seeds_and_generators_reach_scikit_learn():
    a, b = datasets.moons(seed=2**40), datasets.moons(seed=2**40)  # beyond RandomState's 2**32
    np.testing.assert_array_equal(a.X, b.X)
    rng = np.random.default_rng(0)
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20) % 2
    first, second = datasets.train_test_split(X, y, seed=rng), datasets.train_test_split(X, y, seed=rng)
    assert not np.array_equal(first[1], second[1])


@pytest.mark.parametrize("X, y, test_size, words", [
    (np.zeros((5, 2)), np.array([0, 0, 0, 0, 1]), 2, ["class 1", "only 1 sample", "stratify=False"]),
    (np.zeros((9, 2)), np.arange(9) % 3, 2, ["test set gets 2 samples for 3 classes", "stratify=False"]),
    (np.zeros((9, 2)), np.arange(9) % 3, 7, ["training set gets 2 samples for 3 classes"]),
])
def test_stratified_split_explains_what_it_needs(X, y, test_size, words):
    with pytest.raises(ValueError) as info:
        datasets.train_test_split(X, y, test_size=test_size, seed=0)
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"
    datasets.train_test_split(X, y, test_size=test_size, seed=0, stratify=False)  # unstratified: fine


def test_load_with_an_int_seed_is_scikit_learns_split_of_the_seeded_data():
    from sklearn.model_selection import train_test_split

    split = datasets.load("moons", seed=4, standardize=False)
    ds = datasets.moons(seed=4)
    np.testing.assert_array_equal(split.dataset.X, ds.X)
    theirs = train_test_split(ds.X, ds.y, test_size=0.25, random_state=4, stratify=ds.y)
    for u, v in zip(split, theirs):
        np.testing.assert_array_equal(u, v)
