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
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from l2obench.results import breakeven, registry  # noqa: E402
from l2obench.results.regression import RunError, run_benchmark  # noqa: E402
from l2obench.results.tables import ResultsError, short_labels  # noqa: E402

OUT = registry.ROOT / "results" / "figures"
RUNS = registry.ROOT / "results" / "runs"
LABELS = {
    "suboptimality": "F(z) − F*  (mean over test set)",
    "rel_suboptimality": "(F(z) − F*) / F*",
    "rel_error": "‖x − x★‖ / ‖x★‖  (mean over test set)",
    "nmse_db": "NMSE to ground truth (dB)",
    "nmse_lasso_db": "NMSE to the Lasso solution (dB)",
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
    ("shortest_path", ["benchmarks/shortest_path/plot_regret_vs_grid.py", "--quick"]),
    ("ct", ["benchmarks/ct/plot_reconstructions.py"]),
    ("ct", ["benchmarks/ct/plot_reconstructions.py", "--test-set", "shepp-logan",
            "--output", "benchmarks/ct/outputs/reconstructions_shepp_logan.png"]),
]


def _style():
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)
    plt.rcParams.update({"legend.fontsize": 8, "savefig.bbox": "tight", "pdf.fonttype": 42})


def _save(fig, out, stem):
    paths = []
    for ext in ("png", "pdf"):
        path = Path(out) / f"{stem}.{ext}"
        fig.savefig(path, dpi=150, bbox_inches="tight")  # keeps the legend right of the panels whole
        paths.append(path)
    plt.close(fig)
    return paths


def convergence_figure(table, metric, ylabel=None, logy=True):
    """``metric`` against iterations (top row) and time (bottom row), a column per setting.

    Labels are :func:`~l2obench.results.tables.short_labels` (whole, in one legend right of the
    panels); learned solvers are dashed and drawn from their first layer (budget 0 is the
    common starting point, not a layer), with a star at their trained depth. Diverged rows are
    left out. Returns the figure, or None when the metric has no finite value.
    """
    if metric not in table or not np.isfinite(table[metric].astype(float)).any():
        return None
    data = table[np.isfinite(table[metric].astype(float))].copy()
    if "diverged" in data:
        data = data[~data["diverged"].astype(bool)]
    data = data[~(data["learned"] & (data["budget"] < 1))]
    if data.empty:
        return None
    if logy:
        data[metric] = data[metric].clip(lower=1e-16)
    labels, datasets, objectives = (short_labels(data[c]) for c in ("solver", "dataset", "objective"))
    data["setting"] = data["dataset"].map(datasets) + "\n" + data["objective"].map(objectives)
    data["label"] = data["solver"].map(labels)
    kinds = data.groupby("label")["learned"].first()
    order = sorted(kinds.index, key=lambda name: (bool(kinds[name]), name))  # classical first
    colors = dict(zip(order, sns.color_palette("tab10" if len(order) <= 10 else "tab20", len(order))))
    settings = sorted(data["setting"].unique())
    fig, axes = plt.subplots(2, len(settings), figsize=(4.6 * len(settings), 7), squeeze=False)
    for j, setting in enumerate(settings):
        sub = data[data["setting"] == setting]
        for i, x in enumerate(["budget", "time_s"]):
            ax = axes[i, j]
            for label in order:
                curve = sub[sub["label"] == label].sort_values("budget")  # in iteration order
                if curve.empty:
                    continue
                learned = bool(kinds[label])
                ax.plot(curve[x], curve[metric], color=colors[label], ls="--" if learned else "-", lw=1.4)
                depth = int(curve["trained_depth"].iloc[-1]) if learned and "trained_depth" in curve else 0
                at = curve[curve["budget"] <= depth]
                if depth and len(at):
                    ax.plot(at[x].iloc[-1], at[metric].iloc[-1], marker="*", ms=11, color=colors[label],
                            markeredgecolor="black", markeredgewidth=0.5, ls="none", zorder=5)
            ax.set(xscale="symlog" if x == "budget" else "log", yscale="log" if logy else "linear",
                   xlabel=LABELS[x], ylabel=(ylabel or LABELS.get(metric, metric)) if j == 0 else "")
            if x == "budget":
                ax.set_xlim(left=0)
            else:  # a log axis spanning under two decades labels its minor ticks, which overlap
                ax.xaxis.set_minor_formatter(NullFormatter())
            if i == 0:
                ax.set_title(setting, fontsize=9)
    handles = [Line2D([], [], color=colors[lab], ls="--" if kinds[lab] else "-", lw=1.4) for lab in order]
    handles.append(Line2D([], [], marker="*", ms=11, color="grey", markeredgecolor="black", ls="none"))
    fig.tight_layout()
    fig.legend(handles, order + ["trained depth"], loc="center left", bbox_to_anchor=(1.0, 0.5),
               fontsize=8, title="solver (dashed: learned)", title_fontsize=8, frameon=False)
    return fig


def _save_if(fig, out, stem):
    return [] if fig is None else _save(fig, out, stem)


