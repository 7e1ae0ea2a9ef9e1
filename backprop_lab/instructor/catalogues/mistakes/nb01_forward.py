"""Common mistakes of notebook 1, the forward pass (``01-forward/forward``)."""

from . import Mistake

NB = "01-forward/forward"

MISTAKES = [
    Mistake(
        "forward-neuron-missing-bias", NB, "neuron",
        "in_ = np.dot(a_prev, w) + b",
        "in_ = np.dot(a_prev, w)",
        "The single neuron forgets to add its bias b to the weighted sum."),
    Mistake(
        "forward-naive-sigmoid", NB, "sigmoid",
        "    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
        "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "    return 1.0 / (1.0 + np.exp(-z))",
        "The sigmoid is the textbook formula 1 / (1 + exp(-z)), which overflows (with a warning) for z < -709."),
    Mistake(
        "forward-sigmoid-where-both-branches", NB, "sigmoid",
        "    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
        "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-z)), np.exp(z) / (1.0 + np.exp(z)))",
        "The sigmoid picks a safe formula per sign with np.where, but np.where evaluates both branches "
        "everywhere, so exp still overflows for |z| large."),
    Mistake(
        "forward-sigmoid-prime-one-minus-z", NB, "derivatives",
        "return s * (1.0 - s)",
        "return s * (1.0 - z)",
        "sigma' is written sigma(z) (1 - z) instead of sigma(z) (1 - sigma(z))."),
    Mistake(
        "forward-tanh-prime-no-square", NB, "derivatives",
        "return 1.0 - np.tanh(z) ** 2",
        "return 1.0 - np.tanh(z)",
        "tanh' is written 1 - tanh(z), forgetting the square."),
    Mistake(
        "forward-relu-prime-boolean", NB, "derivatives",
        "return (z > 0).astype(float)",
        "return z > 0",
        "ReLU' returns a boolean array instead of floats 0.0 and 1.0."),
    Mistake(
        "forward-dense-W-times-a", NB, "dense_forward",
        "in_ = A_prev @ W + b",
        "in_ = W @ A_prev + b",
        "The dense layer multiplies W @ a (the column-vector habit) instead of a @ W with one sample per row."),
    Mistake(
        "forward-dense-missing-bias", NB, "dense_forward",
        "in_ = A_prev @ W + b",
        "in_ = A_prev @ W",
        "The dense layer forgets the bias: in = A_prev @ W."),
    Mistake(
        "forward-dense-no-activation", NB, "dense_forward",
        "return in_, g(in_)",
        "return in_, in_",
        "The dense layer returns the weighted sums as activations, never applying g."),
    Mistake(
        "forward-output-layer-without-activation", NB, "mlp_forward",
        "        _, a = dense_forward(acts[-1], W, b, g)\n        acts.append(a)",
        "        in_, a = dense_forward(acts[-1], W, b, g)\n"
        "        acts.append(a if l < len(weights) else in_)",
        "The output layer passes on its weighted sums in[L] instead of g(in[L])."),
    Mistake(
        "forward-mlp-without-input-activation", NB, "mlp_forward",
        "    return acts\n    ### END SOLUTION",
        "    return acts[1:]\n    ### END SOLUTION",
        "mlp_forward returns only the layers' activations [a[1], ..., a[L]], without a[0] = X."),
    Mistake(
        "forward-mlp-layer-counted-from-0", NB, "mlp_forward",
        "for l, (W, b) in enumerate(zip(weights, biases), start=1):",
        "for l, (W, b) in enumerate(zip(weights, biases)):",
        "The shape errors count the layers from 0, as Python's list does, so the message blames the layer "
        "below the one whose W^(l) does not fit."),
    Mistake(
        "forward-mlp-checks-only-weights", NB, "mlp_forward",
        "        if np.shape(b) != (W.shape[1],):\n",
        "        if False:  # the biases are trusted\n",
        "Checks every W but not the biases, so a bias of the wrong length is broadcast or fails inside NumPy "
        "with a message that names no layer."),
    Mistake(
        "forward-transposed-worked-example", NB, "worked_example_params",
        "W1 = np.array([[w1, w3],    # row 0: from i1 (to h1, to h2)\n"
        "                   [w2, w4]])   # row 1: from i2\n"
        "    W2 = np.array([[w5, w7],    # row 0: from h1 (to o1, to o2)\n"
        "                   [w6, w8]])   # row 1: from h2",
        "W1 = np.array([[w1, w2],\n                   [w3, w4]])\n"
        "    W2 = np.array([[w5, w6],\n                   [w7, w8]])",
        "The worked example's weights are written row by row as read (one row per target unit): "
        "W1 and W2 are transposed."),
    Mistake(
        "forward-swapped-biases", NB, "worked_example_params",
        "b1 = np.array([bias_hidden, bias_hidden])\n    b2 = np.array([bias_output, bias_output])",
        "b1 = np.array([bias_output, bias_output])\n    b2 = np.array([bias_hidden, bias_hidden])",
        "The worked example's hidden and output biases are swapped."),
]
