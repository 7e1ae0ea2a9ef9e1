"""The course on JupyterHub, as a department runs it: deploy/jupyterhub_config.py with real Unix
users logging in by password (PAM), each on their own server, nbgrader's exchange, and the
formgrader as the hub's service of the grader account, all driven in Chromium.

The hub runs the deploy configuration itself; a small overlay (written below) changes only what
this machine needs: free ports, and the Python that the test users can run (tests/unix_users.py:
root's interpreter, bind-mounted read-only under /srv). One hub for the module; the test stops
it and checks that no process of the test users, nor the hub's ports, are left.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import unix_users
from test_browser import SHOTS, chromium, require_browser

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
COURSE = "backprop-lab"
ASSIGNMENT, NOTEBOOK = "01-forward", "forward"
WRITTEN = "answer_saturation"  # 01-forward's manually graded written answer (1 point)
GRADER, INSTRUCTOR, STUDENT = "bplh-grader", "bplh-instructor", "bplh-student"
OUTSIDER = "bplh-outsider"  # an account of the host that course.toml does not list
SCORE, COMMENT = 0.5, "Right about the flat tails; say why the gradient vanishes there."

# Fills a fetched notebook's answers with the solutions' (run as the student, on their own copy):
# what a student's work leaves, so that Validate passes and the written answer has text to grade.
ANSWER = """
import json, sys
mine, solution = sys.argv[1], sys.argv[2]
nb, sol = json.load(open(mine)), json.load(open(solution))
answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in sol["cells"]
           if c["metadata"].get("nbgrader", {}).get("solution")}
