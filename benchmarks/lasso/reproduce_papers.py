"""Reproduce the learned-solver experiments of the Lasso papers on this machine (TEST split).

    python benchmarks/lasso/reproduce_papers.py chen  [--scale paper|small] [--snr none 30]
    python benchmarks/lasso/reproduce_papers.py ablin [--scale paper|small] [--loss unsupervised|semi-supervised]
                                                       [--datasets simulated digits] [--regs 0.1 0.8] [--seeds N]

``chen``: compressed sensing 250 x 500, 16 layers (Chen et al. 2018, Liu et al. 2019, Chen et
al. 2021): NMSE vs layer for every model and ISTA/FISTA, LISTA's weight coupling, a table of
NMSE at 16 layers, train time and parameter count. ``ablin``: 64 x 256, unsupervised,
lambda in {0.1, 0.8}, simulated and digits (Ablin et al. 2019): F - F* of networks trained for
their depth (5, 10, 20; SLISTA at every depth of its continuation), best model per depth, SLISTA's
learned steps against the histogram of 1/L_S over test supports. Figures (PNG), tables (CSV)
and raw curves (JSON) go to ``benchmarks/lasso/outputs/`` (git-ignored; ``--scale small`` adds
``_small`` to the names); trained weights are
cached (``L2OBENCH_CACHE``), so a rerun only evaluates. Timings are wall-clock on this machine.
"""
import argparse
import json
import time
from pathlib import Path

import pandas as pd

from l2obench.objectives.lasso import LassoProblem, lambda_max, lasso_value  # noqa: F401 (used by the papers_* scripts)
from l2obench.objectives.metrics import nmse_db  # noqa: F401 (used by the papers_* scripts)
from l2obench.solvers import fit as fit_pipeline
from l2obench.solvers.benchopt_adapters import benchopt_seed, continuation_depths
from l2obench.solvers.classical.lasso_sklearn import SklearnLasso
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.classical.reference import certified_solve
from l2obench.solvers.losses import Loss
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.lasso.registry import make_model
from l2obench.solvers.threads import set_torch_threads

OUT = Path(__file__).resolve().parent / "outputs"
_SUFFIX = {"paper": "", "small": "_small"}
_scale = ["paper"]   # set by run_chen/run_ablin: small-scale runs never overwrite the paper-scale outputs


def set_scale(scale):
    """Called by the experiment modules, which import this file as ``reproduce_papers`` (a second
    copy of the module when it runs as ``__main__``), so the setting lives where ``out_file`` reads it."""
    _scale[0] = scale


def out_file(stem, ext):
    """``outputs/<stem>[_small].<ext>``, the directory created."""
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT / f"{stem}{_SUFFIX[_scale[0]]}.{ext}"

# label, model key, extra hyper-parameters, fit options at paper scale (n_steps per stage if stagewise)
CHEN_MODELS = [
    ("hyperlista", "hyperlista", {}, dict(val_fraction=0.02)),
    ("alista", "alista", {}, dict(n_steps=50, lr=1e-2, stagewise=True, val_fraction=0.02)),
    ("lista-cpss", "lista-cpss", {}, dict(n_steps=500, lr=1e-3, stagewise=True, val_fraction=0.02)),
    # thresholds at 10x the weights' Adam rate (1e-2): +5 dB over the paper's single rate
    ("lista-cpss-thr10", "lista-cpss", {"threshold_lr_scale": 10.0},
     dict(n_steps=500, lr=1e-3, stagewise=True, val_fraction=0.02)),
    # ALISTA's weight as the starting point, weights at 1e-4 and thresholds at 1e-2
    ("lista-cpss-analytic", "lista-cpss", {"init": "analytic", "threshold_lr_scale": 100.0},
     dict(n_steps=1000, lr=1e-4, stagewise=True, val_fraction=0.02)),
    ("lista-cp", "lista-cp", {}, dict(n_steps=180, lr=1e-3, stagewise=True, val_fraction=0.02)),
    ("lista-cp-analytic", "lista-cp", {"init": "analytic", "threshold_lr_scale": 100.0},
     dict(n_steps=500, lr=1e-4, stagewise=True, val_fraction=0.02)),
    ("tilista-ss", "tilista", {"support_selection": True}, dict(n_steps=120, lr=1e-3, stagewise=True,
                                                               val_fraction=0.02)),
    ("lista", "lista", {}, dict(n_steps=120, lr=5e-4, stagewise=True, val_fraction=0.02)),
]
# every network trained for its depth (papers_ablin2019.PER_DEPTH), with these protocols
ABLIN_MODELS = [("slista", dict(n_steps=600, lr=1e-2, continuation=True)),
                ("alista", dict(n_steps=300, lr=1e-2, support_selection=False)),
                # the thresholds at 10 x the weights' Adam rate (as in the chen setting): at depth 10 it
                # beats SLISTA (the paper's ordering), at the same budget with one rate it does not
                ("lista-cp", dict(n_steps=3000, lr=1e-3, threshold_lr_scale=10.0))]


