"""Where the course lives and what it holds: the course root, its assignments and notebooks.

The course root is the folder with ``nbgrader_config.py``; ``solutions/<assignment>/`` holds
the nbgrader source of each assignment and ``notebooks/<assignment>/`` its student release.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["course_root", "copy_course", "Notebook", "notebooks", "SOURCE", "RELEASE"]

SOURCE = "solutions"
RELEASE = "notebooks"


def course_root(start: str | os.PathLike | None = None) -> Path:
    """The course root: ``start`` (default: the current folder) or the nearest parent with
    ``nbgrader_config.py`` and a ``solutions`` folder, else the checkout this package lives in.

    Raises
    ------
    FileNotFoundError
        If no course root can be found.
    """
    here = Path(start or os.getcwd()).resolve()
    candidates = [here, *here.parents, Path(__file__).resolve().parents[2]]
    for folder in candidates:
        if (folder / "nbgrader_config.py").is_file() and (folder / SOURCE).is_dir():
            return folder
    raise FileNotFoundError(f"no course root (a folder with nbgrader_config.py and {SOURCE}/) at or above {here}")


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course.

    Attributes
    ----------
    assignment : str
        The nbgrader assignment id, e.g. ``"01-forward"`` (the folder name).
    name : str
        The notebook id, e.g. ``"forward"`` (the file name without ``.ipynb``).
    root : Path
        The course root.
    """

    assignment: str
    name: str
    root: Path

    @property
    def source(self) -> Path:
        """The instructor version: ``solutions/<assignment>/<name>.ipynb``."""
        return self.root / SOURCE / self.assignment / f"{self.name}.ipynb"

    @property
    def release(self) -> Path:
        """The student version: ``notebooks/<assignment>/<name>.ipynb``."""
        return self.root / RELEASE / self.assignment / f"{self.name}.ipynb"

    def __str__(self) -> str:
        return f"{self.assignment}/{self.name}"


def notebooks(root: str | os.PathLike | None = None) -> list[Notebook]:
    """Every notebook of the course, in course order."""
    root = course_root(root)
    out = []
    for folder in sorted(p for p in (root / SOURCE).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for nb in sorted(folder.glob("*.ipynb")):
            out.append(Notebook(folder.name, nb.stem, root))
    return out


def copy_course(root, dest, folders: tuple = (SOURCE, RELEASE)) -> Path:
    """Copy the course's ``nbgrader_config.py`` and ``folders`` into the folder ``dest``
    (created if need be; Jupyter's checkpoints are left out), e.g. to grade or release there."""
    root, dest = Path(root), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", dest)
    for folder in folders:
        shutil.copytree(root / folder, dest / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return dest
