"""The reference MLP's loss and gradients equal PyTorch autograd (CPU, float64).

Random depths, widths, activations, batch sizes and all three losses; every gradient
array must agree to 1e-8 relative (norm-wise, and entry-wise above the round-off floor).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (CPU build) is a test dependency: pip install -r requirements.txt")

from backprop_lab import MLP  # noqa: E402

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "identity": lambda z: z,
}


def torch_loss_and_grads(net: MLP, X, Y, loss: str, out_act: str):
    Ws = [torch.tensor(W, requires_grad=True) for W in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    a = torch.tensor(X)
    for W, b in zip(Ws[:-1], bs[:-1]):
        a = TORCH_ACT[net.activation.name](a @ W + b)
    z = a @ Ws[-1] + bs[-1]
    n = X.shape[0]
    if loss == "squared_error":
        o = z if out_act == "identity" else TORCH_ACT[out_act](z)
        E = 0.5 * ((torch.tensor(Y) - o) ** 2).sum() / n
    elif loss == "cross_entropy":
        E = torch.nn.functional.cross_entropy(z, torch.tensor(Y))  # integer labels, mean over samples
    else:
        E = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(Y), reduction="sum") / n
    E.backward()
    return E.item(), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


def assert_close(ours, ref, what):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} vs torch {ref.shape}"
    scale = np.max(np.abs(ref))
    normwise = np.max(np.abs(ours - ref)) / max(scale, 1e-300)
    assert normwise <= 1e-8, f"{what}: relative difference {normwise:.3g} from torch"
    # entry-wise too, for every entry above the float64 round-off floor of the array
    big = np.abs(ref) > 1e-6 * scale
    entrywise = np.max(np.abs(ours - ref)[big] / np.abs(ref)[big]) if big.any() else 0.0
    assert entrywise <= 1e-8, f"{what}: entry-wise relative difference {entrywise:.3g} from torch"


CASES = []
_rng = np.random.default_rng(20261128)
for loss in ("squared_error", "cross_entropy", "binary_cross_entropy"):
    for k in range(12):
        depth = int(_rng.integers(1, 5))  # number of weight layers
        sizes = [int(s) for s in _rng.integers(1, 9, size=depth + 1)]
        if loss == "cross_entropy":
            sizes[-1] = max(sizes[-1], 2)
        act = str(_rng.choice(list(TORCH_ACT)))
        out_act = {"squared_error": str(_rng.choice(["sigmoid", "tanh", "identity", "relu"])),
                   "cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}[loss]
        CASES.append((loss, sizes, act, out_act, int(_rng.integers(1, 40)), int(_rng.integers(1 << 30))))


@pytest.mark.parametrize("loss,sizes,act,out_act,n,seed", CASES,
                         ids=[f"{c[0]}-{'x'.join(map(str, c[1]))}-{c[2]}-{c[3]}-n{c[4]}" for c in CASES])
def test_gradients_equal_torch_autograd(loss, sizes, act, out_act, n, seed):
    rng = np.random.default_rng(seed)
    net = MLP(sizes, activation=act, output_activation=out_act, loss=loss, seed=seed)
    # non-zero biases, so that their gradients are exercised beyond the zero start
    net.biases = [rng.normal(0, 0.5, b.shape) for b in net.biases]
    X = rng.normal(0, 1.5, (n, sizes[0]))
    if loss == "cross_entropy":
        Y = rng.integers(0, sizes[-1], n)
    elif loss == "binary_cross_entropy":
        Y = rng.random((n, sizes[-1]))
    else:
        Y = rng.normal(0, 1, (n, sizes[-1]))
    E_ref, dW_ref, db_ref = torch_loss_and_grads(net, X, Y, loss, out_act)
    assert net.loss(X, Y) == pytest.approx(E_ref, rel=1e-10)
    dW, db = net.gradients(X, Y)
    for l in range(len(sizes) - 1):
        assert_close(dW[l], dW_ref[l], f"dW[{l}]")
        assert_close(db[l], db_ref[l], f"db[{l}]")


def test_softmax_squared_error_equals_torch():
    """The one non-element-wise chain rule: softmax outputs under squared error."""
    rng = np.random.default_rng(3)
    net = MLP([3, 5, 4], activation="tanh", output_activation="softmax", loss="squared_error", seed=3)
    X, Y = rng.normal(size=(6, 3)), rng.random((6, 4))
    Ws = [torch.tensor(W, requires_grad=True) for W in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    o = torch.softmax(torch.tanh(torch.tensor(X) @ Ws[0] + bs[0]) @ Ws[1] + bs[1], dim=1)
    E = 0.5 * ((torch.tensor(Y) - o) ** 2).sum() / 6
    E.backward()
    dW, db = net.gradients(X, Y)
    for l in range(2):
        assert_close(dW[l], Ws[l].grad.numpy(), f"dW[{l}]")
        assert_close(db[l], bs[l].grad.numpy(), f"db[{l}]")


def test_extreme_logits_stay_finite_and_match_torch():
    """Large |in| must not overflow: the losses are computed from logits."""
    W = [np.array([[40.0, -40.0, 5.0]]) * 20]
    X = np.array([[1.0], [-1.0], [3.0]])
    for loss, Y in (("cross_entropy", np.array([1, 0, 2])), ("binary_cross_entropy", np.array([[1.0, 0, 1]] * 3))):
        net = MLP.from_params(W, [np.zeros(3)], loss=loss)
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
            E = net.loss(X, Y)
            dW, _ = net.gradients(X, Y)
        E_ref, dW_ref, _ = torch_loss_and_grads(net, X, Y, loss, net.output_activation.name)
        assert np.isfinite(E) and E == pytest.approx(E_ref, rel=1e-10)
        assert_close(dW[0], dW_ref[0], "dW[0]")
