"""Interactive demonstrations for lectures and exploration (ipywidgets 8 + matplotlib).

Each function returns a widget to display (the last expression of a cell):

* :func:`training_dashboard` — data set, hidden units, activation, learning rate, batch size
  and epochs; a Train button; the loss curves and the decision boundary update while the
  network trains.
* :func:`backprop_step_through` — the worked 2-2-2 example (or any small network) one step at
  a time: the network diagram with ``in``, ``a``, ``Δ``, the gradients and the updated
  weights, beside the formula being applied with its numbers.
* :func:`activation_explorer` — ``g`` and ``g'`` of each activation, saturation marked.
* :func:`vanishing_gradient_explorer` — depth, activation and initialisation; per-layer
  gradient norms as bars.

Every widget also has a static twin in :mod:`backprop_lab.plots`. Nothing runs until a
control changes or a button is clicked, so a notebook that shows these widgets executes
headless (nbgrader, nbclient) without blocking. Figures are matplotlib ``Figure`` objects
drawn with Agg and shown as PNG images, which works with the inline backend; under
``%matplotlib widget`` (ipympl) the figures are ipympl canvases instead.
"""

from __future__ import annotations

import io

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from . import datasets, plots
from ._fence import check, reference
from . import activations
from .activations import ACTIVATIONS
from .mlp import MLP

__all__ = ["training_dashboard", "backprop_step_through", "activation_explorer",
           "vanishing_gradient_explorer", "FigureView"]

_HIDDEN = list(activations.names(hidden=True))
# Each description is as wide as its text: a fixed label width cuts off whatever is longer in the
# student's font ("hidd", "learnin"), and ipywidgets' default of 80 px is shorter than
# "hidden layers".
_LABEL = {"description_width": "initial"}


def _row(children) -> W.HBox:
    """Controls side by side that wrap onto the next line rather than shrink or scroll out of a
    narrow notebook (a widget box scrolls what does not fit, and its flex items shrink)."""
    return W.HBox(children, layout=W.Layout(flex_flow="row wrap", align_items="center"))


def _ipympl_active() -> bool:
    return "ipympl" in matplotlib.get_backend() or "widget" in matplotlib.get_backend().lower()


class FigureView:
    """A matplotlib figure shown in a widget and redrawn on demand.

    ``view.fig`` is the Figure to draw into; ``view.widget`` goes into a layout;
    ``view.refresh()`` shows what was drawn (a PNG for the inline backend, ``draw_idle``
    on the canvas under ipympl).
    """

    def __init__(self, figsize=(10, 4), dpi: int = 96):
        self.dpi = dpi
        if _ipympl_active():
            import matplotlib.pyplot as plt

            with plt.ioff():
                self.fig = plt.figure(figsize=figsize, dpi=dpi)
            self.fig.canvas.header_visible = False
            self.widget = self.fig.canvas
        else:
            self.fig = Figure(figsize=figsize, dpi=dpi)
            # no margin at the sides: 100% and a margin are wider than the box, which then scrolls
            self.widget = W.Image(format="png", layout=W.Layout(width="100%", max_width=f"{figsize[0] * dpi}px",
                                                                margin="var(--jp-widgets-margin) 0"))

    def refresh(self) -> None:
        if isinstance(self.widget, W.Image):
            buf = io.BytesIO()
            self.fig.savefig(buf, format="png", dpi=self.dpi)
            self.widget.value = buf.getvalue()
        else:
            self.fig.canvas.draw_idle()


# --- the training dashboard ----------------------------------------------------------------

