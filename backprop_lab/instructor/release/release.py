"""Generate the student notebooks (``notebooks/``) from the instructor source (``solutions/``)
with nbgrader, and check that the committed release is exactly what nbgrader produces.

``backprop-lab release`` regenerates every student notebook; ``backprop-lab release --check``
reports drift without touching anything. Both run the real ``nbgrader generate_assignment``.
"""

from __future__ import annotations

import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path

from ..course import RELEASE, SOURCE, copy_course, course_root

__all__ = ["generate", "release", "drift"]


def generate(root: Path, out: Path | None = None, assignment: str = "*") -> Path:
    """Run ``nbgrader generate_assignment <assignment> --force --no-db`` on the course at ``root``.

    Parameters
    ----------
    root : Path
        Course root (with ``nbgrader_config.py`` and ``solutions/``).
    out : Path, optional
        Release directory; default ``root/notebooks``.
    assignment : str
        One assignment id, or ``"*"`` for all.

    Returns
    -------
    Path
        The release directory.

    Raises
    ------
    RuntimeError
        With nbgrader's output, if it fails.
    """
    root = Path(root)
    out = Path(out) if out is not None else root / RELEASE
    # --no-db: releasing the notebooks must not create or change a gradebook
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force", "--no-db",
           f"--CourseDirectory.release_directory={out}"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0 or "ERROR" in proc.stderr:
        raise RuntimeError(f"nbgrader generate_assignment failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return out


def _files(folder: Path) -> set:
    """Files below ``folder`` that belong to a release (not Jupyter's checkpoints or caches)."""
    skip = {".ipynb_checkpoints", "__pycache__"}
    return {p.relative_to(folder) for p in folder.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(folder).parts)}


def release(root=None, assignment: str = "*") -> list[Path]:
    """Regenerate ``notebooks/`` (or one assignment of it) from ``solutions/``; returns the
    notebooks written."""
    root = course_root(root)
    generate(root, assignment=assignment)
    folder = root / RELEASE if assignment == "*" else root / RELEASE / assignment
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def drift(root=None) -> list[str]:
    """Files in which the committed ``notebooks/`` differ from a fresh nbgrader release.

    Returns
    -------
    list of str
        Paths relative to ``notebooks/``, each with what is wrong ("differs", "missing",
        "not in the release"); empty when the release is current.
    """
    root = course_root(root)
    with tempfile.TemporaryDirectory(prefix="backprop-release-") as tmp:
        fresh = generate(copy_course(root, Path(tmp) / "course", folders=(SOURCE,)))
        committed = root / RELEASE
        fresh_files = _files(fresh)
        have = _files(committed) if committed.exists() else set()
        problems = [f"{p}: missing (run `backprop-lab release`)" for p in sorted(fresh_files - have)]
        problems += [f"{p}: not in the release from {SOURCE}/" for p in sorted(have - fresh_files)]
        for p in sorted(fresh_files & have):
            if not filecmp.cmp(fresh / p, committed / p, shallow=False):
                problems.append(f"{p}: differs from what nbgrader generates (run `backprop-lab release`)")
        return problems
