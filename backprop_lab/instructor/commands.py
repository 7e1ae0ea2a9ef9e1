"""The instructor's commands of ``backprop-lab``, gathered from the stages that own them:
``release`` (:mod:`.release.cli`), ``pre-screen`` (:mod:`.prescreen.cli`), ``grade`` and
``grade-demo`` (:mod:`.runs.cli`), ``course-table`` and ``similarity`` (:mod:`.reports.cli`) and
``grading-limits`` (:mod:`.hardening.cli`). Each command is ``add_<name>(subparsers)`` plus
``run_<name>(args)`` in its stage's ``cli`` module, which imports only ``argparse`` at its top
and the stage's own modules when the command runs, so that ``backprop-lab train`` does not
load nbgrader."""

from __future__ import annotations

from .hardening.cli import COMMANDS as _HARDENING
from .prescreen.cli import COMMANDS as _PRESCREEN
from .release.cli import COMMANDS as _RELEASE
from .reports.cli import COMMANDS as _REPORTS
from .runs.cli import COMMANDS as _RUNS

__all__ = ["COMMANDS", "add_commands"]

#: command name -> (add the parser, run it), in the order of ``backprop-lab --help``
COMMANDS = {**_RELEASE, **_PRESCREEN, **_RUNS, **_REPORTS, **_HARDENING}


def add_commands(sub) -> dict:
    """Add every instructor command to ``sub``; returns ``{name: parser}``."""
    return {name: add(sub) for name, (add, _) in COMMANDS.items()}
