"""Shared fixtures: the course's notebooks, executed once per test session."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backprop_lab.instructor.course import notebooks
from backprop_lab.instructor.execute import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebooks(ROOT)


def notebook_ids(nbs=NOTEBOOKS):
    return [str(nb) for nb in nbs]


@functools.lru_cache(maxsize=None)
def executed(path: str):
    """Run a notebook in a fresh kernel (cached for the session)."""
    return run_notebook(Path(path))


@pytest.fixture(scope="session")
def run():
    return lambda path: executed(str(path))


def selected(request, param: str) -> list:
    """The values of the parameter ``param`` among the tests of the requesting module that this
    session runs (after ``-k``): a module fixture that runs notebooks for all of them runs only
    what is selected."""
    out = []
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module:
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