class TrainingDashboard(W.VBox):
    """See :func:`training_dashboard`. ``train()`` is what the Train button runs."""

    def __init__(self, dataset="moons", hidden=8, activation="tanh", lr=0.3, batch_size=16, epochs=150,
                 seed=0, n_samples=300):
        self.seed, self.n_samples = seed, n_samples
        style, wide = _LABEL, W.Layout(width="320px")  # two to a line in a notebook beside the file browser
        self.dataset = W.Dropdown(options=["xor", "moons", "spirals"], value=dataset, description="data set",
                                  style=style, layout=wide)
        self.hidden = W.IntSlider(value=hidden, min=1, max=64, description="hidden units", style=style, layout=wide)
        self.activation = W.Dropdown(options=_HIDDEN, value=activation, description="activation g", style=style,
                                     layout=wide)
        self.lr = W.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.1, description="learning rate α",
                                   style=style, layout=wide, readout_format=".3g")
        self.batch_size = W.Dropdown(options=[1, 4, 16, 64, 256, ("all", None)], value=batch_size,
                                     description="batch size", style=style, layout=wide)
        self.epochs = W.IntSlider(value=epochs, min=10, max=1000, step=10, description="epochs", style=style,
                                  layout=wide)
        # the button as wide as its icon and text, never narrower (a flex item shrinks to "…")
        self.button = W.Button(description="Train", button_style="primary", icon="play",
                               layout=W.Layout(width="auto", flex="0 0 auto"))
        self.progress = W.IntProgress(value=0, min=0, max=epochs, description="epoch 0", style=style)
        self.status = W.HTML(value="Choose the settings, then press Train.")  # HTML wraps a long line, a Label cuts it
        self.view = FigureView(figsize=(10.5, 4.2))
        self.ax_loss, self.ax_data = self.view.fig.subplots(1, 2)
        self.view.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
        self.model = None
        self.history = None
        self.button.on_click(lambda _: self.train())
        self.dataset.observe(lambda _: self._load(), names="value")
        self._load()
        # the controls above the figure, not beside it: beside, the figure took the row's width and
        # squeezed the controls' column until their labels and the button were cut off
        super().__init__([_row([self.dataset, self.hidden, self.activation, self.lr, self.batch_size, self.epochs]),
                          _row([self.button, self.progress]), self.status, self.view.widget])

    def _load(self):
        if self.dataset.value == "xor":  # the four corners, with noisy copies to see a boundary form
            ds = datasets.xor(n=200, noise=0.15, seed=self.seed)
        else:
            ds = datasets.get_dataset(self.dataset.value, n=self.n_samples, seed=self.seed)
        split = datasets.train_test_split(ds.X, ds.y, test_size=0.25, seed=self.seed)
        self.X_train, self.X_val, self.y_train, self.y_val = split
        self.n_classes = int(ds.y.max()) + 1
        self.model, self.history = None, None
        self._draw([], [])
        self.status.value = f"{ds.name}: {len(ds.y)} samples, {self.n_classes} classes. Press Train."

    def _draw(self, loss, val_loss, boundary: bool = True):
        ax = self.ax_loss
        ax.clear()
        epochs = np.arange(1, len(loss) + 1)

        def shown(values):  # a diverging run leaves the plot instead of breaking its axis
            v = np.asarray(values, dtype=float)
            return np.where(np.isfinite(v) & (v < 1e12), v, np.nan)

        ax.plot(epochs, shown(loss), color="C0", label="training loss")
        ax.plot(epochs[:len(val_loss)], shown(val_loss), color="C1", ls="--", label="validation loss")
        ax.set_xlim(0, max(self.epochs.value, 1))
        if np.isfinite(shown(loss)).any():
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("cross-entropy E")
        ax.set_title("loss")
        ax.legend(loc="upper right")
        self.ax_data.clear()
        X, y = np.vstack([self.X_train, self.X_val]), np.concatenate([self.y_train, self.y_val])
        if self.model is not None and boundary:
            plots.decision_boundary(self.model, X, y, ax=self.ax_data, resolution=120)
        else:
            for c in range(self.n_classes):
                self.ax_data.scatter(*X[y == c].T, s=14, color=f"C{c}", edgecolor="white", lw=0.4)
        self.ax_data.set_title("data and decision boundary")
        self.view.refresh()

    def train(self) -> None:
        """Train a fresh network with the current settings, updating the figure as it goes."""
        self.button.disabled = True
        self.model = MLP([2, self.hidden.value, self.n_classes], self.activation.value, loss="cross_entropy",
                         seed=self.seed)
        self.progress.max, self.progress.value = self.epochs.value, 0
        every = max(1, self.epochs.value // 20)

        def live(epoch, hist, model):
            self.progress.value = epoch + 1
            self.progress.description = f"epoch {epoch + 1}"
            if (epoch + 1) % every == 0:
                self.status.value = f"epoch {epoch + 1}/{self.epochs.value}: loss {hist.loss[-1]:.4g}"
                self._draw(hist.loss, hist.val_loss)

        try:
            self.history = self.model.fit(self.X_train, self.y_train, epochs=self.epochs.value, lr=self.lr.value,
                                          batch_size=self.batch_size.value, seed=self.seed, progress=False,
                                          validation_data=(self.X_val, self.y_val), callback=live)
        finally:
            self.button.disabled = False
        h = self.history
        if h.diverged:
            self.status.value = (f"diverged at epoch {h.epochs}: the loss became {h.loss[-1]:.4g}; "
                                 f"try a smaller learning rate than {self.lr.value:.3g}")
        else:
            acc = self.model.accuracy(self.X_val, self.y_val)
            self.status.value = f"done: {h.epochs} epochs, loss {h.loss[-1]:.4g}, validation accuracy {acc:.1%}"
        self._draw(h.loss, h.val_loss, boundary=not h.diverged)  # a diverged net has no boundary to show


def training_dashboard(dataset: str = "moons", hidden: int = 8, activation: str = "tanh", lr: float = 0.3,
                       batch_size: int | None = 16, epochs: int = 150, seed: int = 0) -> TrainingDashboard:
    """A dashboard to train a small network on 2-D data and watch it learn.

    Controls: data set (XOR, moons, spirals), hidden units, activation, learning rate, batch
    size, epochs, and a Train button. While training runs, a progress bar, the training and
    validation loss and the decision boundary are updated. The static twin is
    :func:`backprop_lab.plots.training_summary`.
    """
    return TrainingDashboard(dataset, hidden, activation, lr, batch_size, epochs, seed)


# --- the step-through ----------------------------------------------------------------------

class StepThrough(W.VBox):
    """See :func:`backprop_step_through`; ``next()``, ``back()`` and ``show(k)`` move."""

    def __init__(self, net, x, t, lr):
        from .stepthrough import draw, steps

        self.net, self._draw_step = net, draw
        self.steps = steps(net, x, t, lr)
        self.k = 0
        big = W.Layout(width="130px", height="48px")
        self.back_button = W.Button(description="◀ Back", layout=big, style={"font_weight": "bold"})
        self.next_button = W.Button(description="Next ▶", layout=big, button_style="primary",
                                    style={"font_weight": "bold"})
        self.counter = W.HTML()
        self.formula = W.HTMLMath(layout=W.Layout(min_height="120px"))
        self.values = W.HTML()  # what the step computed, as plain text
        self.view = FigureView(figsize=(12, 6), dpi=90)
        self.ax = self.view.fig.subplots()
        self.view.fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.01)
        self.back_button.on_click(lambda _: self.back())
        self.next_button.on_click(lambda _: self.next())
        self.show(0)
        bar = _row([self.back_button, self.next_button, self.counter])
        super().__init__([bar, self.formula, self.values, self.view.widget])

    def show(self, k: int) -> None:
        self.k = max(0, min(k, len(self.steps) - 1))
        s = self.steps[self.k]
        self.ax.clear()
        self._draw_step(s, self.net.layer_sizes, self.ax, fontsize=14)
        self.view.refresh()
        self.counter.value = (f"<span style='font-size:20px'>&nbsp; step {self.k + 1} of {len(self.steps)}: "
                              f"<b>{s.title}</b></span>")
        self.formula.value = (f"<div style='font-size:24px; line-height:1.6'>$${s.formula}$$"
                              f"<div style='color:#e65100'>$${s.example}$$</div></div>")
        from .stepthrough import unit_names

        names = unit_names(self.net.layer_sizes)
        new = [f"{names[l][u]}: {s.node_text[(l, u)][-1]}" for l, u in sorted(s.nodes) if s.node_text[(l, u)]]
        if not new:
            new = [s.edge_text[e] for e in sorted(s.edges)][:4]
        self.values.value = f"<div style='font-size:20px'>{' &nbsp; '.join(new)}</div>"
        self.back_button.disabled = self.k == 0
        self.next_button.disabled = self.k == len(self.steps) - 1

    def next(self) -> None:
        self.show(self.k + 1)

    def back(self) -> None:
        self.show(self.k - 1)


