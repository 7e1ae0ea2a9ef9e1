"""Run a student's kernel in a sandbox while autograding (bubblewrap, on Linux).

A submission is code from someone else, run with the grader's permissions. Inside the
sandbox the kernel

* sees the whole file system read-only; it can write only to its working folder (the
  submission's folder in ``autograded/``), its ``TMPDIR`` and ``/dev/shm``, each a private
  tmpfs of at most ``c.KernelLimits.disk`` bytes, gone when the kernel stops: the
  submission's own files are visible in it read-only, and nothing the kernel writes reaches
  the grader's disk;
* does not see the assignment's solutions, the gradebook, the other students' submissions
  or the course's git history (empty folders or an empty file in their place);
* has no network (a new, empty network namespace), no capabilities (also when the grader is
  root: bubblewrap keeps them for root unless told otherwise, and with them a kernel could
  remount the file system writable), and its own IPC and host name;
* sees only its own processes (a new PID namespace): when the kernel ends, the namespace
  ends, and every process it started, detached or double-forked, is killed with it.

The kernel talks to nbgrader over jupyter_client's ``ipc`` transport: Unix sockets in a folder
of the kernel's scratch space that both sides see (TCP cannot cross into the new network
namespace). Once the kernel has made its sockets, the folder is made read-only (and, when
the grader is root, given to ``nobody``, so that the kernel cannot make it writable again).
The scratch space sits in a short temporary path because a socket's path is limited to 107
bytes, whatever the depth of the course folder or the length of a student id. ipykernel
watches its parent process through ``JPY_PARENT_PID``, which would point outside the PID
namespace: it is set to 1 (the namespace's init, which ipykernel does not watch), and
``--die-with-parent`` ends the kernel if the grader dies.

Honest submissions run exactly as without the sandbox; the tests check both.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, CaselessStrEnum, List, Unicode

from .limits import KernelLimits

__all__ = ["SandboxedKernelManager", "bwrap_available", "SandboxUnavailable"]


class SandboxUnavailable(RuntimeError):
    """The sandbox is required but bubblewrap cannot run here."""


@functools.lru_cache(maxsize=None)
def bwrap_available() -> str | None:
    """Why bubblewrap cannot run here, or ``None`` when it can."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap (bwrap) is not installed: apt install bubblewrap"
    proc = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-net", "true"], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"bwrap cannot create a sandbox here: {proc.stderr.strip()}"
    return None


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap.

    Configure it from ``nbgrader_config.py`` (see :func:`backprop_lab.instructor.hardening.configure`).
    """

    mode = CaselessStrEnum(["required", "auto", "off"], "required", config=True,
                           help="required: refuse to run without the sandbox; auto: warn and run "
                                "without it when bubblewrap is missing; off: no sandbox").tag(config=True)
    hidden_paths = List(Unicode(), config=True,
                        help="Absolute paths the kernel must not see: folders are replaced by empty "
                             "ones, files by an empty file").tag(config=True)
    network = Bool(False, help="Allow network access (off: a new, empty network namespace)").tag(config=True)

    _workdir: str | None = None
    _scratch: str | None = None

    def _active(self) -> bool:
        if self.mode == "off":
            return False
        problem = bwrap_available()
        if problem is None:
            return True
        if self.mode == "required":
            raise SandboxUnavailable(f"the autograding sandbox is required but {problem}; install it, or set "
                                     "c.SandboxedKernelManager.mode = 'off' to grade without a sandbox "
                                     "(student code then runs with your permissions)")
        self.log.warning("autograding WITHOUT a sandbox: %s", problem)
        return False

    async def _async_pre_start_kernel(self, **kw):
        if self._workdir is None and self._active():  # once: a restart keeps the same sockets
            self._workdir = os.path.abspath(kw.get("cwd") or os.getcwd())
            self._scratch = tempfile.mkdtemp(prefix="backprop-sandbox-", dir=_short_tmp())
            _seed_matplotlib_cache(Path(self._scratch) / "matplotlib")
            os.mkdir(self._ipc_dir())
            # the sockets live in the scratch folder, not the submission's: a Unix socket path
            # has at most 107 bytes, which a deep course folder and a long student id exceed
            self.transport = "ipc"
            self.ip = os.path.join(self._ipc_dir(), "k")
            if len(os.fsencode(self.ip)) + len("-65535") > _MAX_SOCKET_PATH:
                raise SandboxUnavailable(f"the kernel's socket path {self.ip!r} is longer than the "
                                         f"{_MAX_SOCKET_PATH} bytes a Unix socket allows; set TMPDIR to a "
                                         "shorter folder")
            self.connection_file = os.path.join(self._ipc_dir(), "kernel.json")
        if self._scratch:
            self.unseal_sockets()  # a restarted kernel makes its sockets again
        return await super()._async_pre_start_kernel(**kw)

    def _ipc_dir(self) -> str:
        return os.path.join(self._scratch, "ipc")

    def seal_sockets(self) -> None:
        """Make the socket folder read-only, once the kernel has made its sockets in it: the one
        folder of the grader's disk the kernel could otherwise fill."""
        if self._scratch:
            ipc = self._ipc_dir()
            if os.geteuid() == 0:  # a kernel without capabilities cannot chmod what it does not own
                os.chown(ipc, 65534, -1)
            os.chmod(ipc, 0o555)

    def unseal_sockets(self) -> None:
        if self._scratch and os.path.isdir(self._ipc_dir()):
            if os.geteuid() == 0:
                os.chown(self._ipc_dir(), 0, -1)
            os.chmod(self._ipc_dir(), 0o700)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if self._workdir is None:
            return cmd
        # An interrupt is SIGINT to the kernel's process group, bwrap included: bwrap would die
        # of it (and take the kernel with it, --die-with-parent). Started with SIGINT ignored,
        # bwrap survives; the kernel installs its own handler while it runs a cell.
        return ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh", *self.bwrap_argv(self._workdir), *cmd]

    def bwrap_argv(self, workdir: str) -> list[str]:
        """The bubblewrap command line that wraps the kernel's."""
        disk = KernelLimits(parent=self).disk
        # /tmp stays visible read-only (the course, the Python environment or the kernel's
        # folder may live there); the kernel's own temporary files go to its scratch folder
        argv = [shutil.which("bwrap"), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--cap-drop", "ALL",
                "--setenv", "JPY_PARENT_PID", "1"]
        hidden_dirs = [p for p in sorted(self.hidden_paths, key=len) if os.path.isdir(p)]
        for path in hidden_dirs:
            argv += ["--tmpfs", path]
        for path in self.hidden_paths:
            if os.path.isfile(path):
                argv += ["--ro-bind", "/dev/null", path]
        # the working folder may lie inside a hidden folder: mounted before the remount
        argv += _writable(workdir, disk, contents=True) + _writable(self._scratch, disk, contents=False)
        if disk:
            argv += ["--bind", self._ipc_dir(), self._ipc_dir(), "--size", str(disk), "--tmpfs", "/dev/shm"]
        for path in hidden_dirs:
            argv += ["--remount-ro", path]  # an empty, read-only folder (the mounts above stay writable)
        scratch = self._scratch
        argv += ["--setenv", "TMPDIR", scratch,
                 "--setenv", "MPLCONFIGDIR", f"{scratch}/matplotlib",
                 "--setenv", "IPYTHONDIR", f"{scratch}/ipython",
                 "--setenv", "JUPYTER_RUNTIME_DIR", f"{scratch}/runtime",
                 "--chdir", workdir]
        if not self.network:
            argv.append("--unshare-net")
        return argv

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._scratch:
            self.unseal_sockets()
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    cleanup_resources = _async_cleanup_resources


