"""Compressed sensing, 250 x 500, 16 layers (Chen et al. 2018; Liu et al. 2019; Chen et al. 2021).

Run through ``reproduce_papers.py chen``. Every number is measured on the TEST split.
"""
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from l2obench.datasets.sparse_coding import make_compressed_sensing  # noqa: E402
from reproduce_papers import (CHEN_MODELS, fista_curve, fit, lambda_max, nmse_db, out_file,  # noqa: E402
                              save, set_scale, table)

REG = 0.1            # lambda / lambda_max: threshold initialisation and ISTA/FISTA's problem
CLASSIC_REGS = (0.1, 0.01, 0.001)
ITERS = list(range(1, 17)) + [160]   # 160 = 10x the depth: the acceptance comparison
SIZES = {"paper": dict(n_train=51200, n_test=2048), "small": dict(n_train=2000, n_test=256)}
SMALL_BUDGET = dict(n_steps=20)


def run_chen(args):
    set_scale(args.scale)
    keys = args.models or [label for label, _, _, _ in CHEN_MODELS]
    for snr in args.snr:
        snr_val = None if snr == "none" else float(snr)
        data = make_compressed_sensing(**SIZES[args.scale], snr=snr_val, seed=args.data_seed)
        D, X, Z = data.D.float(), data.X_train.float(), data.Z_train.float()
        X_te, Z_te = data.X_test.float(), data.Z_test.float()
        lmbd, lmbd_te = REG * lambda_max(D, X), REG * lambda_max(D, X_te)
        curves, rows, models = {}, [], {}
        done = out_file(f"chen2018_snr{snr}_classical_data{args.data_seed}", "json")   # the classical curves, once
        if done.exists():
            curves.update(json.loads(done.read_text()))
        for reg in CLASSIC_REGS:
            lm = reg * lambda_max(D, X_te)
            for acc, label in ((False, "ISTA"), (True, "FISTA")):
                if f"{label} (λ={reg}λmax)" not in curves:
                    curves[f"{label} (λ={reg}λmax)"] = fista_curve(D, X_te, lm, ITERS, lambda z: nmse_db(z, Z_te),
                                                                 acc)
        done.write_text(json.dumps(curves))
        for label, key, hyper, opts in CHEN_MODELS:
            if label not in keys:
                continue
            opts = {**opts, **(SMALL_BUDGET if args.scale == "small" and "n_steps" in opts else {})}
            model, row = fit(key, D, X, lmbd, Z, loss="supervised", n_layers=16, **hyper, **opts)
            with torch.no_grad():
                curve = [nmse_db(model(X_te, lmbd_te, n_layers=k), Z_te) for k in range(1, 17)]
            row["model"] = label
            curves[label], models[label] = curve, model
            fista160 = min(curves[f"FISTA (λ={r}λmax)"][-1] for r in CLASSIC_REGS)
            rows.append({**row, "nmse_db_16": round(curve[-1], 1), "best_fista160_db": round(fista160, 1),
                         "beats_fista_x10": curve[-1] < fista160})
            save(f"chen2018_snr{snr}", {"iters": ITERS, "curves": curves, "rows": rows})
        for label in ("ISTA", "FISTA"):
            rows.append({"model": f"{label}(16), λ={REG}λmax",
                         "nmse_db_16": round(curves[f"{label} (λ={REG}λmax)"][15], 1)})
        rows.append({"model": "FISTA(160), best λ of " + str(CLASSIC_REGS),
                     "nmse_db_16": round(min(curves[f"FISTA (λ={r}λmax)"][-1] for r in CLASSIC_REGS), 1)})
        table(rows, f"chen2018_snr{snr}")
        _figures(curves, models, snr)


def _figures(curves, models, snr):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    learned = iter(plt.cm.tab10.colors)
    for label, curve in curves.items():
        if label.startswith(("ISTA", "FISTA")):   # classical: greys, so colours are the learned models
            grey = {"0.1": "0.2", "0.01": "0.45", "0.001": "0.7"}[label.split("λ=")[1].split("λ")[0]]
            ax.plot(ITERS[:16], curve[:16], "--" if label.startswith("FISTA") else ":", color=grey, lw=1.2,
                    label=label)
        else:
            ax.plot(range(1, 17), curve, "-o", ms=3, color=next(learned), label=label)
    ax.set(xlabel="layer / iteration", ylabel="test NMSE (dB)",
           title=f"Compressed sensing 250×500, SNR {snr}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out_file(f"chen2018_nmse_vs_layer_snr{snr}", "png"), dpi=120)
    if "lista" in models:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.semilogy(range(1, 17), models["lista"].coupling().numpy(), "-o")
        ax.set(xlabel="layer k", ylabel=r"$\|W_2^k + W_1^k D - I\|_F$", title="LISTA weight coupling")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_file(f"chen2018_lista_coupling_snr{snr}", "png"), dpi=120)
    plt.close("all")
