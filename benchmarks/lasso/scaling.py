"""Scaling of the lasso solvers: time per iteration and peak memory against batch size and problem size.

    python benchmarks/lasso/scaling.py [--quick] [--threads 1] [--devices cpu,cuda] [--out results/figures]

Two sweeps, each point a Lasso of compressed sensing (λ = 0.1 λ_max per row, float32):
the batch size B ∈ {64, …, 16 384} at the step-size shape 64×256, and the problem size
m×n ∈ {64×256, 250×500, 500×1000, 1000×2000} at B = 1024. Solvers: ISTA and FISTA in both
forms of the gradient step (``ProximalGradient(form=...)``), an untrained LISTA (Gram form,
learned weights = the analytic ones) and an untrained ALISTA (residual form), forward only,
under ``torch.no_grad``. Each row also holds the *matmul floor* of its form (the bare products
one iteration needs with the data term's own step weights, into preallocated outputs:
``speed.py``'s ``floor_products``) and the ratio to it.

Time per iteration: classical solvers by differencing two run lengths, (T(2N) − T(N)) / N (the
set-up cancels), learned ones likewise over their layers; the solver and its floor are
interleaved and the median of ``--repeats`` is kept. Peak memory: on CUDA measured
(``torch.cuda.max_memory_allocated`` over the solve); on CPU *analytic*, the bytes of the
tensors the iteration keeps alive (iterates, buffers, bias, weights; inputs not counted), since
``tracemalloc`` does not see torch's allocator, ``ru_maxrss`` is a process-lifetime maximum
(a delta shows only new peaks, and the caching allocator reuses blocks) and
``solvers/memory.py`` counts what autograd saves for backward, not a forward's buffers.

Writes ``lasso_scaling.csv`` and ``lasso_scaling.png`` (time per iteration against B and
against n, one colour per solver, the floors dashed; peak memory below) under ``--out``.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from l2obench.datasets.sparse_coding import make_compressed_sensing
from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.threads import set_torch_threads
from l2obench.solvers.unrolled.lasso.alista import ALISTA
from l2obench.solvers.unrolled.lasso.lista import LISTA
from speed import floor_products  # the floor, written once (benchmarks/lasso/speed.py)

COLUMNS = ["device", "sweep", "solver", "form", "B", "m", "n", "time_per_iter_s", "floor_per_iter_s",
           "ratio", "peak_bytes", "memory"]
SOLVERS = [("ISTA", "gram"), ("ISTA", "residual"), ("FISTA", "gram"), ("FISTA", "residual"),
           ("LISTA", "gram"), ("ALISTA", "residual")]


def sweeps(quick):
    """``(sweep, B, m, n)`` points."""
    if quick:
        return [("batch", B, 16, 48) for B in (8, 32)] + [("size", 16, m, n) for m, n in ((8, 24), (16, 48))]
    return [("batch", B, 64, 256) for B in (64, 256, 1024, 4096, 16_384)] + \
        [("size", 1024, m, n) for m, n in ((64, 256), (250, 500), (500, 1000), (1000, 2000))]


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device):
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def analytic_bytes(name, form, B, m, n, size):
    """Bytes the iteration keeps alive (inputs excluded): iterates and buffers, bias or residual, weights."""
    # (B, n) iterates and buffers: ISTA z, z_new, the step's output; FISTA on CPU z, y and the
    # product's output (its fused pass updates z in place); an unrolled layer its input and output.
    # Row blocks (ProximalGradient on CPU) would hold the buffers per block only: not counted
    vectors = {"ISTA": 3, "FISTA": 3, "LISTA": 2, "ALISTA": 2}[name]
    extra = B * n if form == "gram" else B * m  # the bias xW_x, or the residual
    weights = n * n + m * n if form == "gram" else 2 * m * n
    return size * (vectors * B * n + extra + weights)


def learned(name, problem, n_layers, device):
    model = (LISTA if name == "LISTA" else ALISTA)(n_layers=n_layers).build(problem)
    return model.to(device) if hasattr(model, "to") else model


def measure(sweep, B, m, n, device, n_iter, repeats):
    data = make_compressed_sensing(n_train=1, n_test=B, n_measurements=m, n_atoms=n, seed=0)
    D, X = data.D.float().to(device), data.X_test.float().to(device)
    problem = LassoProblem(D)
    lmbd = 0.1 * problem.lambda_max(X)
    rows = []
    for name, form in SOLVERS:
        if name in ("ISTA", "FISTA"):
            solver = ProximalGradient(accelerated=name == "FISTA", form=form)
            run = lambda k, s=solver: s.solve(problem, X, lmbd, k)  # noqa: E731
        else:
            model = learned(name, problem, 2 * n_iter, device)
            run = lambda k, mdl=model: mdl.forward(X, lmbd, n_layers=k)  # noqa: E731
        step = problem.datafit.gradient_step(X, 1.0 / problem.datafit.lipschitz, form)  # the floor's weights
        with torch.no_grad():
            run(n_iter)  # warm-up: thread pools, allocator, kernels
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
            times, floors = [], []
            for _ in range(repeats):  # interleaved: the solver and its floor see the same load
                times.append((timed(lambda: run(2 * n_iter), device) - timed(lambda: run(n_iter), device)) / n_iter)
                floors.append(timed(floor_products(step, B, n_iter), device) / n_iter)
        if device == "cuda":
            peak, memory = torch.cuda.max_memory_allocated() - base, "measured"
        else:
            peak, memory = analytic_bytes(name, form, B, m, n, 4), "analytic"
        t, f = float(np.median(times)), float(np.median(floors))
        rows.append(dict(device=device, sweep=sweep, solver=name, form=form, B=B, m=m, n=n, time_per_iter_s=t,
                         floor_per_iter_s=f, ratio=t / f, peak_bytes=int(peak), memory=memory))
    return rows


def plot(df, path):
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    devices = sorted(df.device.unique())
    # per device: time per iteration (floors dashed) above, peak memory below
    fig, axes = plt.subplots(2 * len(devices), 2, figsize=(11, 8 * len(devices)), squeeze=False)
    colors = dict(zip([f"{s} ({f})" for s, f in SOLVERS], plt.cm.tab10.colors))
    for i, device in enumerate(devices):
        for j, (sweep, x, label) in enumerate((("batch", "B", "batch size B (64×256)"),
                                               ("size", "n", "problem size n (m×n, B = 1024)"))):
            part = df[(df.device == device) & (df.sweep == sweep)]
            time_ax, memory_ax = axes[2 * i, j], axes[2 * i + 1, j]
            for (name, form), g in part.groupby(["solver", "form"], sort=False):
                key = f"{name} ({form})"
                time_ax.loglog(g[x], g.time_per_iter_s, "o-", color=colors[key], label=key)
                memory_ax.loglog(g[x], g.peak_bytes / 2**20, "o-", color=colors[key], label=key)
            for form, style in (("gram", "--"), ("residual", ":")):
                g = part[(part.form == form)].groupby(x).floor_per_iter_s.median()
                time_ax.loglog(g.index, g.values, style, color="black", label=f"matmul floor ({form})")
            time_ax.set_ylabel(f"time per iteration (s), {device}")
            memory_ax.set_ylabel(f"peak memory (MiB, {part.memory.iloc[0]}), {device}")
            for ax in (time_ax, memory_ax):
                ax.set_xlabel(label)
                ax.grid(True, which="both", alpha=0.3)
        axes[2 * i, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds (the test)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--devices", default="cpu,cuda", help="cuda is skipped when not available")
    parser.add_argument("--n-iter", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "results" / "figures"))
    args = parser.parse_args(argv)
    set_torch_threads(args.threads)
    n_iter = args.n_iter or (5 if args.quick else 20)
    repeats = args.repeats or (3 if args.quick else 5)
    devices = [d for d in args.devices.split(",") if d == "cpu" or (d == "cuda" and torch.cuda.is_available())]
    rows = []
    for device in devices:
        for sweep, B, m, n in sweeps(args.quick):
            rows += measure(sweep, B, m, n, device, n_iter, repeats)
            last = rows[-len(SOLVERS):]
            print(f"{device} {sweep:5s} B={B:6d} {m}x{n}: " +
                  ", ".join(f"{r['solver']}-{r['form'][0]} {r['ratio']:.2f}" for r in last), flush=True)
    df = pd.DataFrame(rows, columns=COLUMNS)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "lasso_scaling.csv", index=False)
    plot(df, out / "lasso_scaling.png")
    print(f"wrote {out / 'lasso_scaling.csv'} and {out / 'lasso_scaling.png'}")
    return df


if __name__ == "__main__":
    main()
