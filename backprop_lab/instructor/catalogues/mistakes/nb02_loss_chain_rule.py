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
        "return sympy.diff(E, w)",
        "return sympy.diff(E, x)",
        "dE/dw is differentiated with respect to the input x instead of the weight w."),
    Mistake(
        "loss-dE-dw-notebook-E", NB, "dE_dw",
        "    E = sympy.Rational(1, 2) * (t - sigmoid(w * x + b)) ** 2\n",
        "",
        "neuron_gradient differentiates the notebook's E (built from the notebook's own symbols) instead "
        "of building E from its arguments: for the test's symbols the result is 0."),
    Mistake(
        "loss-dE-dw-missing-half", NB, "dE_dw",
        "E = sympy.Rational(1, 2) * (t - sigmoid(w * x + b)) ** 2",
        "E = (t - sigmoid(w * x + b)) ** 2",
        "The neuron's loss leaves out the factor 1/2, so dE/dw is twice too large."),
    Mistake(
        "loss-sigmoid-prime-one-minus-z", NB, "sigmoid_prime",
        "g_prime = g_prime.subs(z, z_of_a[0])",
        "g_prime = g_prime.subs(z, a)",
        "Where z is left in g'(z), puts the symbol a in for z itself instead of solving a = g(z) for z: "
        "a mixture such as σ(z)(1 − z) in disguise."),
    Mistake(
        "loss-sigmoid-prime-through-z", NB, "sigmoid_prime",
        "return dg_dz, g_prime, proof",
        "return dg_dz, dg_dz, proof",
        "g' is left as SymPy's exp(-z)/(1 + exp(-z))**2 instead of being written through a = g(z)."),
    Mistake(
        "loss-sigmoid-proof-not-substituted", NB, "sigmoid_prime",
        "proof = sympy.simplify(dg_dz - g_prime.subs(a, g(z)))",
        "proof = sympy.simplify(dg_dz - g_prime)",
        "The proof subtracts g'(a) without putting a = g(z) back in, so the difference is not 0."),
    Mistake(
        "loss-gprime-no-inversion", NB, "sigmoid_prime",
        "    if z in g_prime.free_symbols:                     # z is still there: turn a = g(z) around\n"
        "        z_of_a = sympy.solve(sympy.Eq(g(z), a), z)    # the z whose activation is a\n"
        "        if not z_of_a:\n"
        "            raise ValueError(f\"cannot solve a = {g(z)} for z\")\n"
        "        g_prime = g_prime.subs(z, z_of_a[0])\n",
        "",
        "Only substitutes a for g(z): right for tanh, whose derivative contains tanh(z), but the sigmoid's "
        "derivative keeps an exp(-z) that only solving a = g(z) for z removes."),
    Mistake(
        "loss-gprime-derivative-at-a", NB, "sigmoid_prime",
        "g_prime = dg_dz.subs(g(z), a)",
        "g_prime = sympy.diff(g(a), a)",
        "Writes g'(a), the derivative evaluated at the output, instead of g'(z) expressed through a = g(z)."),
    Mistake(
        "loss-delta-sign-error", NB, "Delta_out",
        "Err = t - o",
        "Err = o - t",
        "The output delta uses Err = o - t: it is the libraries' delta = dE/din, not the course's Delta."),
    Mistake(
        "loss-delta-missing-gprime", NB, "Delta_out",
        "return Err * g_prime",
        "return Err",
        "The output delta forgets the factor g'(in): Delta = Err."),
    Mistake(
        "loss-delta-gprime-of-wrong-argument", NB, "Delta_out",
        "g_prime = sympy.diff(g(in_), in_)",
        "g_prime = sympy.diff(g(in_), in_).subs(in_, o)",
        "The output delta evaluates g' at the output o instead of at in: g'(g(in))."),
    Mistake(
        "loss-delta-g-instead-of-gprime", NB, "Delta_out",
        "g_prime = sympy.diff(g(in_), in_)",
        "g_prime = g(in_)",
        "The output delta multiplies Err by g(in) = o instead of by its derivative g'(in)."),
    Mistake(
        "loss-delta-sigmoid-gprime-for-any-g", NB, "Delta_out",
        "g_prime = sympy.diff(g(in_), in_)",
        "g_prime = o * (1 - o)",
        "The output delta uses the sigmoid's g' = o (1 - o) whatever g is: right for the sigmoid, wrong "
        "for tanh or an undefined g."),
    Mistake(
        "loss-chain-rule-sign", NB, "dE_dw_chain",
        "dE_dw = -Delta.subs(in_, in_expr) * din_dw",
        "dE_dw = Delta.subs(in_, in_expr) * din_dw",
        "The chain rule drops the minus sign: dE/dw = Delta x instead of -Delta x."),
    Mistake(
        "loss-chain-rule-no-substitution", NB, "dE_dw_chain",
        "-Delta.subs(in_, in_expr) * din_dw",
        "-Delta * din_dw",
        "The chain rule multiplies Delta(in) by din/dw without substituting in = in_expr: the result "
        "still contains in."),
    Mistake(
        "loss-chain-rule-notebook-x", NB, "dE_dw_chain",
        "din_dw = sympy.diff(in_expr, w)",
        "din_dw = x",
        "din/dw is written as the notebook's x instead of differentiating in_expr with respect to w."),
    # 2.8 softmax_cross_entropy_gradient
    Mistake(
        "loss-softmax-ce-gradient-sign", NB, "softmax_ce",
        "dE_dz = [sympy.diff(E, zi) for zi in z]",
        "dE_dz = [-sympy.diff(E, zi) for zi in z]",
        "Returns the course's Δ = −∂E/∂z for the gradient ∂E/∂z of softmax with cross-entropy."),
    Mistake(
        "loss-softmax-ce-unnormalised", NB, "softmax_ce",
        "sympy.log(ek / S)",
        "sympy.log(ek)",
        "Builds the cross-entropy from e^{z_k} instead of the probabilities e^{z_k} / Σ_c e^{z_c}: the softmax's "
        "denominator is missing."),
    Mistake(
        "loss-softmax-ce-not-through-p", NB, "softmax_ce",
        "sympy.together(d).subs(through_p).subs(sums_to_one)",
        "sympy.together(d).subs(sums_to_one)",
        "Simplifies the gradient without writing it through the probabilities: exp(z_k) stays in it."),
    Mistake(
        "loss-softmax-ce-fixed-classes", NB, "softmax_ce",
        "K = len(z)",
        "K = 3",
        "Writes the notebook's three classes instead of taking K from the arguments."),
    Mistake(
        "loss-softmax-ce-first-class-only", NB, "softmax_ce",
        "E = -sum(tk * sympy.log(ek / S) for tk, ek in zip(t, e))",
        "E = -sympy.log(e[0] / S)",
        "Writes the cross-entropy as −log p_1, as if the first class were always the correct one, instead of "
        "−Σ_k t_k log p_k for the targets given."),
]
