"""Widgets, headless: every one builds, and changing a control changes what the figure shows
(its data, not just "no exception"); their static twins; the lecture notebooks run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_lab import examples, plots, widgets
from backprop_lab.instructor.execute import run_notebook

LECTURES = sorted((Path(__file__).resolve().parents[1] / "lectures").glob("*.ipynb"))


def lines(ax):
    return [line.get_ydata().copy() for line in ax.get_lines()]


@pytest.mark.slow
def test_training_dashboard_trains_and_updates_its_figure():
    d = widgets.training_dashboard(dataset="moons", epochs=40, hidden=6, lr=0.3)
    assert d.model is None and d.status.value.startswith("moons:")
    before = d.ax_data.collections[0].get_offsets().copy()
    image0 = d.view.widget.value
    d.dataset.value = "spirals"
    assert not np.array_equal(d.ax_data.collections[0].get_offsets(), before), "new data drawn"
    assert d.status.value.startswith("spirals:")
    assert d.view.widget.value != image0
    d.dataset.value = "moons"
    d.button.click()  # what a click in the browser runs
    train, val = lines(d.ax_loss)[:2]
    assert len(train) == len(val) == 40 == d.progress.value
    assert train[-1] < train[0]
    assert d.status.value.startswith("done: 40 epochs") and "validation accuracy" in d.status.value
    np.testing.assert_allclose(train, d.history.loss)
    assert d.ax_data.collections, "decision boundary drawn"


@pytest.mark.slow
def test_dashboard_reports_divergence_instead_of_failing():
    d = widgets.training_dashboard(dataset="moons", epochs=100, hidden=32, activation="leaky_relu", lr=10.0)
    d.batch_size.value = 1
    with pytest.warns(RuntimeWarning, match="diverged"):
        d.train()
    assert "diverged" in d.status.value
    assert not d.button.disabled


@pytest.mark.slow
def test_step_through_shows_each_delta_of_the_worked_example():
    s = widgets.backprop_step_through()
    assert s.k == 0 and s.back_button.disabled
    seen = []
    while not s.next_button.disabled:
        s.next_button.click()
        seen.append(s.formula.value)
    assert len(seen) == len(s.steps) - 1 == 10
    deltas = [v for v in seen if r"\Delta_{o1} =" in v]
    assert len(deltas) == 1 and "-0.138499" in deltas[0], "the published δ_o1 = 0.138498562, as the course's Δ"
    s.show(6)
    assert "o1: Δ=−0.138499" in s.values.value and "o2: Δ=0.0380982" in s.values.value
    s.show(len(s.steps) - 1)
    texts = [t.get_text() for t in s.ax.texts]
    assert any("w=0.4→0.358916" in t for t in texts), "the last step shows w5's update"
    s.back_button.click()
    assert s.k == len(s.steps) - 2 and "Gradients of layer 1" in s.counter.value


def test_step_through_on_another_small_net_and_refuses_big_ones():
    from backprop_lab import MLP

    net = MLP([3, 2, 1], activation="tanh", seed=1)
    s = widgets.backprop_step_through(net, x=[[0.5, -1.0, 2.0]], t=[[1.0]], lr=0.1)
    tr = net.trace(np.array([[0.5, -1.0, 2.0]]), np.array([[1.0]]))
    s.show(len(s.steps) - 1)
    assert f"{tr.updated_weights(0.1)[1][0, 0]:.6g}" in s.formula.value
    with pytest.raises(ValueError, match="at most 6 units"):
        widgets.backprop_step_through(MLP([8, 2, 1]), x=np.zeros((1, 8)), t=[[0.0]])
    with pytest.raises(ValueError, match="one sample x and its target t"):
        widgets.backprop_step_through(net)


@pytest.mark.slow
def test_activation_explorer():
    a = widgets.activation_explorer("sigmoid", limit=8)
    g, dg = lines(a.ax)[:2]
    text = a.info.value
    a.activation.value = "tanh"
    assert not np.allclose(lines(a.ax)[0], g), "g changed"
    assert "tanh" in a.info.value and a.info.value != text
    x_before = a.ax.get_lines()[0].get_xdata().max()
    a.limit.value = 3.0
    assert a.ax.get_lines()[0].get_xdata().max() == pytest.approx(3.0) != x_before
    assert a.readout.value == f"tanh: g'(−3) = {4 * np.exp(-6) / (1 + np.exp(-6)) ** 2:.4g}"


@pytest.mark.slow
def test_vanishing_gradient_explorer():
    v = widgets.vanishing_gradient_explorer(depth=6, activation="sigmoid")
    heights = [p.get_height() for p in v.ax.patches]
    assert len(heights) == 7 and heights[0] < heights[-1] / 100, "sigmoid: the first layer's gradient vanishes"
    v.activation.value = "relu"
    v.init.value = "he"
    relu = [p.get_height() for p in v.ax.patches]
    assert relu[0] > relu[-1] / 10, "ReLU with He initialisation: no vanishing"
    v.depth.value = 10
    assert len(v.ax.patches) == 11
    np.testing.assert_allclose([p.get_height() for p in v.ax.patches], v.norms)


def test_static_twins():
    ex = examples.worked_example()
    fig = plots.backprop_step(ex.network(), ex.X, ex.T, step=6, lr=ex.lr)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("Δ=−0.138499" in t for t in texts) and any("0.138499" in t for t in texts)
    with pytest.raises(ValueError, match="step must be an integer"):
        plots.backprop_step(ex.network(), ex.X, ex.T, step=99)
    from backprop_lab import MLP, datasets

    X, y = datasets.xor(n=40, noise=0.1, seed=0)
    net = MLP([2, 4, 2], "tanh", loss="cross_entropy", seed=0)
    hist = net.fit(X, y, epochs=20, lr=0.5, progress=False)
    fig = plots.training_summary(hist, net, X, y)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), hist.loss)


@pytest.mark.slow
def test_widgets_use_ipympl_canvases_under_the_widget_backend():
    code = ("import matplotlib; matplotlib.use('module://ipympl.backend_nbagg')\n"
            "from backprop_lab import widgets\n"
            "a = widgets.activation_explorer('relu')\n"
            "print(type(a.view.widget).__module__, a.view.fig.axes[0].get_lines()[0].get_ydata().max())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ipympl") and float(out.stdout.split()[1]) == pytest.approx(8.0)


@pytest.mark.kernel
@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_notebooks_run_headless(path):
    result = run_notebook(path, timeout=120)
    assert not result.errors, result.errors
    assert result.seconds < 60


def test_lecture_notebooks_are_stored_without_outputs():
    import json

    assert len(LECTURES) == 5
    for path in LECTURES:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path
