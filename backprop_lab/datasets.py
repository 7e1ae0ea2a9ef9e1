r"""Small data sets that need no download, and the two helpers every experiment needs.

Every data set comes back as a :class:`Dataset`: inputs ``X`` of shape
``(n_samples, n_features)`` (float64, one sample per row, as the MLP expects) and integer
class labels ``y`` of shape ``(n_samples,)``.

========  ==========================================================  =========  =========
name      what                                                        features   classes
========  ==========================================================  =========  =========
xor       the four corners of the unit square, label ``x1 XOR x2``     2          2
moons     two interleaving half circles (``make_moons``)               2          2
spirals   ``classes`` interleaved spiral arms                          2          2 or more
digits    8x8 images of handwritten digits (scikit-learn's bundled     64         10
          copy of the UCI set: 1797 samples, no network needed)
========  ==========================================================  =========  =========

:func:`train_test_split` splits with a seed (stratified by default), :func:`standardize`
rescales every feature to mean 0 and standard deviation 1 *using the training set only*,
and :func:`load` does all three in one call::

    >>> from backprop_lab import datasets
    >>> X_train, X_test, y_train, y_test = datasets.load("moons", seed=0)
    >>> X_train.shape, X_test.shape
    ((150, 2), (50, 2))

Seeds: every function that draws random numbers takes ``seed`` (``None``, a non-negative
int or a :class:`numpy.random.Generator`); the same int gives the same numbers.

The generic work is scikit-learn's (``make_moons``, ``load_digits``, ``train_test_split``,
``StandardScaler``); this module adds the course's containers, argument checks and error
messages, and the two data sets scikit-learn does not have (XOR and the spirals). An int
seed goes to scikit-learn unchanged: ``moons(seed=0)`` is ``make_moons(200, noise=0.2,
random_state=0)``. scikit-learn is imported on first use, because it is slow to import and
``import backprop_lab`` should stay quick.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ._fence import check, reference
from ._validation import as_count, as_non_negative, as_samples, as_seed, describe, is_int, is_real, lookup
from .losses import one_hot

__all__ = ["Dataset", "Split", "Standardizer", "DATASETS", "xor", "moons", "spirals", "digits",
           "get_dataset", "load", "train_test_split", "standardize", "one_hot"]

Array = np.ndarray


# --- the containers --------------------------------------------------------------------

@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A labelled data set.

    Unpacks into ``X, y``: ``X, y = datasets.moons(seed=0)``.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"digits"``.
    X : ndarray, shape (n_samples, n_features), float64
        Inputs, one sample per row.
    y : ndarray, shape (n_samples,), int64
        Class labels ``0 .. n_classes - 1``.
    n_classes : int
    feature_names : tuple of str
        One name per column of ``X``.
    target_names : tuple of str
        One name per class.
    description : str
        One paragraph: where the data come from and how they were made.
    images : ndarray, shape (n_samples, 8, 8), optional
        ``digits`` only: ``X`` reshaped into the pixel grid, for plotting.
    """

    name: str
    X: Array
    y: Array
    n_classes: int
    feature_names: tuple
    target_names: tuple
    description: str = ""
    images: Array | None = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @reference("datasets.Dataset.targets")
    def targets(self, encoding: str = "auto", dtype=np.float64) -> Array:
        """The labels as a target array ``T`` for a loss.

        Parameters
        ----------
        encoding : {"auto", "one_hot", "column"}
            ``"one_hot"``: shape ``(n_samples, n_classes)``, for softmax outputs or squared
            error on several outputs. ``"column"``: the 0/1 labels as shape
            ``(n_samples, 1)``, for a single sigmoid output (two classes only). ``"auto"``:
            ``"column"`` for two classes, else ``"one_hot"``.

        Returns
        -------
        ndarray, float
        """
        check()
        if encoding == "auto":
            encoding = "column" if self.n_classes == 2 else "one_hot"
        if encoding == "one_hot":
            return one_hot(self.y, self.n_classes, dtype)
        if encoding == "column":
            if self.n_classes != 2:
                raise ValueError(f"encoding='column' needs two classes (one 0/1 output); {self.name!r} has "
                                 f"{self.n_classes}: use encoding='one_hot'")
            return self.y.astype(dtype).reshape(-1, 1)
        raise ValueError(f"unknown encoding {encoding!r}; expected 'auto', 'one_hot' or 'column'")

    @property
    def T(self) -> Array:
        """``targets("auto")``: shape ``(n_samples, 1)`` for two classes (XOR: ``(4, 1)``),
        one-hot ``(n_samples, n_classes)`` otherwise."""
        return self.targets("auto")

    def __iter__(self) -> Iterator[Array]:
        return iter((self.X, self.y))

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, {self.n_samples} samples, {self.n_features} features, "
                f"{self.n_classes} classes)")


