"""The reference fence, the grading state and the static scan, without a kernel: each path by
which student code may reach a reference is refused while a task is tested, and only then."""

from __future__ import annotations

import builtins
import copy
import functools
import json
import sys
import threading
import types

import numpy as np
import pytest

import backprop_lab
from backprop_lab import MLP, _fence, activations, gradcheck
from backprop_lab.grading import GradingError, task
from backprop_lab.grading.state import AttrsWatch, ListWatch, World, kernel_world, restore_numpy
from backprop_lab.instructor.prescreen.scan import REFERENCE, TAMPERING, library_names, scan

STUDENT = "/home/student/answers.py"  # code compiled from here is the student's (no trusted folder)


def student(source: str, name: str):
    """A function as a student's notebook cell would define it."""
    namespace = {"np": np, "backprop_lab": backprop_lab, "MLP": MLP, "functools": functools, "copy": copy}
    exec(compile(source, STUDENT, "exec"), namespace)
    return namespace[name]


@pytest.fixture
def net():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(2, 3)), rng.normal(size=(3, 1))]
    return weights, [np.zeros(3), np.zeros(1)], rng.normal(size=(4, 2)), rng.normal(size=(4, 1))


PATHS = {
    "direct call": "def backward(W, b, X, T):\n    return MLP.from_params(W, b).gradients(X, T)",
    "alias taken before": "g = MLP.gradients\ndef backward(W, b, X, T):\n    return g(MLP.from_params(W, b), X, T)",
    "bound method": "def backward(W, b, X, T):\n    m = MLP.from_params(W, b).gradients\n    return m(X, T)",
    "partial": "def backward(W, b, X, T):\n    return functools.partial(MLP.gradients, MLP.from_params(W, b))(X, T)",
    "subclass": "class Mine(MLP):\n    pass\ndef backward(W, b, X, T):\n    return Mine.from_params(W, b).gradients(X, T)",
    "copy": "def backward(W, b, X, T):\n    return copy.deepcopy(MLP.from_params(W, b)).copy().gradients(X, T)",
    "through another module": "def backward(W, b, X, T):\n    from backprop_lab.widgets import layer_gradient_norms\n"
                              "    return layer_gradient_norms(MLP.from_params(W, b), X, T)",
    "caught refusal": "def backward(W, b, X, T):\n    try:\n        return MLP.from_params(W, b).gradients(X, T)\n"
                      "    except BaseException:\n        return [np.zeros_like(w) for w in W], [np.zeros_like(v) for v in b]",
}


@pytest.mark.parametrize("path", PATHS, ids=list(PATHS))
def test_every_path_to_a_reference_is_refused_during_a_test(path, net):
    fn = student(PATHS[path], "backward")
    t = task("5.3 backward")
    with pytest.raises(GradingError, match=r"Task 5\.3 backward: your code called the course library's reference"):
        t.call(fn, *net)


def test_a_lazy_value_is_fenced_when_the_test_looks_at_it(net):
    cls = student("class Lazy:\n    def __init__(self, W, b, X, T):\n        self.args = W, b, X, T\n"
                  "    def __array__(self, dtype=None, copy=None):\n        W, b, X, T = self.args\n"
                  "        return MLP.from_params(W, b).forward(X)\n", "Lazy")
    t = task("1.5 mlp_forward")
    value = t.call(lambda *a: cls(*a), *net)  # the test's own lambda returns the student's object
    with pytest.raises(GradingError, match="reference MLP.forward"):
        t.close(value, np.zeros((4, 1)), "the output")


def test_a_thread_does_not_hide_the_caller(net):
    fn = student("import threading\ndef backward(W, b, X, T):\n    out = []\n"
                 "    def work():\n        try:\n            out.append(MLP.from_params(W, b).gradients(X, T))\n"
                 "        except BaseException:\n            pass\n"
                 "    th = threading.Thread(target=work)\n    th.start(); th.join()\n"
                 "    return out[0] if out else ([np.zeros_like(w) for w in W], [np.zeros_like(v) for v in b])",
                 "backward")
    fn.__globals__["threading"] = threading
    with pytest.raises(GradingError):
        task("5.3 backward").call(fn, *net)


def test_what_a_task_allows_and_the_tests_own_calls_are_served(net):
    weights, biases, X, T = net
    dense = student("def dense(A, W, b, g):\n    return g(A @ W + b)", "dense")
    out = task("1.4 dense_forward", allow=["activations"]).call(dense, X, weights[0], biases[0], activations.sigmoid)
    np.testing.assert_allclose(out, activations.sigmoid(X @ weights[0]))
    with pytest.raises(GradingError, match="reference activations.sigmoid"):
        task("1.2 sigmoid").call(dense, X, weights[0], biases[0], activations.sigmoid)
    train = student("def step(net, X, T):\n    return net.gradients(X, T)", "step")
    task("6.4 train", allow=["MLP.gradients"]).call(train, MLP.from_params(weights, biases), X, T)
    assert MLP.from_params(weights, biases).gradients(X, T), "the test's own call"
    assert not _fence.armed(), "outside a notebook the fence is armed only while the student's code runs"


