'''Correct answers of notebook 1, the forward pass (``01-forward/forward``), written otherwise
than the solution: several styles per answer region. ``mlp_forward``, the longest answer, is
made of four parts that students write independently, so its variants are every composition
of the parts' styles.'''

import textwrap
from itertools import product

from . import Variant

NB = "01-forward/forward"


def _regions(cell: str, ids_and_codes) -> list:
    """Variants of the regions of a multi-region cell: ``[(region, id, code), ...]``."""
    return [Variant(vid, NB, cell, code, region) for region, vid, code in ids_and_codes]


#: mlp_forward in four parts that students write independently, each with its styles: the
#: checks of X and of the lists, the loop over the layers (binding ``l`` from 1, ``W``, ``b``
#: and ``prev``, the activations below), the checks of a layer's W and b, and its forward step
_MLP_CHECKS = {
    "ndim": '''
        if np.ndim(X) != 2:
            raise ValueError(f"X must be 2-D, (n_samples, n_features), not of shape {np.shape(X)}")
        if len(weights) != len(biases):
            raise ValueError("one bias vector per weight matrix, please")
        ''',
    "asarray": '''
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError("X should have shape (n_samples, n_features), got " + str(X.shape))
        n_layers = len(weights)
        if n_layers != len(biases):
            raise ValueError("need as many bias vectors as weight matrices")
        ''',
    "shape-tuple": '''
        shape = np.shape(X)
        if len(shape) != 2:
            raise ValueError("mlp_forward needs a 2-D X, one sample per row; got shape %s" % (shape,))
        if len(biases) != len(weights):
            raise ValueError("weights has %d entries, biases %d" % (len(weights), len(biases)))
        ''',
}
_MLP_LOOPS = {
    "enumerate": '''
        acts = [X]
        for l, (W, b) in enumerate(zip(weights, biases), start=1):
            prev = acts[-1]
        ''',
    "range": '''
        acts = [X]
        for l in range(1, len(weights) + 1):
            W, b = weights[l - 1], biases[l - 1]
            prev = acts[l - 1]
        ''',
    "counter": '''
        acts = [X]
        l = 0
        for W, b in zip(weights, biases):
            l += 1
            prev = acts[-1]
        ''',
}
_MLP_LAYER_CHECKS = {
    "joined": '''
        if np.ndim(W) != 2 or np.shape(W)[0] != np.shape(prev)[1]:
            raise ValueError(f"layer {l}: W has shape {np.shape(W)}, but {np.shape(prev)[1]} units come in")
        if np.shape(b) != (np.shape(W)[1],):
            raise ValueError(f"layer {l}: b has shape {np.shape(b)}; one bias per unit")
        ''',
    "one-by-one": '''
        fan_in = prev.shape[1]
        if len(np.shape(W)) != 2:
            raise ValueError("layer %d: W must be 2-D" % l)
        if np.shape(W)[0] != fan_in:
            raise ValueError("layer %d: W needs %d rows, one per unit below" % (l, fan_in))
        if np.ndim(b) != 1 or len(b) != np.shape(W)[1]:
            raise ValueError("layer %d: one bias per unit" % l)
        ''',
    "sizes": '''
        rows = np.shape(W)[0] if np.ndim(W) == 2 else None
        if rows != prev.shape[1]:
            raise ValueError("layer " + str(l) + ": W does not fit the layer below")
        n_out = np.shape(W)[1]
        if tuple(np.shape(b)) != (n_out,):
            raise ValueError("layer " + str(l) + ": b should have " + str(n_out) + " entries")
        ''',
}
_MLP_STEPS = {
    "inline": '''
        acts.append(g(prev @ W + b))
        ''',
    "dense": '''
        _, a = dense_forward(prev, W, b, g)
        acts.append(a)
        ''',
    "dot": '''
        z = np.dot(prev, W) + b
        acts.append(g(z))
        ''',
}


def _mlp(checks: str, loop: str, layer: str, step: str) -> str:
    """One mlp_forward answer: the parts in order, the layer's two inside the loop."""
    inner = textwrap.indent("\n".join(textwrap.dedent(part).strip("\n")
                                      for part in (_MLP_LAYER_CHECKS[layer], _MLP_STEPS[step])), "    ")
    return "\n".join([textwrap.dedent(_MLP_CHECKS[checks]).strip("\n"), textwrap.dedent(_MLP_LOOPS[loop]).strip("\n"),
                      inner, "return acts"])