for cell in nb["cells"]:
    grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
    if grade_id in answers:
        source = answers[grade_id]
        source = "".join(source) if isinstance(source, list) else source
        cell["source"] = "\\n".join(line for line in source.splitlines()
                                    if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
json.dump(nb, open(mine, "w"), indent=1)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Hub:
    """deploy/jupyterhub_config.py running on this machine for the test's users."""

    def __init__(self, site: unix_users.Site):
        self.site = site
        self.passwords = {}
        for name in (GRADER, INSTRUCTOR, STUDENT, OUTSIDER):
            site.users.add(name)
            self.passwords[name] = secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input="".join(f"{u}:{p}\n" for u, p in self.passwords.items()),
                       text=True, check=True)
        self.course_root = Path(f"/home/{GRADER}/{COURSE}")
        # nbgrader runs the `alembic` console script, whose #! line names root's interpreter, which
        # the users cannot reach: a shim that runs it with the mounted Python comes first on PATH
        shims = site.folder("bin")
        (shims / "alembic").write_text('#!/bin/sh\nexec python -m alembic "$@"\n')
        (shims / "alembic").chmod(0o755)
        self.env = {**site.python.env(), "PATH": f"{shims}:{site.python.env()['PATH']}"}
        self._course()
        self.ports = {name: free_port() for name in ("public", "hub", "proxy", "formgrader")}
        state = site.folder("hub", 0o700)
        (state / "course.toml").write_text(
            f'course_id = "{COURSE}"\ngrader = "{GRADER}"\ncourse_root = "{self.course_root}"\n'
            f'instructors = ["{INSTRUCTOR}"]\nstudents = ["{STUDENT}"]\n'
            f'bind_url = "http://127.0.0.1:{self.ports["public"]}"\nformgrader_port = {self.ports["formgrader"]}\n')
        (state / "overlay_config.py").write_text(f"""\
# this machine's differences from deploy/jupyterhub_config.py: the users' Python, free ports
c = get_config()
load_subconfig({str(ROOT / "deploy" / "jupyterhub_config.py")!r})
python, env = {str(site.python.python)!r}, {self.env!r}
c.Spawner.cmd = [python, *c.Spawner.cmd[1:]]
c.Spawner.environment = env
for service in c.JupyterHub.services:
    service["command"] = [python, *service["command"][1:]]
    service["environment"] = {{**service["environment"], **env}}
c.JupyterHub.hub_port = {self.ports["hub"]}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.ports["proxy"]}"
""")
        self.log_path = state / "jupyterhub.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(state / "overlay_config.py")], cwd=state,
            env={**os.environ, "BACKPROP_LAB_HUB_COURSE": str(state / "course.toml")},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.ports['public']}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{self.url}/hub/api", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise AssertionError(f"JupyterHub did not start:\n{self.log_text()}")

    def _course(self) -> None:
        """The grader's course folder, the exchange and the host-wide nbgrader config; then the
        instructor guide's first steps as the grader: generate and release 01-forward."""
        self.course_root.mkdir()
        shutil.copytree(ROOT / "solutions" / ASSIGNMENT, self.course_root / "solutions" / ASSIGNMENT)
        shutil.copy2(ROOT / "nbgrader_config.py", self.course_root)
        subprocess.run(["chown", "-R", f"{GRADER}:{GRADER}", str(self.course_root)], check=True)
        self.exchange = self.site.folder("exchange", 0o1777)
        self.site.system_config((ROOT / "deploy" / "nbgrader_config.py").read_text()
                                + f"\n# this test's exchange\nc.Exchange.root = {str(self.exchange)!r}\n")
        self.site.users.run(GRADER, f"python -m nbgrader generate_assignment {ASSIGNMENT} --force && "
                                    f"python -m nbgrader release_assignment {ASSIGNMENT} --force",
                            cwd=str(self.course_root), env=self.env)

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text()[-6000:]

    def stop(self) -> None:
        """Stop the hub as an administrator would (SIGTERM): it stops the users' servers, the
        formgrader service and its proxy on the way out."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if not self.log.closed:
            self.log.close()
            # kept for CI's artifacts: the hub's, the servers' and the formgrader's output
            SHOTS.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.log_path, SHOTS.parent / "jupyterhub.log")

    def leftovers(self) -> list[str]:
        """Processes of the test users and open hub ports: what a stopped hub must not leave."""
        out = []
        for user in (GRADER, INSTRUCTOR, STUDENT, OUTSIDER):
            p = subprocess.run(["pgrep", "-a", "-u", user], capture_output=True, text=True)
            out += [f"{user}: {line}" for line in p.stdout.splitlines()]
        out += [f"port {port} ({name}) is still open" for name, port in self.ports.items() if port_open(port)]
        return out


@pytest.fixture(scope="module")
def hub(request):
    require_browser()
    unix_users.require()
    site = unix_users.Site()
    request.addfinalizer(site.close)  # last: the users, their homes, the mounts, the system config
    h = Hub(site)
    request.addfinalizer(h.stop)
    return h


@pytest.fixture(scope="module")
def browser(hub):
    with chromium() as b:
        yield b


def sign_in(browser, hub, user):
    """A fresh browser context that has sent ``user``'s right password to the hub's login page."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    return page


def login(browser, hub, user):
    """A fresh browser context logged in to the hub as ``user``, on their JupyterLab."""
    page = sign_in(browser, hub, user)
    page.wait_for_url(f"**/user/{user}/lab**")
    page.locator(".lm-MenuBar-item", has_text="File").first.wait_for()
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"hub-{name}.png"))


def menu(page, name: str, item: str):
    page.locator(".lm-MenuBar-item", has_text=name).first.click()
    page.locator(".lm-Menu-item", has_text=item).first.click()


def assignments(page):
    """Open nbgrader's Assignments tab (Nbgrader -> Assignment List) and wait for its lists."""
    menu(page, "Nbgrader", "Assignment List")
    panel = page.locator("#nbgrader-assignment-list")
    panel.wait_for(state="visible")
    return panel


def modal_text(page, expect: str) -> str:
    """The formgrader's result dialog, closed once read; fails with its text unless it says ``expect``."""
    modal = page.locator(".modal.in, .modal.show").first
    modal.wait_for(state="visible", timeout=180_000)
    text = modal.inner_text()
    assert expect in text, f"the formgrader said:\n{text}"
    modal.locator("button:has-text('Close'), button.close").first.click()
    modal.wait_for(state="hidden")
    return text


