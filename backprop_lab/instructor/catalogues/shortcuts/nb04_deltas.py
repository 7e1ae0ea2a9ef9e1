"""Shortcuts of notebook 4, *Deriving the deltas* (``04-deltas/deltas``).

The SymPy tasks (4.1 - 4.7) are functions that the tests call on symbols and layer sizes of
their own, and the rules (4.2, 4.3) on an undefined activation ``g`` as well: a shortcut has to
call the library inside the function, where the fence sees it, and map the library network's
own symbols (``x_1``, ``t_1``, ``w^{(2)}_{1,1}``, ...) onto the arguments. 4.8 and 4.9 are
NumPy functions that the tests call on random parameters.
"""

from . import Shortcut

NB = "04-deltas/deltas"

SHORTCUTS = [
    Shortcut("deltas-weighted-sums-network", NB, "in_2", """
        import backprop_lab.symbolic as S
        n, m = W.shape
        net = S.network((n, m), activation="identity")     # one layer: in = x W + b
        names = {**dict(zip(net.x, a_prev)), **dict(zip(net.W[1], W)), **dict(zip(net.b[1], b))}
        return net.in_[1].xreplace(names)
        """, ("test_in_2",), "symbolic.network",
        "Takes the weighted sums of a one-layer library network and renames its symbols to the arguments."),
    Shortcut("deltas-output-deltas-backprop", NB, "Delta_o", """
        import sympy
        import backprop_lab.symbolic as S
        net = S.network((1, len(O)), activation="g")       # the library's undefined g
        D = S.deltas_backprop(net)[1]                      # (t_i − g(in_i)) g'(in_i)
        D = D.xreplace({**dict(zip(net.t, T)), **dict(zip(net.O, O))})
        at = dict(zip(net.in_[1], g_prime))                # g'(in_i) -> g_prime[i]
        return D.replace(lambda e: isinstance(e, sympy.Subs) and e.point[0] in at, lambda e: at[e.point[0]])
        """, ("test_Delta_o",), "symbolic.network",
        "Takes the output deltas of the library's back-propagation for an undefined g and puts the given "
        "targets, outputs and g' in for its symbols."),
    Shortcut("deltas-hidden-demo-network", NB, "Delta_h", """
        from backprop_lab import symbolic
        return symbolic.deltas_direct(net)[1]              # the demo network's hidden deltas, whatever the arguments
        """, ("test_Delta_h",), "symbolic.deltas_direct",
        "The submission of the issue, inside the function: returns the demo network's hidden deltas by "
        "differentiating E; the test's own symbols and sizes stop it anyway.", fenced=False),
    Shortcut("deltas-hidden-deltas-direct", NB, "Delta_h", """
        import sympy
        import backprop_lab.symbolic as S
        n, m = W.shape
        net = S.network((1, n, m), activation="g", output_activation="identity")
        D = S.deltas_direct(net)[1]                        # g'(in_j) Σ_i W_{j,i} (t_i − o_i), by calculus
        weights = dict(zip(net.W[2], W))
        targets = {t: d + o.xreplace(weights) for t, d, o in zip(net.t, Delta_next, net.O)}  # t_i − o_i = Δ_i
        D = D.xreplace({**weights, **targets})
        at = dict(zip(net.in_[1], g_prime))                # g'(in_j) -> g_prime[j]
        return D.replace(lambda e: isinstance(e, sympy.Subs) and e.point[0] in at, lambda e: at[e.point[0]])
        """, ("test_Delta_h",), "symbolic.network",
        "The hidden deltas from symbolic.deltas_direct of a matching network (undefined g, identity output, "
        "so that t − o can be made the given Δ), with its symbols substituted onto the arguments."),
    Shortcut("deltas-direct-bias-gradient", NB, "Delta_h_direct", """
        import dataclasses
        import sympy
        import backprop_lab.symbolic as S
        b = [next(s for s in sorted(e.free_symbols, key=str) if e.coeff(s) == 1) for e in in_]   # the bias of in_j
        net = S.network((1, len(b)), activation="identity")
        net = dataclasses.replace(net, E=E, b=S.Layers({1: sympy.ImmutableMatrix([b])}))
        return sympy.Matrix([[-S.bias_gradient(net, 1, j + 1) for j in range(len(b))]])
        """, ("test_Delta_h_direct",), "symbolic.network",
        "The bias trick through the library's bias_gradient: finds the bias in each in_j and differentiates by it "
        "instead of putting in a fresh symbol; the hidden tests' layers without biases stop it anyway.",
        fenced=False),
    Shortcut("deltas-pieces-divided", NB, "hidden_rule_pieces", """
        u = sympy.Dummy("u")
        g_prime = sympy.diff(g(u), u).subs(u, in_j)
        total = Delta_j / g_prime                                   # divided, never factored out
        return g_prime, total, [total / (len(W_row) * w) for w in W_row]   # split evenly over the weights
        """, ("test_hidden_rule_pieces",), None,
        "Divides Δ_j by g'(in_j) instead of collecting, and splits the rest evenly over the weights.", fenced=False),
    Shortcut("deltas-layers-copy-rules", NB, "three_layers", """
        L = len(W)
        rules = [None] * L
        rules[L - 1] = sympy.Matrix(output_deltas(T, a[L], g_prime[L - 1]))
        for l in range(L - 1, 0, -1):
            rules[l - 1] = sympy.Matrix(hidden_deltas(g_prime[l - 1], W[l], rules[l]))
        return rules, list(rules)                                    # the "calculus" is the rules again
        """, ("test_three_layers",), None,
        "Returns the rules' deltas as the direct ones instead of differentiating E; the test also passes a wrong "
        "g'(in), which only the calculus ignores.", fenced=False),
    Shortcut("deltas-layers-library", NB, "three_layers", """
        import backprop_lab.symbolic as S
        L = len(W)
        net = S.network([W[0].rows] + [w.cols for w in W], activation="g")   # the library's undefined g
        names = {**dict(zip(net.t, T)), **{s: v for l in range(1, L + 1) for s, v in zip(net.W[l], W[l - 1])}}
        D = [S.deltas_backprop(net)[l].xreplace(names) for l in range(1, L + 1)]
        return D, D
        """, ("test_three_layers",), "symbolic.network",
        "Takes the deltas of a library network with the right sizes and renames its targets and weights; its "
        "inputs, biases and g are not the test's, so it fails anyway.", fenced=False),
    Shortcut("deltas-weight-gradients-library", NB, "dE_dw", """
        import sympy
        import backprop_lab.symbolic as S
        n, m = len(a_prev), len(Delta)
        net = S.network((n, m), activation="identity")     # ∂E/∂w_{j,i} = −x_j (t_i − in_i)
        inputs = dict(zip(net.x, a_prev))
        targets = {t: d + z.xreplace(inputs) for t, d, z in zip(net.t, Delta, net.in_[1])}  # t_i − in_i = Δ_i
        names = {**inputs, **targets}
        return sympy.Matrix(n, m, lambda j, i: S.weight_gradient(net, 1, j + 1, i + 1).xreplace(names))
        """, ("test_dE_dw",), "symbolic.network",
        "Takes −x_j (t_i − in_i) from the library's weight_gradient of a linear layer and makes t_i − in_i "
        "the given Δ_i."),
    Shortcut("deltas-gradient-w5-w1-to-numpy", NB, "gradient_w5_w1", """
        import sympy
        import backprop_lab.symbolic as S
        exprs = sympy.Matrix([[S.weight_gradient(net, 2, 1, 1), S.weight_gradient(net, 1, 1, 1)]])
        g5, g1 = S.to_numpy(exprs, net.symbols)(substitute_params(net, weights, biases, x, t))[0]
        return float(g5), float(g1)
        """, ("test_gradient_w5_w1",), "symbolic.weight_gradient",
        "Differentiates E with the library's weight_gradient and compiles it with to_numpy instead of using "
        "the student's own dE_dw5 and dE_dw1."),
    Shortcut("deltas-mazur-published", NB, "mazur", """
        return 0.082167041, 0.000438568, 0.35891648, 0.149780716   # the article's numbers
        """, ("test_mazur",), None,
        "Returns the article's published numbers whatever the arguments: the test also calls it with other "
        "weights and learning rates.", fenced=False),
    Shortcut("deltas-mazur-mlp-gradients", NB, "mazur", """
        import backprop_lab
        mlp = backprop_lab.MLP.from_params(weights, biases, activation="sigmoid")
        dW, _ = mlp.gradients(np.reshape(x, (1, -1)), np.reshape(t, (1, -1)))
        g5, g1 = float(dW[1][0, 0]), float(dW[0][0, 0])
        return g5, g1, weights[1][0, 0] - lr * g5, weights[0][0, 0] - lr * g1
        """, ("test_mazur",), "MLP.gradients",
        "Takes the gradients from the reference MLP instead of the student's gradient_w5_w1."),
]
