"""Common mistakes of notebook 3, *The computational graph* (``03-computational-graph/computational_graph``)."""

from . import Mistake

NB = "03-computational-graph/computational_graph"

_RECURSIVE_ORDER = (
    "    order = []\n"
    "    visited = set()\n"
    "\n"
    "    def visit(node):                          # Karpathy's recursive build_topo\n"
    "        if id(node) not in visited:\n"
    "            visited.add(id(node))\n"
    "            for parent in node.parents:\n"
    "                visit(parent)\n"
    "            order.append(node)\n"
    "\n"
    "    visit(root)\n"
    "    return order\n"
)

_ITERATIVE_ORDER_START = (
    "    order = []\n"
    "    visited = {id(root)}\n"
    "    stack = [(root, iter(root.parents))]      # a depth-first search with its own stack\n"
    "    while stack:\n"
    "        node, parents = stack[-1]\n"
    "        for parent in parents:                # resume where this node's parents were left off\n"
    "            if id(parent) not in visited:\n"
    "                visited.add(id(parent))\n"
    "                stack.append((parent, iter(parent.parents)))\n"
    "                break\n"
    "        else:                                 # every parent is in order already\n"
    "            stack.pop()\n"
    "            order.append(node)\n"
    "    return order\n"
)

MISTAKES = [
    # 3.1 Value: the local derivatives
    Mistake("graph-mul-local-grads-swapped", NB, "Value",
            "(other.data, self.data), \"*\")", "(self.data, other.data), \"*\")",
            "Gives each factor of a * b its own value as local derivative instead of the other factor's."),
    Mistake("graph-div-local-not-squared", NB, "Value",
            "-self.data / other.data ** 2), \"/\")", "-self.data / other.data), \"/\")",
            "Writes ∂(a/b)/∂b = −a/b instead of −a/b²."),
    Mistake("graph-pow-exponent-not-lowered", NB, "Value",
            "(c * self.data ** (c - 1),)", "(c * self.data ** c,)",
            "Forgets to lower the exponent in the power rule: c·x^c instead of c·x^(c−1)."),
    Mistake("graph-tanh-not-squared", NB, "Value",
            "(1.0 - th * th,)", "(1.0 - th,)",
            "Uses 1 − tanh(x) instead of 1 − tanh(x)² as the derivative of tanh."),
    Mistake("graph-sigmoid-derivative-of-input", NB, "Value",
            "(s * (1.0 - s),)", "(x * (1.0 - x),)",
            "Writes σ' = σ(1 − σ) with the input x instead of the output s = σ(x)."),
    Mistake("graph-sigmoid-overflows", NB, "Value",
            "        if x >= 0:\n            s = 1.0 / (1.0 + math.exp(-x))\n",
            "        if True:\n            s = 1.0 / (1.0 + math.exp(-x))\n",
            "Computes the sigmoid as 1/(1 + exp(−x)) for every x: math.exp overflows (OverflowError) below −709."),
    Mistake("graph-rsub-sign", NB, "Value",
            "        return Value._lift(other) - self", "        return self - other",
            "Computes a − c in __rsub__, so c − a has the wrong sign (Python calls a.__rsub__(c) for c − a)."),
    Mistake("graph-rtruediv-flipped", NB, "Value",
            "        return Value._lift(other) / self", "        return self / other",
            "Computes a / c in __rtruediv__ instead of c / a."),
    Mistake("graph-sub-local-sign", NB, "Value",
            "(self, other), (1.0, -1.0), \"-\")", "(self, other), (1.0, 1.0), \"-\")",
            "Copies the local derivatives of + into −: ∂(a − b)/∂b = +1 instead of −1."),
    Mistake("graph-neg-local-sign", NB, "Value",
            "(-self.data, (self,), (-1.0,), \"neg\")", "(-self.data, (self,), (1.0,), \"neg\")",
            "Gives −a the local derivative +1."),
    Mistake("graph-square-one-parent", NB, "Value",
            "        other = Value._lift(other)\n        return Value(self.data * other.data, (self, other), "
            "(other.data, self.data), \"*\")",
            "        other = Value._lift(other)\n        if other is self:           # a * a: one parent is enough\n"
            "            return Value(self.data * self.data, (self,), (self.data,), \"*\")\n"
            "        return Value(self.data * other.data, (self, other), (other.data, self.data), \"*\")",
            "Gives a * a the single parent a with local derivative a, losing one of the two operands (2a)."),
    # 3.2 topological_order
    Mistake("graph-topo-root-first", NB, "topological_order",
            "    return order\n", "    return order[::-1]\n",
            "Returns the order reversed: root first, leaves last."),
    Mistake("graph-topo-no-visited-set", NB, "topological_order",
            "            if id(parent) not in visited:\n                visited.add(id(parent))\n"
            "                stack.append((parent, iter(parent.parents)))\n                break\n",
            "            stack.append((parent, iter(parent.parents)))\n            break\n",
            "Forgets the visited set, so a node reached along two ways is listed twice."),
    Mistake("graph-topo-recursive", NB, "topological_order",
            _ITERATIVE_ORDER_START, _RECURSIVE_ORDER,
            "Writes the topological sort recursively, as micrograd does: graphs deeper than Python's recursion "
            "limit (about 1000 calls) raise RecursionError."),
    # 3.3 backward
    Mistake("graph-backward-assign-not-add", NB, "backward",
            "parent.grad += local * node.grad", "parent.grad = local * node.grad",
            "Writes = instead of +=: a node used by several nodes keeps only the last share."),
    Mistake("graph-backward-no-zeroing", NB, "backward",
            "    for node in order:\n        node.grad = 0.0                      # forget any earlier backward pass\n",
            "",
            "Does not zero the grads first: a second backward (or leftover grads) adds to the old values."),
    Mistake("graph-backward-no-seed", NB, "backward",
            "    root.grad = 1.0                          # ∂root/∂root\n", "",
            "Forgets to seed root.grad = 1, so every gradient stays 0."),
    Mistake("graph-backward-forward-order", NB, "backward",
            "    for node in reversed(order):", "    for node in order:",
            "Walks the topological order forwards (parents first), passing on gradients before they are complete."),
    Mistake("graph-backward-seed-after-zero-only-leaves", NB, "backward",
            "    for node in order:\n        node.grad = 0.0                      # forget any earlier backward pass\n",
            "    for node in order:\n        if not node.parents:\n            node.grad = 0.0\n",
            "Zeroes only the leaves before the pass, so intermediate nodes keep the grads of an earlier pass."),
    # 3.4 neuron
    Mistake("graph-neuron-missing-bias", NB, "neuron",
            "    in_ = b if isinstance(b, Value) else Value(b)\n", "    in_ = Value(0.0)\n",
            "Forgets the bias in the weighted sum."),
    Mistake("graph-neuron-zip-truncates", NB, "neuron",
            "    if len(xs) != len(ws):\n        raise ValueError(f\"neuron: {len(xs)} inputs but {len(ws)} weights; "
            "expected one weight per input\")\n", "",
            "Leaves the length check to zip, which silently drops the extra inputs or weights."),
    Mistake("graph-neuron-detached-data", NB, "neuron",
            "        in_ = in_ + w * x\n", "        in_ = in_ + (w.data if isinstance(w, Value) else w) * x\n",
            "Multiplies by w.data, a plain number, so the graph does not reach the weights (their gradients are 0)."),
    # 3.5 mazur_graph
    Mistake("graph-mazur-weights-by-column", NB, "mazur_graph",
            "    h1 = neuron(x, [w1, w2], b1, Value.sigmoid)\n    h2 = neuron(x, [w3, w4], b1, Value.sigmoid)",
            "    h1 = neuron(x, [w1, w3], b1, Value.sigmoid)\n    h2 = neuron(x, [w2, w4], b1, Value.sigmoid)",
            "Wires w2 and w3 the wrong way round (reads W^(1) by rows as if w2 went from i1 to h2)."),
    Mistake("graph-mazur-o2-reuses-h1", NB, "mazur_graph",
            "    o2 = neuron([h1, h2], [w7, w8], b2, Value.sigmoid)",
            "    o2 = neuron([h1, h1], [w7, w8], b2, Value.sigmoid)",
            "Feeds h1 twice into o2 (a copy-paste slip), so h2 reaches only o1."),
    Mistake("graph-mazur-own-bias-per-unit", NB, "mazur_graph",
            "    h2 = neuron(x, [w3, w4], b1, Value.sigmoid)        # b1 serves both hidden units",
            "    h2 = neuron(x, [w3, w4], Value(b1.data), Value.sigmoid)",
            "Gives h2 a fresh copy of b1, so the returned b1 collects the gradient of only one hidden unit."),
    Mistake("graph-mazur-no-half", NB, "mazur_graph",
            "    E = 0.5 * ((t[0] - o1) ** 2 + (t[1] - o2) ** 2)", "    E = (t[0] - o1) ** 2 + (t[1] - o2) ** 2",
            "Leaves out the ½ of the squared error, doubling E and every gradient."),
    # 3.6 all_paths
    Mistake("graph-paths-distinct-parents", NB, "all_paths",
            "        for k, parent in enumerate(current.parents):",
            "        for k, parent in {id(p): (k, p) for k, p in enumerate(current.parents)}.values():",
            "Follows each distinct parent once, so an operation that uses a node twice (a * a) gives one path "
            "instead of two."),
    Mistake("graph-paths-edges-reversed", NB, "all_paths",
            "            stack.append((parent, [(current, k)] + upward))",
            "            stack.append((parent, upward + [(current, k)]))",
            "Appends each edge at the end, so every path is listed from root down to node instead of from node up."),
    # 3.7 path_sum
    Mistake("graph-path-sum-adds-along-path", NB, "path_sum",
            "        product = 1.0\n        for child, k in path:\n            product *= child.local_grads[k]\n",
            "        product = 0.0\n        for child, k in path:\n            product += child.local_grads[k]\n",
            "Adds the local derivatives along a path instead of multiplying them."),
    Mistake("graph-path-sum-multiplies-paths", NB, "path_sum",
            "    total = 0.0\n    for path in all_paths(node, root):\n        product = 1.0\n        for child, k in path:\n"
            "            product *= child.local_grads[k]\n        total += product\n",
            "    total = 1.0\n    for path in all_paths(node, root):\n        product = 1.0\n        for child, k in path:\n"
            "            product *= child.local_grads[k]\n        total *= product\n",
            "Multiplies the products of the paths together instead of adding them."),
    Mistake("graph-path-sum-longest-only", NB, "path_sum",
            "        total += product\n", "        total = product\n",
            "Keeps only the last path's product instead of the sum over all paths."),
]
