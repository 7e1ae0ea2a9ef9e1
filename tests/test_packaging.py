"""Two dependency sets, each listed alike everywhere: the course's (requirements.txt,
environment.yml, pyproject.toml's dependencies and `course` extra) and the tests' on top of it
(requirements-test.txt, deploy/requirements.txt, the `hub` and `test` extras); and the
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


def pyproject_set(*groups: str) -> dict:
    """The requirements of pyproject.toml: ``"dependencies"`` and the named extras."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = []
    for group in groups:
        reqs += data["dependencies"] if group == "dependencies" else data["optional-dependencies"][group]
    return dict(_norm(r) for r in reqs)


def requirements_lines(name: str) -> list[str]:
    """A requirements file's lines, without comments and blank lines."""
    lines = [line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines()]
    return [line for line in lines if line]


def requirements_set(name: str = "requirements.txt", follow: bool = False) -> dict:
    """The packages a requirements file names itself (or, with ``follow``, with those of the files
    it includes with ``-r``, relative to it as pip reads them); its local paths are left out."""
    out = {}
    for line in requirements_lines(name):
        if line.startswith("-r"):
            if follow:
                out.update(requirements_set(str((Path(name).parent / line[2:].strip())), follow=True))
            continue
        if line.startswith(("-e", "./")):
            continue
        n, spec = _norm(line)
        out[n] = spec
    return out


def environment_set() -> dict:
    """A small reader for our environment.yml (no YAML dependency needed): the conda packages
    and the PyPI ones of its ``pip:`` section, but for the local paths."""
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


TEST_TOOLS = ("pytest", "hypothesis", "torch", "playwright")


def test_the_course_set_is_the_same_in_requirements_pyproject_and_environment():
    py, req, env = pyproject_set("dependencies", "course"), requirements_set(), environment_set()
    assert py == req, f"pyproject.toml vs requirements.txt differ: {set(py.items()) ^ set(req.items())}"
    assert py == env, f"pyproject.toml vs environment.yml differ: {set(py.items()) ^ set(env.items())}"


def test_the_test_set_includes_the_course_set_and_matches_pyproject():
    lines = requirements_lines("requirements-test.txt")
    assert "-r requirements.txt" in lines and "-r deploy/requirements.txt" in lines
    assert requirements_set("requirements-test.txt") == pyproject_set("test")
    assert requirements_set("deploy/requirements.txt") == pyproject_set("hub")
    everything = requirements_set("requirements-test.txt", follow=True)
    assert everything == pyproject_set("dependencies", "course", "hub", "test")


def test_the_course_set_installs_no_test_tool():
    """Neither requirements.txt nor anything it pulls in (the installed packages' own
    requirements, followed to the end) is a test tool: a student's install gets no torch."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement

    def deps(name):
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            return []  # not installed here (an optional platform package): nothing to follow
        out = []
        for r in map(Requirement, reqs):
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                out.append(re.sub(r"[-_.]+", "-", r.name).lower())
        return out

    chain = {name: [name] for name in requirements_set()}
    todo = list(chain)
    while todo:
        name = todo.pop()
        for dep in deps(name):
            if dep not in chain:
                chain[dep] = chain[name] + [dep]
                todo.append(dep)
    pulled = {tool: " -> ".join(chain[tool]) for tool in TEST_TOOLS if tool in chain}
    assert not pulled, f"requirements.txt installs test tools: {pulled}"
    assert len(chain) > 50, "the walk found too few packages to mean anything"  # jupyterlab alone has more


def test_required_packages_present_with_lower_bounds():
    course, tests = requirements_set(), requirements_set("requirements-test.txt")
    for name in ("jupyterlab", "notebook", "nbgrader", "ipywidgets", "ipympl", "numpy", "matplotlib",
                 "sympy", "scikit-learn", "tqdm"):
        assert name in course, f"{name} missing from requirements.txt"
    for name in TEST_TOOLS:
        assert name in tests, f"{name} missing from requirements-test.txt"
    assert course["nbgrader"] == ">=0.9.6" and course["jupyterlab"].startswith(">=4")
    assert course["notebook"].startswith(">=7")
    # pins only where this machine needs one (the CPU build of torch, only for tests)
    everything = requirements_set("requirements-test.txt", follow=True)
    assert [n for n, s in everything.items() if s.startswith("==")] == ["torch"]


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
    assert "jupyter lab" in course and "notebooks" in course and "pip install -r requirements.txt " in course
    assert "pytest" in tests and "pip install -r requirements-test.txt " in tests
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
