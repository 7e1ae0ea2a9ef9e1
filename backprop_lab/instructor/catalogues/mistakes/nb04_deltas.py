"""Common mistakes of notebook 4, *Deriving the deltas* (``04-deltas/deltas``).

The SymPy tasks are functions (``weighted_sums``, ``output_deltas``, ``hidden_deltas``,
``deltas_by_substitution``, ``hidden_rule_pieces``, ``deltas_both_ways``, ``weight_gradients``,
``mazur_update``) that the tests call on symbols and sizes of their own; the cell after each function
applies it to the 2-2-2 network (or, for ``deltas_both_ways``, a network with two hidden layers).
"""

from . import Mistake

NB = "04-deltas/deltas"

MISTAKES = [
    # 4.1 weighted_sums
    Mistake("deltas-in2-transposed-weights", NB, "in_2",
            "a_prev * W + b", "a_prev * W.T + b",
            "Multiplies the activations by W transposed, so unit i sums the weights leaving unit i of the layer "
            "below instead of those entering unit i (and the product fails for non-square W)."),
    Mistake("deltas-in2-missing-bias", NB, "in_2",
            "return a_prev * W + b", "return a_prev * W",
            "Forgets the biases: returns Σ_j a_j W_{j,i} without + b_i."),
    # 4.2 output_deltas
    Mistake("deltas-output-sign", NB, "Delta_o",
            "(T[i] - O[i])", "(O[i] - T[i])",
            "Writes Err = o − t, which gives ∂E/∂in (the libraries' δ) instead of the course's Δ = −∂E/∂in."),
    Mistake("deltas-output-missing-gprime", NB, "Delta_o",
            "(T[i] - O[i]) * g_prime[i]", "(T[i] - O[i])",
            "Uses the error Err_i alone as the output delta and forgets the factor g'(in_i)."),
    Mistake("deltas-output-sigmoid-hardcoded", NB, "Delta_o",
            "(T[i] - O[i]) * g_prime[i]", "(T[i] - O[i]) * O[i] * (1 - O[i])",
            "Writes the sigmoid's g' = o_i (1 − o_i) into the rule instead of using the g_prime passed in, "
            "which is wrong for any other activation."),
    # 4.3 hidden_deltas
    Mistake("deltas-hidden-swapped-indices", NB, "Delta_h",
            "W[j, i] * Delta_next[i]", "W[i, j] * Delta_next[i]",
            "Sums W_{i,j} Δ_i instead of W_{j,i} Δ_i: reads the course text's W_{i,j} as our W[i, j], so hidden "
            "unit j collects the error through the weights of another unit."),
    Mistake("deltas-hidden-missing-gprime", NB, "Delta_h",
            "g_prime[j] * sum(", "sum(",
            "Back-propagates Σ_i W_{j,i} Δ_i without the hidden unit's own factor g'(in_j)."),
    Mistake("deltas-hidden-gprime-of-output", NB, "Delta_h",
            "g_prime_h = a_1.applyfunc(lambda a: a * (1 - a))", "g_prime_h = O.applyfunc(lambda o: o * (1 - o))",
            "Gives hidden_deltas the output units' g' (o_j (1 − o_j)) for our network instead of the hidden "
            "units' a_j (1 − a_j)."),
    Mistake("deltas-hidden-fixed-size", NB, "Delta_h",
            "n, m = W.shape", "n, m = 2, 2",
            "Writes the rule for the 2-2-2 network only (two hidden units, two outputs) instead of for any "
            "layer sizes."),
    # 4.4 deltas_by_substitution
    Mistake("deltas-direct-missing-minus", NB, "Delta_h_direct",
            "(-sympy.diff(E_s, s_j)).subs(back)", "sympy.diff(E_s, s_j).subs(back)",
            "Differentiates directly but forgets that Δ is −∂E/∂in, so the direct deltas have the wrong sign."),
    Mistake("deltas-direct-column", NB, "Delta_h_direct",
            "sympy.Matrix([[(-sympy.diff(E_s, s_j)).subs(back) for s_j in s]])",
            "sympy.Matrix([(-sympy.diff(E_s, s_j)).subs(back) for s_j in s])",
            "Builds sympy.Matrix from a flat list, which gives a column (n × 1) instead of the row of deltas."),
    Mistake("deltas-substitution-xreplace-back", NB, "Delta_h_direct",
            ".subs(back) for s_j in s]])", ".xreplace(back) for s_j in s]])",
            "Puts in_j back with xreplace: for an undefined g that makes Derivative(g(in_j), in_j), a derivative "
            "with respect to an expression, which SymPy refuses."),
    Mistake("deltas-substitution-no-negated-in", NB, "Delta_h_direct",
            "        fresh[-in_j] = -s_j              # and −in_j, which SymPy writes out term by term (σ's e^{−in})\n", "",
            "Replaces only in_j itself: in the sigmoid's e^{−in}, SymPy has written −in_j as a sum of negated terms, "
            "so in_j is not found there."),
    Mistake("deltas-substitution-not-put-back", NB, "Delta_h_direct",
            "(-sympy.diff(E_s, s_j)).subs(back)", "-sympy.diff(E_s, s_j)",
            "Differentiates with respect to the fresh symbols but never puts in_j back: the deltas contain symbols "
            "the network does not have."),
    # 4.5 hidden_rule_pieces
    Mistake("deltas-pieces-diff-instead-of-collect", NB, "hidden_rule_pieces",
            "shares = [by_weight.get(w, sympy.Integer(0)) for w in W_row]", "shares = [sympy.diff(total, w) for w in W_row]",
            "Takes ∂(total)/∂W_{j,i} as the share of W_{j,i}: W_{j,i} also sits inside in_i, so the derivative is not the "
            "coefficient that collect finds."),
    Mistake("deltas-pieces-total-not-factored", NB, "hidden_rule_pieces",
            "total = by_g_prime[G]", "total = Delta_j",
            "Returns Δ_j itself as what multiplies g'(in_j), without factoring g'(in_j) out."),
    Mistake("deltas-pieces-diff-by-expression", NB, "hidden_rule_pieces",
            "g_prime = sympy.diff(g(u), u).subs(u, in_j)", "g_prime = sympy.diff(g(in_j), in_j)",
            "Differentiates g(in_j) with respect to the expression in_j, which SymPy refuses, instead of "
            "differentiating g(u) and evaluating at in_j."),
    # 4.6 deltas_both_ways
    Mistake("deltas-layers-own-weights", NB, "three_layers",
            "hidden_deltas(g_prime[l - 1], W[l], rules[l])", "hidden_deltas(g_prime[l - 1], W[l - 1], rules[l])",
            "Back-propagates through the weights entering layer l, W^(l), instead of those leaving it, W^(l+1)."),
    Mistake("deltas-layers-gprime-off-by-one", NB, "three_layers",
            "hidden_deltas(g_prime[l - 1], W[l], rules[l])", "hidden_deltas(g_prime[l], W[l], rules[l])",
            "Uses g'(in) of the layer above (g_prime[l], layer l + 1) for the hidden layer l."),
    Mistake("deltas-layers-direct-short", NB, "three_layers",
            "for l in range(1, L + 1)]", "for l in range(1, L)]",
            "Differentiates for the hidden layers only and forgets the output layer in the direct deltas."),
    # 4.7 weight_gradients (and the picks of w5, w1 after it)
    Mistake("deltas-gradient-sign", NB, "dE_dw",
            "-a_prev[j] * Delta[i]", "a_prev[j] * Delta[i]",
            "Writes ∂E/∂W_{j,i} = a_j Δ_i, the course's update direction, instead of the gradient −a_j Δ_i."),
    Mistake("deltas-gradient-transposed", NB, "dE_dw",
            "sympy.Matrix(len(a_prev), len(Delta), lambda j, i: -a_prev[j] * Delta[i])",
            "sympy.Matrix(len(Delta), len(a_prev), lambda i, j: -a_prev[j] * Delta[i])",
            "Lays the gradients out with one row per receiving unit, the transpose of W's (fan_in, fan_out)."),
    Mistake("deltas-w5-from-h2", NB, "dE_dw",
            "dE_dw5 = dE_dW_2[0, 0]", "dE_dw5 = dE_dW_2[1, 0]",
            "Maps w5 to the wrong sending unit (h_2 instead of h_1), which gives ∂E/∂w6."),
    # 4.8 gradient_w5_w1
    Mistake("deltas-lambdify-argument-order", NB, "gradient_w5_w1",
            "f(*[values[s] for s in net.symbols])", "f(*values.values())",
            "Calls the lambdified function with the values in the dictionary's order (weights first) instead of "
            "the order of net.symbols it was compiled with."),
    # 4.9 mazur_update (the example's weights are given data: the transpose trap is graded in notebook 1)
    Mistake("deltas-update-plus-sign", NB, "mazur",
            "w5_new = weights[1][0, 0] - lr * g5", "w5_new = weights[1][0, 0] + lr * g5",
            "Adds α ∂E/∂w5 (mixing up the course's +α a_j Δ_i with the gradient), moving w5 uphill."),
    Mistake("deltas-mazur-fixed-lr", NB, "mazur",
            "w5_new = weights[1][0, 0] - lr * g5\n    w1_new = weights[0][0, 0] - lr * g1",
            "w5_new = weights[1][0, 0] - 0.5 * g5\n    w1_new = weights[0][0, 0] - 0.5 * g1",
            "Writes the article's α = 0.5 into the update instead of using the argument lr."),
    Mistake("deltas-mazur-update-in-place", NB, "mazur",
            "w5_new = weights[1][0, 0] - lr * g5", "weights[1][0, 0] -= lr * g5\n    w5_new = weights[1][0, 0]",
            "Updates w5 inside the caller's weight array (in place) instead of computing the new value."),
    Mistake("deltas-mazur-w5-from-w6", NB, "mazur",
            "weights[1][0, 0] - lr * g5", "weights[1][1, 0] - lr * g5",
            "Takes the old w5 from W2[1, 0], which is w6 (h_2 → o_1), instead of W2[0, 0] (h_1 → o_1)."),
]
