"""Reproduce the findings of Cherkaoui, Sulam & Moreau (NeurIPS 2020) on this suite's data.

    .venv/bin/python benchmarks/tv_deconvolution/plot_paper_figures.py [--quick]

Writes to ``benchmarks/tv_deconvolution/outputs/`` (git-ignored):

* ``fig_depth_synthetic.png`` — E[P(z_t) − P*] against depth t on the paper's small synthetic
  setting (length 8, 5 measurements) at λ = 0.1 and 0.8 λ_max: PGD / accelerated PGD (analysis),
  ISTA / FISTA (synthesis), LPGD-Taut, LPGD-LISTA[20], synthesis LISTA (Fig. 2 of the paper).
* ``fig_analysis_vs_synthesis.png`` — suboptimality against iterations of the analysis and
  synthesis iterations on three operators (the claim of Sec. 2: analysis needs fewer).
* ``fig_fmri_time.png`` — P − P* against wall-clock time on fMRI-like data at λ = 0.1 λ_max
  (Fig. 4 of the paper; trained networks are timed on inference only), with LPGD-Taut's
  learned-step variant trained per depth by L-BFGS (one network per point).
* ``paper_numbers.json`` — every number quoted in the README (``--robustness``: only the
  iteration counts over several draws of H, to ``robustness_numbers.json``).

Learned models are trained with ``l2obench.solvers.fit.fit`` (unsupervised
objective loss averaged over layers; the per-depth networks on their final layer's) and cached;
a second run reuses the weights. ``--only fig_fmri_time`` (or another figure's function name)
draws one figure.
"""
import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


from l2obench.datasets.tv_deconvolution import make_fmri_like, make_tv_synthetic  # noqa: E402
from l2obench.objectives.tv_deconvolution import TVProblem, synthesis_problem  # noqa: E402
from l2obench.solvers.classical.admm import ADMM  # noqa: E402
from l2obench.solvers.classical.pdhg import PDHG  # noqa: E402
from l2obench.solvers.classical.proximal_gradient import ProximalGradient  # noqa: E402
from l2obench.solvers.classical.reference import certified_solve  # noqa: E402
from l2obench.solvers.benchopt_adapters import continuation_depths  # noqa: E402
from l2obench.solvers.fit import fit, fit_with_continuation  # noqa: E402
from l2obench.solvers.losses import Loss  # noqa: E402
from l2obench.solvers.threads import set_torch_threads  # noqa: E402
from l2obench.solvers.training import TrainConfig  # noqa: E402
from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut  # noqa: E402
from l2obench.solvers.unrolled.tv.lpgd_lista import LPGDLISTA  # noqa: E402
from l2obench.solvers.unrolled.tv.synthesis_lista import TVSynthesisLISTA  # noqa: E402

OUT = Path(__file__).resolve().parent / "outputs"
CLASSICAL = {  # name: (solver, form of the problem it runs on)
    "PGD (analysis)": (ProximalGradient(accelerated=False), TVProblem),
    "accelerated PGD (analysis)": (ProximalGradient(accelerated=True), TVProblem),
    "ISTA (synthesis)": (ProximalGradient(accelerated=False), synthesis_problem),
    "FISTA (synthesis)": (ProximalGradient(accelerated=True), synthesis_problem),
}
LEARNED = {
    "LPGD-Taut": lambda T: LPGDTaut(T),
    "LPGD-LISTA[20]": lambda T: LPGDLISTA(T, n_inner=20),
    "LISTA (synthesis)": lambda T: TVSynthesisLISTA(T),
}


def problem(data, reg):
    """Per-signal λ = reg·λ_max(x), float64 reference on the test split."""
    tv = TVProblem(data.H)
    lam_tr = reg * tv.lambda_max(data.X_train)
    lam = reg * tv.lambda_max(data.X_test)
    ref = certified_solve(tv.double(), data.X_test, lam, tol=1e-10, max_iter=5000)
    return lam_tr, lam, ref


