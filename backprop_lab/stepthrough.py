r"""Back-propagation one step at a time, on a small network, with every number shown.

:func:`steps` turns one forward and backward pass (:meth:`MLP.trace` of a single sample) into
a list of :class:`Step`: what is computed (the course's formula), the same formula with the
numbers of one unit filled in, and what every node and edge of the network diagram shows
after that step. :func:`draw` draws a step into matplotlib axes: the lecture's diagram.
``plots.backprop_step`` and ``widgets.backprop_step_through`` are built on these two.

The course's notation and sign convention: :math:`\Delta = -\partial E/\partial in`, so
:math:`\Delta_i = Err_i\, g'(in_i)` at the outputs, :math:`\Delta_j = g'(in_j)\sum_i W_{j,i}\Delta_i`
in hidden layers, :math:`\partial E/\partial W_{j,i} = -a_j \Delta_i`, and the update
:math:`W_{j,i} \leftarrow W_{j,i} + \alpha\, a_j \Delta_i` applied after every gradient is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_positive
from .mlp import MLP

__all__ = ["Step", "steps", "draw", "unit_names", "MAX_UNITS"]

#: the diagram stays readable up to this many units in a layer
MAX_UNITS = 6


@dataclass
class Step:
    """One step of the walk through forward pass, loss, backward pass and update.

    Attributes
    ----------
    title : str
        What happens, in words.
    formula : str
        The rule in the course's notation (LaTeX, without ``$``).
    example : str
        The rule for one unit with the numbers filled in (LaTeX).
    node_text : dict
        ``(layer, unit) -> list of str``: what each node shows (cumulative).
    edge_text : dict
        ``(l, j, i) -> str``: the label of the edge from unit ``j`` of layer ``l - 1`` to
        unit ``i`` of layer ``l``.
    nodes, edges : set
        What this step computes (highlighted).
    """

    title: str
    formula: str
    example: str
    node_text: dict = field(default_factory=dict)
    edge_text: dict = field(default_factory=dict)
    nodes: set = field(default_factory=set)
    edges: set = field(default_factory=set)


def _f(x: float) -> str:
    return f"{x:.6g}".replace("-", "−")


def _num(x: float) -> str:
    """A result for LaTeX."""
    return f"{x:.6g}"


def _tex(x: float) -> str:
    """A number for LaTeX: negative numbers in parentheses when they follow an operator."""
    s = f"{x:.6g}"
    return f"({s})" if x < 0 else s


def unit_names(layer_sizes: list[int]) -> list[list[str]]:
    """Names of the units: ``x1..`` inputs, ``o1..`` outputs, ``h1..`` (one hidden layer) or
    ``h1_1..`` (several)."""
    L = len(layer_sizes) - 1
    names = [[f"x{k + 1}" for k in range(layer_sizes[0])]]
    for l in range(1, L):
        prefix = "h" if L == 2 else f"h{l}_"
        names.append([f"{prefix}{k + 1}" for k in range(layer_sizes[l])])
    names.append([f"o{k + 1}" for k in range(layer_sizes[-1])])
    return names


def steps(net: MLP, x, t, lr: float = 0.5) -> list[Step]:
    """The steps of one forward pass, loss, backward pass and update on one sample.

    Parameters
    ----------
    net : MLP
        A small network (at most :data:`MAX_UNITS` units per layer); element-wise output
        activation and squared error, as in the course's derivation.
    x : array_like, shape (1, n_inputs) or (n_inputs,)
    t : array_like, shape (1, n_outputs) or (n_outputs,)
    lr : float
        The learning rate α of the update.
    """
    x = np.asarray(x, dtype=float).reshape(1, -1)
    t = np.asarray(t, dtype=float).reshape(1, -1)
    sizes = net.layer_sizes
    if max(sizes) > MAX_UNITS:
        raise ValueError(f"layer sizes {sizes}: the step-through draws at most {MAX_UNITS} units per layer")
    # the course's derivation starts from Err = T - O times g'(in): a loss whose output δ is
    # not fused (squared error), and an element-wise output
    if net.loss_function.fused_delta or not net.output_activation.elementwise:
        raise ValueError("the step-through follows the course's derivation: squared error and an element-wise "
                         f"output activation (got loss {net.loss_function.name!r}, output "
                         f"{net.output_activation.name!r})")
    lr = as_positive(lr, "lr", "the learning rate α")
    tr = net.trace(x, t)
    L = len(sizes) - 1
    names = unit_names(sizes)
    nodes = {(l, k): [] for l in range(L + 1) for k in range(sizes[l])}
    edges = {(l, j, i): f"w={_f(tr[l].W[j, i])}" for l in range(1, L + 1)
             for j in range(sizes[l - 1]) for i in range(sizes[l])}
    for k in range(sizes[0]):
        nodes[(0, k)].append(f"a={_f(x[0, k])}")
    out = []

    def snap(title, formula, example, hl_nodes=(), hl_edges=()):
        out.append(Step(title, formula, example, {k: list(v) for k, v in nodes.items()}, dict(edges),
                        set(hl_nodes), set(hl_edges)))

    snap("The network and its weights", r"in = a_{prev}\,W + b, \quad a = g(in)",
         r"\text{inputs } " + ", ".join(f"{n} = {_num(v)}" for n, v in zip(names[0], x[0])),
         [(0, k) for k in range(sizes[0])])
    for l in range(1, L + 1):
        lt = tr[l]
        a_prev = tr.a(l - 1)[0]
        layer = [(l, i) for i in range(sizes[l])]
        for i in range(sizes[l]):
            nodes[(l, i)].append(f"in={_f(lt.in_[0, i])}")
        terms = " + ".join(f"{_tex(a_prev[j])} \\cdot {_tex(lt.W[j, 0])}" for j in range(sizes[l - 1]))
        kind = "output" if l == L else "hidden"
        snap(f"Forward pass: weighted sums of the {kind} layer", r"in_i = \sum_j a_j W_{j,i} + b_i",
             f"in_{{{names[l][0]}}} = {terms} + {_tex(lt.b[0])} = {_num(lt.in_[0, 0])}",
             layer, [(l, j, i) for j in range(sizes[l - 1]) for i in range(sizes[l])])
        g = net.output_activation if l == L else net.activation
        for i in range(sizes[l]):
            nodes[(l, i)].append(f"a={_f(lt.a[0, i])}")
        snap(f"Forward pass: activations of the {kind} layer ({g.name})", rf"a_i = g(in_i), \quad {g.latex}",
             f"a_{{{names[l][0]}}} = g({_tex(lt.in_[0, 0])}) = {_num(lt.a[0, 0])}", layer)
    o, tt = tr.O[0], tr.T[0]
    for i in range(sizes[L]):
        nodes[(L, i)].append(f"t={_f(tt[i])}")
    terms = " + ".join(f"({_tex(tt[i])} - {_tex(o[i])})^2" for i in range(sizes[L]))
    snap("Loss: compare the prediction with the target", r"E = \tfrac{1}{2} \sum_i (t_i - o_i)^2",
         rf"E = \tfrac{{1}}{{2}}\left[{terms}\right] = {_num(tr.loss)}", [(L, i) for i in range(sizes[L])])
    # backward: output deltas, then hidden deltas, layer by layer
    gp = net.output_activation.derivative(tr[L].in_)[0]
    for i in range(sizes[L]):
        nodes[(L, i)].append(f"Δ={_f(tr[L].Delta[0, i])}")
    snap("Backward pass: output deltas", r"\Delta_i = Err_i \, g'(in_i), \quad Err_i = t_i - o_i",
         rf"\Delta_{{{names[L][0]}}} = ({_tex(tt[0])} - {_tex(o[0])}) \cdot {_tex(gp[0])} = {_num(tr[L].Delta[0, 0])}",
         [(L, i) for i in range(sizes[L])])
    for l in range(L - 1, 0, -1):
        lt, nxt = tr[l], tr[l + 1]
        gp = net.activation.derivative(lt.in_)[0]
        for j in range(sizes[l]):
            nodes[(l, j)].append(f"Δ={_f(lt.Delta[0, j])}")
        terms = " + ".join(f"{_tex(nxt.W[0, i])} \\cdot {_tex(nxt.Delta[0, i])}" for i in range(sizes[l + 1]))
        snap("Backward pass: hidden deltas (each hidden unit's share of the output errors)",
             r"\Delta_j = g'(in_j) \sum_i W_{j,i} \Delta_i",
             rf"\Delta_{{{names[l][0]}}} = {_tex(gp[0])} \cdot \left[{terms}\right] = {_num(lt.Delta[0, 0])}",
             [(l, j) for j in range(sizes[l])],
             [(l + 1, j, i) for j in range(sizes[l]) for i in range(sizes[l + 1])])
    # gradients of every layer, all from the weights before any update
    for l in range(L, 0, -1):
        lt = tr[l]
        a_prev = tr.a(l - 1)[0]
        for j in range(sizes[l - 1]):
            for i in range(sizes[l]):
                edges[(l, j, i)] = f"∂E/∂w={_f(lt.dW[j, i])}"
        snap(f"Gradients of layer {l}'s weights (from the weights before any update)",
             r"\frac{\partial E}{\partial W_{j,i}} = -a_j \Delta_i",
             rf"\frac{{\partial E}}{{\partial W_{{{names[l - 1][0]},{names[l][0]}}}}} = -{_tex(a_prev[0])} \cdot "
             rf"{_tex(lt.Delta[0, 0])} = {_num(lt.dW[0, 0])}",
             [(l, i) for i in range(sizes[l])], [(l, j, i) for j in range(sizes[l - 1]) for i in range(sizes[l])])
    new = tr.updated_weights(lr)
    for l in range(1, L + 1):
        for j in range(sizes[l - 1]):
            for i in range(sizes[l]):
                edges[(l, j, i)] = f"w={_f(tr[l].W[j, i])}→{_f(new[l - 1][j, i])}"
    lt = tr[L]
    snap("Update every weight, now that every gradient is known",
         r"W_{j,i} \leftarrow W_{j,i} + \alpha\, a_j \Delta_i",
         rf"W_{{{names[L - 1][0]},{names[L][0]}}} \leftarrow {_tex(lt.W[0, 0])} + {_tex(lr)} \cdot "
         rf"{_tex(tr.a(L - 1)[0, 0])} \cdot {_tex(lt.Delta[0, 0])} = {_num(new[L - 1][0, 0])}",
         [], list(edges))
    return out


def draw(step: Step, layer_sizes: list[int], ax, fontsize: int = 13) -> None:
    """Draw the network diagram of ``step`` into ``ax`` (nodes, edges, their values).

    Highlighted (orange, bold) are the nodes and edges the step computes.
    """
    L = len(layer_sizes) - 1
    names = unit_names(layer_sizes)
    height = max(layer_sizes)
    # layers left to right, each centred vertically
    gap = 2.3
    pos = {(l, k): (l * 3.4, -k * gap - (height - layer_sizes[l]) * gap / 2)
           for l in range(L + 1) for k in range(layer_sizes[l])}
    hot, cold = "C1", "0.55"
    for (l, j, i), label in step.edge_text.items():
        (x0, y0), (x1, y1) = pos[(l - 1, j)], pos[(l, i)]
        on = (l, j, i) in step.edges
        ax.plot([x0, x1], [y0, y1], color=hot if on else cold, lw=3 if on else 1.2, zorder=1)
        f = 0.45 if abs(y1 - y0) < 1e-9 else 0.74  # diagonals: near their target, apart from crossings
        ax.text(x0 + f * (x1 - x0), y0 + f * (y1 - y0) + 0.08, label, fontsize=fontsize - 3, ha="center",
                va="bottom", color=hot if on else "0.25", zorder=3,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    for (l, k), (x, y) in pos.items():
        on = (l, k) in step.nodes
        ax.add_patch(_circle((x, y), 0.42, on))
        ax.text(x, y, names[l][k], ha="center", va="center", fontsize=fontsize + 2, weight="bold", zorder=4)
        lines = step.node_text.get((l, k), [])
        if lines:
            last = l == L  # the output layer's values go to its right, the others' below
            ax.text(x + (0.55 if last else 0), y if last else y - 0.5, "\n".join(lines),
                    ha="left" if last else "center", va="center" if last else "top", fontsize=fontsize - 1,
                    color=hot if on else "black", weight="bold" if on else "normal", zorder=4)
    ax.set_xlim(-1.0, L * 3.4 + 3.0)
    ax.set_ylim(-(height - 1) * gap - 2.0, 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(step.title, fontsize=fontsize + 3, loc="left")


def _circle(xy, r, on):
    from matplotlib.patches import Circle

    return Circle(xy, r, facecolor="#ffe0b2" if on else "#e3f2fd", edgecolor="C1" if on else "0.3",
                  lw=3 if on else 1.5, zorder=2)