def fit(name, D, X, lmbd, Z=None, *, loss, n_layers, n_steps=1, lr=1e-3, stagewise=False,
        val_fraction=0.1, seed=None, batch_size=64, init_from=None, optimizer="adam", continuation=False,
        **hyper):
    """Train one model through the suite's loop and cache; return (model, row).

    ``continuation``: trained at :func:`continuation_depths` (n_layers), each depth from the previous
    one (``fit_with_continuation``, as a learned adapter with ``continuation=True``); the row's
    ``train_time_s`` and ``n_steps`` are summed over the depths."""
    seed = benchopt_seed(0, "Solver") if seed is None else seed  # as `benchopt run` with `seed: 0`
    config = TrainConfig.for_budget(n_steps, lr=lr, batch_size=batch_size, seed=seed, n_evals=5 if stagewise else 20,
                                    optimizer=optimizer)
    options = dict(loss=Loss(loss), target=Z, config=config, stagewise=stagewise, val_fraction=val_fraction)
    t0 = time.perf_counter()
    if continuation:
        if init_from is not None:
            raise ValueError("continuation=True trains its own chain of depths: init_from must be None.")
        model, meta = fit_pipeline.fit_with_continuation(lambda depth: make_model(name, n_layers=depth, **hyper),
                                                         continuation_depths(n_layers), LassoProblem(D), (X, lmbd),
                                                         **options)
    else:
        model = make_model(name, n_layers=n_layers, **hyper)
        meta = fit_pipeline.fit(model, LassoProblem(D), (X, lmbd), init_from=init_from, **options)
    row = {"model": name,
           "train_time_s": round(meta["train_time"], 1), "wall_s": round(time.perf_counter() - t0, 1),
           "cache_hit": meta["cache_hit"], "n_params": model.n_params(), "n_steps": meta.get("n_steps")}
    return model.eval(), row


def fista_curve(D, X, lmbd, iters, metric, accelerated):
    """metric(Z) after n iterations of ISTA/FISTA from 0, for every n in ``iters``."""
    return [metric(ProximalGradient(accelerated=accelerated).solve(LassoProblem(D), X, lmbd, n)) for n in iters]


def reference_solve(D, X, lmbd, tol):
    """The float64 Lasso solution of (X, lmbd), certified by the duality gap (CD warm start)."""
    return certified_solve(LassoProblem(D.double()), X.double(), lmbd.double(), tol=tol,
                           warm_start=SklearnLasso("cd", tol=1e-13))


def save(name, obj):
    out_file(name, "json").write_text(json.dumps(obj, indent=1))


def table(rows, name):
    df = pd.DataFrame(rows)
    df.to_csv(out_file(name, "csv"), index=False)
    print(f"\n== {name} (test split) ==\n" + df.to_string(index=False), flush=True)
    return df


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=["chen", "ablin"])
    parser.add_argument("--scale", choices=["paper", "small"], default="paper")
    parser.add_argument("--snr", nargs="+", default=["none", "30"], help="chen: noise levels (dB or none)")
    parser.add_argument("--models", nargs="+", default=None, help="subset of model keys")
    parser.add_argument("--loss", choices=["unsupervised", "semi-supervised"], default="unsupervised",
                        help="ablin: training loss (outputs of another loss than the paper's are suffixed)")
    parser.add_argument("--datasets", nargs="+", choices=["simulated", "digits"], default=None,
                        help="ablin: a subset of the data sets (outputs suffixed)")
    parser.add_argument("--regs", nargs="+", type=float, choices=[0.1, 0.8], default=None,
                        help="ablin: a subset of lambda / lambda_max (outputs suffixed)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="ablin: training seeds per model and depth (the first is benchopt's)")
    parser.add_argument("--data-seed", default="benchopt",
                        help="'benchopt' (default): the data sets `benchopt run` draws with `seed: 0`, so that the "
                             "numbers equal the parquet's; or an integer (the tables of earlier sessions used 0)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1 is fastest on a shared machine)")
    args = parser.parse_args()
    args.data_seed = benchopt_seed(0, "Dataset") if args.data_seed == "benchopt" else int(args.data_seed)
    set_torch_threads(args.threads)
    from papers_ablin2019 import run_ablin
    from papers_chen2018 import run_chen
    (run_chen if args.experiment == "chen" else run_ablin)(args)


if __name__ == "__main__":
    main()
