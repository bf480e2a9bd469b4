"""Regenerate every figure of the suite from benchopt results into ``results/figures/``.

Usage::

    python -m l2obench.results.figures                 # run the quick configs (cached), draw
    python -m l2obench.results.figures --results lasso=benchmarks/lasso/outputs/quick.parquet
    python -m l2obench.results.figures --papers        # also the benchmarks' paper scripts (slow)

For every registered benchmark the result file is ``--results NAME=PARQUET`` if given, else
``results/runs/<name>.parquet`` (rerun with ``--rerun``), else a fresh run of its quick config
with benchopt's cache and the trained-weight cache kept (a rerun of unchanged code is fast).
Figures are PNG (screen) and PDF (print), drawn with matplotlib's Agg backend: nothing is
fetched from the network. ``results/figures/README.md`` says what each one shows. A benchmark
whose results are missing or unreadable is skipped with a message; the others are drawn.
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from l2obench.results import breakeven, registry  # noqa: E402
from l2obench.results.regression import RunError, run_benchmark  # noqa: E402
from l2obench.results.tables import ResultsError, load_results, tidy  # noqa: E402

OUT = registry.ROOT / "results" / "figures"
RUNS = registry.ROOT / "results" / "runs"
LABELS = {
    "suboptimality": "F(z) − F*  (mean over test set)",
    "rel_suboptimality": "(F(z) − F*) / F*",
    "rel_error": "‖x − x★‖ / ‖x★‖  (mean over test set)",
    "nmse_db": "NMSE to ground truth (dB)",
    "value": "objective value",
    "budget": "iterations / layers",
    "time_s": "time for the test batch (s)",
    "train_time": "training time (s)",
}
# the benchmarks' own paper scripts (run with --papers); their PNGs are copied into papers/
PAPER_SCRIPTS = [
    ("lasso", ["benchmarks/lasso/reproduce_papers.py", "chen", "--scale", "small", "--snr", "none"]),
    ("lasso", ["benchmarks/lasso/reproduce_papers.py", "ablin", "--scale", "small"]),
    ("tv_deconvolution", ["benchmarks/tv_deconvolution/plot_paper_figures.py", "--quick"]),
    ("sparse_analysis", ["benchmarks/sparse_analysis/measure_cost.py", "--small", "--cost-only"]),
]


def _style():
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)
    plt.rcParams.update({"legend.fontsize": 8, "savefig.bbox": "tight", "pdf.fonttype": 42})


def _save(fig, out, stem):
    paths = []
    for ext in ("png", "pdf"):
        path = Path(out) / f"{stem}.{ext}"
        fig.savefig(path, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths


def _short(name, width=38):
    return name if len(name) <= width else name[: width - 1] + "…"


def _params(name):
    inside = str(name).partition("[")[2].rstrip("]")
    return dict(kv.split("=", 1) for kv in inside.split(",") if "=" in kv)


def short_labels(names):
    """``{name: label}``: the family plus only the parameters that differ within that family.

    ``ISTA[accelerated=False,step=1.0]`` and ``ISTA[accelerated=True,step=1.0]`` become
    ``ISTA[accelerated=False]`` and ``ISTA[accelerated=True]``; a lone ``ADMM[rho=3.0]`` is ``ADMM``.
    """
    names = sorted(set(names))
    labels = {}
    for fam in sorted({n.split("[")[0] for n in names}):
        members = [n for n in names if n.split("[")[0] == fam]
        params = [_params(n) for n in members]
        keys = sorted({k for p in params for k in p})
        varying = [k for k in keys if len({p.get(k) for p in params}) > 1]
        for n, p in zip(members, params):
            shown = ",".join(f"{k}={p[k]}" for k in varying if k in p)
            labels[n] = f"{fam}[{shown}]" if shown else fam
    return labels


def _setting(row, datasets):
    return f"{datasets[row['dataset']]}\n{row['objective']}"


def convergence(table, metric, out, stem, logy=True):
    """``metric`` against iterations (top row) and time (bottom row), a column per setting.

    Learned solvers are dashed. Returns the written paths ([] when the metric is absent).
    """
    if metric not in table or not np.isfinite(table[metric]).any():
        return []
    data = table[np.isfinite(table[metric])].copy()
    if "diverged" in data:
        data = data[~data["diverged"]]
    if logy:
        data[metric] = data[metric].clip(lower=1e-16)
    datasets = short_labels(data["dataset"])
    data["setting"] = data.apply(_setting, axis=1, datasets=datasets)
    data["solver "] = data["solver"].map(short_labels(data["solver"]))
    data = data.sort_values(["solver", "dataset", "objective", "budget"])
    settings = sorted(data["setting"].unique())
    solvers = sorted(data["solver "].unique())
    palette = dict(zip(solvers, sns.color_palette("tab10" if len(solvers) <= 10 else "tab20", len(solvers))))
    dashes = {s: (4, 2) if learned else "" for s, learned in
              data.groupby("solver ")["learned"].first().items()}
    fig, axes = plt.subplots(2, len(settings), figsize=(4.6 * len(settings), 7), squeeze=False)
    for j, setting in enumerate(settings):
        sub = data[data["setting"] == setting]
        for i, x in enumerate(["budget", "time_s"]):
            ax = axes[i, j]
            # sort=False: points follow the iterations, so a noisy timing cannot reorder a curve
            sns.lineplot(sub, x=x, y=metric, hue="solver ", style="solver ", palette=palette, dashes=dashes,
                         markers=False, sort=False, estimator=None, ax=ax,
                         legend=(i == 0 and j == len(settings) - 1))
            ax.set(xscale="symlog" if x == "budget" else "log", yscale="log" if logy else "linear",
                   xlabel=LABELS[x], ylabel=LABELS.get(metric, metric) if j == 0 else "")
            if x == "budget":
                ax.set_xlim(left=0)
            if i == 0:
                ax.set_title(setting, fontsize=8)
    legend = axes[0, -1].get_legend()
    if legend is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), title="solver (dashed: learned)")
    return _save(fig, out, stem)


def at_budget(table, budget):
    """Each curve's row at the largest budget <= ``budget`` (finite, not diverged)."""
    rows = []
    for _, curve in table.groupby(["solver", "dataset", "objective"]):
        curve = curve[curve["budget"] <= budget].sort_values("budget")
        if len(curve):
            rows.append(curve.iloc[-1])
    return pd.DataFrame(rows)


