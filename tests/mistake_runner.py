"""Make every catalogued mistake in its solution notebook and find the graded test that catches it,
with one kernel per notebook instead of one per mistake.

A fresh run of a mistaken notebook repeats every cell before the mistaken one (kernel start,
setup, the earlier tasks, training runs) only to reach the state in which that cell runs. This
runner reaches it once: one kernel walks the solution in order, and before it runs the correct
answer cell A it tries each mistake of A there. For each mistake m of A, from that state S:

1. **Experiment**: run m's version of A, then the cells after A in order, up to the graded tests
   that follow A (its *horizon*: through the last graded test before the next answer cell),
   stopping at the first graded test that fails, as a fresh run with ``first_failed_test`` does.
   Cells that raise and are not graded tests do not count, as in ``run_notebook``.
2. **Rewind** to S: delete the names the cells added, bind the names they rebound to their
   objects again, and compare a fingerprint of the state with the one taken in S: every name of
   the user namespace by identity and content (arrays by their bytes, containers, closures and
   defaults of functions, instances of the notebook's and the course's classes, random
   generators' states), NumPy's global state and the builtins. A difference (a cell changed, in
   place, something it did not define) means the kernel is not back in S: it is restarted, and
   the correct cells before A run again.
3. **Control**: run the correct A and the same cells again, and require that none raises (so the
   test that caught m passes); then rewind as in 2. If the control fails, the kernel is
   restarted (the correct cells before A run again) and m goes to a fresh kernel; if the
   control fails in the restarted kernel too, the solution itself fails there, and all of A's
   remaining mistakes go to fresh kernels (so do the mistakes of every answer cell after a
   graded test that the solution fails in the walk).

m is *caught in the batch* when its experiment failed a graded test and its control passed.
Otherwise (it passed every test of its horizon, its control failed, a cell timed out, or its
edit is not a single answer cell) it runs the old way: its notebook in a fresh kernel until the
first failed graded test, so a mistake caught only by a later test is found as before, and no
verdict on it rests on a shared kernel.

Why a batched verdict is what a fresh run shows: the experiment starts from the state that the
correct cells before A reach (the walk runs them in order, each time from a state checked equal
to the one before, so every experiment and control starts from the state of the correct prefix),
and then runs the same cells in the same order as a fresh run until the failed test. The
control, run from that same state, shows that the correct A passes where m fails: the failure
comes from m's edit, not from the kernel. A broken environment, a broken solution, or a leftover
of an earlier experiment that the fingerprint does not see (files written, attributes of
modules other than NumPy's and the builtins) and that disturbs these tests make the control
fail, and m then goes to a fresh kernel; a leftover could only mislead if it made m fail and
the correct A pass from one state.
Whatever the path, a mistake counts as caught only by graded tests that the solution itself
passes in the walk, so a notebook that fails in the solution (or a kernel that cannot import
the course) makes the mistakes' tests fail instead of passing them all.
"""

from __future__ import annotations

import copy
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from backprop_lab.instructor.execute import Run, _error, first_failed_test, is_graded_test, nbgrader_meta, run_notebook

__all__ = ["Outcome", "catch_all"]

#: names of IPython's history (``_``, ``_i3``, ``Out``...), never part of the state compared
_HISTORY = r"_+|_i{1,3}|_i?\d+|_[iod]h|In|Out"

