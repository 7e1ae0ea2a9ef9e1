"""deploy/jupyterhub_config.py, read as JupyterHub reads it: what course.toml says becomes the
hub's users, nbgrader's groups, the formgrader service and who may open it. (tests/test_hub.py
runs the hub itself, with real users, in a browser.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
COURSE = '''course_id = "nn101"
grader = "grader-nn101"
course_root = "/home/grader-nn101/nn101"
instructors = ["ada", "alan"]
students = ["s1", "s2", "s3"]
formgrader_port = 9123
'''


def hub_config(tmp_path, monkeypatch, text: str):
    course = tmp_path / "course.toml"
    course.write_text(text)
    monkeypatch.setenv("BACKPROP_LAB_HUB_COURSE", str(course))
    return PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "deploy")).load_config()


def test_the_course_file_makes_the_hub_s_users_groups_and_formgrader(tmp_path, monkeypatch):
    c = hub_config(tmp_path, monkeypatch, COURSE)
    assert c.Authenticator.allowed_users == {"ada", "alan", "s1", "s2", "s3"}
    assert c.Authenticator.allow_existing_users is False, "the lists alone say who may log in"
    assert c.JupyterHub.load_groups == {"nbgrader-nn101": {"users": ["s1", "s2", "s3"]},
                                        "formgrade-nn101": {"users": ["ada", "alan", "grader-nn101"]}}
    (service,) = c.JupyterHub.services
    assert (service["name"], service["user"], service["cwd"], service["url"]) == \
        ("nn101", "grader-nn101", "/home/grader-nn101/nn101", "http://127.0.0.1:9123")
    assert "--ServerApp.default_url=/formgrader" in service["command"], "the Services link opens the formgrader"
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert roles["nn101-graders"]["groups"] == ["formgrade-nn101"]
    assert roles["nn101-graders"]["scopes"] == ["access:services!service=nn101"]
    assert roles["nn101-formgrader"]["services"] == ["nn101"]
    local = ROOT / "deploy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        assert c.ConfigurableHTTPProxy.command == [str(local)]


def test_a_course_file_without_a_key_says_which(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"course\.toml does not set grader, students"):
        hub_config(tmp_path, monkeypatch, "\n".join(line for line in COURSE.splitlines()
                                                    if not line.startswith(("grader", "students"))))
