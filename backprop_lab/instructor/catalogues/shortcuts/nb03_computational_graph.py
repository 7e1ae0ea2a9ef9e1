"""Shortcuts of notebook 3, *The computational graph* (``03-computational-graph/computational_graph``)."""

import textwrap

from . import Shortcut

NB = "03-computational-graph/computational_graph"

# the operations of Value, with local derivatives that come from somewhere other than the student's calculus:
# ``_make(f, parents, op)`` is the only line that differs between the two shortcuts below
_VALUE_OPERATIONS = """
    @staticmethod
    def _lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        return Value._make(lambda a, b: a + b, (self, Value._lift(other)), "+")

    def __mul__(self, other):
        return Value._make(lambda a, b: a * b, (self, Value._lift(other)), "*")

    def __pow__(self, c):
        return Value._make(lambda a: a ** c, (self,), "**")

    def __truediv__(self, other):
        return Value._make(lambda a, b: a / b, (self, Value._lift(other)), "/")

    def __neg__(self):
        return Value._make(lambda a: -a, (self,), "neg")

    def __sub__(self, other):
        return Value._make(lambda a, b: a - b, (self, Value._lift(other)), "-")

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value._lift(other) - self

    def __rtruediv__(self, other):
        return Value._lift(other) / self
"""

_FINITE_DIFFERENCES = """
    @staticmethod
    def _make(f, parents, op):
        # the node f(parents' data), its local derivatives by central differences instead of calculus
        xs, h = [p.data for p in parents], 1e-6
        local = []
        for k in range(len(xs)):
            up, down = list(xs), list(xs)
            up[k] += h
            down[k] -= h
            local.append((f(*up) - f(*down)) / (2 * h))
        return Value(f(*xs), parents, local, op)

    def exp(self):
        return Value._make(math.exp, (self,), "exp")

    def tanh(self):
        return Value._make(math.tanh, (self,), "tanh")

    def sigmoid(self):
        return Value._make(lambda x: 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x)),
                           (self,), "sigmoid")
""" + _VALUE_OPERATIONS

_TORCH_LOCAL = """
    @staticmethod
    def _make(f, parents, op):
        # the node f(parents' data), its local derivatives by PyTorch's autograd
        import torch
        xs = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in parents]
        out = f(*xs)
        local = torch.autograd.grad(out, xs, allow_unused=True)
        return Value(float(out), parents, [0.0 if g is None else float(g) for g in local], op)

    def exp(self):
        import torch
        return Value._make(torch.exp, (self,), "exp")

    def tanh(self):
        import torch
        return Value._make(torch.tanh, (self,), "tanh")

    def sigmoid(self):
        import torch
        return Value._make(torch.sigmoid, (self,), "sigmoid")
""" + _VALUE_OPERATIONS



def _code(*parts: str) -> str:
    """One answer from parts written at different indentations."""
    return "\n".join(textwrap.dedent(part).strip("\n") for part in parts)


_COLLECT = """
nodes, stack = {id(root): root}, [root]
while stack:
    for p in stack.pop().parents:
        if id(p) not in nodes:
            nodes[id(p)] = p
            stack.append(p)
"""

_MAZUR_LEAVES = """
w_nodes, b_nodes = [Value(v) for v in w], [Value(v) for v in b]
"""

