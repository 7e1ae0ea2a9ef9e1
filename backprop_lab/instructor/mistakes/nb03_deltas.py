"""Common mistakes of notebook 3, *Deriving the deltas* (``03-deltas/deltas``)."""

from . import Mistake

NB = "03-deltas/deltas"

MISTAKES = [
    Mistake("deltas-in2-transposed-weights", NB, "in_2",
            "a_1 * W_2 + b_2", "a_1 * W_2.T + b_2",
            "Multiplies the hidden activations by W_2 transposed, so output i sums the weights leaving "
            "hidden unit i instead of those entering output i."),
    Mistake("deltas-output-sign", NB, "Delta_o",
            "(T[i] - O[i])", "(O[i] - T[i])",
            "Writes Err = o − t, which gives ∂E/∂in (the libraries' δ) instead of the course's Δ = −∂E/∂in."),
    Mistake("deltas-output-missing-gprime", NB, "Delta_o",
            "(T[i] - O[i]) * O[i] * (1 - O[i])", "(T[i] - O[i])",
            "Uses the error Err_i alone as the output delta and forgets the factor g'(in_i) = o_i (1 − o_i)."),
    Mistake("deltas-hidden-swapped-indices", NB, "Delta_h",
            "W_2[j, i]", "W_2[i, j]",
            "Sums W_{i,j} Δ_i instead of W_{j,i} Δ_i: reads the course text's W_{i,j} as our W_2[i, j], so hidden "
            "unit j collects the error through the weights of the other hidden unit."),
    Mistake("deltas-hidden-missing-gprime", NB, "Delta_h",
            "a_1[j] * (1 - a_1[j]) * sum(", "sum(",
            "Back-propagates Σ_i W_{j,i} Δ_i without the hidden unit's own factor g'(in_j)."),
    Mistake("deltas-hidden-gprime-of-output", NB, "Delta_h",
            "a_1[j] * (1 - a_1[j])", "O[j] * (1 - O[j])",
            "Takes g' of the output unit (o_j (1 − o_j)) instead of the hidden unit's a_j (1 − a_j)."),
    Mistake("deltas-direct-missing-minus", NB, "Delta_h_direct",
            "-sympy.diff(E, b_1[j])", "sympy.diff(E, b_1[j])",
            "Differentiates directly but forgets that Δ is −∂E/∂in, so the direct deltas have the wrong sign."),
    Mistake("deltas-gradient-sign", NB, "dE_dw",
            "dE_dw5 = -a_1[0] * Delta_o[0]", "dE_dw5 = a_1[0] * Delta_o[0]",
            "Writes ∂E/∂w5 = a_j Δ_i, the course's update direction, instead of the gradient −a_j Δ_i."),
    Mistake("deltas-w5-from-h2", NB, "dE_dw",
            "-a_1[0] * Delta_o[0]", "-a_1[1] * Delta_o[0]",
            "Maps w5 to the wrong sending unit (h_2 instead of h_1), which gives ∂E/∂w6."),
    Mistake("deltas-lambdify-argument-order", NB, "gradient_w5_w1",
            "f(*[values[s] for s in net.symbols])", "f(*values.values())",
            "Calls the lambdified function with the values in the dictionary's order (weights first) instead of "
            "the order of net.symbols it was compiled with."),
    Mistake("deltas-mazur-w5-w6-swapped", NB, "mazur",
            "np.array([[0.40, 0.50],      # from h1: w5 (to o1), w7 (to o2)\n"
            "                           [0.45, 0.55]])",
            "np.array([[0.45, 0.50],      # from h1: w5 (to o1), w7 (to o2)\n"
            "                           [0.40, 0.55]])",
            "Swaps w5 and w6 (both enter o1): takes w5 for the weight from h2 and w6 for the one from h1."),
    Mistake("deltas-mazur-rows-are-receivers", NB, "mazur",
            "np.array([[0.40, 0.50],      # from h1: w5 (to o1), w7 (to o2)\n"
            "                           [0.45, 0.55]])",
            "np.array([[0.40, 0.45],      # from h1: w5 (to o1), w7 (to o2)\n"
            "                           [0.50, 0.55]])",
            "Writes one row per receiving output unit (w5, w6 into o1 on the first row), i.e. W2 transposed, "
            "which swaps w6 and w7."),
    Mistake("deltas-update-plus-sign", NB, "mazur",
            "w5_new = weights_mazur[1][0, 0] - lr * dE_dw5_value",
            "w5_new = weights_mazur[1][0, 0] + lr * dE_dw5_value",
            "Adds α ∂E/∂w5 (mixing up the course's +α a_j Δ_i with the gradient), moving w5 uphill."),
]
