"""Real Unix users for the multi-user tests (nbgrader's exchange, JupyterHub), and a Python
they can run.

On the course machines the interpreter, with everything pip installed, lives under
``/root/.pyenv``, and ``/root`` is ``drwx------``: another user cannot start it. Opening up
``/root`` would weaken the host and what the tests check, and copying 2 GB of site-packages
costs a minute. So :class:`UserPython` bind-mounts the interpreter's tree, **read-only**, at a
folder outside ``/root`` (CPython finds its prefix from where its executable is, so the
mounted ``bin/python`` runs from the mount), and the course checkout beside it, also
read-only, first on ``PYTHONPATH`` (the editable install names the checkout's own path, which
may lie under ``/root`` in a clone). The users get nothing they could write, and nothing of
root's but this one tree; everything the tests check (who may read whose files) is about
their own homes and nbgrader's exchange, which the mounts do not touch.

The mounts and users are removed at the end; :func:`sweep` removes those that a killed test
run left behind (their folder names the test process's pid).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = Path("/srv")
PREFIX = "backprop-lab-test-"
SYSTEM_CONFIG = Path("/etc/jupyter/nbgrader_config.py")
LOCK = Path("/run/lock/backprop-lab-system-config.lock")
MARK = "# written by a backprop-lab test (tests/unix_users.py); removed when it ends\n"


def problem() -> str | None:
    """Why real users cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "the multi-user tests need root (useradd, runuser, mount)"
    for tool in ("useradd", "userdel", "runuser", "mount", "umount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def require() -> None:
    """Skip without root and the user tools, or fail where CI sets BACKPROP_LAB_REQUIRE_USERS."""
    import pytest

    why = problem()
    if why is None:
        return
    if os.environ.get("BACKPROP_LAB_REQUIRE_USERS"):
        pytest.fail(f"BACKPROP_LAB_REQUIRE_USERS is set but {why}")
    pytest.skip(why)


def _mounted(path: Path) -> bool:
    return any(line.split()[4] == str(path) for line in Path("/proc/self/mountinfo").read_text().splitlines())


def _bind_ro(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "--bind", str(src), str(dst)], check=True)
    # a bind mount takes its source's flags; read-only needs a second, remounting step
    subprocess.run(["mount", "-o", "remount,bind,ro", str(dst)], check=True)


def _umount(path: Path) -> None:
    if _mounted(path):
        subprocess.run(["umount", "-l", str(path)], check=False)


