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
]
