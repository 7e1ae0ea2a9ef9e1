"""backprop_lab.plots: each figure shows exactly the data it was given, and bad input is
refused with a message that says what was expected."""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from backprop_lab import MLP, History, plots
from backprop_lab.activations import ACTIVATIONS, get_activation


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """No function may create a pyplot figure (they would pile up in tests and loops)."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def render(fig):
    """Draw the figure to PNG bytes: catches mathtext and layout errors."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue().startswith(b"\x89PNG")


def ydata(fig):
    return [line.get_ydata() for line in fig.axes[0].get_lines()]


# --- loss_curves ---------------------------------------------------------------------------

def test_loss_curves_of_one_list_is_its_data():
    losses = [0.9, 0.5, 0.25, 0.2]
    fig = plots.loss_curves(losses)
    assert isinstance(fig, Figure)
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), losses)
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_legend() is None  # one unnamed run: nothing to tell apart
    render(fig)


def test_loss_curves_of_a_history_show_training_and_validation():
    h = History(loss=[1.0, 0.6, 0.4], val_loss=[1.1, 0.7, 0.5], stop_reason="converged")
    fig = plots.loss_curves(h, labels=["relu"], log=False)
    train, val = fig.axes[0].get_lines()
    np.testing.assert_array_equal(train.get_ydata(), h.loss)
    np.testing.assert_array_equal(val.get_ydata(), h.val_loss)
    assert val.get_linestyle() == "--" and train.get_color() == val.get_color()
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["relu (training)", "relu (validation)"]
    assert fig.axes[0].get_yscale() == "linear"
    render(fig)


def test_loss_curves_of_a_real_fit():
    X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    h = MLP([2, 3, 1], seed=0).fit(X, [[0], [1], [1], [0]], epochs=7, lr=0.5, progress=False)
    np.testing.assert_array_equal(ydata(plots.loss_curves(h))[0], h.loss)


@pytest.mark.parametrize("make", [
    lambda a, b: [a, b],
    lambda a, b: (np.array(a), np.array(b)),
    lambda a, b: np.array([a, b]),
    lambda a, b: [History(loss=a), History(loss=b)],
])
def test_loss_curves_of_several_runs(make):
    a, b = [1.0, 0.5, 0.3], [1.0, 0.2, 0.1]
    fig = plots.loss_curves(make(a, b), labels=["lr 0.1", "lr 1"])
    lines = fig.axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), a)
    np.testing.assert_array_equal(lines[1].get_ydata(), b)
    assert [ln.get_label() for ln in lines] == ["lr 0.1", "lr 1"]
    assert lines[0].get_color() != lines[1].get_color()


def test_loss_curves_of_a_dict_use_its_keys_and_runs_may_differ_in_length():
    fig = plots.loss_curves({"sigmoid": [1.0, 0.9], "relu": [1.0, 0.5, 0.1]})
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["sigmoid", "relu"]
    np.testing.assert_array_equal(lines[1].get_xdata(), [1, 2, 3])


def test_loss_curves_leave_out_a_diverged_tail():
    h = History(loss=[1.0, 5.0, np.inf], stop_reason="diverged")
    fig = plots.loss_curves(h)
    y = ydata(fig)[0]
    np.testing.assert_array_equal(y[:2], [1.0, 5.0])
    assert np.isnan(y[2])
    assert "diverged" in fig.axes[0].get_lines()[0].get_label()
    render(fig)


@pytest.mark.parametrize("bad,exc,match", [
    ([], ValueError, "histories is empty"),
    ({}, ValueError, "empty dict"),
    ([[1.0, 0.5], []], ValueError, r"histories\[1\] is empty"),
    ("loss", TypeError, "histories must be"),
    (None, TypeError, "histories must be"),
    ([["a", "b"]], TypeError, "real numbers"),
    ([[1.0, 0.5], 3.0], TypeError, "single number"),
    (np.ones((2, 2, 2)), ValueError, "must be 1-D"),
])
def test_loss_curves_refuse_bad_histories(bad, exc, match):
    with pytest.raises(exc, match=match):
        plots.loss_curves(bad)


def test_loss_curves_refuse_bad_options():
    with pytest.raises(ValueError, match=r"2 label\(s\) for 1 run"):
        plots.loss_curves([1.0, 0.5], labels=["a", "b"])
    with pytest.raises(TypeError, match="labels must be a list of str"):
        plots.loss_curves([1.0, 0.5], labels=[1])
    with pytest.raises(ValueError, match="do not pass labels as well"):
        plots.loss_curves({"a": [1.0]}, labels=["b"])
    with pytest.raises(ValueError, match=r"log=True needs positive losses.*0 at epoch 2.*log=False"):
        plots.loss_curves([1.0, 0.0])
    plots.loss_curves([1.0, 0.0], log=False)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plots.loss_curves([1.0], ax="left")


# --- decision_boundary --------------------------------------------------------------------------

def blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)
    return X, y


