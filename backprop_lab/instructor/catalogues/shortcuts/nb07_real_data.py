"""Shortcuts of notebook 7, *Real data* (``07-real-data/real_data``)."""

from . import Shortcut

NB = "07-real-data/real_data"

SHORTCUTS = [
    Shortcut("real-standardize-reference", NB, "standardize", """
        return backprop_lab.datasets.standardize(X_train, X_test)
        """, ("test_standardize",), "datasets.standardize",
        "Returns the library's standardisation."),
    Shortcut("real-standardize-standardizer", NB, "standardize", """
        from backprop_lab.datasets import Standardizer
        scaler = Standardizer.fit(X_train)
        return scaler.transform(X_train), scaler.transform(X_test)
        """, ("test_standardize",), "datasets.Standardizer",
        "Uses the library's Standardizer class."),
    Shortcut("real-one-hot-reference", NB, "one_hot", """
        return backprop_lab.losses.one_hot(labels, n_classes)
        """, ("test_one_hot",), "losses.one_hot",
        "Returns the library's one-hot encoding."),
    Shortcut("real-softmax-reference", NB, "softmax", """
        return backprop_lab.activations.get_activation("softmax")(Z)
        """, ("test_softmax",), "activations.softmax",
        "Looks the library's softmax up by name."),
    Shortcut("real-cross-entropy-reference", NB, "cross_entropy", """
        return backprop_lab.losses.cross_entropy(Z, Y)
        """, ("test_cross_entropy",), "losses.cross_entropy",
        "Returns the library's cross-entropy."),
    Shortcut("real-output-delta-loss", NB, "output_delta", """
        loss = backprop_lab.losses.get_loss("cross_entropy")
        return loss.delta(softmax(Z), Y, backprop_lab.activations.softmax)
        """, ("test_output_delta",), "losses.Loss.delta",
        "Takes the output δ from the library's cross-entropy loss object."),
    Shortcut("real-digitnet-wraps-mlp", NB, "DigitNet", ("""
        ref = MLP.from_params(self.weights, self.biases, activation="relu", loss="cross_entropy")
        trace = ref.trace(X)
        return [trace[l].in_ for l in range(1, len(self.weights) + 1)], \\
            [trace.a(l) for l in range(len(self.weights) + 1)]
        """, """
        ref = MLP.from_params(self.weights, self.biases, activation="relu", loss="cross_entropy")
        return ref.gradients(X, Y)
        """), ("test_digitnet_forward", "test_digitnet_gradients", "test_digitnet_accuracy"), "MLP.trace",
        "A DigitNet that wraps the reference MLP."),
    Shortcut("real-digitnet-subclass", NB, "DigitNet", ("""
        class _Net(MLP):
            pass
        net = _Net.from_params(self.weights, self.biases, activation="relu", loss="cross_entropy")
        trace = net.copy().trace(X)
        return [trace[l].in_ for l in range(1, len(self.weights) + 1)], \\
            [trace.a(l) for l in range(len(self.weights) + 1)]
        """, """
        grads = MLP.gradients
        return grads(MLP.from_params(self.weights, self.biases, activation="relu", loss="cross_entropy"), X, Y)
        """), ("test_digitnet_forward", "test_digitnet_gradients", "test_digitnet_accuracy"), "MLP.trace",
        "The same through a subclass, a copy and an unbound method."),
    Shortcut("real-norms-widgets", NB, "layer_gradient_norms", """
        from backprop_lab.widgets import layer_gradient_norms as norms
        return norms(net, X, Y)
        """, ("test_layer_gradient_norms",), "widgets.layer_gradient_norms",
        "Returns the norms that the library's vanishing-gradient explorer computes."),
]
