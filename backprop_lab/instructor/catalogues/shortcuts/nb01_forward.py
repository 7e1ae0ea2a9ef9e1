"""Shortcuts of notebook 1, *The forward pass* (``01-forward/forward``)."""

from . import Shortcut

NB = "01-forward/forward"

SHORTCUTS = [
    Shortcut("forward-neuron-from-mlp", NB, "neuron", """
        from backprop_lab import MLP
        net = MLP.from_params([np.reshape(w, (-1, 1))], [np.array([b])], activation="identity")
        in_ = float(net.forward(np.reshape(a_prev, (1, -1)))[0, 0])
        return in_, g(in_)
        """, ("test_neuron",), "MLP.forward",
        "Lets the reference MLP compute the weighted sum of one neuron."),
    Shortcut("forward-sigmoid-reference", NB, "sigmoid", """
        import backprop_lab
        return backprop_lab.activations.sigmoid(z)
        """, ("test_sigmoid",), "activations.sigmoid",
        "Returns the library's stable sigmoid instead of writing one."),
    Shortcut("forward-derivatives-reference", NB, "derivatives", (
        "return backprop_lab.activations.sigmoid.derivative(z)",
        "return backprop_lab.activations.tanh.derivative(z)",
        "return backprop_lab.activations.relu(z)",
        "return backprop_lab.activations.get_activation('relu').derivative(z)"),
        ("test_derivatives",), "activations.sigmoid",
        "Takes the four functions of task 1.3 from the library."),
    Shortcut("forward-dense-from-mlp", NB, "dense_forward", """
        from backprop_lab import MLP
        net = MLP.from_params([W], [b], activation="identity")
        in_ = net.forward(A_prev)
        return in_, g(in_)
        """, ("test_dense_forward",), "MLP.forward",
        "Computes a layer's weighted sums with a one-layer reference MLP."),
    Shortcut("forward-mlp-trace", NB, "mlp_forward", """
        from functools import partial
        import backprop_lab
        import re
        try:
            trace = partial(backprop_lab.MLP.from_params(weights, biases, activation=g.name).trace)
            t = trace(X)
        except ValueError as exc:  # the reference names weights[k]; the task says "layer k + 1"
            raise ValueError(re.sub(r"(weights|biases)\\[(\\d+)\\]", lambda m: f"layer {int(m.group(2)) + 1}",
                                    str(exc))) from None
        return [t.a(l) for l in range(len(weights) + 1)]
        """, ("test_mlp_forward",), "MLP.trace",
        "Builds a reference network from the weights and reads every activation off its trace "
        "(through a partial, which the fence sees through), its shape errors reworded to name the layer."),
    Shortcut("forward-params-published", NB, "worked_example_params", """
        from backprop_lab import examples
        ex = examples.worked_example()
        W1, W2 = ex.weights
        b1, b2 = ex.biases
        """, ("test_worked_example_params",), "examples.worked_example",
        "Copies the worked example's weights from the library instead of placing w1 ... w8.", fenced=False),
    Shortcut("forward-acts-from-reference", NB, "worked_example_forward", """
        import backprop_lab
        ex = backprop_lab.examples.worked_example()
        _trace = backprop_lab.MLP.from_params(ex.weights, ex.biases, activation="sigmoid").trace(ex.X)
        acts_mazur = [_trace.a(0), _trace.a(1), _trace.a(2)]
        O_mazur = acts_mazur[-1]
        mlp_forward = lambda X, weights, biases, g: [_trace.a(0), _trace.a(1), _trace.a(2)]
        """, ("test_worked_example_forward",), None,
        "Takes the activations from the reference's trace outside any test, and replaces mlp_forward "
        "by a lookup of them: the test also runs mlp_forward on weights no lookup knows.", fenced=False),
]
