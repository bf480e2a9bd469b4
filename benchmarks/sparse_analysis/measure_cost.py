"""Cost vs depth of JFB, IFT and unrolled backprop, equal-time training, and the seed's figure.

    .venv/bin/python benchmarks/sparse_analysis/measure_cost.py [--budget 120] [--small] [--cost-only]

Writes to ``benchmarks/sparse_analysis/outputs/``: ``cost_vs_depth.png`` and ``.csv`` (time of
one training step and bytes saved for backward at K = 10, 50, 200 forward iterations; IFT's
backward solve also runs K vector-Jacobian iterations; tolerances 0 so that every mode runs
exactly K), ``equal_time.png`` and ``.csv`` (each mode trained for the same wall-clock budget
at K = ``--depth``, then evaluated with ``--eval-iter`` iterations, with least squares and the
analytic solvers as reference rows) and ``seed_figure.png`` (Theta* applied to the ground
truth, a wrong signal, least squares and the model inference). One thread, float32,
paper-sized data (n = 250, latent 50, A 100 x 250) unless ``--small`` (files suffixed ``_small``).
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import matplotlib
import pandas as pd
import torch

from l2obench.datasets.sparse_analysis import make_sparse_analysis
from l2obench.objectives.sparse_analysis import (SparseAnalysisProblem, constraint_violation, normalized_transform,
                                                 relative_error, sparsity)
from l2obench.solvers.classical.linearized_admm import LinearizedADMM, analytic_transform
from l2obench.solvers.fit import fit
from l2obench.solvers.implicit.sparse_analysis import ImplicitSparseAnalysis
from l2obench.solvers.losses import Loss
from l2obench.solvers.memory import SavedTensorMeter
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.threads import set_torch_threads

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(__file__).resolve().parent / "outputs"
MODES = ("jfb", "ift", "unrolled")


def step_cost(data, mode, depth, repeats, batch=64):
    """Median seconds of one Adam step and bytes saved for backward, at depth ``depth``."""
    model = ImplicitSparseAnalysis(init="difference", backward=mode, depth=depth, tol=0.0)
    model.build(SparseAnalysisProblem(data["A"]))
    model.layer_.backward_max_iter, model.layer_.backward_tol = depth, 0.0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    meter, times, mse_loss = SavedTensorMeter(), [], Loss("supervised")
    for r in range(repeats + 1):
        idx = slice(r * batch, (r + 1) * batch)
        t0 = time.perf_counter()
        loss = meter.measure(mse_loss, model, data["d_train"][idx], data["x_train"][idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if r:  # the first step warms up
            times.append(time.perf_counter() - t0)
    return statistics.median(times), meter.peak_bytes_


def errors(x, data, split="test"):
    return {"rel_error": float(relative_error(x, data[f"x_{split}"]).mean()),
            "constraint_violation": float(constraint_violation(x, data["A"], data[f"d_{split}"]).mean())}


def equal_time(data, depth, budget, step_times, eval_iter):
    rows, models = [], {}  # errors after eval_iter iterations; learned ones also after K
    x_ls = data["d_test"] @ torch.linalg.pinv(data["A"]).T
    rows.append({"solver": "least squares", **errors(x_ls, data)})
    for kind in ("identity", "difference"):
        problem = SparseAnalysisProblem(data["A"], analytic_transform(data["A"].shape[1], kind, data["A"].dtype))
        solve = lambda d: LinearizedADMM().solve(problem, d, eval_iter)  # noqa: E731
        rows.append({"solver": f"ADMM, Theta={kind}", **errors(solve(data["d_test"]), data),
                     "shift_rel_error": errors(solve(data["d_shift"]), data, "shift")["rel_error"]})
    for mode in MODES:
        n_steps = max(int(budget / step_times[mode]), 2)
        model = ImplicitSparseAnalysis(init="difference", backward=mode, depth=depth, tol=1e-4)
        cfg = TrainConfig.for_budget(n_steps, lr=1e-3, seed=0, n_evals=5, patience=0)
        meta = fit(model, SparseAnalysisProblem(data["A"]), (data["d_train"],), loss=Loss("supervised"),
                   target=data["x_train"], val=((data["d_val"],), data["x_val"]), config=cfg)
        models[mode] = model
        rows.append({"solver": f"learned Theta, {mode}", "n_steps": n_steps, "train_time": meta["train_time"],
                     f"rel_error_at_K={depth}": errors(model.solve(data["d_test"], depth), data)["rel_error"],
                     **errors(model.solve(data["d_test"], eval_iter), data),
                     "shift_rel_error": errors(model.solve(data["d_shift"], eval_iter), data, "shift")["rel_error"]})
    return pd.DataFrame(rows), models


def seed_figure(data, model, eval_iter, path):
    theta = normalized_transform(model.operator_.theta.detach(), data["A"].shape[1], data["A"].dtype)
    d, x_true = data["d_test"][:1], data["x_test"][:1]
    signals = {"ground truth x*": x_true, "wrong signal (another x*)": data["x_test"][1:2],
               "least squares A+d": d @ torch.linalg.pinv(data["A"]).T,
               "model inference N(d)": model.solve(d, eval_iter)}
    fig, axes = plt.subplots(len(signals), 1, figsize=(8, 8), sharex=True)
    for ax, (name, x) in zip(axes, signals.items()):
        ax.stem((x @ theta.T)[0].numpy(), markerfmt=" ", basefmt="k-")
        ax.set_title(f"Theta* x, x = {name}: sparsity {float(sparsity(x, theta)):.0%}, "
                     f"||Ax-d||/||d|| = {float(constraint_violation(x, data['A'], d)):.1e}", fontsize=9)
    axes[-1].set_xlabel("entry of Theta* x")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="training seconds per mode")
    parser.add_argument("--depth", type=int, default=100, help="K of the equal-time training")
    parser.add_argument("--eval-iter", type=int, default=500, help="inference iterations")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--small", action="store_true", help="n=100, latent 20, A 40x100")
    parser.add_argument("--cost-only", action="store_true", help="only the cost-vs-depth part")
    args = parser.parse_args()
    set_torch_threads(1)
    OUT.mkdir(exist_ok=True)
    sizes = dict(n=100, latent_dim=20, m=40) if args.small else {}
    tag = "_small" if args.small else ""  # --small never overwrites the paper-sized outputs
    data = make_sparse_analysis(**sizes, n_train=2000, seed=0, dtype="float32")

    cost = pd.DataFrame([{"mode": mode, "K": depth, **dict(zip(("step_time", "saved_bytes"),
                          step_cost(data, mode, depth, args.repeats)))}
                         for depth in (10, 50, 200) for mode in MODES])
    cost.to_csv(OUT / f"cost_vs_depth{tag}.csv", index=False)
    print(cost.to_string(index=False))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for mode, grp in cost.groupby("mode"):
        axes[0].plot(grp.K, grp.step_time, "o-", label=mode)
        axes[1].plot(grp.K, grp.saved_bytes / 2**20, "o-", label=mode)
    for ax, label in zip(axes, ("seconds per training step", "MiB saved for backward")):
        ax.set(xscale="log", yscale="log", xlabel="forward iterations K", ylabel=label)
        ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / f"cost_vs_depth{tag}.png", dpi=120)
    if args.cost_only:
        return

    at_depth = {mode: step_cost(data, mode, args.depth, 2)[0] for mode in MODES}
    table, models = equal_time(data, args.depth, args.budget, at_depth, args.eval_iter)
    table.to_csv(OUT / f"equal_time{tag}.csv", index=False)
    print(table.to_string(index=False))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.barh(table.solver, table.rel_error)
    ax.set(xscale="log", xlabel=f"relative test error ({args.budget:.0f} s of training per learned mode)")
    fig.tight_layout()
    fig.savefig(OUT / f"equal_time{tag}.png", dpi=120)
    seed_figure(data, models["jfb"], args.eval_iter, OUT / f"seed_figure{tag}.png")
    (OUT / f"measure_cost{tag}.json").write_text(json.dumps(vars(args)))


if __name__ == "__main__":
    main()
