"""benchopt parquet → a tidy results table and a convergence figure.

Usage::

    python -m l2obench.results.report benchmarks/lasso/outputs/quick.parquet \
        --figure benchmarks/lasso/outputs/quick_convergence.png

prints one row per solver × dataset × objective parameters × budget (the iteration budgets of
``--budgets`` plus the last one reached), writes the full tidy table next to the parquet as
CSV, and draws relative suboptimality against iterations and time. Nothing is fetched from the
network (benchopt's HTML report is not used).
"""
import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

# benchopt column → table column; metrics a benchmark does not report are simply absent
RENAME = {"solver_name": "solver", "dataset_name": "dataset", "objective_name": "objective",
          "stop_val": "iterations", "time": "time_s", "idx_rep": "repetition"}
SUMMARY = ["solver", "dataset", "objective", "iterations", "time_s", "value", "suboptimality",
           "rel_suboptimality", "nmse_db", "nmse_lasso_db", "train_time", "n_params", "diverged"]


def tidy(df):
    """One row per solver × dataset × objective × budget, metric columns without prefix.

    Repetitions are averaged (time by its median, as benchopt does).
    """
    df = df.rename(columns=RENAME)
    df = df.rename(columns={c: c.removeprefix("objective_") for c in df.columns
                            if c.startswith("objective_") and c != "objective_name"})
    keys = ["solver", "dataset", "objective", "iterations"]
    metrics = [c for c in df.columns if c not in keys and not c.startswith(("p_", "version", "env_"))
               and pd.api.types.is_numeric_dtype(df[c]) and c != "repetition"]
    agg = {c: ("median" if c == "time_s" else "mean") for c in metrics}
    if "diverged" in df:
        df["diverged"] = df["diverged"].astype(float)
    table = df.groupby(keys, sort=True, dropna=False).agg(agg).reset_index()
    if "diverged" in table:
        table["diverged"] = table["diverged"] > 0
    return table


def summary(table, budgets=(16,)):
    """Rows at each requested budget (largest iteration count <= budget) and at the last one."""
    rows = []
    for _, group in table.groupby(["solver", "dataset", "objective"], sort=True):
        group = group.sort_values("iterations")
        picks = {int(group["iterations"].iloc[-1])}
        for b in budgets:
            below = group[group["iterations"] <= b]
            if len(below):
                picks.add(int(below["iterations"].iloc[-1]))
        rows.append(group[group["iterations"].isin(picks)])
    out = pd.concat(rows, ignore_index=True)
    return out[[c for c in SUMMARY if c in out.columns]]


def convergence_figure(table, path, metric="rel_suboptimality"):
    """Relative suboptimality against iterations (top) and time (bottom), one column per dataset."""
    data = table.copy()
    data["setting"] = data["dataset"] + "\n" + data["objective"]
    data = data[np.isfinite(data[metric])]
    floor = 1e-16  # a solver at F* (in float arithmetic) would vanish from a log axis
    data[metric] = data[metric].clip(lower=floor)
    settings = sorted(data["setting"].unique())
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(2, len(settings), figsize=(4.2 * len(settings), 6.5), squeeze=False)
    palette = dict(zip(sorted(data["solver"].unique()), sns.color_palette("tab10", data["solver"].nunique())))
    for j, setting in enumerate(settings):
        sub = data[data["setting"] == setting]
        for i, x in enumerate(["iterations", "time_s"]):
            ax = axes[i, j]
            sns.lineplot(sub, x=x, y=metric, hue="solver", palette=palette, marker="o", markersize=3,
                         ax=ax, legend=(i == 0 and j == len(settings) - 1))
            ax.set(xscale="log", yscale="log", xlabel="iterations" if x == "iterations" else "time (s)",
                   ylabel="(F − F*) / F*" if j == 0 else "")
            if i == 0:
                ax.set_title(setting, fontsize=9)
    if axes[0, -1].get_legend() is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet", type=Path)
    parser.add_argument("--figure", type=Path, help="where to write the convergence figure (PNG)")
    parser.add_argument("--budgets", type=int, nargs="*", default=[16], help="iteration budgets to show")
    args = parser.parse_args(argv)
    if not args.parquet.exists():
        print(f"error: no result file at {args.parquet}; run the benchmark first.", file=sys.stderr)
        return 2
    table = tidy(pd.read_parquet(args.parquet))
    csv = args.parquet.with_suffix(".csv")
    table.to_csv(csv, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_rows", 500,
                           "display.float_format", "{:.4g}".format):
        print(summary(table, args.budgets).to_string(index=False))
    print(f"\nfull table ({len(table)} rows): {csv}")
    if args.figure:
        print(f"figure: {convergence_figure(table, args.figure)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
