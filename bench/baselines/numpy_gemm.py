"""numpy (OpenBLAS) baseline for bench/gemm.ts.

Usage: python3 numpy_gemm.py M N K TRANS_A TRANS_B MIN_SECONDS
Times C = A @ B (A: M x K, or with TRANS_A=1 the transpose of a K x M matrix; B: K x N, or with TRANS_B=1
the transpose of an N x K matrix, i.e. A @ W.T) in
float32, with the same method as the olmo-ts side: a few warm-up calls, then repeated calls for at least
MIN_SECONDS; prints one JSON object with the best and median GFLOP/s.
"""
import json
import sys
import time

import numpy as np


def main() -> None:
    m, n, k, trans_a, trans_b = (int(x) for x in sys.argv[1:6])
    min_seconds = float(sys.argv[6])
    rng = np.random.default_rng(0)
    if trans_a:
        a = rng.standard_normal((k, m), dtype=np.float32).T
    else:
        a = rng.standard_normal((m, k), dtype=np.float32)
    if trans_b:
        w = rng.standard_normal((n, k), dtype=np.float32)
        b = w.T
    else:
        b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    for _ in range(3):
        np.matmul(a, b, out=c)
    times = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    times.sort()
    flop = 2.0 * m * n * k
    print(json.dumps({
        "best_gflops": flop / times[0] / 1e9,
        "median_gflops": flop / times[len(times) // 2] / 1e9,
        "reps": len(times),
        "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
