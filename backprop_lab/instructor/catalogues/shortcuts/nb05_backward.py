"""Shortcuts of notebook 5, *Backward pass* (``05-backward/backward``)."""

from . import Shortcut

NB = "05-backward/backward"

SHORTCUTS = [
    Shortcut("backward-output-delta-loss", NB, "output_delta", """
        from backprop_lab.losses import get_loss
        return get_loss("squared_error").delta(O, T, g_out)
        """, ("test_output_delta",), "losses.Loss.delta",
        "Takes the output δ from the library's squared-error loss object."),
    Shortcut("backward-hidden-delta-trace", NB, "hidden_delta", """
        import backprop_lab
        # a two-layer reference net whose hidden in is in_l and whose output δ is delta_next
        net = backprop_lab.MLP.from_params([np.eye(in_l.shape[1]), W_next], activation=g.name,
                                           output_activation="identity")
        O = net.forward(in_l)
        return -net.trace(in_l, O - delta_next)[1].Delta
        """, ("test_hidden_delta",), "MLP.forward",
        "Builds a reference network around the layer and reads its hidden Δ off the trace."),
    Shortcut("backward-mlp-gradients", NB, "backward", """
        from backprop_lab import MLP
        g_out = g if g_out is None else g_out
        return MLP.from_params(weights, biases, activation=g.name, output_activation=g_out.name).gradients(X, T)
        """, ("test_backward",), "MLP.gradients",
        "Lets MLP.from_params(...).gradients do the whole backward pass."),
    Shortcut("backward-mlp-backprop-generator", NB, "backward", """
        from backprop_lab import MLP
        g_out = g if g_out is None else g_out
        net = MLP.from_params(weights, biases, activation=g.name, output_activation=g_out.name)
        X, T = net._check_XY(X, T)
        acts, _ = net._forward(X)
        dW, db = [None] * len(weights), [None] * len(weights)
        for l, gW, gb in net._backprop(acts, T, 1.0 / len(X)):
            dW[l], db[l] = gW, gb
        return dW, db
        """, ("test_backward",), "MLP.forward",
        "Walks the reference network's private forward pass and layer-by-layer back-propagation "
        "(MLP._forward, MLP._backprop) instead of the public gradients."),
    Shortcut("backward-widen-the-fence", NB, "backward", """
        import backprop_lab._fence as fence
        fence.state.allow = fence.state.allow + ("MLP",)   # let the task "allow" the reference
        g_out = g if g_out is None else g_out
        return backprop_lab.MLP.from_params(weights, biases, activation=g.name,
                                            output_activation=g_out.name).gradients(X, T)
        """, ("test_backward",), "MLP.gradients",
        "Adds the reference to what the task allows, from inside the answer, before calling it. The test "
        "checks that the fence is as it left it, whatever the fence's own verdict.", fenced=False),
    Shortcut("backward-precomputed-as-a-test", NB, "backward", """
        return _gradients
        """, ("test_backward",), "MLP.gradients",
        "Calls the grading's task() at the top of the answer cell, to pass for a test cell, and computes "
        "the reference's gradients there for the visible test's network.", guard=True, prelude="""
        from backprop_lab.grading import task as _task
        _task("5.3 backward")
        _rng = np.random.default_rng(0)
        _net = backprop_lab.MLP([3, 4, 2], activation="sigmoid", output_activation="sigmoid", init=1.0, seed=0)
        _gradients = _net.gradients(_rng.normal(size=(5, 3)), _rng.uniform(size=(5, 2)))
        """),
    Shortcut("backward-torch-autograd", NB, "backward", """
        import torch
        g_out = g if g_out is None else g_out
        fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}
        Ws = [torch.tensor(W, requires_grad=True) for W in weights]
        bs = [torch.tensor(b, requires_grad=True) for b in biases]
        a = torch.tensor(X)
        for k, (W, b) in enumerate(zip(Ws, bs)):
            a = fns[(g_out if k == len(Ws) - 1 else g).name](a @ W + b)
        (0.5 * ((torch.tensor(T) - a) ** 2).sum() / X.shape[0]).backward()
        return [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]
        """, ("test_backward",), None,
        "Lets PyTorch's autograd do the backward pass.", guard=True),
    Shortcut("backward-numerical-gradient-reference", NB, "numerical_gradient", """
        from backprop_lab.gradcheck import numerical_gradient as reference
        return reference(f, x, h)
        """, ("test_numerical_gradient",), "gradcheck.numerical_gradient",
        "Calls the library's numerical gradient instead of writing the central difference."),
    Shortcut("backward-rel-error-alias", NB, "rel_error", """
        return _reference_rel_error(a, b)
        """, ("test_rel_error",), "gradcheck.rel_error",
        "Calls the library's rel_error through an alias taken before any test runs (the fence is "
        "in the function itself, not in its name).",
        prelude="from backprop_lab.gradcheck import rel_error as _reference_rel_error"),
    Shortcut("backward-sgd-step-mlp", NB, "sgd_step", """
        from backprop_lab import MLP
        g_out = g if g_out is None else g_out
        net = MLP.from_params(weights, biases, activation=g.name, output_activation=g_out.name)
        net.step(X, T, lr)
        return net.weights, net.biases
        """, ("test_sgd_step",), "MLP.step",
        "Lets the reference MLP take the step."),
    Shortcut("backward-sgd-step-training", NB, "sgd_step", """
        from backprop_lab import MLP, training
        g_out = g if g_out is None else g_out
        net = MLP.from_params(weights, biases, activation=g.name, output_activation=g_out.name)
        training.step(net, np.asarray(X, dtype=float), np.asarray(T, dtype=float), lr)
        return net.weights, net.biases
        """, ("test_sgd_step",), "MLP.step",
        "Calls the training module's in-place step (backprop_lab.training.step) on a reference network, "
        "past the public MLP.step."),
    Shortcut("backward-timing-made-up-numbers", NB, "time_gradients", """
        P = [sum(a * b + b for a, b in zip(s[:-1], s[1:])) for s in architectures]
        return {"P": P, "numerical": [2e-8 * p ** 2 for p in P], "backward": [1e-6 * p for p in P]}
        """, ("test_time_gradients",), None,
        "Returns the textbook costs, O(P²) and O(P), as made-up times without timing anything.", fenced=False),
    Shortcut("backward-timing-smallest-network-extrapolated", NB, "time_gradients", """
        rng = np.random.default_rng(seed)
        P = [sum(a * b + b for a, b in zip(s[:-1], s[1:])) for s in architectures]
        sizes = architectures[0]
        weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [rng.normal(size=b) for b in sizes[1:]]
        X, T = rng.normal(size=(n, sizes[0])), rng.uniform(size=(n, sizes[-1]))
        start = time.perf_counter()
        for p in weights + biases:
            numgrad_fn(lambda _: loss_fn(X, T, weights, biases), p)
        t_num = time.perf_counter() - start
        start = time.perf_counter()
        backward_fn(X, T, weights, biases)
        t_back = time.perf_counter() - start
        return {"P": P, "numerical": [t_num * (p / P[0]) ** 2 for p in P],
                "backward": [t_back * p / P[0] for p in P]}
        """, ("test_time_gradients",), None,
        "Times the smallest network only and extrapolates the others with the textbook growth.", fenced=False),
    Shortcut("backward-locate-bug-reference-gradients", NB, "locate_bug", """
        from backprop_lab import MLP
        g_out = g if g_out is None else g_out
        net = MLP.from_params(weights, biases, activation=g.name, output_activation=g_out.name)
        ref_dW, ref_db = net.gradients(X, T)
        dW, db = backward_fn(X, T, [W.copy() for W in weights], [b.copy() for b in biases], g, g_out)
        for l in range(len(weights), 0, -1):
            for name, got, ref in (("W", dW, ref_dW), ("b", db, ref_db)):
                a = np.asarray(got[l - 1], dtype=float)
                if a.shape != ref[l - 1].shape or not np.allclose(a, ref[l - 1], rtol=1e-6, atol=1e-9):
                    return f"{name}[{l}]"
        return None
        """, ("test_locate_bug",), "MLP.gradients",
        "Compares the backward pass with the reference MLP's gradients instead of a gradient check."),
    Shortcut("backward-locate-bug-lookup-by-name", NB, "locate_bug", """
        return {"backward_a": "W[2]", "backward_b": "W[2]", "backward_c": "b[3]", "backward_d": "W[2]",
                "backward_e": "W[1]", "backward_f": "W[3]"}.get(backward_fn.__name__)
        """, ("test_locate_bug",), None,
        "Looks the answer up by the name of the notebook's six buggy backward passes.", fenced=False),
]
