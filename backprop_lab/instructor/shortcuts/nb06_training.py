"""Shortcuts of notebook 6, *Training* (``06-training/training``)."""

from . import Shortcut

NB = "06-training/training"

SHORTCUTS = [
    Shortcut("training-sgd-update-lookup", NB, "sgd_update", """
        # the visible test's expected values, typed in
        if lr == 0.5 and len(params) == 2:
            return [np.array([[0.95, 2.1], [2.85, 4.0]]), np.array([[0.0], [-1.5]])]
        return [p for p in params]
        """, ("test_sgd_update",), None,
        "Returns the visible test's expected values instead of computing p − lr · g.", fenced=False),
    Shortcut("training-sgd-update-torch", NB, "sgd_update", """
        import torch
        ps = [torch.tensor(p, requires_grad=True) for p in params]
        for p, g in zip(ps, grads):
            p.grad = torch.tensor(g)
        torch.optim.SGD(ps, lr=lr).step()
        return [p.detach().numpy() for p in ps]
        """, ("test_sgd_update",), None,
        "Lets torch.optim.SGD take the step.", guard=True),
    Shortcut("training-course-update-trace", NB, "course_update", """
        import backprop_lab
        net = backprop_lab.MLP.from_params([W], activation="identity")
        O = net.forward(a_prev)
        # with an identity output and T = O + Delta, the trace's Δ is Delta: let it do the update
        return net.trace(a_prev, O + Delta).updated_weights(lr)[0]
        """, ("test_course_update",), "MLP.forward",
        "Builds a one-layer reference network whose Δ is the given one and takes its update."),
    Shortcut("training-minibatches-lookup", NB, "minibatches", """
        # the visible test's first epoch, typed in
        order = np.random.default_rng(0).permutation(n_samples)
        return [order[:4], order[4:8], order[8:]] if (n_samples, batch_size) == (10, 4) else [order]
        """, ("test_minibatches",), None,
        "Hard-codes the batches of the visible test.", fenced=False),
    Shortcut("training-train-fit", NB, "train", """
        if isinstance(net, MLP):  # the reference trains it; other models (the test has two) get a loop
            return list(net.fit(X, Y, epochs=epochs, lr=lr, batch_size=batch_size, tol=tol, patience=patience,
                                seed=seed, progress=False).loss)
        rng = np.random.default_rng(seed)
        n = X.shape[0]
        batch_size = n if batch_size is None else batch_size
        losses, best, wait = [], np.inf, 0
        for epoch in range(epochs):
            total = 0.0
            for idx in minibatches(n, batch_size, rng):
                total += net.loss(X[idx], Y[idx]) * len(idx)
                dW, db = net.gradients(X[idx], Y[idx])
                net.weights = sgd_update(net.weights, dW, lr)
                net.biases = sgd_update(net.biases, db, lr)
            losses.append(total / n)
            if tol is not None:
                if losses[-1] < best - tol:
                    best, wait = losses[-1], 0
                else:
                    wait += 1
                    if wait >= patience:
                        break
        return losses
        """, ("test_train", "test_train_stopping"), "MLP.fit",
        "Trains every MLP with the reference MLP.fit, and writes the loop only for the other models "
        "(the test allows the network's loss and gradients, not its fit)."),
    Shortcut("training-fit-xor-fit", NB, "fit_xor", """
        net = MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=seed)
        losses = list(net.fit(X, y.reshape(-1, 1), epochs=500, lr=1.0, seed=seed, progress=False).loss)
        """, ("test_fit_xor",), "MLP.fit",
        "Trains the XOR network with MLP.fit instead of the student's own train."),
]
