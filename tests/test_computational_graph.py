"""Notebook 3, the computational graph: the solution's autodiff (its ``Value``, ``topological_order``,
``backward``, ``all_paths``, ``path_sum``, ``mazur_graph``) checked as a library, with property-based
tests (Hypothesis) against exact derivatives; and the notebook's structure and catalogues."""

from __future__ import annotations

import json
import math
import re

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT

NOTEBOOK = ROOT / "solutions" / "03-computational-graph" / "computational_graph.ipynb"
NB_ID = "03-computational-graph/computational_graph"
ANSWERS = ("Value", "topological_order", "backward", "neuron", "mazur_graph", "all_paths", "path_sum")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cells():
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in json.loads(NOTEBOOK.read_text())["cells"]}


@pytest.fixture(scope="module")
def ns():
    """The solution's answer cells, run as a module (the setup cell's imports first)."""
    cells = _cells()
    namespace: dict = {}
    exec("".join(cells["setup"]["source"]).replace("%matplotlib inline", ""), namespace)
    for gid in ANSWERS:
        exec("".join(cells[gid]["source"]), namespace)
    return namespace


# --- random expressions: the solution's reverse mode against forward mode in 40 digits ------------------

MP = mpmath.MPContext()
MP.dps = 40
OPS = ("add", "sub", "mul", "div", "cadd", "csubr", "cmul", "cdivr", "neg", "pow2", "pow3", "inv", "exp", "tanh",
       "sigmoid")
programs = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6),
                              st.floats(0.5, 2.0) | st.floats(-2.0, -0.5)), min_size=1, max_size=25)
leaf_values = st.lists(st.floats(0.3, 1.5) | st.floats(-1.5, -0.3), min_size=1, max_size=4)


def _build(Value, xs, program):
    """Run a program of operations on the leaves ``xs`` with Value and with (value, gradient) duals."""
    n = len(xs)
    leaves = [Value(v) for v in xs]
    pool = [(leaf, (MP.mpf(v), [MP.mpf(int(j == k)) for j in range(n)])) for k, (leaf, v) in enumerate(zip(leaves, xs))]
    plus = lambda p, q, s=1: [u + s * v for u, v in zip(p, q)]
    scaled = lambda f, p: [f * u for u in p]
    for op, i, j, c in program:
        (A, (va, da)), (B, (vb, db)) = pool[i % len(pool)], pool[j % len(pool)]
        if op == "add":
            new = (A + B, (va + vb, plus(da, db)))
        elif op == "sub":
            new = (A - B, (va - vb, plus(da, db, -1)))
        elif op == "mul":
            new = (A * B, (va * vb, plus(scaled(vb, da), scaled(va, db))))
        elif op == "div" and abs(vb) > 0.3:
            new = (A / B, (va / vb, plus(scaled(1 / vb, da), scaled(-va / vb ** 2, db))))
        elif op == "cadd":
            new = (c + A, (c + va, da))
        elif op == "csubr":
            new = (c - A, (c - va, scaled(-1, da)))
        elif op == "cmul":
            new = (A * c, (c * va, scaled(c, da)))
        elif op == "cdivr" and abs(va) > 0.3:
            new = (c / A, (c / va, scaled(-c / va ** 2, da)))
        elif op == "neg":
            new = (-A, (-va, scaled(-1, da)))
        elif op in ("pow2", "pow3"):
            p = int(op[-1])
            new = (A ** p, (va ** p, scaled(p * va ** (p - 1), da)))
        elif op == "inv" and abs(va) > 0.3:
            new = (A ** -1, (1 / va, scaled(-1 / va ** 2, da)))
        elif op == "exp" and abs(va) < 3:
            new = (A.exp(), (MP.exp(va), scaled(MP.exp(va), da)))
        elif op == "tanh":
            new = (A.tanh(), (MP.tanh(va), scaled(MP.sech(va) ** 2, da)))
        elif op == "sigmoid":
            s = 1 / (1 + MP.exp(-va))
            new = (A.sigmoid(), (s, scaled(s * (1 - s), da)))
        else:
            continue
        if abs(new[1][0]) < 30:
            pool.append(new)
    root, (value, grad) = pool[-1]
    return root, value, grad, leaves