def sweep() -> None:
    """Remove the mounts, folders and users of test runs whose process no longer exists."""
    for folder in BASE.glob(PREFIX + "*"):
        m = re.fullmatch(re.escape(PREFIX) + r"(\d+)", folder.name)
        if not m or Path(f"/proc/{m.group(1)}").exists():
            continue
        for sub in ("python", "course-src"):
            _umount(folder / sub)
        for user in (folder / "users").read_text().split() if (folder / "users").exists() else ():
            subprocess.run(["userdel", "-r", user], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
    if SYSTEM_CONFIG.exists() and SYSTEM_CONFIG.read_text().startswith(MARK):
        with open(LOCK, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a live test holds it
            SYSTEM_CONFIG.unlink(missing_ok=True)


@dataclass
class UserPython:
    """This interpreter and the course checkout, mounted read-only where every user can run them."""

    base: Path
    python: Path = field(init=False)
    src: Path = field(init=False)

    def __post_init__(self):
        prefix = Path(sys.base_prefix)
        if Path(sys.prefix) != prefix:
            raise RuntimeError(f"run the tests with the base interpreter, not the venv {sys.prefix}")
        _bind_ro(prefix, self.base / "python")
        try:
            _bind_ro(ROOT, self.base / "course-src")
        except BaseException:
            _umount(self.base / "python")
            raise
        rel = Path(sys.executable).resolve().relative_to(prefix.resolve())
        self.python = self.base / "python" / rel
        self.src = self.base / "course-src"

    @property
    def bin(self) -> Path:
        return self.python.parent

    def env(self) -> dict:
        """What a user's shell needs to use this Python: PATH, PYTHONPATH, and LD_LIBRARY_PATH,
        since the interpreter finds libpython through its RUNPATH under /root, and without it
        would load the system's libpython instead (another Python's ``site``, so no packages).
        Console scripts name root's interpreter in their ``#!`` line: use ``python -m``."""
        return {"PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(self.src),
                "LD_LIBRARY_PATH": str(self.base / "python" / "lib")}

    def close(self) -> None:
        for sub in ("course-src", "python"):
            _umount(self.base / sub)


class Users:
    """Unix users made for one test run, removed (with their homes) by :meth:`close`."""

    def __init__(self, base: Path, python: UserPython):
        self.base, self.python, self.names = base, python, []

    def add(self, name: str, *groups: str) -> pwd.struct_passwd:
        for g in groups:
            subprocess.run(["groupadd", "-f", g], check=True)
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group",
                        *(["--groups", ",".join(groups)] if groups else []), name], check=True,
                       capture_output=True)
        self.names.append(name)
        (self.base / "users").write_text("\n".join(self.names))
        home = Path(pwd.getpwnam(name).pw_dir)
        home.chmod(0o700)  # whatever the host's HOME_MODE, a student's home is their own
        return pwd.getpwnam(name)

    def run(self, user: str, command: str, *, cwd: str | None = None, check: bool = True,
            timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the shell ``command`` as ``user``, in a login shell (``runuser -l``: the user's own
        environment, not root's), with the user Python first on PATH."""
        setup = {**self.python.env(), **(env or {})}
        script = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in setup.items())
        if cwd:
            script += f"cd {shlex.quote(cwd)}\n"
        script += command
        p = subprocess.run(["runuser", "-l", user, "-c", script], capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"as {user}: {command!r} exited with {p.returncode}\n"
                                 f"--- stdout\n{p.stdout[-3000:]}\n--- stderr\n{p.stderr[-3000:]}")
        return p

    def close(self) -> None:
        for name in reversed(self.names):
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            subprocess.run(["userdel", "-r", name], capture_output=True)
        self.names = []


def world_traversable(path: Path) -> bool:
    """Whether every user may enter ``path`` and all folders above it."""
    for p in [path, *path.parents]:
        if not os.stat(p).st_mode & 0o001:
            return False
    return True


class Site:
    """A test run's folder under /srv (every user may enter it), with its Python and users."""

    def __init__(self):
        sweep()
        self.base = BASE / f"{PREFIX}{os.getpid()}"
        if self.base.exists():
            raise RuntimeError(f"{self.base} exists: another Site of this process is still open")
        self.base.mkdir(parents=True)
        self.base.chmod(0o755)
        self.python = UserPython(self.base)
        self.users = Users(self.base, self.python)
        self._lock = None

    def folder(self, name: str, mode: int = 0o755) -> Path:
        path = self.base / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        return path

    def system_config(self, text: str) -> Path:
        """Write the system-wide ``/etc/jupyter/nbgrader_config.py`` that every user's nbgrader
        reads (the exchange's root, the course), until :meth:`close`. It is one file for the whole
        host, so the Site holds a lock on it meanwhile: a second test process waits for it."""
        path = SYSTEM_CONFIG
        if self._lock is None:
            self._lock = open(LOCK, "w")
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        if path.exists() and not path.read_text().startswith(MARK):
            raise RuntimeError(f"{path} exists and is not a test's: the host has its own nbgrader config")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MARK + text)
        path.chmod(0o644)
        return path

    def close(self) -> None:
        self.users.close()
        self.python.close()
        shutil.rmtree(self.base, ignore_errors=True)
        if self._lock is not None:
            SYSTEM_CONFIG.unlink(missing_ok=True)
            self._lock.close()
            self._lock = None