@dataclass(frozen=True, eq=False)
class Standardizer:
    r"""Per-feature standardisation ``(X - mean) / scale`` with statistics from one set.

    Attributes
    ----------
    mean : ndarray, shape (n_features,)
        Column means of the training set (for a constant column, its value).
    scale : ndarray, shape (n_features,)
        Column standard deviations of the training set; ``1.0`` for constant columns (the
        digits have pixels that are 0 in every image), so they become 0 instead of NaN.
    constant : ndarray of bool, shape (n_features,)
        Which columns were constant (all values equal) on the training set.

    The statistics are those of scikit-learn's ``StandardScaler``; ``transform`` is the
    formula above, written out so that it can be read.
    """

    mean: Array
    scale: Array
    constant: Array

    @reference("datasets.Standardizer")
    @classmethod
    def fit(cls, X_train: Array) -> "Standardizer":
        """Column statistics of ``X_train``, shape ``(n_samples, n_features)``."""
        check()
        X = as_samples(X_train, "X_train")
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(X)
        # all values equal: the computed std of a column of 0.1s is ~1e-17, not 0, and its mean
        # is not exactly 0.1. scikit-learn already divides such columns by 1; centring them on
        # their own value as well makes them exactly 0, not ±1e-17
        constant = (X == X[0]).all(axis=0)
        scale = np.where(constant, 1.0, scaler.scale_)
        mean = np.where(constant, X[0], scaler.mean_)
        return cls(mean, scale, constant)

    @reference("datasets.Standardizer")
    def transform(self, X: Array, name: str = "X") -> Array:
        """``(X - mean) / scale``; returns a new float64 array of the shape of ``X``."""
        check()
        X = as_samples(X, name)
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(f"{name} has {X.shape[1]} features (shape {X.shape}) but the training set "
                             f"had {self.mean.shape[0]}; standardise data with the same columns")
        return (X - self.mean) / self.scale

    @reference("datasets.Standardizer")
    def inverse_transform(self, X: Array, name: str = "X") -> Array:
        """Back to the original units: ``X * scale + mean``."""
        check()
        X = as_samples(X, name)
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(f"{name} has {X.shape[1]} features but the standardizer has {self.mean.shape[0]}")
        return X * self.scale + self.mean


@dataclass(frozen=True, eq=False, repr=False)
class Split:
    """A train/test split, as returned by :func:`load`.

    Unpacks like scikit-learn's: ``X_train, X_test, y_train, y_test = split``.

    Attributes
    ----------
    X_train, X_test : ndarray, shapes (n_train, n_features) and (n_test, n_features)
        Standardised with the training statistics if ``scaler`` is set.
    y_train, y_test : ndarray of int64, shapes (n_train,) and (n_test,)
    dataset : Dataset
        The whole data set, unsplit and in its original units.
    scaler : Standardizer or None
        The standardisation applied (``None``: none); use ``scaler.transform`` on new inputs,
        e.g. the grid of a decision-boundary plot.
    """

    X_train: Array
    X_test: Array
    y_train: Array
    y_test: Array
    dataset: Dataset
    scaler: Standardizer | None = None

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def n_classes(self) -> int:
        return self.dataset.n_classes

    @property
    def n_features(self) -> int:
        return self.dataset.n_features

    def __iter__(self) -> Iterator[Array]:
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))

    def __repr__(self) -> str:
        std = "standardised" if self.scaler is not None else "raw"
        return (f"Split({self.name!r}: {self.X_train.shape[0]} train / {self.X_test.shape[0]} test samples, "
                f"{self.n_features} features, {self.n_classes} classes, {std})")


# --- seeds for scikit-learn -----------------------------------------------------------

def _random_state(seed) -> int:
    """``seed`` as scikit-learn's ``random_state``, which takes no numpy Generator.

    An int below 2**32 (the limit of the RandomState scikit-learn seeds) goes through
    unchanged; ``None``, a Generator or a larger int gives the next int of that stream,
    so one Generator used twice gives two different draws.
    """
    seed = as_seed(seed)
    if isinstance(seed, int) and seed < 2**32:
        return seed
    return int(np.random.default_rng(seed).integers(2**32))


# --- the data sets ---------------------------------------------------------------------

_XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_XOR_Y = np.array([0, 1, 1, 0], dtype=np.int64)