def convergence(table, metric, out, stem, logy=True):
    """Draw :func:`convergence_figure` into ``out/stem.png`` and ``.pdf`` ([] when the metric is absent)."""
    return _save_if(convergence_figure(table, metric, logy=logy), out, stem)


def at_budget(table, budget):
    """Each curve's row at the largest budget <= ``budget`` (finite, not diverged)."""
    rows = []
    for _, curve in table.groupby(["solver", "dataset", "objective"]):
        curve = curve[curve["budget"] <= budget].sort_values("budget")
        if len(curve):
            rows.append(curve.iloc[-1])
    return pd.DataFrame(rows)


def accuracy_points(tables, budget):
    """The points of :func:`accuracy_figure`: each curve at ``budget`` (:func:`at_budget`) on a metric.

    A learned solver is placed on the metric it was trained for, the one the break-even compares
    it on (:func:`~l2obench.results.breakeven.compared_metric` with the benchmark's
    ``trained_metrics``: in the lasso supervised → ``nmse_db``, unsupervised → ``suboptimality``,
    semi-supervised → ``nmse_lasso_db``; without a loss, the benchmark's ``accuracy``); the
    classical solvers of that benchmark × data set × objective are placed on each of those metrics.
    Returns one row per point with ``benchmark``, ``metric``, ``accuracy`` (finite only).
    """
    parts = []
    for name, table in tables.items():
        bench = registry.BENCHMARKS[name]
        rows = at_budget(table, budget)
        if rows.empty:
            continue
        rows["metric"] = [breakeven.compared_metric(r["solver"], rows.loc[[i]], bench.accuracy,
                                                    bench.trained_metrics)[0] if r["learned"] else None
                          for i, r in rows.iterrows()]
        for _, sub in rows.groupby(["dataset", "objective"]):
            for metric in sorted(set(sub["metric"].dropna())) or [bench.accuracy]:
                if metric in sub:
                    pick = sub[(sub["metric"] == metric) | ~sub["learned"].astype(bool)]
                    parts.append(pick.assign(benchmark=name, metric=metric, accuracy=pick[metric].astype(float)))
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["accuracy"])
    return data[np.isfinite(data["accuracy"].astype(float))]


def accuracy_figure(tables, budget):
    """Accuracy at a fixed budget against training time, a panel per benchmark × data set × metric.

    Each learned solver is drawn on the metric it was trained for (:func:`accuracy_points`; the
    metric is in the panel's title and y label: ALISTA, trained on NMSE, is never drawn on
    F − F*), the classical solvers (no training) at the left edge with hollow squares, one legend
    right of the panels. dB metrics on a linear axis, the others on a log axis. None when no
    benchmark has a finite point.
    """
    data = accuracy_points(tables, budget)
    if data.empty:
        return None
    objectives = short_labels(data["objective"])
    several = data.groupby("benchmark")["objective"].nunique()
    data["panel"] = [f"{b} · {d}" + (f" · {objectives[o]}" if several[b] > 1 else "") + f"\n{m}"
                     for b, d, o, m in zip(data["benchmark"], data["dataset"].map(short_labels(data["dataset"])),
                                           data["objective"], data["metric"])]
    data["label"] = data["solver"].map(short_labels(data["solver"]))
    kinds = data.groupby("label")["learned"].first().astype(bool)
    order = sorted(kinds.index, key=lambda name: (kinds[name], name))  # classical first
    colors = dict(zip(order, sns.color_palette("tab10" if len(order) <= 10 else "tab20", len(order))))
    panels = sorted(data["panel"].unique())
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    floor = 1e-3
    for ax, panel in zip(axes.flat, panels):
        sub = data[data["panel"] == panel]
        metric = sub["metric"].iloc[0]
        logy = not metric.endswith("_db") and (sub["accuracy"] > 0).any()
        side = [lab for lab in order if lab in set(sub.loc[~sub["learned"].astype(bool), "label"])]
        for row in sub.itertuples():  # classical solvers side by side at the left edge, not on top of each other
            x = (max(row.train_time, floor) if row.learned and np.isfinite(row.train_time)
                 else floor * 1.3 ** side.index(row.label) if row.label in side else floor)
            y = max(row.accuracy, 1e-16) if logy else row.accuracy
            ax.scatter(x, y, s=40, marker="o" if row.learned else "s", linewidths=1.2, zorder=3,
                       facecolors=colors[row.label] if row.learned else "none", edgecolors=colors[row.label])
        ax.set(xscale="log", yscale="log" if logy else "linear",
               xlabel=f"{LABELS['train_time']} (classical: none, at the left)",
               ylabel=f"{LABELS.get(metric, metric)}\nat ≤ {budget} iterations")
        ax.set_title(panel, fontsize=8)
    handles = [Line2D([], [], ls="none", marker="o" if kinds[lab] else "s", ms=6, color=colors[lab],
                      markerfacecolor=colors[lab] if kinds[lab] else "none") for lab in order]
    fig.tight_layout()
    fig.legend(handles, order, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False,
               title="solver (filled: learned,\non the metric it was trained for)", title_fontsize=8)
    return fig