def backprop_step_through(net: MLP | None = None, x=None, t=None, lr: float | None = None) -> StepThrough:
    """Walk through one forward pass, loss, backward pass and update, a step per click.

    Without arguments: the published 2-2-2 worked example (:mod:`backprop_lab.examples`).
    Otherwise a small network (at most 6 units per layer, squared error), one sample ``x``
    with target ``t``, and the learning rate ``lr``. The static twin is
    :func:`backprop_lab.plots.backprop_step`.
    """
    if net is None:
        from .examples import worked_example

        ex = worked_example()
        net, x, t, lr = ex.network(), ex.X, ex.T, ex.lr if lr is None else lr
    elif x is None or t is None:
        raise ValueError("give one sample x and its target t with the network")
    return StepThrough(net, x, t, 0.5 if lr is None else lr)


# --- the activation explorer ---------------------------------------------------------------

class ActivationExplorer(W.VBox):
    def __init__(self, name, limit):
        self.activation = W.ToggleButtons(options=list(activations.names(elementwise=True)), value=name,
                                          description="g", style=_LABEL)
        self.limit = W.FloatSlider(value=limit, min=1, max=20, step=0.5, description="|in| up to", style=_LABEL)
        self.info = W.HTMLMath()
        self.readout = W.Label()  # plain text, for reading at a glance
        self.view = FigureView(figsize=(8, 4))
        self.ax = self.view.fig.subplots()
        for c in (self.activation, self.limit):
            c.observe(lambda _: self.update(), names="value")
        self.update()
        super().__init__([self.activation, self.limit, self.info, self.readout, self.view.widget])

    def update(self) -> None:
        self.ax.clear()
        x = np.linspace(-self.limit.value, self.limit.value, 401)
        plots.activation(self.activation.value, ax=self.ax, x=x)
        g = ACTIVATIONS[self.activation.value]
        sat = (f"saturates for $|in| > {g.saturation}$: there $g' < 2\\%$ of its peak, so the deltas "
               f"that pass through shrink" if g.saturation else "does not saturate")
        edge = float(g.derivative(np.array([-self.limit.value]))[0])
        self.info.value = f"${g.latex}$, $\\quad {g.dlatex}$ &nbsp; — {self.activation.value} {sat}."
        self.readout.value = f"{self.activation.value}: g'(−{self.limit.value:g}) = {edge:.4g}"
        self.view.refresh()


