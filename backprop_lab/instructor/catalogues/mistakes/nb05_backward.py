"""Common mistakes of notebook 5, *Backward pass* (``05-backward/backward``)."""

from . import Mistake

NB = "05-backward/backward"

_PERTURB_AND_RESTORE = (
    "        try:\n"
    "            x[k] = old + h\n"
    "            f_plus = f(x)\n"
    "            x[k] = old - h\n"
    "            f_minus = f(x)\n"
    "        finally:\n"
    "            x[k] = old\n"
)

_SHAPE_CHECK = (
    '    fan_in = X.shape[1]\n'
    '    for k, (W, b) in enumerate(zip(weights, biases)):\n'
    '        if W.ndim != 2 or W.shape[0] != fan_in or np.shape(b) != (W.shape[1],):\n'
    '            raise ValueError(f"layer {k + 1}: W^({k + 1}) has shape {W.shape} and b^({k + 1}) {np.shape(b)}; "\n'
    '                             f"expected ({fan_in}, m) and (m,), as the layer below has {fan_in} units")\n'
    '        fan_in = W.shape[1]\n'
    '    if T.shape != (X.shape[0], fan_in):\n'
    '        raise ValueError(f"T has shape {T.shape}; expected {(X.shape[0], fan_in)}, one row per sample of X")\n'
)

_SHORTEST_RUN = (
    "        t_numerical = t_backward = np.inf\n"
    "        for _ in range(repeats):\n"
    "            start = time.perf_counter()\n"
    "            for p in weights + biases:\n"
    "                numgrad_fn(f, p)\n"
    "            t_numerical = min(t_numerical, time.perf_counter() - start)\n"
    "            start = time.perf_counter()\n"
    "            backward_fn(X, T, weights, biases)\n"
    "            t_backward = min(t_backward, time.perf_counter() - start)\n"
)

_LOCATE_COPIES = (
    "    weights = [np.array(W, dtype=float) for W in weights]   # own copies: the check perturbs them in place\n"
    "    biases = [np.array(b, dtype=float) for b in biases]\n"
    "    dW, db = backward_fn(X, T, [W.copy() for W in weights], [b.copy() for b in biases], g, g_out)\n"
)

_ALL_GRADIENTS_FIRST = (
    "    dW, db = backward(X, T, weights, biases, g, g_out)     # every gradient from the weights before the step\n"
    "    new_weights = [W - lr * dW_k for W, dW_k in zip(weights, dW)]\n"
    "    new_biases = [b - lr * db_k for b, db_k in zip(biases, db)]\n"
)

