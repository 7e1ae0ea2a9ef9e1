"""A throw-away PostgreSQL server on loopback, for trying (and testing) a shared gradebook.

    with PostgresServer() as pg:
        nbgrader autograde ... --db pg.url

It runs Debian's PostgreSQL binaries (``apt install postgresql``) on a free port of
127.0.0.1 with a fresh data directory that is deleted afterwards. PostgreSQL refuses to run
as root, so under root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PostgresServer", "postgres_bin", "PostgresUnavailable"]


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("initdb")
    return Path(exe).parent if exe else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """Start with ``start()`` (or ``with``); ``url`` is the gradebook database's URL."""

    def __init__(self, database: str = "gradebook"):
        self.database = database
        self.bin = postgres_bin()
        if self.bin is None:
            raise PostgresUnavailable("PostgreSQL server binaries not found: apt install postgresql")
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="backprop-pg-"))
        self.user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *argv, check=True) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in argv]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def start(self) -> "PostgresServer":
        data = self.dir / "data"
        if self.user:
            shutil.chown(self.dir, self.user)
            os.chmod(self.dir, 0o700)
        self._run(self.bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self._run(self.bin / "pg_ctl", "-D", data, "-l", self.dir / "server.log", "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off",
                  "start")
        for _ in range(100):
            if self._run(self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres",
                         self.database, check=False).returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"could not create database {self.database}:\n{(self.dir / 'server.log').read_text()}")

    def stop(self) -> None:
        if (self.dir / "data").exists():
            self._run(self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