def _writable(folder: str, size: int, contents: bool) -> list[str]:
    """bubblewrap arguments that make ``folder`` writable in the sandbox: a tmpfs of ``size``
    bytes showing the folder's files read-only (``contents``: its entries; else only the
    matplotlib cache seeded for the kernel), or, with ``size`` 0, the folder itself."""
    if not size:
        return ["--bind", folder, folder]
    argv = ["--size", str(size), "--tmpfs", folder]
    entries = sorted(Path(folder).iterdir()) if contents else sorted(Path(folder, "matplotlib").glob("*"))
    for entry in entries:
        if entry.is_symlink():  # made again inside: its target resolves in the sandbox's view
            argv += ["--symlink", os.readlink(entry), str(entry)]
        else:
            argv += ["--ro-bind", str(entry), str(entry)]
    return argv


_MAX_SOCKET_PATH = 107  # sizeof(sockaddr_un.sun_path) on Linux, less the terminating NUL


def _short_tmp() -> str:
    """A temporary folder whose path leaves room for a socket name."""
    tmp = tempfile.gettempdir()
    return tmp if len(tmp) <= 48 else "/tmp"


def _seed_matplotlib_cache(folder: Path) -> None:
    """A writable matplotlib cache with the host's font list, so that the sandboxed kernel
    neither rebuilds it (a second per kernel) nor warns about a read-only home."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib

        host = Path(matplotlib.get_cachedir())
    except Exception:  # matplotlib missing or unconfigured: the kernel builds its own
        return
    for f in host.glob("fontlist-*.json"):
        shutil.copy2(f, folder / f.name)