#: runs in the kernel (in a namespace of its own): prints the fingerprint of the user namespace,
#: ``{name: digest}``; ``ACTION`` "save" first keeps its bindings (on the shell, out of the
#: namespace), "rewind" first puts them back: names added deleted, names rebound bound again
_STATE = r'''
import builtins, hashlib, json, re, sys, types
import IPython

shell = IPython.get_ipython()
ns = shell.user_ns
history = re.compile(HISTORY)
np = sys.modules.get("numpy")
budget = [50000]


def mine(obj):
    """Objects whose content is compared: the notebook's classes' and the course's."""
    module = getattr(type(obj), "__module__", "") or ""
    return module == "__main__" or module.startswith("backprop_lab")


def digest(v, depth=4, ident=True):
    """A string that changes when ``v`` is rebound (``ident``: objects' ids) or its content changes."""
    budget[0] -= 1
    if v is None or isinstance(v, (bool, int, float, complex, str, bytes)):
        return repr(v)
    tag = f"{type(v).__module__}.{type(v).__qualname__}" + (f"#{id(v)}" if ident else "")
    if budget[0] < 0 or depth < 0:
        return tag
    d = lambda x: digest(x, depth - 1, ident)
    if np is not None:
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                return tag + "[" + ",".join(d(x) for x in v.ravel()[:1000]) + "]"
            return f"{tag}{v.dtype.str}{v.shape}" + hashlib.sha1(np.ascontiguousarray(v).view(np.uint8)).hexdigest()
        if isinstance(v, np.generic):
            return f"{v.dtype.str}:{v!r}"
        if isinstance(v, np.random.Generator):
            return tag + digest(v.bit_generator.state, depth, False)
        if isinstance(v, np.random.RandomState):
            return tag + digest(v.get_state(legacy=False), depth, False)
    if isinstance(v, (list, tuple)):
        return tag + "[" + ",".join(d(x) for x in v) + "]"
    if isinstance(v, dict):
        return tag + "{" + ",".join(sorted(f"{k!r}:{d(x)}" for k, x in list(v.items()))) + "}"
    if isinstance(v, (set, frozenset)):
        return tag + "{" + ",".join(sorted(d(x) for x in v)) + "}"
    if isinstance(v, types.ModuleType):
        return tag
    if isinstance(v, types.FunctionType):
        cells = [c.cell_contents for c in (v.__closure__ or ())]
        return tag + digest([v.__code__.co_code, v.__defaults__, v.__kwdefaults__, cells, v.__dict__], depth - 1, False)
    if isinstance(v, type):
        if v.__module__ != "__main__":
            return tag
        own = {k: x for k, x in vars(v).items() if k not in ("__dict__", "__weakref__")}
        return tag + digest(own, depth - 1, False)
    if mine(v) and isinstance(getattr(v, "__dict__", None), dict):
        return tag + d(vars(v))
    return tag


if ACTION == "save":
    shell._mistake_runner_saved = {k: v for k, v in ns.items() if not history.fullmatch(k)}
elif ACTION == "rewind":
    saved = shell._mistake_runner_saved
    for k in [k for k in ns if k not in saved and not history.fullmatch(k)]:
        del ns[k]
    for k, v in saved.items():
        if ns.get(k, saved) is not v:
            ns[k] = v
state = {k: digest(v) for k, v in list(ns.items()) if not history.fullmatch(k)}
# (ipykernel binds input anew for each request)
state["<builtins>"] = ",".join(f"{k}:{digest(v, 0)}" for k, v in sorted(vars(builtins).items())
                               if not history.fullmatch(k) and k not in ("input", "raw_input"))
if np is not None:
    state["<numpy>"] = digest([np.random.get_state(legacy=False), np.geterr(), np.get_printoptions()], 4, False)
print(MARK + json.dumps({k: hashlib.sha1(x.encode()).hexdigest() for k, x in state.items()}))
'''

_MARK = "@@state@@"


def _is_answer(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("solution")) and not is_graded_test(cell)


def _grade_id(cell, index: int) -> str:
    return nbgrader_meta(cell).get("grade_id", f"cell {index}")


def changed_cell(mistake, nb):
    """``(index, mistaken notebook)``: the index is that of the one answer cell the mistake edits,
    or None if it edits anything else (it then runs the old way)."""
    wrong = mistake.apply(nb)
    if len(wrong.cells) != len(nb.cells):
        return None, wrong
    changed = [k for k, (a, b) in enumerate(zip(nb.cells, wrong.cells)) if a != b]
    if len(changed) == 1 and _is_answer(nb.cells[changed[0]]):
        return changed[0], wrong
    return None, wrong


def horizon(nb, a: int):
    """The last cell an experiment on answer cell ``a`` may run: the last graded test of those
    between ``a`` and the next answer cell, else the first graded test after ``a``; None if none."""
    last = None
    for k in range(a + 1, len(nb.cells)):
        cell = nb.cells[k]
        if _is_answer(cell):
            break
        if is_graded_test(cell):
            last = k
    if last is None:
        last = next((k for k in range(a + 1, len(nb.cells)) if is_graded_test(nb.cells[k])), None)
    return last


