"""The catalogue of tampering: code in an answer cell that changes how the cells after it
run, or what the tests see, so that tests pass without the work.

Each entry is a few lines added at the end of the first answer cell of the *blank* release
of ``01-forward`` (``tests/test_integrity_batch.py``). Graded by the real ``nbgrader
autograde`` with the course config, every entry must earn 0 on every test and be flagged,
by the grader at grading time (the integrity report) and by ``backprop-lab pre-screen``
before it. Where ``beats_unguarded`` is true, the same submission graded without the
grading guard (``--GradingKernelManager.guard=False``) earns points: the entry is a real
attack, which only the guard stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue import lookup

__all__ = ["Tamper", "CATALOGUE", "NOTEBOOK", "FIRST_ANSWER", "by_id"]

#: the notebook the catalogue attacks, and its first answer cell
NOTEBOOK, FIRST_ANSWER = "01-forward/forward", "neuron"

# a stand-in for the grading module: every check passes, every call returns something usable
_FAKE_GRADING = '''
import types as _types
class _Anything:
    def __getattr__(self, name):
        return lambda *args, **kwargs: _Anything()
    def __call__(self, *args, **kwargs):
        return _Anything()
    def __iter__(self):
        return iter([_Anything(), _Anything(), _Anything(), _Anything()])
    def __getitem__(self, key):
        return _Anything()
_fake_grading = _types.ModuleType("backprop_lab.grading")
_fake_grading.task = lambda *args, **kwargs: _Anything()
'''


@dataclass(frozen=True)
class Tamper:
    """One tampering technique.

    Attributes
    ----------
    id : str
        Short unique name.
    code : str
        Added at the end of the first answer cell of the blank notebook.
    description : str
        What it does, in one sentence.
    beats_unguarded : bool
        Whether it earns points when the grading guard is off (see the module docstring).
    """

    id: str
    code: str
    description: str
    beats_unguarded: bool = True


CATALOGUE = [
    Tamper("input-transformer", '''
get_ipython().input_transformers_cleanup.append(
    lambda lines: ["pass\\n"] if any("task(" in line for line in lines) else lines)
''', "An input transformer that turns every test cell into `pass` before IPython compiles it."),
    Tamper("input-transformer-post", '''
get_ipython().input_transformers_post.append(
    lambda lines: ["pass\\n"] if any("task(" in line for line in lines) else lines)
''', "The same with IPython's other list of transformers, applied after the magics are expanded."),
    Tamper("ast-transformer", '''
import ast as _ast
class _Skip(_ast.NodeTransformer):
    def visit_Module(self, node):
        if "task" in {n.id for n in _ast.walk(node) if isinstance(n, _ast.Name)}:
            node.body = [_ast.Pass()]
        return node
get_ipython().ast_transformers.append(_Skip())
''', "An AST transformer that empties every test cell after it is parsed."),
    Tamper("run-cell-replaced", '''
from IPython.core.interactiveshell import ExecutionInfo as _Info, ExecutionResult as _Result
_ip = get_ipython()
_real_run_cell = _ip.run_cell
def _run_cell(raw_cell, *args, **kwargs):
    if "task(" in raw_cell:  # a test: report it as run, without running it
        return _Result(_Info(raw_cell, False, False, True, None))
    return _real_run_cell(raw_cell, *args, **kwargs)
_ip.run_cell = _run_cell
_ip.should_run_async = lambda *args, **kwargs: False  # the kernel then calls run_cell
''', "Replaces the shell's run_cell (and makes the kernel use it): test cells are reported as run, "
         "and never run."),
    Tamper("grading-module-swapped", _FAKE_GRADING + '''
import sys as _sys
_sys.modules["backprop_lab.grading"] = _fake_grading
''', "Puts a fake grading module into sys.modules, whose checks all pass."),
    Tamper("grading-attribute-patched", _FAKE_GRADING + '''
import backprop_lab.grading
backprop_lab.grading.task = _fake_grading.task
''', "Monkeypatches backprop_lab.grading.task, the function every test cell imports."),
    Tamper("builtin-import-patched", _FAKE_GRADING + '''
import builtins as _builtins
_real_import = _builtins.__import__
def _import(name, *args, **kwargs):
    return _fake_grading if name == "backprop_lab.grading" else _real_import(name, *args, **kwargs)
_builtins.__import__ = _import
''', "Patches the builtin __import__ so that the tests import a fake grading module."),
    Tamper("pre-run-cell-event", _FAKE_GRADING + '''
import sys as _sys
def _before(info):
    _sys.modules["backprop_lab.grading"] = _fake_grading
get_ipython().events.register("pre_run_cell", _before)
''', "An IPython event callback that swaps the grading module in before every cell."),
    Tamper("exception-swallowed", '''
_ip = get_ipython()
_ip.set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)
def _forget(result):
    result.error_in_exec = None
_ip.events.register("post_run_cell", _forget)
''', "A custom exception handler that shows nothing, and an event callback that clears the error "
         "before the kernel replies: every failing test looks passed."),
    Tamper("fence-switched-off", '''
import backprop_lab._fence as _f
_f.state._roots = ("",)
def neuron(a_prev, w, b, g):
    net = backprop_lab.MLP.from_params([np.reshape(w, (-1, 1))], [np.array([b])], activation="identity")
    in_ = float(net.forward(np.reshape(a_prev, (1, -1)))[0, 0])
    return in_, g(in_)
''', "Switches the reference fence off (every file counts as the grader's) and answers task 1.1 "
         "with the reference MLP."),
    Tamper("numpy-replaced", '''
import numpy as _np
_np.allclose = lambda *a, **k: True
_np.isclose = lambda *a, **k: _np.ones(_np.shape(a[0]), bool)
_np.testing.assert_allclose = lambda *a, **k: None
class _AlwaysEqual(float):
    def __eq__(self, other):
        return True
def neuron(a_prev, w, b, g):
    return _AlwaysEqual(0.0), _AlwaysEqual(0.0)
''', "Replaces NumPy's comparisons and answers with numbers equal to everything. Even without the "
         "guard the tests use the real NumPy on plain copies.", beats_unguarded=False),
]


def by_id(tamper_id: str) -> Tamper:
    """The catalogued technique with this id."""
    return lookup(CATALOGUE, tamper_id, "tampering technique")
