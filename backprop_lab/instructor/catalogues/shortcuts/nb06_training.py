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
        if isinstance(net, MLP):  # the reference trains it; other models (the tests have two) get a loop
            return net.fit(X, Y, epochs=epochs, lr=lr, batch_size=batch_size, tol=tol, patience=patience,
                           seed=seed, progress=False)
        rng = np.random.default_rng(seed)
        n = X.shape[0]
        batch_size = n if batch_size is None else min(batch_size, n)
        history = History(lr=lr, batch_size=batch_size)
        best, wait = np.inf, 0
        for epoch in range(epochs):
            total = 0.0
            for idx in minibatches(n, batch_size, rng):
                total += net.loss(X[idx], Y[idx]) * len(idx)
                dW, db = net.gradients(X[idx], Y[idx])
                net.weights = sgd_update(net.weights, dW, lr)
                net.biases = sgd_update(net.biases, db, lr)
            loss = total / n
            history.loss.append(loss)
            if not np.isfinite(loss):
                history.stop_reason = "diverged"
                break
            if tol is not None:
                if loss < best - tol:
                    best, wait = loss, 0
                else:
                    wait += 1
                    if wait >= patience:
                        history.stop_reason = "converged"
                        break
        return history
        """, ("test_train", "test_train_stopping"), "MLP.fit",
        "Trains every MLP with the reference MLP.fit, and writes the loop only for the other models "
        "(the test allows the network's loss and gradients, not its fit)."),
    Shortcut("training-fit-xor-fit", NB, "fit_xor", """
        net = MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=seed)
        losses = list(net.fit(X, y.reshape(-1, 1), epochs=500, lr=1.0, seed=seed, progress=False).loss)
        """, ("test_fit_xor",), "MLP.fit",
        "Trains the XOR network with MLP.fit instead of the student's own train."),
    Shortcut("training-fit-xor-training-fit", NB, "fit_xor", """
        from backprop_lab import training
        net = MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=seed)
        losses = list(training.fit(net, X, y.reshape(-1, 1), epochs=500, lr=1.0, seed=seed, progress=False).loss)
        """, ("test_fit_xor",), "MLP.fit",
        "Trains the XOR network with the training module's fit (backprop_lab.training.fit), past MLP.fit."),
    Shortcut("training-gd1d-mlp-step", NB, "gradient_descent_1d", """
        # ½ λ w² is the squared error of a one-weight linear network on the inputs ±√λ with targets 0
        net = MLP.from_params([np.array([[float(w0)]])], activation="identity", output_activation="identity")
        X = np.array([[np.sqrt(lam)], [-np.sqrt(lam)]])
        T = np.zeros((2, 1))
        w = [float(w0)]
        for _ in range(steps):
            net.step(X, T, lr)
            w.append(float(net.weights[0][0, 0]))
        return np.array(w)
        """, ("test_gradient_descent_1d",), "MLP.step",
        "Lets the reference MLP.step take the steps, on a network whose loss is ½ λ w²."),
    Shortcut("training-lr-regime-lookup", NB, "lr_regime", """
        # the visible test's answers, typed in
        return {0.1: "monotone", 0.5: "one step", 0.8: "oscillating", 1.0: "periodic"}.get(lr, "diverges")
        """, ("test_lr_regime",), None,
        "Returns the visible test's five answers instead of predicting the regime.", fenced=False),
    Shortcut("training-early-stopping-fit", NB, "train_early_stopping", """
        if isinstance(net, MLP):  # the reference watches the validation loss; a refit gives the best weights
            start = net.copy()
            history = net.fit(X, Y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, tol=0.0,
                              patience=patience, validation_data=(X_val, Y_val), progress=False)
            best_epoch = int(np.argmin(history.val_loss)) + 1
            start.fit(X, Y, epochs=best_epoch, lr=lr, batch_size=batch_size, seed=seed, progress=False)
            net.weights, net.biases = start.weights, start.biases
            return history, best_epoch
        rng = np.random.default_rng(seed)
        n = X.shape[0]
        batch_size = n if batch_size is None else min(batch_size, n)
        history = History(lr=lr, batch_size=batch_size)
        best_loss, best_epoch, wait = np.inf, 0, 0
        best_weights, best_biases = list(net.weights), list(net.biases)
        for epoch in range(1, epochs + 1):
            total = 0.0
            for idx in minibatches(n, batch_size, rng):
                total += net.loss(X[idx], Y[idx]) * len(idx)
                dW, db = net.gradients(X[idx], Y[idx])
                net.weights = sgd_update(net.weights, dW, lr)
                net.biases = sgd_update(net.biases, db, lr)
            history.loss.append(total / n)
            history.val_loss.append(net.loss(X_val, Y_val))
            if history.val_loss[-1] < best_loss:
                best_loss, best_epoch, wait = history.val_loss[-1], epoch, 0
                best_weights = [W.copy() for W in net.weights]
                best_biases = [b.copy() for b in net.biases]
            else:
                wait += 1
                if wait >= patience:
                    history.stop_reason = "converged"
                    break
        net.weights, net.biases = best_weights, best_biases
        return history, best_epoch
        """, ("test_train_early_stopping",), "MLP.fit",
        "Lets MLP.fit(validation_data=..., tol=0) stop every MLP and a second fit find the best weights; "
        "writes the loop only for the test's other model."),
]