def accuracy_figure(tables, budget, out):
    """Accuracy at a fixed budget against training time, one panel per benchmark × data set.

    Classical solvers (no training) sit at the left edge with hollow markers.
    """
    parts = []
    for name, table in tables.items():
        metric = registry.BENCHMARKS[name].accuracy
        if metric not in table:
            continue
        sub = at_budget(table, budget).assign(benchmark=name, accuracy=lambda d, m=metric: d[m], metric=metric)
        parts.append(sub)
    if not parts:
        return []
    data = pd.concat(parts, ignore_index=True)
    data = data[np.isfinite(data["accuracy"])]
    data["panel"] = data["benchmark"] + "\n" + data["dataset"].map(short_labels(data["dataset"]))
    data["label"] = data["solver"].map(short_labels(data["solver"]))
    panels = sorted(data["panel"].unique())
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    floor = 1e-3
    for ax, panel in zip(axes.flat, panels):
        sub = data[data["panel"] == panel]
        for row in sub.itertuples():
            x = max(row.train_time if np.isfinite(row.train_time) else 0.0, floor)
            ax.scatter(x, max(row.accuracy, 1e-16), marker="o" if row.learned else "s",
                       facecolors=None if row.learned else "none", edgecolors="C0" if not row.learned else None)
            ax.annotate(row.label, (x, max(row.accuracy, 1e-16)), fontsize=6,
                        xytext=(3, 2), textcoords="offset points")
        ax.set(xscale="log", yscale="log", xlabel=f"{LABELS['train_time']} (classical: {floor:g})",
               ylabel=f"{LABELS.get(sub['metric'].iloc[0], sub['metric'].iloc[0])}\nat ≤ {budget} iterations")
        ax.set_title(panel, fontsize=8)
    fig.tight_layout()
    return _save(fig, out, "accuracy_vs_train_time")