def test_a_class_through_the_hub(hub, browser):
    """A student fetches, validates and submits 01-forward; the instructor collects, autogrades and
    grades the written answer in the formgrader (in its own tab, through the hub's Services menu);
    the student reads the feedback; then the hub stops and leaves nothing running."""
    steps = {}
    try:
        flow(hub, browser, steps)
    except BaseException:
        for i, context in enumerate(browser.contexts):
            for j, page in enumerate(context.pages):
                shot(page, f"failed-{i}-{j}")
        print(f"screenshots of the failure: {SHOTS}/hub-failed-*.png; the hub's log:\n{hub.log_text()}")
        raise
    print("\n" + "\n".join(f"{s:<45} {d:6.1f} s" for s, d in steps.items()))


def flow(hub, browser, steps):
    t0 = time.monotonic()
    # --- the student: fetch, work, validate, submit ------------------------------------------------
    student = login(browser, hub, STUDENT)
    panel = assignments(student)
    released = panel.locator(f"#released_assignments_list .list_item:has-text('{ASSIGNMENT}')")
    released.wait_for()
    shot(student, "student-assignments")
    released.locator("button:has-text('Fetch')").click()
    fetched = Path(f"/home/{STUDENT}/{COURSE}/{ASSIGNMENT}/{NOTEBOOK}.ipynb")  # path_includes_course
    downloaded = panel.locator(f"#fetched_assignments_list .list_item:has-text('{ASSIGNMENT}')").first
    downloaded.wait_for()
    assert fetched.exists(), f"Fetch shows {ASSIGNMENT} as downloaded but there is no {fetched}"
    script = hub.site.base / "answer.py"
    script.write_text(ANSWER)
    hub.site.users.run(STUDENT, f"python {script} {fetched} "
                                f"{hub.site.python.src / 'solutions' / ASSIGNMENT / (NOTEBOOK + '.ipynb')}",
                       env=hub.env)
    downloaded.locator("a.assignment-notebooks-link").click()  # shows the notebooks
    downloaded.locator("button:has-text('Validate')").click()
    dialog = student.locator(".jp-Dialog").first
    dialog.wait_for(timeout=180_000)
    verdict = dialog.inner_text()
    shot(student, "student-validate")
    assert "Success! Your notebook passes all the tests." in verdict, \
        f"Validate on the filled-in {NOTEBOOK}.ipynb said:\n{verdict}"
    dialog.locator("button").last.click()
    downloaded.locator("button:has-text('Submit')").click()
    submitted = panel.locator(f"#submitted_assignments_list .list_item:has-text('{ASSIGNMENT}')").first
    submitted.wait_for()
    inbound = hub.exchange / COURSE / "inbound"
    assert any(p.name.startswith(f"{STUDENT}+{ASSIGNMENT}+") for p in inbound.iterdir()), \
        f"Submit shows {ASSIGNMENT} as submitted but the exchange's inbound has {os.listdir(inbound)}"
    steps["student: log in, fetch, validate, submit"] = time.monotonic() - t0

    # --- who may not: a student in the formgrader, accounts that course.toml does not list ---------
    t = time.monotonic()
    refused = student.context.new_page().goto(f"{hub.url}/services/{COURSE}/formgrader")
    assert refused.status == 403, f"a student opened the formgrader: HTTP {refused.status} at {refused.url}"
    for user in (OUTSIDER, GRADER):
        page = sign_in(browser, hub, user)
        page.locator("p.login_error").wait_for()
        assert "/hub/login" in page.url, f"{user}, in neither list of course.toml, logged in: {page.url}"
        page.context.close()
    steps["refused: the formgrader to a student, the hub to others"] = time.monotonic() - t

    # --- the instructor: the formgrader in its own tab, from the hub's Services menu ---------------
    t = time.monotonic()
    lab = login(browser, hub, INSTRUCTOR)
    with lab.context.expect_page() as new_tab:
        menu(lab, "File", "Hub Control Panel")
    home = new_tab.value
    home.wait_for_load_state()
    home.click("a.dropdown-toggle:text-is('Services')")
    home.click(f"a.dropdown-item:text-is('{COURSE}')")
    home.wait_for_url(f"**/services/{COURSE}/formgrader**")
    fg = home
    row = fg.locator(f"tr:has-text('{ASSIGNMENT}')").first
    row.wait_for()
    shot(fg, "formgrader")
    row.locator("td.collect a").click()
    modal_text(fg, "Successfully collected")
    row.locator("td.num-submissions a").click()
    fg.wait_for_url(f"**/manage_submissions/{ASSIGNMENT}")
    sub = fg.locator(f"tr:has-text('{STUDENT}')").first
    sub.locator("td.autograde a").click()
    modal_text(fg, "Successfully autograded")
    steps["instructor: formgrader, collect, autograde"] = time.monotonic() - t

    t = time.monotonic()
    fg.goto(f"{hub.url}/services/{COURSE}/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
    fg.locator("td a:has-text('Submission')").first.click()
    score = fg.locator(f"input.score#{WRITTEN}")
    comment = fg.locator(f"textarea#{WRITTEN}-comment")
    # the page fills its fields from the gradebook once loaded, over anything typed before: wait
    # until it has marked the written answer as one to grade by hand
    fg.locator(f"input.score#{WRITTEN}.needs_manual_grade").wait_for()
    for field, value in ((score, SCORE), (comment, COMMENT)):
        field.click()
        field.fill(str(value))
        field.dispatch_event("change")  # what leaving the field does: the formgrader saves on change
    shot(fg, "formgrade")
    from nbgrader.api import Gradebook

    deadline = time.monotonic() + 30
    while True:
        with Gradebook(f"sqlite:///{hub.course_root / 'gradebook.db'}") as gb:
            grade = gb.find_grade(WRITTEN, NOTEBOOK, ASSIGNMENT, STUDENT)
            saved = gb.find_comment(WRITTEN, NOTEBOOK, ASSIGNMENT, STUDENT)
            got = (grade.manual_score, saved.manual_comment)
        if got == (SCORE, COMMENT) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert got == (SCORE, COMMENT), f"the gradebook holds score and comment {got} for {WRITTEN}, " \
                                    f"not what the instructor entered: {(SCORE, COMMENT)}"
    steps["instructor: manual score and comment"] = time.monotonic() - t

    t = time.monotonic()
    fg.goto(f"{hub.url}/services/{COURSE}/formgrader/manage_assignments")
    row = fg.locator(f"tr:has-text('{ASSIGNMENT}')").first
    row.locator("td.generate-feedback a").click()
    modal_text(fg, "Successfully generated feedback")
    row.locator("td.release-feedback a").click()
    modal_text(fg, "Successfully released feedback")
    steps["instructor: generate and release feedback"] = time.monotonic() - t

    # --- the student reads the feedback ------------------------------------------------------------
    t = time.monotonic()
    student.reload()
    student.locator(".lm-MenuBar-item", has_text="File").first.wait_for()
    panel = assignments(student)
    submitted = panel.locator(f"#submitted_assignments_list .list_item:has-text('{ASSIGNMENT}')").first
    submitted.locator("button:has-text('Fetch Feedback')").click()
    submitted.locator("a:has-text('view feedback')").click()
    listing = student.locator(f".jp-DirListing-item:has-text('{NOTEBOOK}.html')")
    listing.wait_for()
    shot(student, "student-feedback")
    feedback = list(Path(f"/home/{STUDENT}/{COURSE}/{ASSIGNMENT}/feedback").glob(f"*/{NOTEBOOK}.html"))
    assert feedback, f"the file browser shows {NOTEBOOK}.html but the student's feedback folder has none"
    assert COMMENT in feedback[0].read_text(), f"{feedback[0]} does not show the instructor's comment"
    steps["student: fetch and open feedback"] = time.monotonic() - t
    for context in browser.contexts:
        context.close()

    # --- stopping the hub stops everything it started ----------------------------------------------
    t = time.monotonic()
    hub.stop()
    deadline = time.monotonic() + 20
    while hub.leftovers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not hub.leftovers(), "after the hub stopped:\n" + "\n".join(hub.leftovers())
    steps["stop the hub"] = time.monotonic() - t
