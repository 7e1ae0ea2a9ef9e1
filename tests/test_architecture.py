"""The package's layers import one way (docs/architecture.md):

    core        activations, losses, mlp, gradcheck, datasets, examples (and their helpers)
    symbolic    symbolic, equivalence and their helpers         -> core
    lecture     plots, widgets, stepthrough                     -> core
    grading     the checks and the kernel's guard               -> core (symbolic only inside a function)
    instructor  release, pre-screen, hardening, grading runs    -> everything below
    cli         the command line                                -> everything

Inside the instructor layer, the pipeline's stages import one way too: catalogues, release,
collect, pre-screen, hardening, reports, grading runs; a stage imports only the stages before it and
the modules every stage shares (the course's layout, its graded cells).

Checked on the source (every import, also those inside functions), and on a real import:
importing the package has no side effects and loads only the core; a student's kernel
(the package and its grading checks) never loads the instructor's tooling or the lecture's.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "backprop_lab"

LAYERS = {
    "core": ("", "_fence", "_validation", "_argtypes", "_timelimit", "activations", "losses", "mlp", "trace",
             "training", "gradcheck", "datasets", "examples"),
    "symbolic": ("_course_symbols", "equivalence", "symbolic"),
    "lecture": ("stepthrough", "plots", "widgets"),
    "grading": ("grading",),
    "instructor": ("instructor",),
    "cli": ("cli", "__main__"),
}
#: what each layer may import at the top of a module, and inside a function
ALLOWED = {
    "core": {"core"},
    "symbolic": {"core", "symbolic"},
    "lecture": {"core", "lecture"},
    "grading": {"core", "grading"},
    "instructor": {"core", "symbolic", "grading", "instructor"},
    "cli": set(LAYERS),
}
ALLOWED_LAZY = {**ALLOWED, "grading": {"core", "grading", "symbolic"}}  # SymPy checks load SymPy when used

#: instructor/ by pipeline stage, in import order: a stage imports only itself, the ones before it
#: and the shared modules
STAGES = ("catalogues", "release", "collect", "prescreen", "hardening", "reports", "runs")
SHARED = ("course", "execute")  # import no stage
REGISTRY = ("", "commands")  # the package and the command registry, which gathers every stage's commands


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer of a module named relative to the package (``""`` is the package itself)."""
    top = module.split(".")[0]
    for layer, names in LAYERS.items():
        if top in names:
            return layer
    raise AssertionError(f"backprop_lab.{module} is in no layer: add it to LAYERS and docs/architecture.md")


def _submodule(package: str, name: str) -> str:
    """``from package import name``: the module it names (``name`` itself, or else the package)."""
    folder = PACKAGE.joinpath(*package.split(".")) if package else PACKAGE
    is_module = (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()
    return f"{package}.{name}".lstrip(".") if is_module else package


def imports(path: Path):
    """``(imported module relative to the package, line, inside a function)`` for every import of
    ``path`` that names a module of the package."""
    module = _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    tree = ast.parse(path.read_text())
    lazy_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(f)}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1] if node.level > 1 else package
            target = ".".join([*base, node.module] if node.module else base)
            names = [target] if node.module else [_submodule(target, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("backprop_lab"):
            names = [node.module.removeprefix("backprop_lab").lstrip(".")]
        elif isinstance(node, ast.Import):
            names = [a.name.removeprefix("backprop_lab").lstrip(".") for a in node.names
                     if a.name.split(".")[0] == "backprop_lab"]
        for name in names:
            yield name, node.lineno, id(node) in lazy_nodes


SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(PACKAGE)) for p in SOURCES])
def test_every_import_points_down(path):
    here = layer_of(_module_name(path))
    for name, line, lazy in imports(path):
        there = layer_of(name)
        allowed = (ALLOWED_LAZY if lazy else ALLOWED)[here]
        assert there in allowed, (f"{path.relative_to(PACKAGE)}:{line} ({here}) imports backprop_lab.{name} "
                                  f"({there}){' inside a function' if lazy else ''}")


def stage_of(module: str) -> str:
    """The stage of a module of ``instructor/`` (named relative to ``instructor``), or ``shared``
    or ``registry``."""
    top = module.split(".")[0]
    if top in STAGES:
        return top
    if top in SHARED:
        return "shared"
    if top in REGISTRY:
        return "registry"
    raise AssertionError(f"backprop_lab.instructor.{module} is in no stage: add it to STAGES, SHARED or REGISTRY "
                         "and to docs/architecture.md")


INSTRUCTOR = [p for p in SOURCES if layer_of(_module_name(p)) == "instructor"]


@pytest.mark.parametrize("path", INSTRUCTOR, ids=[str(p.relative_to(PACKAGE)) for p in INSTRUCTOR])
def test_instructor_stages_import_one_way(path):
    here = stage_of(_module_name(path).removeprefix("instructor").lstrip("."))
    allowed = ({"shared"} if here == "shared" else {"shared", "registry", *STAGES} if here == "registry"
               else {"shared", *STAGES[:STAGES.index(here) + 1]})
    for name, line, lazy in imports(path):
        if layer_of(name) != "instructor":
            continue
        there = stage_of(name.removeprefix("instructor").lstrip("."))
        assert there in allowed, (f"{path.relative_to(PACKAGE)}:{line} ({here}) imports backprop_lab.{name} "
                                  f"({there}){' inside a function' if lazy else ''}; stages import only the "
                                  f"ones before them: {', '.join(STAGES)}")


def test_no_import_cycles():
    graph = {}
    for path in SOURCES:
        graph.setdefault(_module_name(path), set()).update(
            name for name, _, lazy in imports(path) if not lazy and name != _module_name(path))
    done, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(node):] + [node]))
        if node in done:
            return
        stack.append(node)
        for dep in graph.get(node, ()):
            if dep in graph:
                visit(dep)
        stack.pop()
        done.add(node)

    for node in graph:
        visit(node)


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout.split()
    return set(out)


def test_importing_the_package_loads_only_the_core_and_has_no_side_effects():
    loaded = _loaded_after("import backprop_lab\nfrom backprop_lab import MLP, activations, losses, gradcheck")
    ours = {m.removeprefix("backprop_lab").lstrip(".") for m in loaded if m.split(".")[0] == "backprop_lab"}
    assert {layer_of(m) for m in ours} == {"core"}, sorted(ours)
    assert not {"sympy", "matplotlib", "nbgrader", "IPython"} & {m.split(".")[0] for m in loaded}


def test_a_students_kernel_loads_neither_the_instructor_nor_the_lecture_layer():
    loaded = _loaded_after("import backprop_lab\nimport backprop_lab.grading\n"
                           "from backprop_lab.grading import task")
    layers = {layer_of(m.removeprefix("backprop_lab").lstrip(".")) for m in loaded if m.split(".")[0] == "backprop_lab"}
    assert layers == {"core", "grading"}, layers