def _abs_scale(root):
    """For each node (by id): the sum over paths of |products of local derivatives|, the rounding scale."""
    order, seen, stack = [], {id(root)}, [[root, 0]]
    while stack:
        top = stack[-1]
        if top[1] < len(top[0].parents):
            p = top[0].parents[top[1]]
            top[1] += 1
            if id(p) not in seen:
                seen.add(id(p))
                stack.append([p, 0])
        else:
            order.append(stack.pop()[0])
    scale = {id(n): 0.0 for n in order}
    scale[id(root)] = 1.0
    for node in reversed(order):
        for p, d in zip(node.parents, node.local_grads):
            scale[id(p)] += abs(d) * scale[id(node)]
    return scale


@SETTINGS
@given(leaf_values, programs)
def test_reverse_mode_is_exact_on_random_expressions(ns, xs, program):
    root, value, grad, leaves = _build(ns["Value"], xs, program)
    root.backward()
    assert root.data == pytest.approx(float(value), rel=1e-12, abs=1e-12)
    scale = _abs_scale(root)
    for leaf, exact in zip(leaves, grad):
        if leaf is root:
            continue
        assert abs(leaf.grad - float(exact)) <= 1e-9 * abs(float(exact)) + 1e-12 * (1 + scale.get(id(leaf), 0.0))


@SETTINGS
@given(leaf_values, programs)
def test_backward_twice_and_path_sum_agree(ns, xs, program):
    root, _, _, leaves = _build(ns["Value"], xs[:2], program[:10])
    root.backward()
    first = [leaf.grad for leaf in leaves]
    root.backward()
    assert [leaf.grad for leaf in leaves] == first, "a second backward must give the same grads"
    scale = _abs_scale(root)
    for leaf in leaves:
        assert ns["path_sum"](leaf, root) == pytest.approx(leaf.grad, rel=1e-9, abs=1e-12 * (1 + scale.get(id(leaf), 0)))
        assert [leaf.grad for leaf in leaves] == first, "path_sum must not change any grad"


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 10 ** 6), max_size=3), min_size=1, max_size=40), st.data())
def test_topological_order_on_random_graphs(ns, parents, data):
    Value = ns["Value"]
    nodes = []
    for k, ps in enumerate(parents):
        chosen = [nodes[i % k] for i in ps] if k else []
        nodes.append(Value(float(k), chosen, [1.0] * len(chosen)))
    root = nodes[data.draw(st.integers(0, len(nodes) - 1))]
    order = ns["topological_order"](root)
    position = {id(n): k for k, n in enumerate(order)}
    assert len(position) == len(order), "every node once"
    assert order[-1] is root
    reach, stack = {id(root)}, [root]
    while stack:
        for p in stack.pop().parents:
            if id(p) not in reach:
                reach.add(id(p))
                stack.append(p)
    assert set(position) == reach
    assert all(position[id(p)] < position[id(n)] for n in order for p in n.parents)
    n_paths = len(ns["all_paths"](nodes[0], root))
    ways = {id(n): 0 for n in order}
    ways[id(root)] = 1
    for n in reversed(order):
        for p in n.parents:
            ways[id(p)] += ways[id(n)]
    assert n_paths == ways.get(id(nodes[0]), 0)


def test_fixed_expressions_against_sympy(ns):
    Value = ns["Value"]
    x, y = sympy.symbols("x y")
    cases = [(lambda a, b: (a * b + a).tanh() / (2 - b.sigmoid()),
              sympy.tanh(x * y + x) / (2 - 1 / (1 + sympy.exp(-y)))),
             (lambda a, b: 3 / (a * a + 1) - (b - a).exp() * a + b ** -2, 3 / (x * x + 1) - sympy.exp(y - x) * x + y ** -2)]
    rng = np.random.default_rng(3)
    for build, expr in cases:
        for _ in range(5):
            xs = rng.uniform(0.3, 1.5, 2) * rng.choice([-1, 1], 2)
            a, b = Value(float(xs[0])), Value(float(xs[1]))
            root = build(a, b)
            root.backward()
            with mpmath.workdps(40):
                at = [mpmath.mpf(float(v)) for v in xs]
                for leaf, s in ((a, x), (b, y)):
                    exact = float(sympy.lambdify((x, y), sympy.diff(expr, s), "mpmath")(*at))
                    assert leaf.grad == pytest.approx(exact, rel=1e-10, abs=1e-13)


