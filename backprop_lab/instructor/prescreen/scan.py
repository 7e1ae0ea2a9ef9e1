"""Read a submission's code before grading it: what does it reach for?

``backprop-lab pre-screen`` (:mod:`.prescreen`) and the integrity report flag, with cell and
line, answer cells that use

* a **reference** of the course library that the reference fence refuses during the test of
  the task (:mod:`backprop_lab._fence`), by any path the code spells: a setup cell's import,
  an alias, ``getattr`` with a string, a method of a network the code builds;
* an interface that changes how later cells run or what the tests see (IPython's
  transformers, events and shell methods, trace functions, ``sys.modules``, ``builtins``,
  ``importlib``, ``__import__``, ``exec``, code objects, ``ctypes``, processes, threads);
* a library whose functions do a task (PyTorch's autograd, ``scipy.special.expit``, ...).

Nothing is executed: the code is parsed (IPython's magics turned into Python first) and its
names resolved against the real ``backprop_lab``. A flag is a reason to read the answer, not a
verdict; the verdict is the grading, where the fence and the guard act.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass

from ... import _fence

__all__ = ["Flag", "scan", "library_names", "allowed_in", "REFERENCE", "TAMPERING", "EQUIVALENT"]

REFERENCE, TAMPERING, EQUIVALENT = "reference", "tampering", "equivalent"


@dataclass(frozen=True)
class Flag:
    """One finding of the scan: ``line`` of the cell (1-based), its ``kind``, and why."""

    line: int
    kind: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.why}"


# --- what the scan looks for ---------------------------------------------------------------

_IPYTHON_ATTRS = {
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager", "ast_transformers",
    "set_custom_exc", "showtraceback", "_showtraceback", "showsyntaxerror", "run_cell", "run_cell_async",
    "run_code", "run_ast_nodes", "transform_cell", "shell_handlers", "control_handlers", "do_execute",
    "display_pub", "displayhook", "excepthook", "custom_exceptions", "CustomTB", "InteractiveTB",
    "ast_node_interactivity", "register_magic_function", "user_ns", "user_global_ns", "iopub_socket",
}
_SYS_ATTRS = {"settrace", "setprofile", "addaudithook", "modules", "meta_path", "path_hooks", "_getframe",
              "excepthook", "displayhook", "breakpointhook", "_current_frames", "setrecursionlimit"}
_DUNDERS = {"__code__", "__globals__", "__closure__", "__defaults__", "__kwdefaults__", "__subclasses__",
            "__bases__", "__mro__", "__builtins__", "__import__", "__dict__", "__getattribute__"}
_LAZY = {"__array__", "__array_ufunc__", "__array_function__", "__array_interface__", "__float__", "__eq__",
         "__index__", "__getattr__", "__del__"}
_CALLS = {"exec": "runs code from a string (exec)", "eval": "evaluates code from a string (eval)",
          "compile": "compiles code from a string", "__import__": "imports a module by name (__import__)",
          "globals": "reaches the notebook's namespace (globals())", "vars": "reaches a namespace (vars())",
          "get_ipython": "reaches IPython's shell (get_ipython())", "breakpoint": "starts a debugger"}
_MODULES = {
    "builtins": "replaces or reaches builtins", "importlib": "imports modules by name (importlib)",
    "imp": "imports modules by name (imp)", "ctypes": "reaches memory directly (ctypes)",
    "_ctypes": "reaches memory directly (ctypes)", "gc": "walks the interpreter's objects (gc)",
    "inspect": "inspects frames and source (inspect)", "threading": "starts threads",
    "_thread": "starts threads", "multiprocessing": "starts processes", "concurrent": "starts threads or processes",
    "subprocess": "starts processes", "_posixsubprocess": "starts processes", "signal": "changes signal handling",
    "atexit": "registers exit handlers", "marshal": "loads compiled code (marshal)", "dis": "reads bytecode",
    "types": "builds functions or code objects (types)", "IPython": "reaches IPython's internals",
    "ipykernel": "reaches the kernel's internals", "socket": "opens network connections",
    "urllib": "opens network connections", "requests": "opens network connections",
    "http": "opens network connections", "ftplib": "opens network connections", "pickle": "loads pickled objects",
    "sys": None,  # only some of sys: see _SYS_ATTRS
    "os": None,   # only some of os: see _OS_ATTRS
}
_OS_ATTRS = {"system", "fork", "forkpty", "execv", "execve", "execl", "execlp", "execvp", "spawnv", "spawnl",
             "posix_spawn", "popen", "kill", "killpg", "_exit", "setsid"}
_FRAMEWORKS = {"torch", "tensorflow", "jax", "jaxlib", "keras", "autograd", "mxnet", "paddle", "theano",
               "chainer", "micrograd", "tinygrad"}
#: functions of other libraries that do a task of the course
_EQUIVALENTS = {
    "scipy.special.expit": "sigmoid", "scipy.special.softmax": "softmax", "scipy.special.log_softmax": "softmax",
    "scipy.special.logsumexp": "cross-entropy", "scipy.special.xlogy": "cross-entropy",
    "scipy.optimize.approx_fprime": "the numerical gradient", "scipy.optimize.check_grad": "the gradient check",
    "scipy.differentiate": "the numerical gradient", "sklearn.preprocessing": "standardisation or one-hot",
    "sklearn.neural_network": "the network", "sklearn.metrics.log_loss": "cross-entropy",
    "sklearn.utils.gen_batches": "mini-batches", "sklearn.utils.shuffle": "mini-batches",
    "graphlib": "topological order", "networkx": "graph algorithms (topological order, paths)",
}
#: methods that only the library's network has among the objects a task hands over
_NETWORK_METHODS = {"fit", "step", "trace", "updated_weights"}
_FOLDERS = re.compile(r"\bsolutions/|gradebook\.db|\bautograded/|\bsubmitted/|\bfeedback/")
_SAFE_MAGICS = {"matplotlib", "time", "timeit", "precision", "pprint", "who", "whos", "config_inline"}


# --- the library's references, by the names a notebook can use ----------------------------

def _is_reference(obj) -> str | None:
    """The public name of a fenced reference, if ``obj`` is one: a function, a method (bound or
    not), or an activation or loss object and its methods (which call their functions)."""
    for candidate in (obj, getattr(obj, "__self__", None)):
        if candidate is None or isinstance(candidate, type):
            continue
        for inner in (candidate, getattr(candidate, "g", None), getattr(candidate, "_value", None)):
            func = getattr(inner, "__func__", inner)
            code = getattr(getattr(func, "fget", func), "__code__", None)
            if code is not None and code in _fence._REGISTRY:
                return _fence._REGISTRY[code]
    return None


#: library functions that only look an object up by name: their result is resolved too
_LOOKUPS = ("get_activation", "get_loss")
_CALL = re.compile(r"^(\w+)(\((?:'[\w ]*')?\))$")


def _resolve(path: str):
    """The object that a dotted ``backprop_lab...`` path names (or ``None``). A segment
    ``Name()`` is an instance of the class ``Name`` (its class stands for it), and
    ``get_loss('name')`` the object that lookup returns."""
    parts = path.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except ImportError:
        return None
    for k, part in enumerate(parts[1:], start=1):
        call = _CALL.match(part)
        name = call.group(1) if call else part
        try:
            obj = getattr(obj, name)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[:k] + [name]))
            except ImportError:
                return None
        if call and call.group(2) != "()" and name in _LOOKUPS:
            try:
                obj = obj(call.group(2)[2:-2])
            except Exception:
                return None
    return obj


def library_names(sources) -> dict[str, str]:
    """Names that code cells bind to the course library (``{"ref": "backprop_lab.activations"}``),
    from their imports and plain assignments; used to resolve the answers' names."""
    names: dict[str, str] = {}
    for source in sources:
        tree = _parse(source)
        if tree is not None:
            _Resolver(names).visit(tree)
    return names


