"""Common mistakes of notebook 2, the loss and the chain rule (``02-loss-chain-rule/loss_chain_rule``)."""

from . import Mistake

NB = "02-loss-chain-rule/loss_chain_rule"

MISTAKES = [
    Mistake(
        "loss-squared-error-summed-over-batch", NB, "squared_error",
        "return 0.5 * np.sum((T - O) ** 2) / O.shape[0]",
        "return 0.5 * np.sum((T - O) ** 2)",
        "The squared error is summed over the samples of the batch instead of averaged."),
    Mistake(
        "loss-squared-error-missing-half", NB, "squared_error",
        "return 0.5 * np.sum((T - O) ** 2) / O.shape[0]",
        "return np.sum((T - O) ** 2) / O.shape[0]",
        "The squared error leaves out the factor 1/2."),
    Mistake(
        "loss-squared-error-mean-over-outputs", NB, "squared_error",
        "return 0.5 * np.sum((T - O) ** 2) / O.shape[0]",
        "return 0.5 * np.mean((T - O) ** 2)",
        "The squared error averages over the outputs as well as the samples (np.mean of every entry)."),
    Mistake(
        "loss-softmax-axis-0", NB, "softmax",
        "e = np.exp(Z - Z.max(axis=1, keepdims=True))  # every exponent <= 0: no overflow\n"
        "    return e / e.sum(axis=1, keepdims=True)",
        "e = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
        "    return e / e.sum(axis=0, keepdims=True)",
        "The softmax normalises over axis 0 (the samples) instead of axis 1 (the classes of each sample)."),
    Mistake(
        "loss-softmax-no-max-shift", NB, "softmax",
        "e = np.exp(Z - Z.max(axis=1, keepdims=True))",
        "e = np.exp(Z)",
        "The softmax exponentiates the logits directly, without subtracting the row maximum: it overflows."),
    Mistake(
        "loss-softmax-global-max", NB, "softmax",
        "e = np.exp(Z - Z.max(axis=1, keepdims=True))",
        "e = np.exp(Z - Z.max())",
        "The softmax subtracts the maximum of the whole batch instead of each row's: rows far below it "
        "underflow to 0/0."),
    Mistake(
        "loss-cross-entropy-summed-over-batch", NB, "cross_entropy",
        "return -np.mean(np.log(p_correct))",
        "return -np.sum(np.log(p_correct))",
        "The cross-entropy is summed over the samples instead of averaged."),
    Mistake(
        "loss-cross-entropy-naive-log", NB, "cross_entropy",
        "    p_correct = np.sum(P * T, axis=1)  # the probability of the correct class, one per sample\n"
        "    return -np.mean(np.log(p_correct))",
        "    return -np.sum(T * np.log(P)) / P.shape[0]",
        "The cross-entropy takes log(P) of every entry, so an exact zero in P gives 0 * log 0 = nan."),
    Mistake(
        "loss-cross-entropy-missing-minus", NB, "cross_entropy",
        "return -np.mean(np.log(p_correct))",
        "return np.mean(np.log(p_correct))",
        "The cross-entropy forgets the minus sign (a negative loss)."),
    Mistake(
        "loss-dE-dw-wrong-variable", NB, "dE_dw",
        "dE_dw = sympy.diff(E, w)",
        "dE_dw = sympy.diff(E, x)",
        "dE/dw is differentiated with respect to the input x instead of the weight w."),
    Mistake(
        "loss-sigmoid-prime-one-minus-z", NB, "sigmoid_prime",
        "sigmoid_prime = a * (1 - a)",
        "sigmoid_prime = a * (1 - z)",
        "sigma' is written sigma(z) (1 - z) instead of sigma(z) (1 - sigma(z))."),
    Mistake(
        "loss-sigmoid-prime-through-z", NB, "sigmoid_prime",
        "sigmoid_prime = a * (1 - a)",
        "sigmoid_prime = dsigma_dz",
        "sigma' is left as SymPy's exp(-z)/(1 + exp(-z))**2 instead of being written through a = sigma(z)."),
    Mistake(
        "loss-delta-sign-error", NB, "Delta_out",
        "Err = target - o_out",
        "Err = o_out - target",
        "The output delta uses Err = o - t: it is the libraries' delta = dE/din, not the course's Delta."),
    Mistake(
        "loss-delta-missing-gprime", NB, "Delta_out",
        "Delta_out = Err * o_out * (1 - o_out)",
        "Delta_out = Err",
        "The output delta forgets the factor g'(in): Delta = Err."),
    Mistake(
        "loss-delta-gprime-of-wrong-argument", NB, "Delta_out",
        "Delta_out = Err * o_out * (1 - o_out)",
        "Delta_out = Err * sigmoid(o_out) * (1 - sigmoid(o_out))",
        "The output delta evaluates g' at the output o instead of at in: sigma(o)(1 - sigma(o))."),
    Mistake(
        "loss-chain-rule-sign", NB, "dE_dw_chain",
        "dE_dw_chain = -Delta_out.subs(in_, w * x + b) * din_dw",
        "dE_dw_chain = Delta_out.subs(in_, w * x + b) * din_dw",
        "The chain rule drops the minus sign: dE/dw = Delta x instead of -Delta x."),
]