def xor(n: int | None = None, noise: float = 0.0, seed=None) -> Dataset:
    r"""The XOR problem: label ``x1 XOR x2`` of the corners of the unit square.

    Parameters
    ----------
    n : int, optional
        Number of samples. ``None``: the four corners once, in the order
        (0,0), (0,1), (1,0), (1,1). Otherwise the corners repeated in that order
        (sample ``k`` is corner ``k % 4``) -- a cloud around each corner if ``noise > 0``.
    noise : float
        Standard deviation of Gaussian noise added to every coordinate (labels stay those
        of the corner).
    seed : None, int or numpy Generator
        For the noise.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, 2)``, ``y`` of shape ``(n,)``; ``.T`` gives the targets as a
        column ``(n, 1)`` for a single sigmoid output.

    Examples
    --------
    >>> ds = xor()
    >>> ds.X.tolist(), ds.y.tolist(), ds.T.shape
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0], (4, 1))
    """
    n = 4 if n is None else as_count(n, "n", 1)
    noise = as_non_negative(noise, "noise", "a standard deviation")
    rng = np.random.default_rng(as_seed(seed))
    idx = np.arange(n) % 4
    X = _XOR_X[idx].copy()
    if noise:
        X += noise * rng.standard_normal(X.shape)
    desc = ("XOR: the corners of the unit square labelled x1 XOR x2; no straight line separates "
            "the classes, so a network needs a hidden layer.")
    if n != 4 or noise:
        desc += f" {n} samples cycling through the corners, Gaussian noise std {noise:g}."
    return Dataset("xor", X, _XOR_Y[idx].copy(), 2, ("x1", "x2"), ("0", "1"), desc)


def moons(n: int = 200, noise: float = 0.2, seed=None) -> Dataset:
    r"""Two interleaving half circles: scikit-learn's ``make_moons``.

    Class 0 lies on the upper half circle :math:`(\cos t, \sin t)`, class 1 on the lower one
    :math:`(1 - \cos t, \tfrac12 - \sin t)`, :math:`t \in [0, \pi]`; the samples are
    shuffled. No straight line separates them, but a small hidden layer does.

    Parameters
    ----------
    n : int
        Total number of samples (at least 2); class 0 gets ``n // 2``.
    noise : float
        Standard deviation of the Gaussian noise added to both coordinates.
    seed : None, int or numpy Generator
        An int is ``make_moons``'s ``random_state``.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, 2)``, ``y`` of shape ``(n,)``.
    """
    n = as_count(n, "n", 2)
    noise = as_non_negative(noise, "noise", "a standard deviation")
    from sklearn.datasets import make_moons

    X, y = make_moons(n, noise=noise, random_state=_random_state(seed))
    return Dataset("moons", X.astype(np.float64), y.astype(np.int64), 2, ("x1", "x2"), ("0", "1"),
                   f"Two interleaving half circles, {n} samples, Gaussian noise std {noise:g}.")


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed=None) -> Dataset:
    r"""``classes`` spiral arms winding out of the origin (the CS231n toy problem).

    Arm ``k`` has radius :math:`r \in [0, 1]` and angle
    :math:`\theta = 2\pi k / K + 4 r + \text{noise}\cdot\varepsilon`, point
    :math:`(r \sin\theta, r \cos\theta)`; ``noise`` is on the angle, so the arms blur most
    near the origin. No straight line separates the classes.

    Parameters
    ----------
    n : int
        Total number of samples, shared as evenly as possible between the arms.
    classes : int
        Number of arms (classes), 2 or more.
    noise : float
        Standard deviation of the Gaussian noise on the angle, in radians.
    seed : None, int or numpy Generator

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, 2)``, ``y`` of shape ``(n,)``; samples ordered arm by arm.
    """
    classes = as_count(classes, "classes", 2)
    n = as_count(n, "n", classes, "at least one sample per class")
    noise = as_non_negative(noise, "noise", "a standard deviation of the angle")
    rng = np.random.default_rng(as_seed(seed))
    sizes = [n // classes + (k < n % classes) for k in range(classes)]
    Xs, ys = [], []
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        theta = 2 * np.pi * k / classes + 4.0 * r + noise * rng.standard_normal(m)
        Xs.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        ys.append(np.full(m, k, dtype=np.int64))
    return Dataset("spirals", np.concatenate(Xs), np.concatenate(ys), classes, ("x1", "x2"),
                   tuple(str(k) for k in range(classes)),
                   f"{classes} spiral arms, {n} samples, angle noise std {noise:g} rad.")


_DIGITS_CACHE: dict = {}


def digits() -> Dataset:
    """Handwritten digits 0-9 as 8x8 grey-level images (scikit-learn's bundled copy).

    1797 samples; pixel values are integers 0..16. Read from the file that ships with
    scikit-learn, so no network is needed. Some pixels (e.g. the corners) are 0 in every
    image: standardise with :func:`standardize`, which leaves such columns at 0.

    Returns
    -------
    Dataset
        ``X`` of shape ``(1797, 64)`` float64, ``y`` of shape ``(1797,)``, ``images`` of
        shape ``(1797, 8, 8)``; feature ``8 r + c`` is pixel ``(r, c)``.
    """
    if not _DIGITS_CACHE:
        from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

        bunch = load_digits()
        _DIGITS_CACHE.update(X=np.asarray(bunch.data, dtype=np.float64),
                             y=np.asarray(bunch.target, dtype=np.int64))
    X, y = _DIGITS_CACHE["X"].copy(), _DIGITS_CACHE["y"].copy()
    return Dataset("digits", X, y, 10, tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8)),
                   tuple(str(k) for k in range(10)),
                   "Optical recognition of handwritten digits (UCI), as bundled with scikit-learn: "
                   "1797 8x8 images, pixel values 0..16, 10 classes.",
                   images=X.reshape(-1, 8, 8))


