"""Benchmark: one training step of the reference MLP against PyTorch (CPU), same process.

Run:  python benchmarks/bench_step.py            (about a minute)
      python benchmarks/bench_step.py --quick    (fewer repeats)

Prints, for each network size and dtype, the median time of one gradient-descent step
(forward, loss, backward, update) of ``backprop_lab.MLP.step`` and of the same step in
PyTorch (float64/float32, 2 threads), their ratio, and at the largest size the GEMM
throughput of the step against the throughput of NumPy's own matrix products of the same
shapes. Then the time to reach 97% test accuracy on the bundled digits against
scikit-learn's MLPClassifier.

Both libraries use the same number of BLAS threads (threadpoolctl for NumPy's OpenBLAS,
torch.set_num_threads for PyTorch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import numpy as np

SIZES = [([2, 16, 16, 2], 32), ([64, 128, 10], 64), ([784, 256, 10], 128), ([784, 1024, 1024, 10], 256)]
THREADS = 2


def timeit(fn, repeat: int, inner: int) -> float:
    """Median over ``repeat`` rounds of the mean time of ``inner`` calls, in seconds."""
    fn()
    fn()
    rounds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        rounds.append((time.perf_counter() - t0) / inner)
    return statistics.median(rounds)


def gemm_flops(sizes: list[int], n: int) -> float:
    """FLOPs of the matrix products of one step: forward, dW for every layer, and the
    back-propagated dE/da for every layer but the first."""
    f = 0
    for l, (m, k) in enumerate(zip(sizes[:-1], sizes[1:])):
        f += 2 * n * m * k * (2 if l == 0 else 3)
    return float(f)


def numpy_gemm_time(sizes, n, dtype, repeat, inner) -> float:
    """NumPy doing only the matrix products of one step (preallocated outputs)."""
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((m, k)).astype(dtype) for m, k in zip(sizes[:-1], sizes[1:])]
    As = [rng.standard_normal((n, m)).astype(dtype) for m in sizes]
    Z = [np.empty((n, k), dtype) for k in sizes[1:]]
    G = [np.empty_like(W) for W in Ws]
    D = [np.empty((n, m), dtype) for m in sizes[:-1]]

    def run():
        for l, W in enumerate(Ws):
            np.matmul(As[l], W, out=Z[l])
            np.matmul(As[l].T, As[l + 1], out=G[l])
            if l:
                np.matmul(As[l + 1], W.T, out=D[l])

    return timeit(run, repeat, inner)


def torch_step_fn(sizes, n, dtype, X, y, lr, weights):
    import torch

    tdt = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    Ws = [torch.tensor(W, dtype=tdt, requires_grad=True) for W in weights]
    bs = [torch.zeros(W.shape[1], dtype=tdt, requires_grad=True) for W in weights]
    tX = torch.tensor(X, dtype=tdt)
    ty = torch.tensor(y)
    params = Ws + bs

    def step():
        a = tX
        for W, b in zip(Ws[:-1], bs[:-1]):
            a = torch.sigmoid(torch.addmm(b, a, W))
        logits = torch.addmm(bs[-1], a, Ws[-1])
        loss = torch.nn.functional.cross_entropy(logits, ty)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-lr)
                p.grad = None
        return loss

    return step


def bench_steps(repeat: int) -> list[dict]:
    import torch
    from threadpoolctl import threadpool_limits

    from backprop_lab import MLP

    torch.set_num_threads(THREADS)
    rows = []
    with threadpool_limits(limits=THREADS):
        for dtype in (np.float64, np.float32):
            for sizes, n in SIZES:
                rng = np.random.default_rng(0)
                X = rng.standard_normal((n, sizes[0])).astype(dtype)
                y = rng.integers(0, sizes[-1], n)
                net = MLP(sizes, activation="sigmoid", loss="cross_entropy", seed=0, dtype=dtype)
                weights = [W.copy() for W in net.weights]
                T = np.eye(sizes[-1], dtype=dtype)[y]
                lr = 1e-3  # small: the weights barely move over thousands of steps
                inner = max(1, int(2e-2 / max(1e-6, gemm_flops(sizes, n) / 5e10)))
                t_ours = timeit(lambda: net.step(X, T, lr), repeat, inner)
                t_torch = timeit(torch_step_fn(sizes, n, dtype, X, y, lr, weights), repeat, inner)
                row = dict(dtype=np.dtype(dtype).name, sizes=sizes, batch=n, ours=t_ours, torch=t_torch)
                if sizes == SIZES[-1][0]:
                    flops = gemm_flops(sizes, n)
                    t_gemm = numpy_gemm_time(sizes, n, dtype, repeat, inner)
                    row.update(gflops_ours=flops / t_ours / 1e9, gflops_numpy=flops / t_gemm / 1e9)
                rows.append(row)
    return rows


def bench_digits(repeat: int) -> dict:
    """Seconds to reach 97% test accuracy on digits: backprop_lab vs scikit-learn."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    from backprop_lab import MLP
    from backprop_lab.datasets import load

    Xtr, Xte, ytr, yte = load("digits", seed=0)
    target = 0.97
    out = {}
    with threadpool_limits(limits=THREADS):
        times, epochs = [], []
        for r in range(repeat):
            net = MLP([64, 64, 10], activation="relu", loss="cross_entropy", seed=r)
            reached = {}

            def cb(epoch, hist, model):
                if model.accuracy(Xte, yte) >= target:
                    reached["epoch"] = epoch + 1
                    return True
                return False

            t0 = time.perf_counter()
            net.fit(Xtr, ytr, epochs=200, lr=0.1, batch_size=32, seed=r, progress=False, callback=cb)
            times.append(time.perf_counter() - t0)
            epochs.append(reached.get("epoch", np.nan))
        out["ours"] = (statistics.median(times), statistics.median(epochs))
        times, epochs = [], []
        for r in range(repeat):
            clf = MLPClassifier(hidden_layer_sizes=(64,), activation="relu", solver="sgd",
                                learning_rate_init=0.1, batch_size=32, momentum=0.0,
                                alpha=0.0, random_state=r)
            classes = np.unique(ytr)
            t0 = time.perf_counter()
            ep = np.nan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                for e in range(200):
                    clf.partial_fit(Xtr, ytr, classes=classes)
                    if clf.score(Xte, yte) >= target:
                        ep = e + 1
                        break
            times.append(time.perf_counter() - t0)
            epochs.append(ep)
        out["sklearn"] = (statistics.median(times), statistics.median(epochs))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 15
    import torch

    print(f"numpy {np.__version__}, torch {torch.__version__}, {THREADS} threads, "
          f"median of {repeat} rounds\n")
    print(f"{'dtype':<8}{'layer sizes':<22}{'batch':>6}{'ours (ms)':>11}{'torch (ms)':>12}{'torch/ours':>12}")
    rows = bench_steps(repeat)
    for r in rows:
        print(f"{r['dtype']:<8}{str(r['sizes']):<22}{r['batch']:>6}{r['ours'] * 1e3:>11.3f}"
              f"{r['torch'] * 1e3:>12.3f}{r['torch'] / r['ours']:>11.2f}x")
    print()
    for r in rows:
        if "gflops_ours" in r:
            print(f"{r['dtype']} {r['sizes']}/{r['batch']}: step {r['gflops_ours']:.1f} GFLOP/s, NumPy GEMMs "
                  f"alone {r['gflops_numpy']:.1f} GFLOP/s -> {r['gflops_ours'] / r['gflops_numpy']:.0%} of "
                  "NumPy's GEMM throughput")
    d = bench_digits(3 if args.quick else 5)
    print(f"\ntime to 97% test accuracy on digits ([64, 64, 10] relu, SGD lr 0.1, batch 32):")
    print(f"  backprop_lab   {d['ours'][0]:.3f} s ({d['ours'][1]:.0f} epochs)")
    print(f"  scikit-learn   {d['sklearn'][0]:.3f} s ({d['sklearn'][1]:.0f} epochs)")
    print(f"  sklearn/ours   {d['sklearn'][0] / d['ours'][0]:.2f}x")
    slow = [r for r in rows if r["dtype"] == "float64" and r["ours"] > r["torch"]]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
