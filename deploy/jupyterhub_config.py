"""JupyterHub for the backprop-lab course: system users, their own servers, nbgrader's groups and
the formgrader as a hub-managed service (deploy/README.md).

Start it as root, in the folder that keeps the hub's state (its database, cookie secret and the
proxy's pid file):

    cd /srv/jupyterhub && jupyterhub -f /path/to/backprop-lab/deploy/jupyterhub_config.py

The course's parameters live in ``course.toml`` beside this file (or the file that the
environment variable BACKPROP_LAB_HUB_COURSE names); nothing below needs editing.

The set-up is nbgrader's for several graders ("Using nbgrader with JupyterHub"): the formgrader
runs once, as the course's grader account, as a JupyterHub service named after the course;
instructors reach it through the hub, by membership of the group ``formgrade-<course>``, and
students see the course's assignments by membership of ``nbgrader-<course>``.
"""

import os
import shutil
import sys
import tomllib
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
COURSE_FILE = Path(os.environ.get("BACKPROP_LAB_HUB_COURSE") or HERE / "course.toml")
course = tomllib.loads(COURSE_FILE.read_text())
missing = {"course_id", "grader", "course_root", "instructors", "students"} - course.keys()
if missing:
    raise ValueError(f"{COURSE_FILE} does not set {', '.join(sorted(missing))}: see deploy/README.md")
COURSE = course["course_id"]
STUDENTS, GRADERS = f"nbgrader-{COURSE}", f"formgrade-{COURSE}"

# --- the hub and its proxy ---------------------------------------------------------------------
c.JupyterHub.bind_url = course.get("bind_url", "http://:8000")
# configurable-http-proxy from `npm install --prefix deploy`, else the one on PATH
local_proxy = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [str(local_proxy) if local_proxy.exists()
                                   else shutil.which("configurable-http-proxy") or "configurable-http-proxy"]

# --- who logs in: the host's own accounts, by password (PAM) -----------------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(course["instructors"]) | set(course["students"])
# only they: not also every account the hub's database remembers (the grader, a student removed
# from the list), which JupyterHub would let in by default once allowed_users is set
c.Authenticator.allow_existing_users = False
# nbgrader's JupyterHubAuthPlugin reads the course groups; the hub keeps them as listed here. The
# grader account is in the graders' group too (so a hub user, but not one that may log in): the
# formgrader, running as it, finds its course by that account's groups.
c.JupyterHub.load_groups = {
    STUDENTS: {"users": list(course["students"])},
    GRADERS: {"users": [*course["instructors"], course["grader"]]},
}

# --- each user's own JupyterLab, as that user, on this host --------------------------------------
c.JupyterHub.spawner_class = "localprocess"
# the hub's own Python (one environment with the course, nbgrader and JupyterLab installed, that
# every account may run): no console script, whose #! line may name another interpreter
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
# A server's token may read its own user's groups: nbgrader's JupyterHubAuthPlugin asks the hub
# which courses the user is in (the default token may only post activity).
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", "read:users:groups!user"]

# --- the formgrader: one shared server of the grader account, a hub service --------------------
# Its default page is the formgrader, so the hub's Services menu (hub home, "Services" ->
# the course id) opens it in a browser tab of its own. JupyterLab's own Formgrader command shows
# it in an iframe, which hub-served servers refuse since JupyterHub 4.1 (nbgrader #1870).
c.JupyterHub.services = [{
    "name": COURSE,
    "url": f"http://127.0.0.1:{course.get('formgrader_port', 9999)}",
    "command": [sys.executable, "-m", "jupyterhub.singleuser", "--ServerApp.default_url=/formgrader"],
    "user": course["grader"],
    # the course folder is the server's root: nbgrader reads its nbgrader_config.py from there
    "cwd": course["course_root"],
    "environment": {},
    "oauth_no_confirm": True,
}]
c.JupyterHub.load_roles = [
    # instructors may use the formgrader
    {"name": f"{COURSE}-graders", "groups": [GRADERS], "scopes": [f"access:services!service={COURSE}"]},
    # the formgrader may read users' groups and enrol a student that an instructor adds in it
    # (nbgrader's JupyterHubAuthPlugin.add_student_to_course)
    {"name": f"{COURSE}-formgrader", "services": [COURSE],
     "scopes": ["read:users:groups", "read:users:name", "list:groups", f"read:groups!group={STUDENTS}",
                f"groups!group={STUDENTS}"]},
]

# nbgrader's side of this set-up is the host-wide /etc/jupyter/nbgrader_config.py (deploy/
# nbgrader_config.py): without it students would find no course. Say so at start-up.
system_config = Path("/etc/jupyter/nbgrader_config.py")
if not system_config.exists() or "path_includes_course" not in system_config.read_text():
    print(f"warning: {system_config} is missing or is not deploy/nbgrader_config.py: students will not see "
          f"{COURSE}'s assignments (deploy/README.md)", file=sys.stderr)