VARIANTS = [
    # --- 1.1 neuron
    Variant("forward-neuron-loop", NB, "neuron", '''
        total = b
        for a_j, w_j in zip(a_prev, w):
            total = total + a_j * w_j
        return total, g(total)
        '''),
    Variant("forward-neuron-sum-of-products", NB, "neuron", '''
        z = float(np.sum(np.asarray(a_prev) * np.asarray(w))) + b
        activation = g(z)
        return z, activation
        '''),
    Variant("forward-neuron-matmul", NB, "neuron", '''
        weighted = a_prev @ w
        net = weighted + b
        out = g(net)
        return net, out
        '''),
    # --- 1.2 sigmoid
    Variant("forward-sigmoid-boolean-mask", NB, "sigmoid", '''
        z = np.asarray(z, dtype=float)
        result = np.empty_like(z)
        positive = z >= 0
        result[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
        exp_neg = np.exp(z[~positive])  # z < 0 here, so exp(z) < 1
        result[~positive] = exp_neg / (1.0 + exp_neg)
        return result
        '''),
    Variant("forward-sigmoid-tanh", NB, "sigmoid", '''
        # sigma(z) = (1 + tanh(z / 2)) / 2, and tanh never overflows
        return 0.5 * (1.0 + np.tanh(0.5 * z))
        '''),
    Variant("forward-sigmoid-where-numerator", NB, "sigmoid", '''
        small = np.exp(-np.abs(z))
        numerator = np.where(z >= 0, 1.0, small)
        return numerator / (1.0 + small)
        '''),
    Variant("forward-sigmoid-logaddexp", NB, "sigmoid", '''
        # log(1 + exp(-z)) computed without overflow
        return np.exp(-np.logaddexp(0.0, -z))
        '''),
    # --- 1.3 the derivatives and ReLU: four regions, sigmoid_prime, tanh_prime, relu, relu_prime
    *_regions("derivatives", [
        (0, "forward-sigmoid-prime-minus-square", '''
            sig = sigmoid(z)
            return sig - sig ** 2
            '''),
        (0, "forward-sigmoid-prime-symmetric", '''
            return sigmoid(z) * sigmoid(-z)
            '''),
        (0, "forward-sigmoid-prime-named-factor", '''
            s = sigmoid(z)
            one_minus = 1.0 - s
            return s * one_minus
            '''),
        (1, "forward-tanh-prime-product", '''
            t = np.tanh(z)
            return 1.0 - t * t
            '''),
        (1, "forward-tanh-prime-factored", '''
            th = np.tanh(z)
            return (1.0 - th) * (1.0 + th)
            '''),
        (1, "forward-tanh-prime-square", '''
            return 1 - np.square(np.tanh(z))
            '''),
        (2, "forward-relu-where", '''
            return np.where(z > 0, z, 0.0)
            '''),
        (2, "forward-relu-mask-product", '''
            return z * (z > 0)
            '''),
        (2, "forward-relu-copy-and-clip", '''
            out = np.array(z, dtype=float)
            out[out < 0] = 0.0
            return out
            '''),
        (3, "forward-relu-prime-where", '''
            return np.where(z > 0, 1.0, 0.0)
            '''),
        (3, "forward-relu-prime-greater", '''
            return np.greater(z, 0).astype(np.float64)
            '''),
        (3, "forward-relu-prime-zeros", '''
            grad = np.zeros(np.shape(z))
            grad[np.asarray(z) > 0] = 1.0
            return grad
            '''),
    ]),
    # --- 1.4 dense_forward
    Variant("forward-dense-dot", NB, "dense_forward", '''
        weighted = np.dot(A_prev, W) + b
        activations = g(weighted)
        return weighted, activations
        '''),
    Variant("forward-dense-matmul-broadcast", NB, "dense_forward", '''
        Z = np.matmul(A_prev, W)
        Z = Z + b[np.newaxis, :]  # the same bias for every sample (row)
        return Z, g(Z)
        '''),
    Variant("forward-dense-einsum", NB, "dense_forward", '''
        # sum over the incoming units j, for every sample s and unit i
        net = np.einsum("sj,ji->si", A_prev, W) + b
        out = g(net)
        return net, out
        '''),
    # --- 1.5 mlp_forward: every composition of its parts
    *[Variant(f"forward-mlp-{'-'.join(parts)}", NB, "mlp_forward", _mlp(*parts))
      for parts in product(_MLP_CHECKS, _MLP_LOOPS, _MLP_LAYER_CHECKS, _MLP_STEPS)],
    # --- 1.6 mazur_params
    Variant("forward-mazur-transpose", NB, "worked_example_params", '''
        # written as read (one row per target unit), then transposed to (from, to)
        W1 = np.array([[w1, w2], [w3, w4]]).T
        W2 = np.array([[w5, w6], [w7, w8]]).T
        b1 = np.full(2, bias_hidden)
        b2 = np.full(2, bias_output)
        '''),
    Variant("forward-mazur-by-entry", NB, "worked_example_params", '''
        W1 = np.zeros((2, 2))
        W1[0, 0], W1[1, 0], W1[0, 1], W1[1, 1] = w1, w2, w3, w4
        W2 = np.zeros((2, 2))
        W2[0, 0], W2[1, 0], W2[0, 1], W2[1, 1] = w5, w6, w7, w8
        b1 = bias_hidden * np.ones(2)
        b2 = bias_output * np.ones(2)
        '''),
    Variant("forward-mazur-reshape", NB, "worked_example_params", '''
        W1 = np.array([w1, w3, w2, w4]).reshape(2, 2)
        W2 = np.array([w5, w7, w6, w8]).reshape(2, 2)
        b1, b2 = np.array([bias_hidden] * 2), np.array([bias_output] * 2)
        '''),
    # --- 1.7 the worked example's forward pass
    Variant("forward-mazur-keywords", NB, "worked_example_forward", '''
        acts_mazur = mlp_forward(X_mazur, weights=[W1, W2], biases=[b1, b2], g=sigmoid)
        O_mazur = acts_mazur[2]
        '''),
    Variant("forward-mazur-named-lists", NB, "worked_example_forward", '''
        weights_mazur = [W1, W2]
        biases_mazur = [b1, b2]
        acts_mazur = mlp_forward(X_mazur, weights_mazur, biases_mazur, sigmoid)
        O_mazur = acts_mazur[len(acts_mazur) - 1]
        '''),
]
