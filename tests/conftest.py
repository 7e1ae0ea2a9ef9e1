"""Shared fixtures: the course's notebooks, executed once per test session; and the test tiers
(the markers in pyproject.toml): the fast tier, ``python -m pytest -m "not slow"``, starts no
kernel, nbgrader, server or browser, and this file makes sure it stays so."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backprop_lab.instructor.course import notebooks
from backprop_lab.instructor.execute import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebooks(ROOT)


def notebook_ids(nbs=NOTEBOOKS):
    return [str(nb) for nb in nbs]


_executed: dict = {}  # path -> Run, for the session


def executed(path: str):
    """Run a notebook in a fresh kernel (once per session)."""
    if path not in _executed:
        _executed[path] = run_notebook(Path(path))
    return _executed[path]


def execute_all(paths) -> None:
    """Run those of the notebooks ``paths`` that this session has not run yet, each in its own
    kernel, one per core (as ``executed`` would, one after the other)."""
    todo = [p for p in dict.fromkeys(map(str, paths)) if p not in _executed]
    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
        futures = {p: pool.submit(run_notebook, Path(p)) for p in todo}
    # a run that raised (its kernel died, a cell timed out) is not kept: the test that needs it
    # runs it again and fails with that error, the others are not affected
    _executed.update({p: f.result() for p, f in futures.items() if f.exception() is None})


@pytest.fixture(scope="session")
def run():
    return lambda path: executed(str(path))


def selected(request, param: str, test=None) -> list:
    """The values of the parameter ``param`` among the tests of the requesting module (or only
    of the test function ``test``) that this session runs (after ``-k``): a module fixture that
    runs notebooks for all of them runs only what is selected."""
    out = []
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module:
            continue
        if test is not None and getattr(item, "originalname", None) != test.__name__:
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if param in params and params[param] not in out:
            out.append(params[param])
    return out


def run_all(jobs: dict, workers: int = os.cpu_count() or 1) -> dict:
    """Run many notebooks, each in its own kernel, ``workers`` at a time (a kernel runs one
    cell at a time on one core): ``{key: (notebook, cwd)}`` or ``{key: (notebook, cwd, stop)}``
    (see ``run_notebook``) -> ``{key: Run}``."""
    with ThreadPoolExecutor(max(1, workers)) as pool:
        futures = {key: pool.submit(run_notebook, job[0], cwd=job[1], stop=job[2] if len(job) > 2 else None)
                   for key, job in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


# --- test tiers -------------------------------------------------------------------------------------
# `slow` is what the fast tier (-m "not slow") leaves out. The finer tiers say why a test is slow, and
# each implies `slow`, so a module or test needs only its tier: kernel, nbgrader, postgres, browser,
# stress. A `stress` test repeats a scenario many times to catch a rare fault: it runs only when
# a -m expression names it (`python -m pytest -m stress`); the plain run has the same test once.
TIERS = ("kernel", "nbgrader", "postgres", "browser", "stress")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these markers
def pytest_collection_modifyitems(config, items):
    if not re.search(r"\bstress\b", config.getoption("markexpr", "") or ""):
        stress = [item for item in items if item.get_closest_marker("stress")]
        if stress:
            config.hook.pytest_deselected(items=stress)
            items[:] = [item for item in items if not item.get_closest_marker("stress")]
    for item in items:
        # the session fixture `run` above executes notebooks in real kernels
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).get("run")
        if defs and getattr(defs[-1].func, "__module__", None) == __name__:
            item.add_marker(pytest.mark.kernel)
        if not item.get_closest_marker("slow") and any(item.get_closest_marker(t) for t in TIERS):
            item.add_marker(pytest.mark.slow)


# --- the fast tier's safety net --------------------------------------------------------------------
# A test that is not marked `slow` (in every run, so CI catches a missing marker too) may not start
# what makes the slow tiers slow. While its setup or call runs:
# * a process whose command line names a Jupyter kernel, Jupyter, nbgrader, bubblewrap, PostgreSQL,
#   Chromium or Playwright is refused: subprocess.Popen (which jupyter_client, asyncio and
#   subprocess.run all go through) raises before anything starts, and the test fails even if it
#   catches that error;
# * a setup or call that takes longer than FAST_LIMIT seconds fails (this catches what the first
#   check cannot see, such as `python -m backprop_lab grade-demo`, whose child processes start
#   nbgrader; the same command with bad arguments is a fast test). Fast tests take well
#   under a second; the limit leaves room for a loaded machine.
# Teardown is not watched: the last test of a module tears down the module's fixtures, which slow
# tests may have started. The fix for either failure is a marker (see pyproject.toml).
FAST_LIMIT = 10.0
_HEAVY = re.compile(r"(?<![\w-])(ipykernel(_launcher)?|jupyter(-[a-z]+)?|jupyterlab|nbgrader|bwrap|initdb|pg_ctl"
                    r"|postgres|createdb|chromium|playwright)(?![\w-])")
_watched: dict = {"item": None, "refused": []}
_popen_init = subprocess.Popen.__init__


def _guarded_popen_init(self, args, *a, **kw):
    item = _watched["item"]
    if item is not None:
        line = args if isinstance(args, (str, bytes, os.PathLike)) else " ".join(map(str, args))
        line = os.fsdecode(line) if isinstance(line, (bytes, os.PathLike)) else line
        if _HEAVY.search(line):
            why = (f"{item.nodeid} is not marked slow but starts `{line[:200]}`: mark it "
                   f"(pytest.mark.kernel, nbgrader, postgres, browser or slow)")
            _watched["refused"].append(why)
            raise RuntimeError(why)
    _popen_init(self, args, *a, **kw)


subprocess.Popen.__init__ = _guarded_popen_init


def _watching(item):
    """Watch ``item`` (unless it is slow) while the wrapped setup or call runs."""
    _watched["refused"] = []
    _watched["item"] = None if item.get_closest_marker("slow") else item
    try:
        yield
    finally:
        _watched["item"] = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _watching(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _watching(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if call.when == "teardown" or item.get_closest_marker("slow"):
        return
    problems = list(_watched["refused"])
    if report.duration > FAST_LIMIT:
        problems.append(f"{item.nodeid} is not marked slow but its {call.when} took {report.duration:.1f} s "
                        f"(the fast tier allows {FAST_LIMIT:.0f} s a test): mark it slow")
    if problems:
        report.outcome = "failed"
        report.longrepr = "\n".join(problems) + (f"\n\n{report.longrepr}" if report.longrepr else "")