SHORTCUTS = [
    Shortcut("graph-value-finite-differences", NB, "Value", _FINITE_DIFFERENCES, ("test_Value",), None,
             "Lets central differences compute every local derivative instead of deriving them; reverse mode "
             "is exact to rounding, and the test's 12-digit comparison is not.", fenced=False),
    Shortcut("graph-value-torch-local", NB, "Value", _TORCH_LOCAL, ("test_Value",), None,
             "Lets PyTorch's autograd compute every local derivative.", guard=True),
    Shortcut("graph-topo-graphlib", NB, "topological_order", _code(_COLLECT, """
        import graphlib
        sorter = graphlib.TopologicalSorter({i: [id(p) for p in n.parents] for i, n in nodes.items()})
        return [nodes[i] for i in sorter.static_order()]
        """), ("test_topological_order",), None,
             "Collects the nodes and lets the standard library's graphlib.TopologicalSorter order them "
             "(the test switches graphlib off).", fenced=False),
    Shortcut("graph-topo-networkx", NB, "topological_order", _code(_COLLECT, """
        import networkx as nx
        G = nx.DiGraph()
        G.add_nodes_from(nodes)
        G.add_edges_from((id(p), i) for i, n in nodes.items() for p in n.parents)
        return [nodes[i] for i in nx.topological_sort(G)]
        """), ("test_topological_order",), None,
             "Collects the nodes and lets networkx.topological_sort order them (the test notices networkx).",
             fenced=False),
    Shortcut("graph-backward-path-sums", NB, "backward", """
        def ways(node):
            # ∂root/∂node as the sum over the paths from node to root: every path, one by one
            total, stack = 0.0, [(root, 1.0)]
            while stack:
                current, product = stack.pop()
                if current is node:
                    total += product
                    continue
                for parent, local in zip(current.parents, current.local_grads):
                    stack.append((parent, product * local))
            return total

        for node in topological_order(root):
            node.grad = ways(node)
        """, ("test_backward",), None,
             "Computes every gradient as a sum over paths, enumerating them: right on small graphs, but the "
             "number of paths grows exponentially and the test's time limit stops it.", fenced=False),
    Shortcut("graph-backward-torch", NB, "backward", """
        import torch
        order = topological_order(root)
        # a linear copy of the graph: z_n = Σ_k local_k z_parent_k + ε_n, so ∂z_root/∂ε_n = ∂root/∂n
        eps = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in order]
        z = {}
        for n, e in zip(order, eps):
            z[id(n)] = e + sum((l * z[id(p)] for p, l in zip(n.parents, n.local_grads)),
                               torch.zeros((), dtype=torch.float64))
        for n, g in zip(order, torch.autograd.grad(z[id(root)], eps)):
            n.grad = float(g)
        """, ("test_backward",), None,
             "Copies the graph into PyTorch and lets its autograd do the reverse pass.", guard=True),
    Shortcut("graph-neuron-mlp-forward", NB, "neuron", """
        import backprop_lab
        xs = [x if isinstance(x, Value) else Value(x) for x in xs]
        ws = [w if isinstance(w, Value) else Value(w) for w in ws]
        b = b if isinstance(b, Value) else Value(b)
        # the weighted sum from a one-unit reference network, wrapped in one node with its local derivatives
        net = backprop_lab.MLP.from_params([np.array([[w.data] for w in ws])], [np.array([b.data])],
                                           activation="identity")
        in_data = float(net.forward(np.array([[x.data for x in xs]]))[0, 0])
        in_ = Value(in_data, (*xs, *ws, b), (*[w.data for w in ws], *[x.data for x in xs], 1.0), "dot")
        return activation(in_)
        """, ("test_neuron",), "MLP.forward",
             "Takes the weighted sum from a one-unit library network and wraps it in a single node."),
    Shortcut("graph-mazur-published-numbers", NB, "mazur_graph", _code(_MAZUR_LEAVES, """
        # the example's loss and gradients, typed in from the worked example
        grads = [0.0004385677344743465, 0.000877135468948693, 0.0004977127352608599, 0.0009954254705217198,
                 0.08216704056423077, 0.08266762784753325, -0.02260254047747507, -0.022740242215978222,
                 0.018725609394704128, 0.10040032511200071]
        return Value(0.2983711087600027, w_nodes + b_nodes, grads, "E"), w_nodes, b_nodes
        """), ("test_mazur_graph",), None,
             "Returns one node whose local derivatives are the worked example's gradients, typed in.",
             fenced=False),
    Shortcut("graph-mazur-mlp-gradients", NB, "mazur_graph", _code(_MAZUR_LEAVES, """
        import backprop_lab
        W1, W2 = np.array([[w[0], w[2]], [w[1], w[3]]]), np.array([[w[4], w[6]], [w[5], w[7]]])
        net = backprop_lab.MLP.from_params([W1, W2], [np.array([b[0], b[0]]), np.array([b[1], b[1]])],
                                           activation="sigmoid")
        X, T = np.array([x], dtype=float), np.array([t], dtype=float)
        dW, db = net.gradients(X, T)
        local = [dW[0][0, 0], dW[0][1, 0], dW[0][0, 1], dW[0][1, 1], dW[1][0, 0], dW[1][1, 0], dW[1][0, 1],
                 dW[1][1, 1], db[0].sum(), db[1].sum()]
        return Value(net.loss(X, T), w_nodes + b_nodes, local, "E"), w_nodes, b_nodes
        """), ("test_mazur_graph",), "MLP.gradients",
             "Lets the library's MLP compute the loss and gradients and returns them as one node's local "
             "derivatives."),
    Shortcut("graph-mazur-torch", NB, "mazur_graph", _code(_MAZUR_LEAVES, """
        import torch
        p = torch.tensor(list(w) + list(b), dtype=torch.float64, requires_grad=True)
        i1, i2 = x
        h1 = torch.sigmoid(p[0] * i1 + p[1] * i2 + p[8])
        h2 = torch.sigmoid(p[2] * i1 + p[3] * i2 + p[8])
        o1 = torch.sigmoid(p[4] * h1 + p[5] * h2 + p[9])
        o2 = torch.sigmoid(p[6] * h1 + p[7] * h2 + p[9])
        E = 0.5 * ((t[0] - o1) ** 2 + (t[1] - o2) ** 2)
        (grads,) = torch.autograd.grad(E, [p])
        return Value(float(E), w_nodes + b_nodes, grads.tolist(), "E"), w_nodes, b_nodes
        """), ("test_mazur_graph",), None,
             "Builds the network in PyTorch and returns its autograd gradients as one node's local derivatives.",
             guard=True),
    Shortcut("graph-paths-networkx", NB, "all_paths", """
        import networkx as nx
        G = nx.MultiDiGraph()
        nodes, stack = {id(root): root}, [root]
        G.add_node(id(root))
        while stack:
            child = stack.pop()
            for k, p in enumerate(child.parents):
                G.add_edge(id(p), id(child), key=k)
                if id(p) not in nodes:
                    nodes[id(p)] = p
                    stack.append(p)
        if node is root:
            return [[]]
        if id(node) not in nodes:
            return []
        return [[(nodes[v], k) for u, v, k in path] for path in nx.all_simple_edge_paths(G, id(node), id(root))]
        """, ("test_all_paths",), None,
             "Copies the graph into a networkx MultiDiGraph and lets all_simple_edge_paths list the paths "
             "(the test notices networkx).", fenced=False),
    Shortcut("graph-path-sum-backward", NB, "path_sum", """
        backward(root)
        return node.grad
        """, ("test_path_sum",), None,
             "Runs backward and reads node.grad instead of summing over the paths; the test checks that "
             "path_sum leaves every grad alone.", fenced=False),
]