def classical_curve(solver, H, X, lam, ref, n_iter):
    """Mean P − P* after each iteration, and the solver's own time (callback time excluded).

    ``solver`` is ``(solver, form)``: the form (analysis or synthesis) builds the problem it runs on.
    """
    solver, form = solver
    problem, tv = form(H), TVProblem(H)
    sub, times, spent = [], [], [0.0]
    t0 = time.perf_counter()

    def record(k, z):
        t_in = time.perf_counter()
        times.append(t_in - t0 - spent[0])
        sub.append(float((tv.value(X, problem.to_output(z), lam) - ref.value).mean()))
        spent[0] += time.perf_counter() - t_in

    solver.solve(problem, X, lam, n_iter, callback=record)
    return np.array(sub), np.array(times)


def learned_curve(model, X, lam, ref, depths):
    """Mean P − P* and inference time of the first ``d`` layers (classical steps past the depth)."""
    sub, times = [], []
    for d in depths:
        t0 = time.perf_counter()
        Z = model.solve(X, lam, d)
        times.append(time.perf_counter() - t0)
        sub.append(float((model.problem_.value(X, Z, lam) - ref.value).mean()))
    return np.array(sub), np.array(times)


def train(name, data, lam_tr, T, n_steps):
    model = LEARNED[name](T)
    config = TrainConfig.for_budget(n_steps, lr=1e-3, seed=0, n_evals=1, max_eval_every=50)
    info = fit(model, TVProblem(data.H), (data.X_train, lam_tr), loss=Loss("unsupervised", all_layers=True),
               config=config)
    return model, info


def train_per_depth(data, lam_tr, T, n_steps):
    """LPGD-Taut with learned steps (W_k = s_k H), one network per depth (Ablin et al. 2019's
    per-depth networks): each trained on its final-layer objective by full-batch L-BFGS, from the
    one before (continuation); returns ``{depth: model}`` and the summed training time."""
    models = {}
    # the validation schedule of benchopt's learned adapters (LearnedSolver: 20 evaluations, patience 10)
    config = TrainConfig.for_budget(n_steps, lr=1e-3, seed=0, optimizer="lbfgs")
    # fit trains each depth's model in place: keeping them as they are made keeps every depth's network
    _, info = fit_with_continuation(lambda d: models.setdefault(d, LPGDTaut(d, weight="step")), continuation_depths(T),
                                    TVProblem(data.H), (data.X_train, lam_tr), loss=Loss("unsupervised"), config=config)
    return models, info


def learned_label(name, info):
    """The legend of a learned curve: its training time, or that its training diverged (the curve is
    then the weights the training restored, its analytic start: never shown as a trained model)."""
    if info["diverged"]:
        return f"{name}: training diverged, untrained weights shown"
    return f"{name} (train {info['train_time']:.0f} s)"


def fig_depth(args, numbers):
    data = make_tv_synthetic(args.n_train, args.n_test, n_dim=8, n_measurements=5, seed=0)
    T = args.depth
    depths = list(range(1, T + 1))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=False)
    for ax, reg in zip(axes, (0.1, 0.8)):
        lam_tr, lam, ref = problem(data, reg)
        rows, labels = {}, {}
        for name, solver in CLASSICAL.items():
            rows[name] = classical_curve(solver, data.H, data.X_test, lam, ref, T)[0]
        for name in LEARNED:
            model, info = train(name, data, lam_tr, T, args.n_steps)
            rows[name] = learned_curve(model, data.X_test, lam, ref, depths)[0]
            labels[name] = learned_label(name, info)
            numbers.setdefault("train", {})[f"synthetic reg={reg} {name}"] = {
                k: info[k] for k in ("train_time", "n_params", "cache_hit", "diverged")}
        for name, sub in rows.items():
            ax.semilogy(depths, np.maximum(sub, 1e-16), "--" if name in CLASSICAL else "-",
                        label=labels.get(name, name))
        numbers.setdefault("depth_synthetic", {})[f"reg={reg}"] = {
            name: {str(d): float(sub[d - 1]) for d in (1, 2, 5, 10, T) if d <= T} for name, sub in rows.items()}
        ax.set(title=f"length 8, 5 measurements, λ = {reg} λ_max", xlabel="layers / iterations t",
               ylabel="E[P(z_t) − P*]")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "fig_depth_synthetic.png", dpi=120)