def activation_explorer(activation: str = "sigmoid", limit: float = 8.0) -> ActivationExplorer:
    """``g`` and ``g'`` of each activation, with the saturation regions shaded.

    The static twin is :func:`backprop_lab.plots.activation`.
    """
    return ActivationExplorer(activation, limit)


# --- the vanishing-gradient explorer -------------------------------------------------------

@reference("widgets.layer_gradient_norms")
def layer_gradient_norms(net: MLP, X, Y) -> np.ndarray:
    """``‖∂E/∂W[l]‖`` (Frobenius) for every layer ``l = 1 .. L``, shape ``(L,)``."""
    check()
    dW, _ = net.gradients(X, Y)
    return np.array([np.linalg.norm(g) for g in dW])


class VanishingExplorer(W.VBox):
    def __init__(self, depth, activation, init, width, seed):
        self.seed, self.width = seed, width
        self.depth = W.IntSlider(value=depth, min=2, max=20, description="hidden layers", style=_LABEL)
        self.activation = W.Dropdown(options=_HIDDEN, value=activation, description="activation", style=_LABEL)
        self.init = W.Dropdown(options=["xavier", "he", "normal", ("small (σ=0.1)", 0.1)], value=init,
                               description="initialisation", style=_LABEL)
        self.info = W.Label()
        self.view = FigureView(figsize=(9, 4))
        self.ax = self.view.fig.subplots()
        data = datasets.load("digits", seed=seed)
        self.X, self.y = data.X_train[:256], data.y_train[:256]
        for c in (self.depth, self.activation, self.init):
            c.observe(lambda _: self.update(), names="value")
        self.update()
        super().__init__([_row([self.depth, self.activation, self.init]), self.info, self.view.widget])

    def update(self) -> None:
        sizes = [64] + [self.width] * self.depth.value + [10]
        net = MLP(sizes, self.activation.value, loss="cross_entropy", init=self.init.value, seed=self.seed)
        self.norms = layer_gradient_norms(net, self.X, self.y)
        self.ax.clear()
        plots.gradient_norms(self.norms, ax=self.ax)
        self.ax.set_title(f"{self.activation.value}, {self.init.label} initialisation: ‖∂E/∂W‖ per layer")
        ratio = self.norms[0] / self.norms[-1]
        self.info.value = f"first layer / last layer gradient norm: {ratio:.3g}"
        self.view.refresh()


def vanishing_gradient_explorer(depth: int = 8, activation: str = "sigmoid", init="xavier", width: int = 32,
                                seed: int = 0) -> VanishingExplorer:
    """Per-layer gradient norms of a deep network on the digits, as bars.

    Controls: number of hidden layers, activation, initialisation. With sigmoid the first
    layers' gradients shrink geometrically (g' ≤ ¼); with ReLU and He initialisation they do
    not. The static twin is :func:`backprop_lab.plots.gradient_norms`.
    """
    return VanishingExplorer(depth, activation, init, width, seed)