def test_decision_boundary_of_an_mlp():
    X, y = blobs()
    net = MLP([2, 4, 2], activation="tanh", loss="cross_entropy", seed=0)
    net.fit(X, y, epochs=50, lr=0.5, progress=False)
    fig = plots.decision_boundary(net, X, y, resolution=50, padding=0.25)
    ax = fig.axes[0]
    (regions,) = [c for c in ax.collections if hasattr(c, "levels")]
    np.testing.assert_array_equal(regions.levels, [-0.5, 0.5, 1.5])  # one band per class
    (points,) = [c for c in ax.collections if not hasattr(c, "levels")]
    np.testing.assert_array_equal(points.get_offsets(), X)  # the data on top, unchanged
    assert points.get_zorder() > regions.get_zorder()
    np.testing.assert_allclose(ax.get_xlim(), [X[:, 0].min() - 0.25, X[:, 0].max() + 0.25])
    np.testing.assert_allclose(ax.get_ylim(), [X[:, 1].min() - 0.25, X[:, 1].max() + 0.25])
    # points are coloured by class: all of class 0 alike, different from class 1
    colors = points.get_facecolors()
    assert np.all(colors[y == 0] == colors[y == 0][0]) and not np.all(colors[y == 1][0] == colors[y == 0][0])
    render(fig)


def test_decision_boundary_takes_a_function_and_its_output_forms():
    X, y = blobs()
    calls = []

    def scores(G):  # one sigmoid-like score per point
        calls.append(G.shape)
        return 1 / (1 + np.exp(-(G[:, :1] + G[:, 1:])))

    fig = plots.decision_boundary(scores, X, y, resolution=30)
    assert calls == [(900, 2)]  # called once, on the whole grid
    three = lambda G: np.eye(3)[(G[:, 0] > 0).astype(int) + (G[:, 1] > 0).astype(int)]  # noqa: E731
    fig = plots.decision_boundary(three, X, y % 3, resolution=20)
    levels = [c for c in fig.axes[0].collections if hasattr(c, "levels")][0].levels
    np.testing.assert_array_equal(levels, [-0.5, 0.5, 1.5, 2.5])
    # one-hot targets and a 0/1 column are read as labels
    plots.decision_boundary(scores, X, np.eye(2)[y], resolution=10)
    plots.decision_boundary(scores, X, y.reshape(-1, 1), resolution=10)


def test_decision_boundary_uses_forward_when_there_is_no_predict():
    class ForwardOnly:
        seen = []

        def forward(self, X):
            self.seen.append(X.shape)
            return np.column_stack([X[:, 0] > 0, X[:, 0] <= 0]).astype(float)

    X, y = blobs()
    model = ForwardOnly()
    plots.decision_boundary(model, X, y, resolution=10)
    assert model.seen == [(100, 2)], "forward is called once, on the 10 x 10 grid"


def test_decision_boundary_draws_into_a_given_axes():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    X, y = blobs()
    assert plots.decision_boundary(lambda G: G[:, 0] > 0, X, y, ax=right, resolution=10) is fig
    assert not left.collections and right.collections


@pytest.mark.parametrize("model,X,y,kw,exc,match", [
    (object(), None, None, {}, TypeError, "predict.*forward.*function"),
    (None, np.zeros((5, 3)), np.zeros(5, int), {}, ValueError, r"shape \(5, 3\).*\(n_samples, 2\)"),
    (None, np.zeros(5), np.zeros(5, int), {}, ValueError, r"shape \(5,\)"),
    (None, [["a", "b"]], [0], {}, TypeError, "numeric"),
    (None, np.full((2, 2), np.nan), [0, 1], {}, ValueError, "NaN"),
    (None, np.zeros((5, 2)), np.zeros(4, int), {}, ValueError, r"y has shape \(4,\); expected \(5,\)"),
    (None, np.zeros((2, 2)), [-1, 0], {}, ValueError, "negative class labels"),
    (None, np.zeros((2, 2)), [0, 1], {"resolution": 1}, ValueError, "resolution must be an integer >= 2"),
    (None, np.zeros((2, 2)), [0, 1], {"padding": -1}, ValueError, r"padding \(the margin around the data.*\) must be a non-negative finite number"),
    (None, np.zeros((2, 2)), [0, 1], {"padding": True}, TypeError, "padding must be a number.*got bool True"),
    (None, np.zeros((2, 2)), [0, 1], {"resolution": 5.0}, TypeError, r"resolution must be an integer >= 2 \(grid points per axis\), got float"),
    (lambda G: G[:10, 0], np.zeros((2, 2)), [0, 1], {}, ValueError, "the model's prediction on the grid"),
])
def test_decision_boundary_refuses_bad_input(model, X, y, kw, exc, match):
    X = np.zeros((2, 2)) if X is None else X
    y = [0, 1] if y is None else y
    model = (lambda G: G[:, 0] > 0) if model is None else model
    with pytest.raises(exc, match=match):
        plots.decision_boundary(model, X, y, resolution=kw.pop("resolution", 5), **kw)


# --- gradient_norms -------------------------------------------------------------------------------

def heights(fig):
    return [[bar.get_height() for bar in c] for c in fig.axes[0].containers]