@pytest.mark.slow
def test_deep_graphs_need_no_recursion(ns):
    Value = ns["Value"]
    x0 = Value(0.5)
    x = x0
    for _ in range(20_000):
        x = x * 0.9999 + x0 * 0.0
    x.backward()
    assert x0.grad == pytest.approx(0.9999 ** 20_000, rel=1e-9)


def test_sigmoid_is_stable(ns):
    for v, expected in ((-1000.0, 0.0), (1000.0, 1.0), (0.0, 0.5)):
        s = ns["Value"](v).sigmoid()
        assert s.data == expected and math.isfinite(s.local_grads[0])


def test_mazur_example(ns):
    from backprop_lab import MLP
    from backprop_lab.examples import PUBLISHED

    E, w, b = ns["mazur_graph"]([0.05, 0.10], [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55], [0.35, 0.60],
                                [0.01, 0.99])
    E.backward()
    assert E.data == pytest.approx(PUBLISHED["E_total"], abs=1e-9)
    assert w[4].grad == pytest.approx(PUBLISHED["dE_total/dw5"], abs=1e-9)
    assert w[0].grad == pytest.approx(PUBLISHED["dE_total/dw1"], abs=1e-9)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, wv, bv, t = rng.uniform(-2, 2, 2), rng.normal(size=8), rng.normal(size=2), rng.uniform(0, 1, 2)
        E, w, b = ns["mazur_graph"](list(x), list(wv), list(bv), list(t))
        E.backward()
        net = MLP.from_params([np.array([[wv[0], wv[2]], [wv[1], wv[3]]]), np.array([[wv[4], wv[6]], [wv[5], wv[7]]])],
                              [np.full(2, bv[0]), np.full(2, bv[1])])
        dW, db = net.gradients(x[None], t[None])
        assert [n.grad for n in w] == pytest.approx(list(dW[0].T.ravel()) + list(dW[1].T.ravel()), rel=1e-10, abs=1e-15)
        assert [n.grad for n in b] == pytest.approx([db[0].sum(), db[1].sum()], rel=1e-10)


# --- the notebook and its catalogues ------------------------------------------------------------------

def test_tasks_points_and_rubric():
    cells = _cells()
    text = "".join("".join(c["source"]) for c in cells.values())
    tasks = re.findall(r'task\("(3\.\d+) ', text)
    assert tasks == [f"3.{k}" for k in range(1, 8)], tasks
    points = {gid: c["metadata"]["nbgrader"].get("points", 0) for gid, c in cells.items()
              if c["metadata"]["nbgrader"].get("grade")}
    assert sum(points.values()) == 15
    answer = "".join(cells["answer_delta"]["source"])
    rubric = re.search(r"\*\*Rubric \((\d+) points?\)\*\*\n((?:- .*\n(?:  .*\n)*)+)", answer)
    assert rubric, "the written answer has a rubric"
    bullets = [int(p) for p in re.findall(r"^- (\d+) points?:", rubric.group(2), re.M)]
    assert sum(bullets) == int(rubric.group(1)) == points["answer_delta"]


def test_catalogues_cover_the_notebook():
    from backprop_lab.instructor.catalogues.mistakes import CATALOGUE as MISTAKES
    from backprop_lab.instructor.catalogues.shortcuts import CATALOGUE as SHORTCUTS

    cells = _cells()
    mistakes = [m for m in MISTAKES if m.notebook == NB_ID]
    assert len(mistakes) >= 12
    assert {m.cell for m in mistakes} == set(ANSWERS)
    shortcuts = [s for s in SHORTCUTS if s.notebook == NB_ID]
    assert {s.cell for s in shortcuts} == set(ANSWERS)
    assert all(set(s.targets) <= set(cells) for s in shortcuts)
