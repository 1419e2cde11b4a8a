"""NumPy reference figures for bench/cpu_bench.ts.

The same work as the TypeScript CPU backend, in float32: matmul at the MLP's
shapes, and one epoch of a 784-128-10 MLP (ReLU, softmax cross-entropy, SGD,
batch 128) written out by hand: forward, backward, update.

    python3 bench/numpy_reference.py            # a readable table, default spec
    python3 bench/numpy_reference.py --json     # one JSON object on stdout
    python3 bench/numpy_reference.py --json --spec '{...}'   # what cpu_bench.ts runs

The spec (shapes, sizes, time per figure) comes from cpu_bench.ts so that both
sides measure the same thing; DEFAULT_SPEC mirrors it for standalone runs.
"""

import json
import os
import platform
import sys
import time

DEFAULT_SPEC = {
    "seconds": 1.0,
    "matmuls": [
        # [name, m, k, n, transposeA, transposeB]: op(A) is m x k, op(B) is k x n.
        ["x W1 (forward)", 128, 784, 128, False, False],
        ["x^T dy (dW1)", 784, 128, 128, True, False],
        ["dy W1^T (dx)", 128, 128, 784, False, True],
        ["large", 512, 784, 256, False, False],
        ["h W2 (forward)", 128, 128, 10, False, False],
        ["h^T dy (dW2)", 128, 128, 10, True, False],
        ["dy W2^T (dh)", 128, 10, 128, False, True],
    ],
    "epoch": {"count": 60000, "sizes": [784, 128, 10], "batch": 128, "lr": 0.1},
}


def timed(fn, seconds, rounds=5):
    """Per call: (wall, process CPU) seconds of the best of `rounds` rounds, each
    repeating fn for its share of `seconds`, after a warm-up. The best round
    counts (as timeit does), since other processes only ever add time."""
    for _ in range(3):
        fn()
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        calls, start, cpu_start = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / rounds:
                break
        best = min(best, (elapsed / calls, (time.process_time() - cpu_start) / calls))
    return best


def matmul_figure(np, rng, spec, seconds):
    name, m, k, n, transpose_a, transpose_b = spec
    a = rng.standard_normal((k, m) if transpose_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if transpose_b else (k, n), dtype=np.float32)
    op_a = a.T if transpose_a else a  # a view: BLAS reads it transposed, nothing is copied
    op_b = b.T if transpose_b else b
    per_call, cpu_per_call = timed(lambda: op_a @ op_b, seconds)
    return {
        "name": name,
        "shape": [m, k, n, transpose_a, transpose_b],
        "seconds": per_call,
        "cpuSeconds": cpu_per_call,
        "gflops": 2 * m * k * n / per_call / 1e9,
    }


def he_normal(np, rng, fan_in, fan_out):
    return (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(np.float32)


def make_epoch(np, spec):
    """One epoch of minibatch SGD on synthetic data, float32 throughout."""
    count, batch, lr = spec["count"], spec["batch"], np.float32(spec["lr"])
    features, hidden, classes = spec["sizes"]
    rng = np.random.default_rng(0)
    x_all = rng.random((count, features), dtype=np.float32)
    y_all = (np.arange(count) % classes).astype(np.int64)
    w1, b1 = he_normal(np, rng, features, hidden), np.zeros(hidden, np.float32)
    w2, b2 = he_normal(np, rng, hidden, classes), np.zeros(classes, np.float32)

    def epoch(steps=None):
        nonlocal w1, b1, w2, b2  # updated in place by -=
        order = rng.permutation(count)
        loss_sum, correct = np.float32(0), 0
        for start in range(0, count if steps is None else steps * batch, batch):
            index = order[start : start + batch]
            x, y = x_all[index], y_all[index]
            rows = np.arange(len(index))
            # forward
            z1 = x @ w1 + b1
            h = np.maximum(z1, 0)
            z2 = h @ w2 + b2
            shifted = z2 - z2.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            loss_sum += -log_p[rows, y].sum()
            correct += int((z2.argmax(axis=1) == y).sum())
            # backward
            dz2 = np.exp(log_p)
            dz2[rows, y] -= 1
            dz2 /= np.float32(len(index))
            dw2, db2 = h.T @ dz2, dz2.sum(axis=0)
            dh = (dz2 @ w2.T) * (z1 > 0)
            dw1, db1 = x.T @ dh, dh.sum(axis=0)
            # update, in place
            w1 -= lr * dw1
            b1 -= lr * db1
            w2 -= lr * dw2
            b2 -= lr * db2
        assert w1.dtype == np.float32 and dz2.dtype == np.float32
        return float(loss_sum) / count, correct / count

    return epoch


def epoch_figure(np, spec, seconds):
    """The best of at least two epochs (more until `seconds` have passed), after a warm-up."""
    epoch = make_epoch(np, spec)
    epoch(steps=20)  # warm-up
    runs, start = [], time.perf_counter()
    while len(runs) < 2 or time.perf_counter() - start < seconds:
        t0, cpu0 = time.perf_counter(), time.process_time()
        loss, _accuracy = epoch()
        runs.append((time.perf_counter() - t0, time.process_time() - cpu0, loss))
    best = min(runs)
    return {
        "seconds": best[0],
        "cpuSeconds": best[1],
        "mean": sum(r[0] for r in runs) / len(runs),
        "epochs": len(runs),
        "loss": best[2],
    }


def blas_name(np):
    try:
        info = np.show_config(mode="dicts")  # NumPy >= 1.26
        blas = info["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        pass
    try:
        config = np.__config__
        for key in ("openblas64__info", "openblas_info", "blas_opt_info", "blas_ilp64_opt_info"):
            info = getattr(config, key, None) or config.get_info(key)
            if info:
                return f"{key.replace('_info', '')} {', '.join(info.get('libraries', []))}".strip()
    except Exception:
        pass
    return "unknown BLAS"


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    spec = DEFAULT_SPEC
    if "--spec" in args:
        spec = json.loads(args[args.index("--spec") + 1])
    # Some machines set these two for their own BLAS builds; OpenBLAS reads them when NumPy
    # loads, and one without the other can slow it down: the peers run with neither.
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(name, None)
    try:
        import numpy as np
    except ImportError:
        message = f"NumPy is not installed for {sys.executable}"
        print(json.dumps({"error": message}) if as_json else message)
        return 2

    seconds = spec["seconds"]
    rng = np.random.default_rng(1)
    result = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "numpy": np.__version__,
        "blas": blas_name(np),
        "cpus": os.cpu_count(),
        "threadEnv": {
            k: os.environ[k]
            for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
            if k in os.environ
        },
        "matmuls": [matmul_figure(np, rng, s, seconds) for s in spec["matmuls"]],
        "epoch": epoch_figure(np, spec["epoch"], seconds),
    }
    if as_json:
        print(json.dumps(result))
        return 0
    print(f"NumPy {result['numpy']} ({result['blas']}), Python {result['python']}")
    for figure in result["matmuls"]:
        m, k, n, ta, tb = figure["shape"]
        print(
            f"  {figure['name']:<26} {m}x{k} @ {k}x{n}  "
            f"{figure['seconds'] * 1e3:8.3f} ms  {figure['gflops']:7.2f} GFLOP/s"
        )
    e = result["epoch"]
    print(f"  epoch: {e['seconds']:.3f} s (best of {e['epochs']}, mean {e['mean']:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
