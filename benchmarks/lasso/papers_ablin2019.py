"""Step-size setting, 64 x 256, unsupervised (Ablin, Moreau, Massias, Gramfort, NeurIPS 2019).

Run through ``reproduce_papers.py ablin``. As in the paper (Fig. 3), every network is trained for
its own depth, at each depth of ``PER_DEPTH``, with the protocol of ``ABLIN_MODELS``: SLISTA with
depth continuation (each depth from the trained steps of the shallower ones, as the adapters'
``continuation=True``; trained from 1/L at depth 20, the steps of the last layers grew too large
and the network ended worse than the depth-16 one on digits), so its intermediate depths come
free; ALISTA and LISTA-CP from their usual initialisation. ``--seeds N`` repeats every training
with N seeds (the first is ``benchopt run``'s) and prints the best model per depth. Every number
is measured on the TEST split.
"""
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from l2obench.datasets.sparse_coding import load_digits_coding, make_equiregularized  # noqa: E402
from l2obench.solvers.benchopt_adapters import CONTINUATION_DEPTHS, benchopt_seed  # noqa: E402
from reproduce_papers import (ABLIN_MODELS, fista_curve, fit, lambda_max, lasso_value, out_file,  # noqa: E402
                              reference_solve, save, set_scale, table)

REGS = (0.1, 0.8)
DEPTH = 20
DEPTHS = list(CONTINUATION_DEPTHS) + [DEPTH]
PER_DEPTH = (5, 10, DEPTH)  # the depths of the paper's Fig. 3 comparison: every model trained for each
LABELS = {"slista": "SLISTA", "alista": "ALISTA", "lista-cp": "LISTA-CP"}
SIZES = {"paper": dict(simulated=(10000, 10000), digits=(1000, 500)),
         "small": dict(simulated=(1000, 500), digits=(500, 200))}
LOADERS = {"simulated": make_equiregularized, "digits": load_digits_coding}


def restricted_lipschitz(D, Z, chunk=256):
    r""":math:`L_S = \|D_{:,S}\|_2^2` for the support S of each row of ``Z`` (batched, float64)."""
    D = D.double()
    out = []
    for start in range(0, Z.shape[0], chunk):
        mask = (Z[start:start + chunk] != 0).to(D.dtype)
        out.append(torch.linalg.matrix_norm(D[None] * mask[:, None, :], ord=2) ** 2)
    return torch.cat(out)


def run_ablin(args):
    set_scale(args.scale)
    datasets, regs = args.datasets or list(LOADERS), args.regs or list(REGS)
    tag = "ablin2019" if args.loss == "unsupervised" else f"ablin2019_{args.loss}"
    if datasets != list(LOADERS) or regs != list(REGS) or args.seeds > 1:  # a subset never overwrites the whole
        tag += "_" + "_".join(datasets + [str(r) for r in regs]) + (f"_seeds{args.seeds}" if args.seeds > 1 else "")
    keys = args.models or [k for k, _ in ABLIN_MODELS]
    seeds = [benchopt_seed(0, "Solver") + s for s in range(args.seeds)]  # the first one is `benchopt run`'s
    rows, results = [], {}
    for ds in datasets:
        n_train, n_test = SIZES[args.scale][ds]
        data = LOADERS[ds](n_train, n_test, seed=args.data_seed)
        D, X, X_te = data.D.float(), data.X_train.float(), data.X_test.float()
        for reg in regs:
            lmbd, lmbd_te = reg * lambda_max(D, X), reg * lambda_max(D, X_te)
            ref = reference_solve(data.D, data.X_test, lmbd_te.double(), tol=1e-9)
            f_star = ref.value.double()

            def gap(Z):
                return float((lasso_value(data.D, data.X_test, Z.double(), lmbd_te.double()) - f_star).mean())

            iters = list(range(1, DEPTH + 1))
            curves = {lab: dict(zip(iters, fista_curve(D, X_te, lmbd_te, iters, gap, acc)))
                      for lab, acc in (("ISTA", False), ("FISTA", True))}
            for key, opts in ABLIN_MODELS:
                if key not in keys:
                    continue
                if args.scale == "small":
                    opts = {**opts, "n_steps": 30}
                # one network per depth (SLISTA at every depth of its continuation too: they come free)
                depths = sorted(set(PER_DEPTH) | (set(DEPTHS) if key == "slista" else set()))
                per_seed = []
                for seed in seeds:
                    curve = {}
                    for d in depths:
                        model, row = fit(key, D, X, lmbd, loss=args.loss, n_layers=d, seed=seed, **opts)
                        curve[d] = gap(model.solve(X_te, lmbd_te, d))
                        rows.append({"dataset": ds, "reg": reg, **row, "seed": seed - seeds[0], "depth": d,
                                     "gap": f"{curve[d]:.3g}", "ista_gap": f"{curves['ISTA'][d]:.3g}",
                                     "fista_gap": f"{curves['FISTA'][d]:.3g}"})
                    per_seed.append(curve)
                    if key == "slista" and seed == seeds[0]:
                        results[f"{ds}_{reg}_steps"] = model.steps().tolist()  # depth 20, continuation
                curves[LABELS[key]] = {d: sum(c[d] for c in per_seed) / len(per_seed) for d in depths}
                results[f"{ds}_{reg}_{key}_per_seed"] = per_seed
                if key == "slista":
                    # depth 20 trained directly from 1/L: the paper's picture of the steps
                    direct, direct_row = fit(key, D, X, lmbd, loss=args.loss, n_layers=DEPTH,
                                             **{**opts, "continuation": False})
                    curves["SLISTA, no continuation"] = {DEPTH: gap(direct.solve(X_te, lmbd_te, DEPTH))}
                    results[f"{ds}_{reg}_steps_direct"] = direct.steps().tolist()
                    rows.append({"dataset": ds, "reg": reg, **direct_row, "model": "slista-direct", "seed": 0,
                                 "depth": DEPTH, "gap": f"{curves['SLISTA, no continuation'][DEPTH]:.3g}",
                                 "ista_gap": f"{curves['ISTA'][DEPTH]:.3g}",
                                 "fista_gap": f"{curves['FISTA'][DEPTH]:.3g}"})
            if reg == 0.1:
                results[f"{ds}_inv_LS"] = (1.0 / restricted_lipschitz(data.D, ref.Z)).tolist()
                results[f"{ds}_inv_L"] = float(1.0 / torch.linalg.matrix_norm(data.D, ord=2) ** 2)
            results[f"{ds}_{reg}"] = curves
            save(tag, {"rows": rows, "results": results})
    table(rows, tag)
    _summary(rows, tag)
    _figures(results, tag, datasets, regs)


