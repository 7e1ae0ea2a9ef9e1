"""A real single-node Slurm cluster for the tests: Debian's ``munged``, ``slurmctld`` and
``slurmd``, started in a folder of the test's own (key, configuration, state, logs) on free
ports, and stopped at the end with nothing left running.

The node is this machine with all its cores; jobs run as the user who submits them (root
here). Process tracking is ``proctrack/linuxproc`` (Slurm's cgroup plugin would need a
cgroup hierarchy of its own), so a job's processes stay in slurmd's cgroup, where the
course's grader makes its kernels' cgroups as it does anywhere else.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "sinfo", "mungekey")


def problem() -> str | None:
    """Why a Slurm cluster cannot start here, or None."""
    if os.geteuid() != 0:
        return "the Slurm test starts slurmd, which runs jobs as their users: it needs root"
    missing = [t for t in DAEMONS + CLIENTS if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if missing:
        return f"{', '.join(missing)} not installed (apt install slurmctld slurmd slurm-client munge)"
    return None


def require() -> None:
    """Skip without Slurm and root, or fail where CI sets BACKPROP_LAB_REQUIRE_SLURM."""
    from needs import need

    need(problem(), "BACKPROP_LAB_REQUIRE_SLURM", ".ci/run installs Slurm and makes this test mandatory")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _memory_mb() -> int:
    """This machine's memory in MB, less a tenth (jobs ask for --mem; the default node has 1 MB)."""
    total_kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
    return int(total_kb / 1024 * 0.9)


def _exe(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


class SlurmCluster:
    """``with SlurmCluster(folder) as slurm: slurm.sbatch(...)``."""

    def __init__(self, folder: Path):
        self.dir = Path(folder)
        self.procs: list[subprocess.Popen] = []
        self.host = socket.gethostname()

    @property
    def env(self) -> dict:
        return {**os.environ, "SLURM_CONF": str(self.dir / "slurm.conf")}

    def _config(self) -> str:
        ctld, slurmd = _free_ports(2)
        d = self.dir
        return "\n".join([
            "ClusterName=backprop-lab-test",
            f"SlurmctldHost={self.host}(127.0.0.1)",
            f"SlurmctldPort={ctld}", f"SlurmdPort={slurmd}",
            "SlurmUser=root", "SlurmdUser=root",
            "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={d / 'munge.socket'}",
            f"StateSaveLocation={d / 'state'}", f"SlurmdSpoolDir={d / 'spool'}",
            f"SlurmctldPidFile={d / 'slurmctld.pid'}", f"SlurmdPidFile={d / 'slurmd.pid'}",
            f"SlurmctldLogFile={d / 'slurmctld.log'}", f"SlurmdLogFile={d / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none", "MpiDefault=none",
            "SchedulerType=sched/backfill", "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
            "ReturnToService=2",
            f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={_memory_mb()} "
            "State=UNKNOWN",
            "PartitionName=grading Nodes=ALL Default=YES MaxTime=INFINITE State=UP", ""])

    def _start(self, *argv) -> None:
        log = open(self.dir / f"{Path(argv[0]).name}.out", "w")
        self.procs.append(subprocess.Popen([_exe(argv[0]), *argv[1:]], stdout=log, stderr=subprocess.STDOUT,
                                           env=self.env, start_new_session=True))

    def start(self) -> "SlurmCluster":
        d = self.dir
        for sub in ("state", "spool"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        subprocess.run([_exe("mungekey"), "--create", f"--keyfile={d / 'munge.key'}", "--bits=1024"], check=True,
                       capture_output=True)
        os.chmod(d / "munge.key", 0o600)
        (d / "slurm.conf").write_text(self._config())
        self._start("munged", "--foreground", "--force", f"--socket={d / 'munge.socket'}",
                    f"--key-file={d / 'munge.key'}", f"--pid-file={d / 'munged.pid'}",
                    f"--log-file={d / 'munged.log'}", f"--seed-file={d / 'munged.seed'}")
        self._wait(lambda: (d / "munge.socket").exists(), "munged")
        self._start("slurmctld", "-D", "-i", "-f", str(d / "slurm.conf"))
        self._start("slurmd", "-D", "-f", str(d / "slurm.conf"), "-N", self.host)
        self._wait(lambda: "idle" in self.sinfo(), "the node to come up idle")
        return self

    def _wait(self, ready, what: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}:\n{self.logs()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what}:\n{self.logs()}")

    def sinfo(self) -> str:
        p = subprocess.run(["sinfo", "--noheader", "-o", "%T"], env=self.env, capture_output=True, text=True)
        return p.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(self.dir.glob("*.log"))
                         + sorted(self.dir.glob("*.out")))

    def sbatch(self, *args, env=None, cwd=None, timeout: float = 1800) -> subprocess.CompletedProcess:
        """``sbatch --wait``: returns when the job (every task of an array) has ended."""
        return subprocess.run(["sbatch", "--wait", *args], env={**self.env, **(env or {})}, cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
        self.procs = []

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
