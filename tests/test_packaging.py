"""pyproject.toml, requirements.txt and environment.yml list one dependency set, and the
README's test command is the one CI runs."""

import re
import tomllib
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str) -> tuple[str, str]:
    """('numpy', '>=1.24') from 'numpy>=1.24'; names normalised as pip does."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(?:\[[\w,]+\])?\s*((?:[<>=!~]=?[^,]+,?)*)\s*", req)
    assert m, f"cannot parse requirement {req!r}"
    return re.sub(r"[-_.]+", "-", m.group(1)).lower(), m.group(2).replace(" ", "")


def pyproject_set() -> dict:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    return dict(_norm(r) for r in reqs)


def requirements_set() -> dict:
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith(("-e", "./")):
            continue
        name, spec = _norm(line)
        out[name] = spec
    return out


def environment_set() -> dict:
    """A small reader for our environment.yml (no YAML dependency needed)."""
    out = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        line = line.split("#")[0].rstrip()
        m = re.fullmatch(r"\s*-\s+(.+)", line)
        if not m or m.group(1).startswith(("pip:", "-e", "./")) or m.group(1) in ("pip", "conda-forge"):
            continue
        name, spec = _norm(m.group(1))
        if name != "python":
            out[name] = spec
    return out


def test_three_dependency_lists_agree():
    py, req, env = pyproject_set(), requirements_set(), environment_set()
    assert py == req, f"pyproject.toml vs requirements.txt differ: {set(py.items()) ^ set(req.items())}"
    assert py == env, f"pyproject.toml vs environment.yml differ: {set(py.items()) ^ set(env.items())}"


def test_required_packages_present_with_lower_bounds():
    req = requirements_set()
    for name in ("jupyterlab", "notebook", "nbgrader", "ipywidgets", "ipympl", "numpy", "matplotlib",
                 "sympy", "scikit-learn", "tqdm", "pytest", "torch"):
        assert name in req, f"{name} missing from requirements.txt"
    assert req["nbgrader"] == ">=0.9.6" and req["jupyterlab"].startswith(">=4") and req["notebook"].startswith(">=7")
    # pins only where this machine needs one (the CPU build of torch)
    assert [n for n, s in req.items() if s.startswith("==")] == ["torch"]


def test_requirements_install_the_package_itself_and_its_jupyterlab_settings():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert "-e ." in lines and "./jupyter-config" in lines
    env = (ROOT / "environment.yml").read_text()
    assert "- -e ." in env and "- ./jupyter-config" in env


def test_jupyterlab_settings_override_is_installed():
    import json
    import sys

    shipped = json.loads((ROOT / "jupyter-config" / "overrides.json").read_text())
    assert shipped["@jupyterlab/apputils-extension:kernels-settings"]["commsOverSubshells"] == "disabled"
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.exists(), f"{installed} missing: pip install -r requirements.txt installs it"
    assert json.loads(installed.read_text()) == shipped


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:bash|sh)?\n(.*?)\n```", quick, re.S)


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one():
    cmds = readme_commands()
    assert len(cmds) == 2, f"the quick start must show exactly two commands, found {cmds}"
    assert all("\n" not in c for c in cmds), "each quick-start command is one copy-paste line"
    course, tests = cmds
    assert "jupyter lab" in course and "notebooks" in course and "pip install" in course
    assert "pytest" in tests and "pip install" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines(), ".ci/run must call the README's test command verbatim"


def test_package_metadata_and_console_script():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["backprop-lab"] == "backprop_lab.cli:main"
    import backprop_lab

    assert backprop_lab.__version__ == data["project"]["version"]


def test_python_requirement_matches_environment():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    env = (ROOT / "environment.yml").read_text()
    assert f"python{data['project']['requires-python']}" in env.replace(" ", "")