#: every data set by name
DATASETS: dict[str, Callable[..., Dataset]] = {"xor": xor, "moons": moons, "spirals": spirals, "digits": digits}


def get_dataset(name: str, **options) -> Dataset:
    """Make a data set by name: ``get_dataset("moons", n=500, noise=0.1, seed=0)``.

    Parameters
    ----------
    name : str
        One of ``DATASETS``: ``"xor"``, ``"moons"``, ``"spirals"``, ``"digits"``.
    **options
        Passed to the data set's function (``n``, ``noise``, ``classes``, ``seed`` where it
        takes them).

    Raises
    ------
    ValueError
        Unknown name (with a suggestion); TypeError for an option the data set does not take.
    """
    make = lookup(DATASETS, name, "dataset")
    accepted = list(inspect.signature(make).parameters)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "no options"
        raise TypeError(f"dataset {make.__name__!r} does not take {', '.join(map(repr, unknown))}; "
                        f"it takes: {takes}")
    return make(**options)


# --- splitting and standardising -------------------------------------------------------

def train_test_split(X: Array, y: Array, test_size: float | int = 0.25, seed=None,
                     stratify: bool = True) -> tuple[Array, Array, Array, Array]:
    """Split samples at random into a training and a test set.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) class labels, or (n_samples, n_outputs) targets
        (targets only with ``stratify=False``).
    test_size : float or int
        Fraction of the samples in ``(0, 1)`` (the count is rounded up, as in scikit-learn)
        or a number of samples ``1 .. n_samples - 1``.
    seed : None, int or numpy Generator
    stratify : bool
        Keep each class's share the same in both parts (as close as whole samples allow).

    Returns
    -------
    X_train, X_test : ndarray, shapes (n_train, n_features), (n_test, n_features)
    y_train, y_test : ndarray, shapes (n_train, ...), (n_test, ...)
        Samples in random order within each part.

    Examples
    --------
    >>> X, y = digits()
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
    >>> X_train.shape, X_test.shape
    ((1347, 64), (450, 64))
    """
    X = as_samples(X, "X")
    y = np.asarray(y)
    n = X.shape[0]
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(f"y has shape {y.shape} but X has {n} samples; expected one label (or target row) "
                         "per sample")
    n_test = _test_count(test_size, n)
    if stratify:
        if y.ndim != 1 or not (y.dtype.kind in "iub" or (y.dtype.kind == "f" and np.all(y == np.round(y)))):
            raise ValueError(f"stratify=True needs integer class labels y of shape (n_samples,); got "
                             f"{describe(y)}. Pass stratify=False to split targets that are not class labels")
        _check_strata(y, n_test)
    from sklearn.model_selection import train_test_split as split

    # an int test_size is a count for scikit-learn too, so both agree on the sizes
    X_train, X_test, y_train, y_test = split(X, y, test_size=n_test, random_state=_random_state(seed),
                                             stratify=y if stratify else None)
    return X_train, X_test, y_train, y_test


def _test_count(test_size, n: int) -> int:
    """``test_size`` as a number of test samples, ``1 .. n - 1``."""
    if is_int(test_size):
        if not 1 <= test_size <= n - 1:
            raise ValueError(f"test_size={test_size} is a count and must be between 1 and n_samples - 1 = {n - 1}, "
                             f"so that both parts get samples")
        return int(test_size)
    if is_real(test_size):  # a fraction (bools are neither a count nor a fraction)
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size={test_size!r} is a fraction and must lie strictly between 0 and 1")
        k = int(np.ceil(test_size * n))  # rounded up, as scikit-learn does
        if not 1 <= k <= n - 1:
            raise ValueError(f"test_size={test_size!r} of {n} samples leaves {n - k} for training and {k} for "
                             "testing; both parts need at least one sample")
        return k
    raise TypeError(f"test_size must be a float fraction or an int count, got {type(test_size).__name__} "
                    f"{test_size!r}")