def test_a_reference_outside_any_test_is_served(net):
    fn = student(PATHS["direct call"], "backward")
    dW, db = fn(*net)
    assert len(dW) == 2


def test_every_reference_calls_check_first():
    import backprop_lab.symbolic  # noqa: F401  (loaded on first use)
    import backprop_lab.widgets  # noqa: F401

    refs = _fence.references()
    assert len(_fence._REGISTRY) >= 70 and {"MLP.gradients", "gradcheck.numerical_gradient", "symbolic.deltas_direct",
                                "losses.cross_entropy", "activations.softmax"} <= set(refs)
    with pytest.raises(TypeError, match="does not call check"):
        _fence.reference("x")(lambda: None)


def test_state_restores_numpy_library_and_builtins():
    real_allclose, real_sigmoid = np.allclose, activations.sigmoid
    np.allclose = lambda *a, **k: True
    activations.sigmoid = None
    try:
        restored = restore_numpy()
        assert np.allclose is real_allclose and activations.sigmoid is real_sigmoid
        assert any("allclose" in r for r in restored) and any("sigmoid" in r for r in restored)
    finally:
        np.allclose, activations.sigmoid = real_allclose, real_sigmoid
    world = kernel_world()
    real_abs = builtins.abs
    builtins.abs = lambda x: 0
    sys.meta_path.insert(0, object())
    try:
        changes = [str(c) for c in world.check()]
        assert any("builtins: abs replaced" in c for c in changes), changes
        assert any("sys.meta_path" in c for c in changes), changes
        world.restore()
        assert builtins.abs is real_abs and not any(type(f) is object for f in sys.meta_path)
        assert world.check() == []
    finally:
        builtins.abs = real_abs


def test_watches_report_added_items_and_shadowed_methods():
    items = [print]
    world = World()
    world.add(ListWatch(lambda: items, "a list", adopt=True))
    items.append(json.dumps)           # a library's function: adopted
    assert world.check() == []
    items.append(student("def mine():\n    pass", "mine"))
    assert "a list: added mine" in str(world.check()[0])
    cls = types.new_class("Shell")
    world.add(AttrsWatch(cls, "Shell", allow_new=False))
    cls.run_cell = lambda self: None
    assert "run_cell added" in str(world.check()[-1])
    world.restore()
    assert not hasattr(cls, "run_cell") and items == [print, json.dumps]


@pytest.mark.parametrize("code,kind,why", [
    ("def f(x):\n    return backprop_lab.gradcheck.rel_error(x, x)", REFERENCE, "reference gradcheck.rel_error"),
    ("import backprop_lab as bl\nr = bl.gradcheck\ndef f(x):\n    return r.numerical_gradient(x, x)", REFERENCE,
     "reference gradcheck.numerical_gradient"),
    ("def f(W, b, X, T):\n    return MLP.from_params(W, b).gradients(X, T)", REFERENCE, "reference MLP.gradients"),
    ("def f(Z):\n    return backprop_lab.activations.get_activation('softmax')(Z)", REFERENCE,
     "reference activations.softmax"),
    ("def f(net, X, Y):\n    return net.fit(X, Y)", REFERENCE, "MLP.fit"),
    ("get_ipython().input_transformers_cleanup.append(lambda l: l)", TAMPERING, "input_transformers_cleanup"),
    ("import sys\nsys.modules['backprop_lab.grading'] = None", TAMPERING, "sys.modules"),
    ("import builtins\nbuiltins.__import__ = print", TAMPERING, "builtins"),
    ("f = getattr(__import__('sys'), 'set' + 'trace')", TAMPERING, "getattr with a computed name"),
    ("import importlib\nm = importlib.import_module('backprop_lab')", TAMPERING, "importlib"),
    ("np.dot = lambda a, b: 0", TAMPERING, "replaces a NumPy function"),
    ("import torch", "equivalent", "torch"),
    ("from scipy.special import expit", "equivalent", "scipy.special.expit"),
    ("%config InteractiveShell.ast_node_interactivity = 'all'", TAMPERING, "%config"),
])
def test_scan_flags_references_tampering_and_equivalents(code, kind, why):
    flags = scan(code, {"MLP": "backprop_lab.MLP", "backprop_lab": "backprop_lab"})
    assert any(f.kind == kind and why in f.why for f in flags), flags


def test_scan_respects_what_a_task_allows_and_honest_code():
    names = library_names(["from backprop_lab.symbolic import substitute_params\nimport backprop_lab"])
    code = "def f(net, w, b, x, t):\n    return substitute_params(net, w, b, x, t)"
    assert scan(code, names)
    assert scan(code, names, allow=["symbolic.substitute_params"]) == []
    honest = ("def sigmoid(z):\n    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
              "%timeit sigmoid(np.zeros(3))\n")
    assert scan(honest, names) == []