@dataclass
class Outcome:
    """What one mistake did to the graded tests.

    Attributes
    ----------
    run : Run
        The mistaken notebook's errors (the cells run: from the mistaken cell on in the batch).
    path : str
        ``"batched"`` (one kernel per notebook) or ``"fresh kernel"``.
    solution_failures : dict
        Graded tests that the solution itself fails (``grade_id -> error``); normally empty.
    """

    run: Run
    path: str
    solution_failures: dict = field(default_factory=dict)

    @property
    def caught(self) -> dict:
        """The graded tests that the mistake fails and the solution passes: ``grade_id -> error``."""
        return {k: v for k, v in self.run.failed_tests.items() if k not in self.solution_failures}

    def lost_points(self) -> float:
        """Points of the tests in :attr:`caught`."""
        return sum(float(nbgrader_meta(c).get("points", 0)) for c in self.run.nb.cells
                   if is_graded_test(c) and nbgrader_meta(c)["grade_id"] in self.caught)


class _Kernel:
    """One kernel for a notebook's cells, run one at a time (the cells are never changed)."""

    def __init__(self, cwd, timeout: int):
        self.cwd, self.timeout = cwd, timeout
        self.restarts = -1
        self._stack = None
        self.start()

    def start(self):
        self.close()
        self.client = NotebookClient(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()]),
                                     timeout=self.timeout, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(self.cwd)}})
        self._stack = ExitStack()
        self._stack.enter_context(self.client.setup_kernel())
        self.restarts += 1

    def close(self):
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def run(self, cell, store_history: bool = True):
        """Run a copy of ``cell``: ``(error or None, outputs)``."""
        cell = copy.deepcopy(cell)
        cell.outputs = []
        self.client.execute_cell(cell, 0, store_history=store_history)
        return _error(cell), cell.outputs

    def state(self, action=None) -> dict:
        """The fingerprint of the user namespace; ``action``: "save" its bindings first, or
        "rewind" to the bindings saved last."""
        names = {"MARK": _MARK, "HISTORY": _HISTORY, "ACTION": action}
        # exec'd in a namespace of its own, so that reading the state adds nothing to it
        code = f"exec({_STATE!r}, {names!r})"
        error, outputs = self.run(nbformat.v4.new_code_cell(code), store_history=False)
        text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        if error or _MARK not in text:
            raise RuntimeError(f"the state of the kernel could not be read: {error or text!r}")
        return json.loads(text.split(_MARK, 1)[1])