def _summary(rows, tag):
    """Mean (min–max over the seeds) test F − F* per model and depth, and the best model at each depth."""
    df = pd.DataFrame([r for r in rows if r["depth"] in PER_DEPTH and r["model"] != "slista-direct"])
    if df.empty:
        return
    df["gap"] = df["gap"].astype(float)
    summary = df.groupby(["dataset", "reg", "depth", "model"]).agg(
        gap_mean=("gap", "mean"), gap_min=("gap", "min"), gap_max=("gap", "max"), n_seeds=("gap", "size"),
        train_time_s=("train_time_s", "mean"), ista=("ista_gap", "first"), fista=("fista_gap", "first")).reset_index()
    best = summary.loc[summary.groupby(["dataset", "reg", "depth"])["gap_mean"].idxmin()]
    table(summary.to_dict("records"), f"{tag}_per_depth")
    print("best model per depth:\n" + best[["dataset", "reg", "depth", "model", "gap_mean"]].to_string(index=False))


def _figures(results, tag, datasets, regs):
    fig, axes = plt.subplots(len(datasets), len(regs), figsize=(5 * len(regs), 3.5 * len(datasets)), sharex=True,
                             squeeze=False)
    for i, ds in enumerate(datasets):
        for j, reg in enumerate(regs):
            ax, curves = axes[i, j], results[f"{ds}_{reg}"]
            for label, curve in curves.items():
                ax.semilogy(list(curve), list(curve.values()), "-" if label in ("ISTA", "FISTA") else "-o", ms=3,
                            label=label)
            ax.set(title=f"{ds}, λ = {reg} λmax", xlabel="depth / iterations", ylabel="F − F* (test)")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file(f"{tag}_gap_vs_depth", "png"), dpi=120)
    fig, axes = plt.subplots(2, len(datasets), figsize=(5 * len(datasets), 6.5), squeeze=False)
    for col, ds in enumerate(datasets):
        for row, (suffix, how) in enumerate((("_direct", "trained at depth 20"), ("", "depth continuation"))):
            ax, steps = axes[row, col], results.get(f"{ds}_0.1_steps{suffix}")
            if steps is None or f"{ds}_inv_LS" not in results:
                continue
            ax.hist(results[f"{ds}_inv_LS"], bins=50, density=True, alpha=0.5, label=r"$1/L_S$ (test supports)")
            for k, step in enumerate(steps):
                ax.axvline(step, color=plt.cm.viridis(k / DEPTH), lw=1)
            ax.axvline(results[f"{ds}_inv_L"], color="k", ls="--", label="1/L")
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set(title=f"SLISTA steps (colour = layer), {ds}, λ = 0.1, {how}", xlabel="step size")
            ax.title.set_fontsize(9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_file(f"{tag}_slista_steps", "png"), dpi=120)
    plt.close("all")