def iterations_to(sub, ref_value, eps):
    """First iteration with (ΣP − ΣP*)/ΣP* <= eps, or None."""
    rel = sub / float(ref_value.mean())
    hit = np.nonzero(rel <= eps)[0]
    return int(hit[0] + 1) if hit.size else None


def fig_analysis_vs_synthesis(args, numbers):
    datasets = {
        "synthetic 8×5": make_tv_synthetic(10, args.n_test, n_dim=8, n_measurements=5, seed=0),
        "synthetic 100×50": make_tv_synthetic(10, args.n_test, n_dim=100, n_measurements=50, seed=0),
        f"fMRI-like {args.n_times} frames": make_fmri_like(10, args.n_test_fmri, n_times=args.n_times, seed=0),
    }
    fig, axes = plt.subplots(1, len(datasets), figsize=(15, 4))
    table = {}
    for ax, (label, data) in zip(axes, datasets.items()):
        _, lam, ref = problem(data, 0.1)
        table[label] = {}
        for name, solver in CLASSICAL.items():
            sub, _ = classical_curve(solver, data.H, data.X_test, lam, ref, args.n_iter)
            ax.loglog(np.arange(1, sub.size + 1), np.maximum(sub, 1e-16), label=name)
            table[label][name] = {f"{eps:g}": iterations_to(sub, ref.value, eps) for eps in (1e-2, 1e-4, 1e-6)}
        ax.set(title=f"{label}, λ = 0.1 λ_max", xlabel="iterations", ylabel="E[P(z_k) − P*]")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "fig_analysis_vs_synthesis.png", dpi=120)
    numbers["iterations_to_relative_accuracy"] = table


def robustness_over_h(args, numbers):
    """Iterations to relative accuracy 1e-4 over several draws of the Gaussian H (no figure)."""
    table = {}
    for (n, m), seeds in (((8, 5), range(6)), ((100, 50), range(1, 4))):
        for seed in seeds:
            data = make_tv_synthetic(10, 100, n_dim=n, n_measurements=m, seed=seed)
            _, lam, ref = problem(data, 0.1)
            row = {}
            for name, solver in CLASSICAL.items():
                sub, _ = classical_curve(solver, data.H, data.X_test, lam, ref, args.n_iter)
                row[name] = iterations_to(sub, ref.value, 1e-4)
            table[f"{m}x{n} seed {seed}"] = row
            print(f"{m}x{n} seed {seed}: {row}", flush=True)
    numbers["robustness_iterations_to_1e-4"] = table


