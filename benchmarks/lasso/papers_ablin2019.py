"""Step-size setting, 64 x 256, unsupervised (Ablin, Moreau, Massias, Gramfort, NeurIPS 2019).

Run through ``reproduce_papers.py ablin``. SLISTA is trained separately at every depth of
``DEPTHS`` (as in the paper), each depth starting from the trained steps of the previous one
(depth continuation: trained from 1/L at depth 20, the steps of the last layers grew too large
and the network ended worse than the depth-16 one on digits); ALISTA and LISTA-CP are trained
once at depth 20 and evaluated on their first k layers. Every number is measured on the TEST
split.
"""
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from l2obench.datasets.sparse_coding import load_digits_coding, make_equiregularized  # noqa: E402
from l2obench.solvers.benchopt_adapters import CONTINUATION_DEPTHS  # noqa: E402
from reproduce_papers import (ABLIN_MODELS, fista_curve, fit, lambda_max, lasso_value, out_file,  # noqa: E402
                              reference_solve, save, set_scale, table)

REGS = (0.1, 0.8)
DEPTH = 20
DEPTHS = list(CONTINUATION_DEPTHS) + [DEPTH]
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
    tag = "ablin2019" if args.loss == "unsupervised" else f"ablin2019_{args.loss}"
    keys = args.models or [k for k, _ in ABLIN_MODELS]
    rows, results = [], {}
    for ds, loader in LOADERS.items():
        n_train, n_test = SIZES[args.scale][ds]
        data = loader(n_train, n_test, seed=args.data_seed)
        D, X, X_te = data.D.float(), data.X_train.float(), data.X_test.float()
        for reg in REGS:
            lmbd, lmbd_te = reg * lambda_max(D, X), reg * lambda_max(D, X_te)
            ref = reference_solve(data.D, data.X_test, lmbd_te.double(), tol=1e-9)
            f_star = ref.value.double()

            def gap(Z):
                return float((lasso_value(data.D, data.X_test, Z.double(), lmbd_te.double()) - f_star).mean())

            depths = list(range(1, DEPTH + 1))
            curves = {lab: fista_curve(D, X_te, lmbd_te, depths, gap, acc)
                      for lab, acc in (("ISTA", False), ("FISTA", True))}
            for key, opts in ABLIN_MODELS:
                if key not in keys:
                    continue
                if args.scale == "small":
                    opts = {**opts, "n_steps": 30}
                if key == "slista":
                    curve, row, model, total = [], None, None, {"train_time_s": 0.0, "n_steps": 0}
                    for d in DEPTHS:
                        model, row = fit(key, D, X, lmbd, loss=args.loss, n_layers=d, init_from=model, **opts)
                        curve.append(gap(model.solve(X_te, lmbd_te, d)))
                        total = {k: total[k] + row[k] for k in total}
                    row.update(total)  # the cost of the whole continuation up to depth 20
                    curves["SLISTA"] = dict(zip(DEPTHS, curve))
                    results[f"{ds}_{reg}_steps"] = model.steps().tolist()
                    # the same depth trained directly from 1/L: the paper's picture of the steps
                    direct, direct_row = fit(key, D, X, lmbd, loss=args.loss, n_layers=DEPTH, **opts)
                    curves["SLISTA, no continuation"] = {DEPTH: gap(direct.solve(X_te, lmbd_te, DEPTH))}
                    results[f"{ds}_{reg}_steps_direct"] = direct.steps().tolist()
                    rows.append({"dataset": ds, "reg": reg, **direct_row, "model": "slista-direct",
                                 f"gap_depth{DEPTH}": f"{curves['SLISTA, no continuation'][DEPTH]:.2e}",
                                 "ista_gap": f"{curves['ISTA'][-1]:.2e}", "fista_gap": f"{curves['FISTA'][-1]:.2e}"})
                else:
                    model, row = fit(key, D, X, lmbd, loss=args.loss, n_layers=DEPTH, **opts)
                    with torch.no_grad():
                        curves[key] = [gap(model(X_te, lmbd_te, n_layers=k)) for k in depths]
                last = curves["SLISTA"][DEPTH] if key == "slista" else curves[key][-1]
                rows.append({"dataset": ds, "reg": reg, **row, f"gap_depth{DEPTH}": f"{last:.2e}",
                             "ista_gap": f"{curves['ISTA'][-1]:.2e}", "fista_gap": f"{curves['FISTA'][-1]:.2e}"})
            if reg == 0.1:
                results[f"{ds}_inv_LS"] = (1.0 / restricted_lipschitz(data.D, ref.Z)).tolist()
                results[f"{ds}_inv_L"] = float(1.0 / torch.linalg.matrix_norm(data.D, ord=2) ** 2)
            results[f"{ds}_{reg}"] = curves
            save(tag, {"rows": rows, "results": results})
    table(rows, tag)
    _figures(results, tag)


def _figures(results, tag):
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for i, ds in enumerate(LOADERS):
        for j, reg in enumerate(REGS):
            ax, curves = axes[i, j], results[f"{ds}_{reg}"]
            for label, curve in curves.items():
                x, y = (list(curve), list(curve.values())) if isinstance(curve, dict) else \
                    (range(1, len(curve) + 1), curve)
                ax.semilogy(x, y, "-o" if label.startswith("SLISTA") else "-", ms=3, label=label)
            ax.set(title=f"{ds}, λ = {reg} λmax", xlabel="depth / iterations", ylabel="F − F* (test)")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file(f"{tag}_gap_vs_depth", "png"), dpi=120)
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
    for col, ds in enumerate(LOADERS):
        for row, (suffix, how) in enumerate((("_direct", "trained at depth 20"), ("", "depth continuation"))):
            ax, steps = axes[row, col], results.get(f"{ds}_0.1_steps{suffix}")
            if steps is None:
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