MISTAKES = [
    Mistake("backward-output-sign", NB, "output_delta",
            "(O - T)", "(T - O)",
            "Uses Err = t − o in δ, which gives the course's Δ = −∂E/∂in instead of the libraries' δ = ∂E/∂in."),
    Mistake("backward-output-gprime-of-a", NB, "output_delta",
            "* g_out.derivative(in_L)", "* g_out.derivative(O)",
            "Evaluates g' at the activations O instead of at the weighted sums in_L."),
    Mistake("backward-hidden-missing-gprime", NB, "hidden_delta",
            "(delta_next @ W_next.T) * g.derivative(in_l)", "delta_next @ W_next.T",
            "Back-propagates δ through the weights but forgets the hidden layer's factor g'(in_l)."),
    Mistake("backward-hidden-W-not-transposed", NB, "hidden_delta",
            "delta_next @ W_next.T", "delta_next @ W_next",
            "Multiplies by W instead of W.T when back-propagating (a shape error, or wrong values for square W)."),
    Mistake("backward-dW-transposed", NB, "backward",
            "dW[k] = acts[k].T @ delta / n", "dW[k] = delta.T @ acts[k] / n",
            "Computes δᵀ a, the transpose of ∂E/∂W, whose shape is (fan_out, fan_in)."),
    Mistake("backward-sum-not-mean", NB, "backward",
            "dW[k] = acts[k].T @ delta / n", "dW[k] = acts[k].T @ delta",
            "Sums the weight gradients over the batch instead of averaging them."),
    Mistake("backward-db-sum", NB, "backward",
            "db[k] = delta.mean(axis=0)", "db[k] = delta.sum(axis=0)",
            "Averages the weight gradients but sums the bias gradients over the batch."),
    Mistake("backward-dW-uses-layer-output", NB, "backward",
            "dW[k] = acts[k].T @ delta / n", "dW[k] = acts[k + 1].T @ delta / n",
            "Pairs δ of a layer with that layer's own activations instead of the activations entering it."),
    Mistake("backward-numgrad-forward-difference", NB, "numerical_gradient",
            "x[k] = old - h\n            f_minus = f(x)\n        finally:\n            x[k] = old\n"
            "        grad[k] = (f_plus - f_minus) / (2 * h)",
            "x[k] = old\n            f_minus = f(x)\n        finally:\n            x[k] = old\n"
            "        grad[k] = (f_plus - f_minus) / h",
            "Uses the forward difference (f(x + h) − f(x)) / h, accurate only to about h."),
    Mistake("backward-numgrad-no-restore", NB, "numerical_gradient",
            _PERTURB_AND_RESTORE,
            "        x[k] = old + h\n"
            "        f_plus = f(x)\n"
            "        x[k] = old - h\n"
            "        f_minus = f(x)\n",
            "Never puts x[k] back, so x is left perturbed by −h in every entry."),
    Mistake("backward-numgrad-restore-not-in-finally", NB, "numerical_gradient",
            _PERTURB_AND_RESTORE,
            "        x[k] = old + h\n"
            "        f_plus = f(x)\n"
            "        x[k] = old - h\n"
            "        f_minus = f(x)\n"
            "        x[k] = old\n",
            "Restores x[k] after the two calls, but not in a finally block: when f raises, x stays perturbed."),
    Mistake("backward-numgrad-perturbs-copy", NB, "numerical_gradient",
            _PERTURB_AND_RESTORE,
            "        x_plus, x_minus = x.copy(), x.copy()\n"
            "        x_plus[k] = old + h\n"
            "        x_minus[k] = old - h\n"
            "        f_plus, f_minus = f(x_plus), f(x_minus)\n",
            "Perturbs copies of x, so a function that reads x through a model (lambda _: net.loss(X, T)) sees "
            "no change and the gradient is 0."),
    Mistake("backward-rel-error-no-abs", NB, "rel_error",
            "np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)",
            "(a - b) / np.maximum(a + b, 1e-12)",
            "Leaves out the absolute values, so negative entries give negative or huge relative errors."),
    Mistake("backward-rel-error-no-floor", NB, "rel_error",
            "np.maximum(np.abs(a) + np.abs(b), 1e-12)", "(np.abs(a) + np.abs(b))",
            "Divides by |a| + |b| without a floor, so two zero entries give 0/0 = NaN."),
    Mistake("backward-sgd-output-first", NB, "sgd_step",
            _ALL_GRADIENTS_FIRST,
            "    g_last = g if g_out is None else g_out\n"
            "    ins, acts = forward(X, weights, biases, g, g_out)\n"
            "    n = X.shape[0]\n"
            "    new_weights, new_biases = list(weights), list(biases)\n"
            "    delta = output_delta(ins[-1], acts[-1], T, g_last)\n"
            "    for k in reversed(range(len(weights))):\n"
            "        new_weights[k] = weights[k] - lr * acts[k].T @ delta / n      # 3.2: update this layer ...\n"
            "        new_biases[k] = biases[k] - lr * delta.mean(axis=0)\n"
            "        if k > 0:                                                     # 3.3: ... then back-propagate\n"
            "            delta = hidden_delta(delta, new_weights[k], ins[k - 1], g)\n",
            "Follows the course text's steps literally: updates the output layer first and back-propagates δ "
            "through the already updated weights."),
    Mistake("backward-sgd-in-place", NB, "sgd_step",
            "    new_weights = [W - lr * dW_k for W, dW_k in zip(weights, dW)]\n",
            "    for W, dW_k in zip(weights, dW):\n"
            "        W -= lr * dW_k\n"
            "    new_weights = weights\n",
            "Updates the weight arrays it was given in place (W -= lr * dW) instead of returning new ones."),
    Mistake("backward-sgd-plus-sign", NB, "sgd_step",
            "W - lr * dW_k", "W + lr * dW_k",
            "Adds the gradient (the course's +α a Δ with the libraries' ∂E/∂W), stepping uphill."),

    # --- 5.3 backward, written without a skeleton ---------------------------------------------
    Mistake("backward-stops-before-the-first-layer", NB, "backward",
            "    for k in reversed(range(L)):\n", "    for k in reversed(range(1, L)):\n",
            "Lets the loop over the layers stop one layer early (range(1, L)), so layer 1 gets no gradients."),
    Mistake("backward-hidden-gprime-of-output-activation", NB, "backward",
            "hidden_delta(delta, weights[k], ins[k - 1], g)", "hidden_delta(delta, weights[k], ins[k - 1], g_out)",
            "Takes the output activation's derivative in the hidden layers, right only when g and g_out agree."),
    Mistake("backward-no-shape-check", NB, "backward",
            _SHAPE_CHECK, "",
            "Checks no shapes, so misfitting weights fail inside a matrix product with an error that names no layer."),
    Mistake("backward-shape-error-zero-based-layer", NB, "backward",
            'f"layer {k + 1}: W^({k + 1}) has shape {W.shape} and b^({k + 1})',
            'f"layer {k}: W^({k}) has shape {W.shape} and b^({k})',
            "Names the misfitting layer by its Python index k instead of the course's layer number k + 1."),
    # --- 5.6 time_gradients ------------------------------------------------------------------
    Mistake("backward-timing-biases-left-out", NB, "time_gradients",
            "            for p in weights + biases:\n", "            for p in weights:\n",
            "Times the numerical gradient of the weights only, leaving out the biases."),
    Mistake("backward-timing-P-counts-weights-only", NB, "time_gradients",
            "sum(p.size for p in weights + biases)", "sum(W.size for W in weights)",
            "Counts only the weights as parameters, not the biases."),
    Mistake("backward-timing-clock-not-restarted", NB, "time_gradients",
            "            start = time.perf_counter()\n            backward_fn(X, T, weights, biases)\n",
            "            backward_fn(X, T, weights, biases)\n",
            "Does not read the clock again before the backward pass, so its time includes the numerical gradient's."),
    Mistake("backward-timing-sum-of-repeats", NB, "time_gradients",
            _SHORTEST_RUN,
            "        t_numerical = t_backward = 0.0\n"
            "        for _ in range(repeats):\n"
            "            start = time.perf_counter()\n"
            "            for p in weights + biases:\n"
            "                numgrad_fn(f, p)\n"
            "            t_numerical += time.perf_counter() - start\n"
            "            start = time.perf_counter()\n"
            "            backward_fn(X, T, weights, biases)\n"
            "            t_backward += time.perf_counter() - start\n",
            "Adds up the repeats instead of keeping the shortest run, reporting `repeats` times the time of one."),
    Mistake("backward-timing-milliseconds", NB, "time_gradients",
            '        result["numerical"].append(t_numerical)\n        result["backward"].append(t_backward)\n',
            '        result["numerical"].append(1000 * t_numerical)\n        result["backward"].append(1000 * t_backward)\n',
            "Reports milliseconds where the contract asks for seconds."),
    Mistake("backward-timing-loss-of-copies", NB, "time_gradients",
            "f = lambda _: loss_fn(X, T, weights, biases)",
            "f = lambda _: loss_fn(X, T, [W.copy() for W in weights], [b.copy() for b in biases])",
            "Lets f compute the loss from copies of the parameters (to protect them), so numgrad_fn's perturbations "
            "never reach the loss."),
    # --- 5.10 locate_bug -----------------------------------------------------------------------
    Mistake("backward-locate-bug-from-the-input-layer-up", NB, "locate_bug",
            "for l in range(len(weights), 0, -1):", "for l in range(1, len(weights) + 1):",
            "Checks the layers from the input up, so a wrong δ names the lowest layer it spoiled, not where it entered."),
    Mistake("backward-locate-bug-no-copies", NB, "locate_bug",
            _LOCATE_COPIES,
            "    dW, db = backward_fn(X, T, weights, biases, g, g_out)\n",
            "Hands the caller's arrays to the backward pass, which may update them in place, and checks at whatever "
            "point that leaves."),
    Mistake("backward-locate-bug-zero-based-layer", NB, "locate_bug",
            'return f"{name}[{l}]"', 'return f"{name}[{l - 1}]"',
            "Names the parameter by its Python index (weights[l - 1]) instead of the course's layer number."),
    Mistake("backward-locate-bug-weights-only", NB, "locate_bug",
            '(("W", weights, dW), ("b", biases, db))', '(("W", weights, dW),)',
            "Checks the weight gradients only, so a bug in a bias gradient goes unnoticed."),
    Mistake("backward-locate-bug-no-shape-check", NB, "locate_bug",
            "if analytic.shape != numeric.shape or rel_error(analytic, numeric) > tol:",
            "if rel_error(analytic, numeric) > tol:",
            "Compares the numbers without checking the shapes, so a transposed gradient crashes the comparison."),
]