def test_gradient_norms_of_one_series():
    norms = np.array([1e-5, 1e-3, 0.1, 0.5])
    fig = plots.gradient_norms(norms)
    assert heights(fig) == [list(norms)]
    centres = [bar.get_x() + bar.get_width() / 2 for bar in fig.axes[0].containers[0]]
    np.testing.assert_allclose(centres, [1, 2, 3, 4])  # layer l at x = l
    assert fig.axes[0].get_yscale() == "log"
    render(fig)


@pytest.mark.parametrize("make", [
    lambda a, b: {"sigmoid": a, "relu": b},
    lambda a, b: [a, b],
    lambda a, b: np.array([a, b]),
])
def test_gradient_norms_side_by_side(make):
    a, b = [1e-4, 1e-2, 0.3], [0.2, 0.25, 0.3]
    labels = None if isinstance(make(a, b), dict) else ["sigmoid", "relu"]
    fig = plots.gradient_norms(make(a, b), labels=labels)
    assert heights(fig) == [a, b]
    first, second = fig.axes[0].containers
    for l in range(3):  # the two bars of a layer sit next to each other around x = l + 1
        assert first[l].get_x() + first[l].get_width() == pytest.approx(second[l].get_x())
        assert first[l].get_x() < l + 1 < second[l].get_x() + second[l].get_width()
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["sigmoid", "relu"]
    render(fig)


def test_gradient_norms_of_networks_of_different_depth_and_a_dead_layer():
    fig = plots.gradient_norms([[0.1, 0.0, 0.3], [0.2, 0.2]], labels=["deep", "shallow"], log=False)
    assert heights(fig) == [[0.1, 0.0, 0.3], [0.2, 0.2]]
    render(plots.gradient_norms([0.0, 1e-3]))  # a zero norm on a log axis: no bar, no error


@pytest.mark.parametrize("bad,exc,match", [
    ([], ValueError, "norms is empty"),
    ([0.1, -0.2], ValueError, "layer 2 is -0.2"),
    ([0.1, np.nan], ValueError, "layer 2 is nan"),
    (["a"], TypeError, "real numbers"),
    ([[0.1, 0.2], 0.3], TypeError, "single number"),
    ("norms", TypeError, "norms must be"),
])
def test_gradient_norms_refuse_bad_input(bad, exc, match):
    with pytest.raises(exc, match=match):
        plots.gradient_norms(bad)
    with pytest.raises(ValueError, match=r"1 label\(s\) for 2 series"):
        plots.gradient_norms([[0.1], [0.2]], labels=["one"])


# --- activation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.elementwise])
def test_activation_plots_g_and_its_derivative(name):
    act = get_activation(name)
    fig = plots.activation(name)
    g, dg = fig.axes[0].get_lines()[:2]
    x = g.get_xdata()
    np.testing.assert_array_equal(g.get_ydata(), act(x))
    np.testing.assert_array_equal(dg.get_ydata(), act.derivative(x))
    assert x.min() < 0 < x.max()
    render(fig)  # the LaTeX of the legend must parse


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_shades_the_saturation_region(name):
    act = get_activation(name)
    x = np.linspace(-8, 8, 101)
    fig = plots.activation(act, x=x)
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), x)
    spans = fig.axes[0].patches
    assert len(spans) == 2
    ranges = sorted(tuple(np.round(sorted(set(p.get_patch_transform().transform(p.get_path().vertices)[:, 0])), 9))
                    for p in spans)
    s = act.saturation
    assert ranges == [(-8.0, -s), (s, 8.0)]


def test_activation_without_saturation_or_inside_it_shades_nothing():
    assert not plots.activation("relu").axes[0].patches
    assert not plots.activation("sigmoid", x=np.linspace(-2, 2, 9)).axes[0].patches


def test_activation_refuses_bad_input():
    with pytest.raises(ValueError, match="softmax is not element-wise"):
        plots.activation("softmax")
    with pytest.raises(ValueError, match="unknown activation 'sigmod'.*did you mean 'sigmoid'"):
        plots.activation("sigmod")
    with pytest.raises(TypeError, match="activation name"):
        plots.activation(3)
    with pytest.raises(ValueError, match="x must be 1-D"):
        plots.activation("tanh", x=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="at least 2 finite"):
        plots.activation("tanh", x=[0.0])
    with pytest.raises(ValueError, match="at least 2 finite"):
        plots.activation("tanh", x=[0.0, np.inf])


# --- figures ---------------------------------------------------------------------------------------

def test_figures_are_pyplot_free_and_show_themselves_in_a_notebook():
    fig = plots.activation("tanh")
    assert fig.canvas.manager is None  # not managed by pyplot
    assert fig._repr_png_().startswith(b"\x89PNG")  # what IPython shows without the inline backend


def test_axes_of_a_subfigure_return_the_root_figure():
    fig = Figure()
    sub = fig.subfigures(1, 2)[1]
    assert plots.gradient_norms([0.1, 0.2], ax=sub.add_subplot()) is fig


def test_backend_is_untouched():
    backend = matplotlib.get_backend()
    plots.loss_curves([1.0, 0.5])
    assert matplotlib.get_backend() == backend
