"""A class graded in parallel shards gets exactly the grades of a serial run: into SQLite by
the local runner, and into a shared PostgreSQL gradebook by the course's Slurm array job
(docs/cluster/grade-array.sbatch) on a real single-node Slurm."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from backprop_lab.instructor.runs.autograde import grade, shard_command, shard_of, sqlite_url, students
from backprop_lab.instructor.runs.democlass import build
from backprop_lab.instructor.runs.pgserver import PostgresServer, postgres_bin

import slurm_cluster
from needs import need
from grading_helpers import ROOT, course_dir, nbgrader, require_sandbox, scores

KEEP = ("01-forward", "05-backward")  # two quick notebooks keep the test short
N_STUDENTS = 6


def test_shards_split_every_student_once():
    ids = [f"s{i:02d}" for i in range(1, 24)]
    parts = [shard_of(ids, i, 4) for i in range(4)]
    assert sorted(sum(parts, [])) == ids
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert parts == [shard_of(list(reversed(ids)), i, 4) for i in range(4)], "independent of order"
    with pytest.raises(ValueError, match="shard 4/4 does not exist"):
        shard_of(ids, 4, 4)
    cmd = shard_command("/course", parts[1], ids, db_url="sqlite:///x.db")
    assert cmd[2:5] == ["nbgrader", "autograde", "*"]
    excluded = cmd[-1].split("=", 1)[1].split(",")
    assert sorted(excluded + parts[1]) == ids


@pytest.fixture(scope="module")
def demo():
    require_sandbox()
    course = course_dir("sharding")
    build(course, n_students=N_STUDENTS, seed=1)
    for sub in (course / "submitted").glob("*/*"):
        if sub.name not in KEEP:
            shutil.rmtree(sub)
    return course


def _copy(demo, name):
    dest = course_dir(name)
    shutil.rmtree(dest)
    shutil.copytree(demo, dest)
    return dest


def _autograde(course, db, shards):
    """A fresh gradebook for the course, then the class graded in ``shards`` shards."""
    nbgrader(course, "generate_assignment", "*", "--force", db=db)
    results = grade(course, shards=shards, db_url=db)
    assert [r.returncode for r in results] == [0] * shards, [r.log[-2000:] for r in results]
    return results


@pytest.fixture(scope="module")
def serial(demo):
    course = _copy(demo, "sharding-serial")
    db = sqlite_url(course)
    _autograde(course, db, shards=1)
    return scores(db)


@pytest.mark.nbgrader
def test_sharded_grades_equal_serial(demo, serial):
    course = _copy(demo, "sharding-parallel")
    db = sqlite_url(course)
    results = _autograde(course, db, shards=2)
    assert sorted(sum((r.students for r in results), [])) == students(course)
    assert len(serial) == N_STUDENTS * len(KEEP)
    assert scores(db) == serial


def require_postgres() -> None:
    need(None if postgres_bin() else "no PostgreSQL server is installed (apt install postgresql)",
         "BACKPROP_LAB_REQUIRE_POSTGRES", ".ci/run installs it and makes this test mandatory")


@pytest.mark.nbgrader
@pytest.mark.postgres
def test_the_slurm_array_job_writes_the_serial_grades_into_postgresql(demo, serial):
    """The course's own sbatch script, unchanged, as an array of three tasks on a real Slurm:
    shards running at once, each ``backprop-lab grade --shard i/3 --db postgresql://...``,
    into one PostgreSQL gradebook, exported from there."""
    require_postgres()
    slurm_cluster.require()
    course = _copy(demo, "sharding-slurm")
    (course / "gradebook.db").unlink(missing_ok=True)
    tasks, cluster = 3, course_dir("slurm")
    with PostgresServer() as pg, slurm_cluster.SlurmCluster(cluster) as slurm:
        nbgrader(course, "generate_assignment", "*", "--force", db=pg.url)
        job = slurm.sbatch(f"--array=0-{tasks - 1}", str(ROOT / "docs" / "cluster" / "grade-array.sbatch"), "*",
                           cwd=course, env={"GRADEBOOK_URL": pg.url})
        logs = sorted(course.glob("grade-*_*.log"))
        text = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in logs)
        assert job.returncode == 0, f"{job.stdout}{job.stderr}\n{text}\n{slurm.logs()}"
        assert len(logs) == tasks, text
        graded = [s for p in logs for s in re.findall(r"shard \d+: (\d+) student", p.read_text())]
        assert sorted(map(int, graded)) == [2, 2, 2], text
        assert scores(pg.url) == serial
        nbgrader(course, "export", "--to", "grades.csv", db=pg.url)
        assert (course / "grades.csv").read_text().count("\n") == N_STUDENTS + 2
    assert not (course / "gradebook.db").exists(), "nothing went to SQLite"
    left = subprocess.run(["pgrep", "-a", "-f", str(cluster)], capture_output=True, text=True)
    assert left.returncode == 1, f"Slurm's daemons outlived the cluster: {left.stdout}"