def _verdict(status):
    """The words and colour a break-even row gets in the figure (the CSV has the full sentence)."""
    status = str(status)
    if status.startswith("no measurable"):  # before "not faster": its sentence says "not faster beyond noise"
        return "no measurable difference (inside the timing spread)", "C1"
    if status.startswith("not compared"):
        return textwrap.shorten(status, 110, placeholder=" …"), "dimgrey"
    if "not faster" in status:
        return "never (not faster)", "C3"
    return "never (accuracy not reached)", "C3"


def break_even_figure(summary):
    """Break-even number of instances per learned × classical pair, on a log axis.

    A finite break-even is a bar at n* with the range ``break_even_low``-``break_even_high`` the
    timing spread allows as its error bar (and written next to it); an infinite one says why in
    words: "no measurable difference" (the times differ inside the timing spread), "never (not
    faster)", "never (accuracy not reached)". A learned solver that is not compared (no
    ``classical_solver``) gets a row "not compared: <why>". Each row names the metric the pair is
    compared on. None for an empty summary.
    """
    if summary.empty:
        return None
    data = summary.reset_index(drop=True)
    pairs = data["classical_solver"].notna()
    names = short_labels(pd.concat([data["learned_solver"], data.loc[pairs, "classical_solver"]]))
    datasets = short_labels(data["dataset"])
    data["pair"] = [f"{b}: {names[ls]}" + (f" vs {names[cs]}" if isinstance(cs, str) else "")
                    + f" | {datasets[d]}" + (f" | {m}" if isinstance(cs, str) else "")
                    for b, ls, cs, d, m in zip(data["benchmark"], data["learned_solver"], data["classical_solver"],
                                               data["dataset"], data["metric"])]
    n_star = data["break_even_instances"].astype(float)
    finite = np.isfinite(n_star).to_numpy()
    low, high = data["break_even_low"].astype(float), data["break_even_high"].astype(float)
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(data) + 1.4))
    y = np.arange(len(data))
    if finite.any():
        err = np.vstack([(n_star - low)[finite], (high - n_star)[finite]])
        ax.barh(y[finite], n_star[finite], color="C0", xerr=err,
                error_kw=dict(ecolor="black", elinewidth=1, capsize=3))
    for i in y:
        if finite[i]:
            ax.text(high[i] * 1.5, i, f"~{n_star[i]:,.0f}  ({low[i]:,.0f}–{high[i]:,.0f})", va="center",
                    fontsize=7)
        else:
            words, color = _verdict(data["status"].iloc[i])
            ax.text(0.01, i, words, va="center", fontsize=7, color=color, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, data["pair"], fontsize=6)
    ax.grid(axis="y", visible=False)  # a horizontal grid line would strike through the text rows
    top = high[finite].max() if finite.any() else 10.0
    left = min(1.0, low[finite].min() / 2) if finite.any() else 1.0
    spread = data["timing_spread"].dropna().astype(str)
    how = (f"assumed ×{breakeven.SINGLE_TIMING_FACTOR:g} either way for a point timed once"
           if spread.str.startswith("assumed").any() else "fastest to slowest repetition")
    ax.set(xscale="log", xlim=(left, max(top * 1000, 1e3)),  # room for the numbers right of the bars
           xlabel=f"instances to repay training (log scale)\nerror bars: the timing spread ({how})")
    ax.set_title("break-even: the learned solver at its trained depth, on the metric it was trained for",
                 fontsize=9)
    ax.invert_yaxis()
    return fig


def load_tables(results, rerun=False, out=print):
    """``{name: table}`` for every registered benchmark that has (or gets) results.

    Each table is :func:`l2obench.results.breakeven.load_table`'s: the tidy table with the timing
    spread of every point (``time_s_min``, ``time_s_max``, ``n_timings``), so the break-even
    figure uses the measured spread of a multi-repetition run, not the assumed one.
    """
    tables = {}
    for bench in registry.get():
        path = results.get(bench.name) or RUNS / f"{bench.name}.parquet"
        try:
            if bench.name not in results and (rerun or not Path(path).exists()):
                out(f"{bench.name}: running its quick config (benchopt cache kept) ...")
                path = run_benchmark(bench, RUNS, use_cache=True, cache_dir=None, log=out)
            tables[bench.name] = breakeven.load_table(path)
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
    """Draw every figure of ``tables`` into ``out_dir``; returns the written paths.

    ``tables`` as :func:`load_tables` returns them (``{name: breakeven.load_table(path)}``); a
    tidy table without the timing-spread columns gets the break-even's assumed spread.
    """
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
    written += _save_if(accuracy_figure(tables, budget), out_dir, "accuracy_vs_train_time")
    summary = breakeven.summary(tables)
    summary.to_csv(out_dir / "break_even.csv", index=False)
    written.append(out_dir / "break_even.csv")
    written += _save_if(break_even_figure(summary), out_dir, "break_even")
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