def fig_fmri_time(args, numbers):
    data = make_fmri_like(args.n_train_fmri, args.n_test_fmri, n_times=args.n_times, seed=0)
    lam_tr, lam, ref = problem(data, 0.1)
    H, X = data.H, data.X_test
    fig, ax = plt.subplots(figsize=(7, 4.5))
    result = {}
    solvers = {**CLASSICAL, "ADMM (ρ=30)": (ADMM(rho=30.0), TVProblem), "PDHG (τ=0.1)": (PDHG(tau=0.1), TVProblem)}
    for name, solver in solvers.items():
        sub, times = classical_curve(solver, H, X, lam, ref, args.n_iter_fmri)
        ax.loglog(times, np.maximum(sub, 1e-16), "--", label=name)
        result[name] = {"time": times[[9, 19, -1]].tolist(), "subopt": sub[[9, 19, -1]].tolist()}
    T = args.depth
    depths = [1, 2, 3, 5, 8, 12, T, 2 * T, 4 * T]
    for name in LEARNED:
        model, info = train(name, data, lam_tr, T, args.n_steps_fmri)
        sub, times = learned_curve(model, X, lam, ref, depths)
        ax.loglog(times, np.maximum(sub, 1e-16), "o-", label=learned_label(name, info))
        result[name] = {"depths": depths, "time": times.tolist(), "subopt": sub.tolist(),
                        "train_time": info["train_time"], "n_params": info["n_params"], "diverged": info["diverged"]}
    # one network per depth, each timed and scored at its own depth (past T: the depth-T network)
    models, info = train_per_depth(data, lam_tr, T, args.n_steps_fmri_per_depth)
    name = "LPGD-Taut, learned steps, per depth (L-BFGS)"
    per_depth = [(d, models[d]) for d in sorted(models)] + [(d, models[T]) for d in (2 * T, 4 * T)]
    curve = [learned_curve(model, X, lam, ref, [d]) for d, model in per_depth]
    sub, times = np.array([c[0][0] for c in curve]), np.array([c[1][0] for c in curve])
    ax.loglog(times, np.maximum(sub, 1e-16), "s-", color="black", label=learned_label(name, info))
    result[name] = {"depths": [d for d, _ in per_depth], "time": times.tolist(), "subopt": sub.tolist(),
                    "train_time": info["train_time"], "n_params": 2 * T, "diverged": info["diverged"],
                    "steps_times_L": [s.item() * models[T].lipschitz_ for s in models[T].step_]}
    ax.set(title=f"fMRI-like, {args.n_test_fmri} series × {args.n_times} frames, λ = 0.1 λ_max",
           xlabel="wall-clock time (s)", ylabel="E[P(z) − P*]")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / "fig_fmri_time.png", dpi=120)
    numbers["fmri_time"] = result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--robustness", action="store_true",
                        help="only the analysis-vs-synthesis iteration counts over draws of H")
    parser.add_argument("--only", choices=("fig_analysis_vs_synthesis", "fig_depth", "fig_fmri_time"),
                        help="draw this figure only (paper_numbers.json keeps the others' numbers)")
    args = parser.parse_args()
    full = dict(n_train=2000, n_test=500, depth=20, n_steps=600, n_iter=3000, n_times=250,
                n_train_fmri=1000, n_test_fmri=256, n_steps_fmri=200, n_iter_fmri=300, n_steps_fmri_per_depth=50)
    quick = dict(n_train=500, n_test=200, depth=10, n_steps=100, n_iter=500, n_times=100,
                 n_train_fmri=200, n_test_fmri=64, n_steps_fmri=30, n_iter_fmri=100, n_steps_fmri_per_depth=10)
    for k, v in (quick if args.quick else full).items():
        setattr(args, k, v)
    OUT.mkdir(exist_ok=True)
    numbers_file = OUT / ("robustness_numbers.json" if args.robustness else "paper_numbers.json")
    numbers = json.loads(numbers_file.read_text()) if args.only and numbers_file.exists() else {}
    numbers["settings"] = {k: v for k, v in vars(args).items()}
    steps = (robustness_over_h,) if args.robustness else (fig_analysis_vs_synthesis, fig_depth, fig_fmri_time)
    if args.only:
        steps = tuple(step for step in steps if step.__name__ == args.only)
    for step in steps:
        t0 = time.perf_counter()
        step(args, numbers)
        numbers.setdefault("wall_clock", {})[step.__name__] = time.perf_counter() - t0
        numbers_file.write_text(json.dumps(numbers, indent=1))
        print(f"{step.__name__}: {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    set_torch_threads(1)  # alternating torch and LAPACK calls; see l2obench.solvers.threads
    main()