def _check_strata(y: Array, n_test: int) -> None:
    """What a stratified split needs, in the course's words before scikit-learn's: every class
    in both parts, so two samples of each class and at least one slot per class in each part."""
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        c = classes[counts.argmin()].item()  # a Python number: prints as 1, not np.int64(1)
        raise ValueError(f"stratify=True puts every class in both parts, but class {c!r} has only 1 sample; "
                         "use more samples or pass stratify=False")
    for part, size in (("test", n_test), ("training", y.shape[0] - n_test)):
        if size < len(classes):
            raise ValueError(f"stratify=True puts every class in both parts, but the {part} set gets {size} "
                             f"samples for {len(classes)} classes; change test_size or pass stratify=False")


@reference("datasets.standardize")
def standardize(X_train: Array, *X_other: Array) -> tuple[Array, ...]:
    r"""Rescale every feature to mean 0 and standard deviation 1 on the *training* set.

    The mean and standard deviation come from ``X_train`` only and are then applied to the
    other sets, so that nothing about the test data leaks into training. Columns that are
    constant on the training set are only centred (divided by 1, not by 0): they become 0.

    Parameters
    ----------
    X_train : array_like, shape (n_train, n_features)
    *X_other : array_like, shape (n_k, n_features)
        Test (or validation) sets, transformed with the training statistics.

    Returns
    -------
    tuple of ndarray
        ``(X_train_std, *X_other_std)``, float64, the same shapes.

    Examples
    --------
    >>> import numpy as np
    >>> X_train = np.array([[0.0, 5.0], [2.0, 5.0]])
    >>> X_test = np.array([[1.0, 7.0]])
    >>> standardize(X_train, X_test)
    (array([[-1.,  0.],
           [ 1.,  0.]]), array([[0., 2.]]))

    See Also
    --------
    Standardizer : the statistics themselves, to transform more data later.
    """
    check()
    scaler = Standardizer.fit(X_train)
    return (scaler.transform(X_train, "X_train"),
            *(scaler.transform(X, f"X_other[{k}]") for k, X in enumerate(X_other)))


def load(name: str, *, test_size: float | int = 0.25, seed=None, standardize: bool = True,
         stratify: bool = True, **options) -> Split:
    """Make a data set, split it and standardise it: one call for notebooks and the CLI.

    Parameters
    ----------
    name : str
        ``"xor"``, ``"moons"``, ``"spirals"`` or ``"digits"``.
    test_size : float or int
        As in :func:`train_test_split`.
    seed : None, int or numpy Generator
        Drives both the data (noise) and the split: the same seed gives the same arrays.
        An int goes unchanged to both, as scikit-learn's ``random_state`` would: the
        ``dataset`` is ``get_dataset(name, seed=seed)`` and ``load("digits", seed=0)`` is
        scikit-learn's ``train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)``.
    standardize : bool
        Standardise with the training statistics (:func:`standardize`).
    stratify : bool
        Stratified split.
    **options
        For the data set's function, e.g. ``n=500, noise=0.1`` for ``moons``.

    Returns
    -------
    Split
        Unpacks into ``X_train, X_test, y_train, y_test``; also holds the whole
        ``dataset`` and the ``scaler``.

    Examples
    --------
    >>> split = load("digits", seed=0)
    >>> split
    Split('digits': 1347 train / 450 test samples, 64 features, 10 classes, standardised)
    >>> X_train, X_test, y_train, y_test = split
    """
    seed = as_seed(seed)
    if seed is None:  # fresh numbers, but one stream for the data and the split
        seed = np.random.default_rng()
    make = lookup(DATASETS, name, "dataset")
    if "seed" in inspect.signature(make).parameters:
        if "seed" in options:
            raise TypeError("give the seed once, as load(..., seed=...)")
        options["seed"] = seed
    ds = get_dataset(name, **options)
    X_train, X_test, y_train, y_test = train_test_split(ds.X, ds.y, test_size, seed, stratify)
    scaler = None
    if standardize:
        scaler = Standardizer.fit(X_train)
        X_train, X_test = scaler.transform(X_train, "X_train"), scaler.transform(X_test, "X_test")
    return Split(X_train, X_test, y_train, y_test, ds, scaler)