class _Walk:
    """One notebook's solution, walked in one kernel, with the mistakes of its answer cells."""

    def __init__(self, path: Path, mistakes: list, timeout: int):
        self.path, self.timeout = path, timeout
        self.nb = nbformat.read(path, as_version=4)
        self.wrong, self.by_cell, self.fresh = {}, {}, []
        for m in mistakes:
            index, self.wrong[m.id] = changed_cell(m, self.nb)
            if index is None or horizon(self.nb, index) is None:
                self.fresh.append(m)
            else:
                self.by_cell.setdefault(index, []).append(m)
        self.outcomes = {}
        self.solution_errors = {}   # grade_id -> error of the correct cells, as the walk ran them
        self.changed = set()        # names whose change made the walk restart its kernel

    def run(self):
        self.kernel = _Kernel(self.path.parent, self.timeout)
        try:
            done = 0                                      # the correct cells before it have run
            for a in sorted(self.by_cell):
                self._correct(done, a)
                self._try(a)
                done = a
            # on to the end of the last horizon, or of the notebook for the fresh runs' stop
            last = max((horizon(self.nb, a) for a in self.by_cell), default=-1)
            self._correct(done, len(self.nb.cells) if self.fresh else last + 1)
        finally:
            self.kernel.close()
        return self

    def _correct(self, start: int, stop: int):
        """The walk's own run of the correct cells ``start..stop-1``."""
        for k in range(start, stop):
            if self.nb.cells[k].cell_type == "code":
                error, _ = self.kernel.run(self.nb.cells[k])
                if error:
                    self.solution_errors[_grade_id(self.nb.cells[k], k)] = error

    def _restart(self, a: int) -> dict:
        """A fresh kernel that has run the correct cells before ``a``; its state."""
        self.kernel.start()
        for k in range(a):
            if self.nb.cells[k].cell_type == "code":
                self.kernel.run(self.nb.cells[k])
        return self.kernel.state("save")

    def _rewound(self, before: dict, a: int) -> dict:
        """Back to the state ``before`` (taken before cell ``a``), restarting if the names cannot do it."""
        try:
            after = self.kernel.state("rewind")
        except RuntimeError:  # a cell broke what reads the state
            after = {}
        if after != before:
            self.changed.update(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            return self._restart(a)
        return before

    def _try(self, a: int):
        """Each mistake of answer cell ``a``, then its control, from the state before ``a``."""
        h = horizon(self.nb, a)
        mistakes = list(self.by_cell[a])
        if self._solution_failures():  # the solution fails already: no state here to trust
            self.fresh += mistakes
            return
        before = self.kernel.state("save")
        while mistakes:
            m = mistakes.pop(0)
            wrong = self.wrong[m.id]
            t0 = time.perf_counter()
            try:
                errors, caught = self._cells(wrong, a, h, stop_at_failed_test=True)
            except Exception:  # a timeout, a dead kernel: the fresh kernel will tell
                self.fresh.append(m)
                before = self._restart(a)
                continue
            seconds = time.perf_counter() - t0
            before = self._rewound(before, a)
            last = caught if caught is not None else h
            if self._control(a, last):
                before = self._rewound(before, a)
            else:
                self.fresh.append(m)
                before = self._restart(a)
                if not self._control(a, last):  # from a fresh kernel too: the solution fails here
                    self.fresh += mistakes
                    mistakes = []
                before = self._rewound(before, a)
                continue
            if caught is None:
                self.fresh.append(m)
            else:
                self.outcomes[m.id] = Outcome(Run(wrong, seconds, errors), "batched")

    def _control(self, a: int, last: int) -> bool:
        """Whether the correct cells ``a..last`` all run without an error."""
        try:
            errors, _ = self._cells(self.nb, a, last)
        except Exception:
            return False
        return not errors

    def _cells(self, nb, a: int, last: int, stop_at_failed_test: bool = False):
        """Run cells ``a..last`` of ``nb``: ``({grade_id: error}, index of the graded test that
        failed first, or None)``, stopping there if ``stop_at_failed_test``."""
        errors, failed = {}, None
        for k in range(a, last + 1):
            cell = nb.cells[k]
            if cell.cell_type != "code":
                continue
            error, _ = self.kernel.run(cell)
            if error:
                errors[_grade_id(cell, k)] = error
                if failed is None and is_graded_test(cell):
                    failed = k
                    if stop_at_failed_test:
                        break
        return errors, failed

    def fresh_jobs(self):
        """The mistakes to run the old way: ``{id: (notebook, cwd)}``."""
        return {m.id: (self.wrong[m.id], self.path.parent) for m in self.fresh}

    def _solution_failures(self) -> dict:
        tests = {nbgrader_meta(c)["grade_id"] for c in self.nb.cells if is_graded_test(c)}
        return {k: v for k, v in self.solution_errors.items() if k in tests}


def catch_all(mistakes: list, sources: dict, workers: int = os.cpu_count() or 1, timeout: int = 120,
              stats: dict | None = None) -> dict:
    """``{mistake id: Outcome}`` for ``mistakes``; ``sources`` maps each mistake's ``notebook``
    to its solution's path. Notebooks are walked ``workers`` at a time (a kernel runs one cell
    at a time on one core); a walk's fresh-kernel runs start when it ends. ``stats``, if given,
    receives ``{notebook: {"batched", "fresh", "restarts", "changed", "seconds"}}`` (``changed``:
    the names whose change made the walk restart its kernel)."""
    groups = {}
    for m in mistakes:
        groups.setdefault(m.notebook, []).append(m)
    outcomes = {}
    with ThreadPoolExecutor(max(1, workers)) as pool:
        # the notebooks with the most mistakes first, so that the last ones to end are short
        walks = {pool.submit(_timed, _Walk(Path(sources[name]), ms, timeout).run): name
                 for name, ms in sorted(groups.items(), key=lambda kv: -len(kv[1]))}
        fresh = {}
        for future in as_completed(walks):
            walk, seconds = future.result()
            failures = walk._solution_failures()
            for key, outcome in walk.outcomes.items():
                outcome.solution_failures = failures
                outcomes[key] = outcome
            for key, (nb, cwd) in walk.fresh_jobs().items():
                fresh[pool.submit(run_notebook, nb, cwd=cwd, stop=first_failed_test)] = (key, failures)
            if stats is not None:
                stats[walks[future]] = {"batched": len(walk.outcomes), "fresh": len(walk.fresh),
                                        "restarts": walk.kernel.restarts, "changed": sorted(walk.changed),
                                        "seconds": round(seconds, 1)}
        for future, (key, failures) in fresh.items():
            outcomes[key] = Outcome(future.result(), "fresh kernel", failures)
    return outcomes


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0