def allowed_in(test_source: str) -> tuple[str, ...]:
    """The references a test cell's ``task(..., allow=[...])`` lets the answer use."""
    tree = _parse(test_source)
    out: list[str] = []
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "task":
            for kw in node.keywords:
                if kw.arg == "allow" and isinstance(kw.value, (ast.List, ast.Tuple)):
                    out += [e.value for e in kw.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return tuple(out)


class _Resolver(ast.NodeVisitor):
    """Follows imports and assignments of library objects (in source order)."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def path(self, node) -> str | None:
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.path(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func = self.path(node.func)
            if func is None:
                if getattr(node.func, "id", None) == "getattr" and len(node.args) >= 2 and \
                        isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                    base = self.path(node.args[0])
                    return f"{base}.{node.args[1].value}" if base else None
                return None
            obj = _resolve(func)
            if isinstance(obj, type):          # a library class built: its instance
                return f"{func}()"
            if isinstance(getattr(obj, "__self__", None), type):  # a classmethod: an instance too
                return f"{func.rsplit('.', 1)[0]}()"
            if func.endswith(".copy"):
                return func.rsplit(".", 1)[0]
            if getattr(obj, "__name__", None) in _LOOKUPS and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                return f"{func}({node.args[0].value!r})"
            return None
        return None

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] in ("backprop_lab", "numpy"):
                top = alias.name.split(".")[0]
                self.names[alias.asname or top] = alias.name if alias.asname else top

    def visit_ImportFrom(self, node):
        if node.module and node.module.split(".")[0] in ("backprop_lab", "numpy") and not node.level:
            for alias in node.names:
                self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def visit_Assign(self, node):
        self.generic_visit(node)
        path = self.path(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if path:
                    self.names[target.id] = path
                else:
                    self.names.pop(target.id, None)


def _parse(source: str):
    """The AST of a cell, with IPython's magics and shell escapes turned into Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or the cell unreadable to it: parse it as it is
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


# --- the scan ------------------------------------------------------------------------------

def scan(source: str, names: dict[str, str] | None = None, allow=()) -> list[Flag]:
    """What an answer cell reaches for.

    Parameters
    ----------
    source : str
        The cell's code.
    names : dict, optional
        Library names bound by other cells (:func:`library_names` of the setup cells).
    allow : iterable of str
        References the task allows (:func:`allowed_in` of its test cell).

    Returns
    -------
    list of Flag
        One per line and reason, in line order.
    """
    flags: dict[tuple, Flag] = {}
    lines = source.splitlines()

    def flag(node_or_line, kind, why):
        line = node_or_line if isinstance(node_or_line, int) else getattr(node_or_line, "lineno", 1)
        flags.setdefault((line, why), Flag(line, kind, why))

    for k, text in enumerate(lines, start=1):
        stripped = text.lstrip()
        if stripped.startswith("!"):
            flag(k, TAMPERING, "runs a shell command (!)")
        elif stripped.startswith("%"):
            magic = re.match(r"%%?(\w+)", stripped)
            if magic and magic.group(1) not in _SAFE_MAGICS:
                flag(k, TAMPERING, f"runs the IPython magic %{magic.group(1)}")
        if _FOLDERS.search(text):
            flag(k, TAMPERING, "names a grading folder")
    tree = _parse(source)
    if tree is None:
        return sorted(flags.values(), key=lambda f: f.line)
    params = {a.arg for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
              for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs}
    resolver = _Resolver({k: v for k, v in (names or {}).items() if k not in params})
    allow = tuple(allow)
    magic_lines = {k for k, t in enumerate(lines, start=1) if t.lstrip().startswith(("%", "!"))}

    for node in _in_order(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            resolver.visit(node)
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                top = mod.split(".")[0]
                if top in _FRAMEWORKS:
                    flag(node, EQUIVALENT, f"imports {top}, whose autograd does the tasks of this course")
                elif _MODULES.get(top):
                    flag(node, TAMPERING, _MODULES[top])
                if top == "backprop_lab" and ".grading" in mod or mod.endswith("_fence"):
                    flag(node, TAMPERING, f"imports the grading machinery ({mod})")
                if isinstance(node, ast.ImportFrom):
                    for a in node.names:
                        _equivalent(f"{mod}.{a.name}", node, flag)
                        if top == "sys" and a.name in _SYS_ATTRS:
                            flag(node, TAMPERING, f"imports sys.{a.name}")
                else:
                    _equivalent(mod, node, flag)
        elif isinstance(node, ast.Assign):
            resolver.visit_Assign(node)
            for target in node.targets:
                _assignment(target, resolver, flag)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            _assignment(node.target, resolver, flag)
        elif isinstance(node, ast.Attribute):
            _attribute(node, resolver, flag, allow)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            path = resolver.names.get(node.id)
            if path:
                _library_use(path, node, flag, allow)
            if node.id in ("__builtins__", "__import__"):
                flag(node, TAMPERING, f"reaches {node.id}")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None)
            if name in _CALLS and not (name == "get_ipython" and node.lineno in magic_lines):
                flag(node, TAMPERING, _CALLS[name])
            if name in ("getattr", "setattr", "delattr", "hasattr") and len(node.args) >= 2:
                arg = node.args[1]
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    flag(node, TAMPERING, f"{name} with a computed name")
                elif arg.value.startswith("__") or arg.value in _IPYTHON_ATTRS:
                    flag(node, TAMPERING, f"{name}(..., {arg.value!r})")
                if name in ("setattr", "delattr"):
                    base = resolver.path(node.args[0])
                    if base or getattr(node.args[0], "id", "") in ("np", "numpy", "builtins", "sys"):
                        flag(node, TAMPERING, f"{name} on {base or node.args[0].id}")
                path = resolver.path(node)
                if path:
                    _library_use(path, node, flag, allow)
            if name == "task":
                flag(node, TAMPERING, "calls the grading's task() in an answer")
            if isinstance(node.func, ast.Call):  # get_activation("softmax")(Z)
                path = resolver.path(node.func)
                if path:
                    _library_use(path, node, flag, allow)
            method = getattr(node.func, "attr", None)
            if method in _NETWORK_METHODS and getattr(node.func.value, "id", None) != "self" and \
                    not resolver.path(node.func) and not any(f"MLP.{method}".startswith(a) for a in allow):
                flag(node, REFERENCE, f"calls .{method}() of an object it was given: on a network of the course "
                                      f"library that is the reference MLP.{method}, which the fence refuses")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in _LAZY:
            flag(node, TAMPERING, f"defines {node.name} (an answer that computes when the test looks at it)")
    return sorted(flags.values(), key=lambda f: f.line)


def _in_order(tree):
    """Every node, parents before children, in source order (so imports resolve first)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _equivalent(path: str, node, flag) -> None:
    for prefix, task in _EQUIVALENTS.items():
        if path == prefix or path.startswith(prefix + "."):
            flag(node, EQUIVALENT, f"uses {path}, another library's {task}")


def _assignment(target, resolver, flag) -> None:
    """Assigning into a library, NumPy, builtins or sys: replacing what the tests rely on."""
    if isinstance(target, (ast.Attribute, ast.Subscript)):
        root = target
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        root_name = getattr(root, "id", None)
        path = resolver.path(target.value) if isinstance(target, ast.Attribute) else None
        if (root_name in ("np", "numpy") and isinstance(target.value, (ast.Name, ast.Attribute))) or \
                (path and path.startswith("numpy") and "(" not in path):
            flag(target, TAMPERING, "replaces a NumPy function")
        elif path and "(" not in path:  # a module or class of the library, not one of its objects
            flag(target, TAMPERING, "replaces part of backprop_lab")
        elif root_name in ("builtins", "__builtins__", "sys", "os"):
            flag(target, TAMPERING, f"changes {root_name}")
        if isinstance(target, ast.Attribute) and target.attr in _DUNDERS | {"__class__"}:
            flag(target, TAMPERING, f"sets {target.attr}")
    elif isinstance(target, ast.Name) and target.id in ("__builtins__", "get_ipython", "task"):
        flag(target, TAMPERING, f"rebinds {target.id}")


def _attribute(node, resolver, flag, allow) -> None:
    if node.attr in _IPYTHON_ATTRS:
        flag(node, TAMPERING, f"reaches IPython's or the kernel's {node.attr}")
    if node.attr in _DUNDERS:
        flag(node, TAMPERING, f"reaches {node.attr}")
    if node.attr == "events" or node.attr == "register" and getattr(node.value, "attr", "") == "events":
        flag(node, TAMPERING, "registers an IPython event callback")
    base = getattr(node.value, "id", None)
    if base == "sys" and node.attr in _SYS_ATTRS:
        flag(node, TAMPERING, f"uses sys.{node.attr}")
    if base == "os" and node.attr in _OS_ATTRS:
        flag(node, TAMPERING, f"uses os.{node.attr}")
    if base in ("threading",) and node.attr in ("settrace", "setprofile"):
        flag(node, TAMPERING, f"uses threading.{node.attr}")
    if base in ("scipy", "sklearn") or (isinstance(node.value, ast.Attribute) and
                                        getattr(node.value.value, "id", None) in ("scipy", "sklearn")):
        chain = _dotted(node)
        if chain:
            _equivalent(chain, node, flag)
    if isinstance(node.ctx, ast.Load):
        path = resolver.path(node)
        if path:
            _library_use(path, node, flag, allow)


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _library_use(path: str, node, flag, allow) -> None:
    """Flag a path of the course library that is (or holds) a fenced reference."""
    if path.split(".")[:2] in (["backprop_lab", "grading"], ["backprop_lab", "_fence"]):
        flag(node, TAMPERING, f"reaches the grading machinery ({path})")
        return
    name = _is_reference(_resolve(path))
    if name and not any(name == a or name.startswith(a + ".") for a in allow):
        flag(node, REFERENCE, f"calls the course library's reference {name} ({path}), which the fence refuses "
                              "while the task is tested")