def break_even_figure(summary, out):
    """Break-even number of instances per learned × classical pair (log scale, "never" marked)."""
    data = summary.dropna(subset=["classical_solver"]).copy()
    if data.empty:
        return []
    names = short_labels(pd.concat([data["learned_solver"], data["classical_solver"]]))
    datasets = short_labels(data["dataset"])
    data["pair"] = (data["benchmark"] + ": " + data["learned_solver"].map(names) + " vs "
                    + data["classical_solver"].map(names) + " | " + data["dataset"].map(datasets))
    finite = np.isfinite(data["break_even_instances"])
    top = data.loc[finite, "break_even_instances"].max() if finite.any() else 10.0
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(data) + 1.2))
    y = np.arange(len(data))
    ax.barh(y[finite.to_numpy()], data.loc[finite, "break_even_instances"], color="C0")
    for yi, status in zip(y[~finite.to_numpy()], data.loc[~finite, "status"]):
        why = "not faster" if "not faster" in str(status) else "accuracy not reached"
        ax.text(1.1, yi, f"never ({why})", va="center", fontsize=7, color="C3")
    ax.set_yticks(y, data["pair"], fontsize=6)
    ax.set(xscale="log", xlim=(1, max(top * 3, 10)), xlabel="instances to repay training (log scale)")
    ax.invert_yaxis()
    return _save(fig, out, "break_even")


def load_tables(results, rerun=False, out=print):
    """``{name: tidy table}`` for every registered benchmark that has (or gets) results."""
    tables = {}
    for bench in registry.get():
        path = results.get(bench.name) or RUNS / f"{bench.name}.parquet"
        try:
            if bench.name not in results and (rerun or not Path(path).exists()):
                out(f"{bench.name}: running its quick config (benchopt cache kept) ...")
                path = run_benchmark(bench, RUNS, use_cache=True, cache_dir=None, log=out)
            tables[bench.name] = tidy(load_results(path))
        except (ResultsError, RunError) as exc:
            out(f"{bench.name}: SKIPPED, {exc}")
    return tables


def run_paper_scripts(out_dir, out=print):
    """Run the benchmarks' paper scripts and copy their PNGs into ``out_dir/papers``."""
    dest = Path(out_dir) / "papers"
    dest.mkdir(parents=True, exist_ok=True)
    for name, cmd in PAPER_SCRIPTS:
        script = registry.ROOT / cmd[0]
        if not script.exists():
            out(f"{cmd[0]}: not found, skipped")
            continue
        outputs = script.parent / "outputs"
        before = {p: p.stat().st_mtime for p in outputs.glob("*.png")} if outputs.exists() else {}
        proc = subprocess.run([sys.executable, str(script), *cmd[1:]], cwd=registry.ROOT,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            out(f"{' '.join(cmd)}: FAILED (exit {proc.returncode})\n{proc.stderr[-1500:]}")
            continue
        for png in outputs.glob("*.png"):
            if before.get(png) != png.stat().st_mtime:
                shutil.copy2(png, dest / f"{name}_{png.name}")
                out(f"paper figure: {dest / f'{name}_{png.name}'}")


def make_figures(tables, out_dir=OUT, budget=16, out=print):
    """Draw every figure of ``tables`` into ``out_dir``; returns the written paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _style()
    written = []
    for name, table in tables.items():
        table.to_csv(out_dir / f"{name}_table.csv", index=False)   # the tidy table the figures use
        written.append(out_dir / f"{name}_table.csv")
        metric = registry.BENCHMARKS[name].accuracy
        written += convergence(table, metric, out_dir, f"{name}_convergence")
        if "nmse_db" in table:
            written += convergence(table, "nmse_db", out_dir, f"{name}_nmse_db", logy=False)
    written += accuracy_figure(tables, budget, out_dir)
    summary = breakeven.summary(tables)
    summary.to_csv(out_dir / "break_even.csv", index=False)
    written.append(out_dir / "break_even.csv")
    written += break_even_figure(summary, out_dir)
    for path in written:
        out(f"wrote {path}")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", action="append", default=[], metavar="NAME=PARQUET")
    parser.add_argument("--rerun", action="store_true", help="rerun the quick configs even if results/runs has them")
    parser.add_argument("--papers", action="store_true", help="also run the benchmarks' paper-figure scripts")
    parser.add_argument("--budget", type=int, default=16, help="iterations of the accuracy-at-budget figure")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    results = {}
    for item in args.results:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"--results expects NAME=PARQUET, got {item!r}")
        results[name] = Path(path)
    unknown = sorted(set(results) - set(registry.BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; registered: {sorted(registry.BENCHMARKS)}")
    tables = load_tables(results, args.rerun)
    if not tables:
        print("error: no benchmark has readable results; nothing drawn.", file=sys.stderr)
        return 2
    make_figures(tables, args.out, args.budget)
    if args.papers:
        run_paper_scripts(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
