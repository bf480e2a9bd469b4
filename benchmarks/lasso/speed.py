"""FISTA's time per iteration as a ratio to the time of its matrix products alone (the floor).

    python benchmarks/lasso/speed.py [--threads N] [--dtype float32] [--form both] [--shapes step]

For each shape (the quick and the full configs of the compressed-sensing and step-size
settings) it times ``n_iter`` FISTA iterations of the library solver and the same number of
bare matrix products of the form FISTA uses on that shape, with FISTA's own weights (Gram form:
one (B,n)×(n,n) product; residual form: (B,n)×(n,m) then (B,m)×(m,n); ``--form`` forces one or
both, default the one ``form='auto'`` picks), interleaved and repeated, and prints the median
times and the median of the repeats' ratios. FISTA's time per iteration is (T(2N) − T(N)) / N, so
the set-up (Lipschitz constant, Gram matrix), paid once per dictionary, cancels out; it is
reported apart as T(0).
"""
import argparse
import time

import numpy as np
import torch

from l2obench.datasets.sparse_coding import make_compressed_sensing
from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.problem import GramForward
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.threads import set_torch_threads

SHAPES = [  # (setting, B, m, n)
    ("compressed sensing, quick", 256, 250, 500),
    ("compressed sensing, full", 2048, 250, 500),
    ("step size, quick", 256, 64, 256),
    ("step size, full", 10_000, 64, 256),
]


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def pick_form(form, m, n):
    """The form ``QuadraticDatafit.gradient_step`` uses: ``form`` unless 'auto' (Gram when n < 2m)."""
    return form if form != "auto" else ("gram" if n < 2 * m else "residual")


def floor_products(step, B, n_iter):
    """``n_iter`` bare products of one iteration of ``step`` (the data term's ``gradient_step``: its
    Gram or residual form, so the solver's own weights and device), as a callable; the input and
    outputs are allocated here, afresh for each call of this function, as each solve makes its own.

    Gram form: one (B,n)×(n,n) product; residual form: (B,n)×(n,m) then (B,m)×(m,n).
    """
    W = step.W if isinstance(step, GramForward) else step.At
    like = dict(dtype=W.dtype, device=W.device)
    Y = torch.randn(B, W.shape[0], dtype=W.dtype, generator=torch.Generator().manual_seed(0)).to(**like)
    out_n = torch.empty_like(Y)
    if isinstance(step, GramForward):
        return lambda: [torch.mm(Y, step.W, out=out_n) for _ in range(n_iter)]
    out_m = torch.empty(B, step.A.shape[0], **like)
    return lambda: [torch.mm(torch.mm(Y, step.At, out=out_m), step.A, out=out_n) for _ in range(n_iter)]


def measure(B, m, n, dtype, n_iter, repeats, form="auto"):
    """Set-up time, and the medians of FISTA's time per iteration, the floor's, and their ratio.

    The floor multiplies by the solver's own weights (the data term's cached step weights, so
    the same memory), into buffers allocated afresh for each repeat, as each FISTA solve
    allocates its own (a product's time moves by ~10 % with where its operands lie); the
    ratio is the median of the repeats' ratios, each pair timed back to back (the machine's
    speed drifts over seconds).
    """
    data = make_compressed_sensing(n_train=1, n_test=B, n_measurements=m, n_atoms=n, seed=0)
    D, X = data.D.to(dtype), data.X_test.to(dtype)
    problem = LassoProblem(D)
    lmbd = 0.1 * problem.lambda_max(X)
    form = pick_form(form, m, n)
    solver = ProximalGradient(accelerated=True, form=form)
    # the Lipschitz constant and the Gram matrix are computed once per problem object, as in a benchmark
    setup = median_time(lambda: solver.solve(LassoProblem(D), X, lmbd, 0), repeats)
    solver.solve(problem, X, lmbd, n_iter)  # warm-up: thread pools, allocator, the step weights
    step = problem.datafit.gradient_step(X, 1.0 / problem.datafit.lipschitz, form)

    fista, floor = [], []
    for _ in range(repeats):  # interleave so that both see the same machine load
        long = median_time(lambda: solver.solve(problem, X, lmbd, 2 * n_iter), 1)
        short = median_time(lambda: solver.solve(problem, X, lmbd, n_iter), 1)
        fista.append((long - short) / n_iter)
        floor.append(median_time(floor_products(step, B, n_iter), 1) / n_iter)
    ratio = np.median(np.array(fista) / np.array(floor))
    return setup, float(np.median(fista)), float(np.median(floor)), float(ratio)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--n-iter", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--form", choices=["auto", "gram", "residual", "both"], default="auto")
    parser.add_argument("--shapes", default="", help="only the settings whose name contains this")
    args = parser.parse_args()
    set_torch_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.dtype}, {args.n_iter} iterations")
    print(f"{'setting':28s} {'form':>8s} {'B':>6s} {'m':>4s} {'n':>4s} {'set-up ms':>10s} "
          f"{'FISTA ms/it':>12s} {'floor ms/it':>12s} {'ratio':>6s}")
    forms = ["gram", "residual"] if args.form == "both" else [args.form]
    for name, B, m, n in SHAPES:
        if args.shapes not in name:
            continue
        for form in forms:
            setup, fista, floor, ratio = measure(B, m, n, dtype, args.n_iter, args.repeats, form)
            print(f"{name:28s} {pick_form(form, m, n):>8s} {B:6d} {m:4d} {n:4d} {1e3 * setup:10.2f} "
                  f"{1e3 * fista:12.3f} {1e3 * floor:12.3f} {ratio:6.2f}", flush=True)


if __name__ == "__main__":
    main()
