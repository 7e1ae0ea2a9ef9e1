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

A grader among the users gets cgroups of its own (:meth:`Site.delegate_cgroups`), as a
department's administrator delegates them, so that its kernels' limits are enforced.

The mounts, users and cgroups are removed at the end; :func:`sweep` removes those that a killed
test run left behind (their names hold the test process's pid).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from backprop_lab.grading.limits import own_cgroup

ROOT = Path(__file__).resolve().parents[1]
BASE = Path("/srv")
PREFIX = "backprop-lab-test-"
SYSTEM_CONFIG = Path("/etc/jupyter/nbgrader_config.py")
LOCK = Path("/run/lock/backprop-lab-system-config.lock")
MARK = "# written by a backprop-lab test (tests/unix_users.py); removed when it ends\n"
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: the cgroup v1 controllers whose limits the grader sets on each kernel (hardening/limits.py)
CONTROLLERS = ("memory", "pids", "cpuacct")


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
    from needs import need

    need(problem(), "BACKPROP_LAB_REQUIRE_USERS", ".ci/run makes these tests mandatory")


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


def _gone(path: Path) -> bool:
    """Whether ``path`` is named for a test process (``PREFIX<pid>``) that no longer exists."""
    m = re.fullmatch(re.escape(PREFIX) + r"(\d+)", path.name)
    return bool(m) and not Path(f"/proc/{m.group(1)}").exists()


def sweep() -> None:
    """Remove the mounts, folders, users and cgroups of test runs whose process no longer exists."""
    for ctrl in CONTROLLERS:
        own = own_cgroup(ctrl)
        for path in (CGROUP_ROOT / ctrl / own.lstrip("/")).glob(PREFIX + "*") if own else ():
            if _gone(path):
                _remove_cgroup(path)
    for folder in BASE.glob(PREFIX + "*"):
        if not _gone(folder):
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


def _remove_cgroup(path: Path) -> None:
    """Kill what is left in the cgroup ``path`` and below, and remove them, deepest first."""
    for sub in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) + [path]:
        for _ in range(50):
            pids = (sub / "cgroup.procs").read_text().split() if (sub / "cgroup.procs").exists() else []
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                sub.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)  # a killed process leaves its cgroup a moment later


@dataclass
class Delegation:
    """cgroups (v1) that root made for one user, one per controller, as a department's
    administrator delegates them to a grader: the user owns each folder, its ``cgroup.procs`` and
    ``tasks``, so that it may make a child cgroup for every kernel and move its own processes
    there; the folder's own limits stay root's, and bound everything the user starts inside."""

    paths: dict[str, Path]

    def argv(self, command: list[str]) -> list[str]:
        """``command``, started inside these cgroups (root moves the shell, which then execs it)."""
        script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *(str(p / "cgroup.procs") for p in self.paths.values()), "--",
                *command]

    def close(self) -> None:
        for path in self.paths.values():
            _remove_cgroup(path)
        self.paths = {}


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
        self._wrap_scripts(prefix)

    def _wrap_scripts(self, prefix: Path) -> None:
        """A folder of the console scripts (``alembic``, which nbgrader starts; ``jupyter`` ...)
        that start the mounted interpreter: the scripts' own ``#!`` lines name root's."""
        scripts = self.base / "scripts"
        scripts.mkdir(mode=0o755)
        shebang = f"#!{prefix}/".encode()
        for script in (prefix / "bin").iterdir():
            try:
                with open(script, "rb") as f:
                    if not (script.is_file() and f.read(len(shebang)) == shebang):
                        continue
            except OSError:
                continue
            wrapper = scripts / script.name
            mounted = self.base / "python" / "bin" / script.name
            wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(str(self.python))} {shlex.quote(str(mounted))} "$@"\n')
            wrapper.chmod(0o755)

    @property
    def bin(self) -> Path:
        return self.python.parent

    def env(self) -> dict:
        """What a user's shell needs to use this Python: PATH, PYTHONPATH, and LD_LIBRARY_PATH,
        since the interpreter finds libpython through its RUNPATH under /root, and without it
        would load the system's libpython instead (another Python's ``site``, so no packages).
        The console scripts come first on PATH as wrappers (their ``#!`` lines name root's
        interpreter); in a command of one's own, ``python -m`` says which Python runs."""
        return {"PATH": f"{self.base / 'scripts'}:{self.bin}:/usr/local/bin:/usr/bin:/bin",
                "PYTHONPATH": str(self.src), "LD_LIBRARY_PATH": str(self.base / "python" / "lib")}

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
            timeout: float = 600, env: dict | None = None,
            cgroups: Delegation | None = None) -> subprocess.CompletedProcess:
        """Run the shell ``command`` as ``user``, in a login shell (``runuser -l``: the user's own
        environment, not root's), with the user Python first on PATH; inside ``cgroups`` if given."""
        setup = {**self.python.env(), **(env or {})}
        script = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in setup.items())
        if cwd:
            script += f"cd {shlex.quote(cwd)}\n"
        script += command
        argv = ["runuser", "-l", user, "-c", script]
        p = subprocess.run(cgroups.argv(argv) if cgroups else argv, capture_output=True, text=True,
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
        self._delegations: list[Delegation] = []

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

    def delegate_cgroups(self, user: str, memory: int, processes: int) -> Delegation:
        """A cgroup of each of :data:`CONTROLLERS`, under this process's own, delegated to
        ``user`` and limited to ``memory`` bytes and ``processes`` processes in all (what the
        grader's kernels share); removed by :meth:`close`. Raises RuntimeError naming what the
        host lacks (no cgroup v1 hierarchy of a controller)."""
        pw = pwd.getpwnam(user)
        paths = {}
        delegation = Delegation(paths)
        self._delegations.append(delegation)
        for ctrl in CONTROLLERS:
            own = own_cgroup(ctrl)
            if own is None or not (CGROUP_ROOT / ctrl).is_dir():
                raise RuntimeError(f"no cgroup v1 '{ctrl}' hierarchy is mounted at {CGROUP_ROOT / ctrl}")
            path = CGROUP_ROOT / ctrl / own.lstrip("/") / self.base.name
            path.mkdir()
            paths[ctrl] = path
            for name in ("", "cgroup.procs", "tasks"):
                os.chown(path / name, pw.pw_uid, pw.pw_gid)
        (paths["memory"] / "memory.limit_in_bytes").write_text(str(memory))
        (paths["pids"] / "pids.max").write_text(str(processes))
        return delegation

    def close(self) -> None:
        self.users.close()
        for delegation in self._delegations:
            delegation.close()
        self.python.close()
        shutil.rmtree(self.base, ignore_errors=True)
        if self._lock is not None:
            SYSTEM_CONFIG.unlink(missing_ok=True)
            self._lock.close()
            self._lock = None
