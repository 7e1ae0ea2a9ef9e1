"""Shortcuts of notebook 2, *The loss, and the chain rule in SymPy* (``02-loss-chain-rule/loss_chain_rule``).

The SymPy tasks (2.4 - 2.8) are functions that the tests call on symbols of their own, and 2.6
on activations the library does not name: a shortcut has to call the library inside the
function, where the fence sees it. The library's symbolic network is built from its own
symbols (``x_1``, ``w^{(1)}_{1,1}``, ...), which the shortcuts map onto the arguments.
"""

from . import Shortcut

NB = "02-loss-chain-rule/loss_chain_rule"

SHORTCUTS = [
    Shortcut("loss-squared-error-reference", NB, "squared_error", """
        import backprop_lab
        return backprop_lab.losses.squared_error(O, T)
        """, ("test_squared_error",), "losses.squared_error",
        "Returns the library's squared error instead of writing one."),
    Shortcut("loss-softmax-reference", NB, "softmax", """
        from backprop_lab.activations import softmax as _softmax
        return _softmax(Z)
        """, ("test_softmax",), "activations.softmax",
        "Returns the library's stable softmax instead of writing one."),
    Shortcut("loss-cross-entropy-reference", NB, "cross_entropy", """
        import backprop_lab
        return backprop_lab.losses.cross_entropy(P, T, from_logits=False)
        """, ("test_cross_entropy",), "losses.cross_entropy",
        "Lets the library's cross-entropy (from probabilities, with its clipping) compute the loss."),
    Shortcut("loss-neuron-gradient-weight-gradient", NB, "dE_dw", """
        import backprop_lab.symbolic as S
        net = S.network((1, 1), activation="sigmoid")      # one input, one sigmoid output
        names = {net.W[1][0, 0]: w, net.x[0]: x, net.b[1][0]: b, net.t[0]: t}
        return S.weight_gradient(net, 1, 1, 1).subs(names)
        """, ("test_dE_dw",), "symbolic.network",
        "Takes dE/dw from the library's one-neuron network and renames its symbols to the arguments."),
    Shortcut("loss-neuron-gradient-precomputed", NB, "dE_dw", """
        return _dE_dw_library.subs({_net.W[1][0, 0]: w, _net.x[0]: x, _net.b[1][0]: b, _net.t[0]: t})
        """, ("test_dE_dw",), "symbolic.network",
        "Computes dE/dw with the library at the top of the answer cell, where no test runs, and only "
        "renames its symbols inside the function. In autograde the fence covers the answer cells too.",
        guard=True, prelude="""
        import backprop_lab.symbolic as _S
        _net = _S.network((1, 1), activation="sigmoid")
        _dE_dw_library = _S.weight_gradient(_net, 1, 1, 1)
        """),
    Shortcut("loss-sigmoid-derivative-g-prime", NB, "sigmoid_prime", """
        import sympy
        import backprop_lab.symbolic as S
        name = {S.sigmoid: "sigmoid", sympy.tanh: "tanh"}[g]     # the activations the library knows by name
        net = S.network((1, 1), activation=name)
        o = net.a[1][0]                                          # g(in), as the library writes it
        g_prime = net.g_prime(1)[0]                              # the library's a (1 − a) or 1 − a²
        return sympy.diff(g(z), z), g_prime.subs(o, a), sympy.Integer(0)
        """, ("test_sigmoid_prime",), "symbolic.network",
        "Reads g' through a off the library's symbolic network instead of deriving it; the hidden tests use "
        "activations the library does not know by name.", fenced=False),
    Shortcut("loss-activation-derivative-remembered", NB, "sigmoid_prime", """
        import sympy
        dg_dz = sympy.diff(g(z), z)
        known = {sigmoid: a * (1 - a), sympy.tanh: 1 - a ** 2}    # remembered, not derived
        g_prime = known[g]
        return dg_dz, g_prime, sympy.simplify(dg_dz - g_prime.subs(a, g(z)))
        """, ("test_sigmoid_prime",), None,
        "Types the two derivatives the course quotes instead of deriving g' through a; the hidden tests use "
        "other activations.", fenced=False),
    Shortcut("loss-output-delta-deltas-direct", NB, "Delta_out", """
        import backprop_lab.symbolic as S
        net = S.network((1, 1), activation="g")               # the library's undefined g
        D = S.deltas_direct(net)[1][0]                         # −∂E/∂in of the output unit
        D = D.subs({net.W[1][0, 0]: 1, net.b[1][0]: 0, net.x[0]: in_, net.t[0]: t}).doit()
        return D.replace(S.G, lambda *args: g(*args)).doit()   # put the test's activation in for g
        """, ("test_Delta_out",), "symbolic.network",
        "Takes the library's Delta = -dE/din for an undefined g and puts the given activation in for g, "
        "which works for any activation."),
    Shortcut("loss-output-delta-deltas-backprop", NB, "Delta_out", """
        import sympy
        import backprop_lab.symbolic as S
        name = {S.sigmoid: "sigmoid", sympy.tanh: "tanh"}.get(g, g)   # an undefined g is passed on as it is
        net = S.network((1, 1), activation=name)
        D = S.deltas_backprop(net)[1][0]                         # Err · g'(in), by the library's rule
        return D.subs({net.W[1][0, 0]: 1, net.b[1][0]: 0, net.x[0]: in_, net.t[0]: t}).doit()
        """, ("test_Delta_out",), "symbolic.network",
        "Lets the library's back-propagation rule give Delta for the activations it knows by name; the "
        "hidden tests also use activations it does not know (atan, the identity as a function).",
        fenced=False),
    Shortcut("loss-chain-rule-weight-gradient", NB, "dE_dw_chain", """
        import sympy
        import backprop_lab.symbolic as S
        din_dw = sympy.diff(in_expr, w)
        net = S.network((1, 1), activation="sigmoid")
        target = next(iter(Delta.free_symbols - {in_}))          # the other symbol of Delta: the target
        names = {net.W[1][0, 0]: w, net.x[0]: din_dw, net.b[1][0]: in_expr - w * din_dw, net.t[0]: target}
        return din_dw, S.weight_gradient(net, 1, 1, 1).subs(names)
        """, ("test_dE_dw_chain",), "symbolic.network",
        "Takes dE/dw of a sigmoid neuron from the library instead of applying the chain rule to the "
        "given Delta: the test's Delta(in, t), which no library knows, stops it anyway.", fenced=False),
    Shortcut("loss-softmax-ce-typed", NB, "softmax_ce", """
        import sympy
        P = [sympy.exp(zk) / sum(sympy.exp(zc) for zc in z) for zk in z]
        return [P[i] - t[i] for i in range(len(z))], [p[i] - t[i] for i in range(len(z))]   # the known result
        """, ("test_softmax_ce",), None,
        "Types the known p − t for both results instead of differentiating: for targets that do not sum to 1 the "
        "first result is wrong.", fenced=False),
    Shortcut("loss-softmax-ce-library", NB, "softmax_ce", """
        import sympy
        import backprop_lab.symbolic as S
        net = S.network((1, len(z)), loss="cross_entropy")     # softmax output with cross-entropy
        names = {**{w: 0 for w in net.W[1]}, **dict(zip(net.b[1], z)), **dict(zip(net.t, t))}   # in = b = z
        dE_dz = [-D.xreplace(names) for D in S.deltas_direct(net)[1]]     # δ = −Δ, by the library's calculus
        to_p = {sum(sympy.exp(zk) for zk in z): 1, **{sympy.exp(zk): pk for zk, pk in zip(z, p)}}   # o_k -> p_k
        rule = [r.xreplace(names).xreplace(to_p) for r in S.deltas_backprop(net)[1]]      # t − o Σt
        one = {t[-1]: 1 - sum(t[:-1])}
        return dE_dz, [(-r).subs(one) for r in rule]
        """, ("test_softmax_ce",), "symbolic.network",
        "Takes the gradient from the library's cross-entropy network (deltas_direct) and its simplified form from "
        "deltas_backprop, renaming the symbols to the arguments."),
]
