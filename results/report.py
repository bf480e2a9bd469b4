"""benchopt result file → the tidy table (CSV), a printed summary, problems, a convergence figure.

Usage::

    python -m l2obench.results.report benchmarks/lasso/outputs/quick.parquet \
        --figure benchmarks/lasso/outputs/quick_convergence.png \
        [--config benchmarks/lasso/configs/quick.yml] [--csv table.csv] [--budgets 16]

prints one row per solver × dataset × objective at the iteration budgets of ``--budgets`` and at
the last one reached, then the problems of the run (failed solvers when ``--config`` says what
was asked for, diverged runs, curves cut by the timeout), and writes the full tidy table (see
:mod:`l2obench.results.tables`) as CSV next to the result file. Nothing is fetched from the
network (benchopt's HTML report is not used). Exit status: 0 when a table was written (even
with problems, which are printed), 2 when the result file is missing or unreadable.
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

from l2obench.results.tables import (ResultsError, expected_from_config, load_results,  # noqa: E402
                                     problems, tidy)

# metrics shown in the printed summary when the benchmark reports them (the CSV has them all)
SUMMARY_METRICS = ["time_s", "value", "suboptimality", "rel_suboptimality", "nmse_db",
                   "nmse_lasso_db", "rel_error", "constraint_violation", "shift_rel_error",
                   "train_time", "n_params", "diverged"]


def summary(table, budgets=(16,)):
    """Rows at each requested budget (largest budget <= it) and at the last one, main metrics.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`l2obench.results.tables.tidy`.
    budgets : sequence of int
        Budgets to show besides the last one reached.

    Returns
    -------
    pandas.DataFrame
    """
    rows = []
    for _, group in table.groupby(["solver", "dataset", "objective"], sort=True):
        group = group.sort_values("budget")
        picks = {group["budget"].iloc[-1]}
        for b in budgets:
            below = group[group["budget"] <= b]
            if len(below):
                picks.add(below["budget"].iloc[-1])
        rows.append(group[group["budget"].isin(picks)])
    out = pd.concat(rows, ignore_index=True)
    return out[["solver", "dataset", "objective", "budget"]
               + [c for c in SUMMARY_METRICS if c in out.columns]]


def convergence_figure(table, path, metric="rel_suboptimality", ylabel="(F − F*) / F*"):
    """``metric`` against iterations (top) and time (bottom), one column per dataset × objective.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table.
    path : path-like
        Output image (format from the suffix).
    metric, ylabel : str
        Column plotted on a log axis and its axis label.

    Returns
    -------
    path
    """
    data = table.copy()
    if metric not in data:
        raise ResultsError(f"cannot draw {metric}: the table has no such column "
                           f"(columns: {', '.join(data.columns)}).")
    # titles: the data set's name and the objective's parameters (the full bracketed names,
    # with every size, are in the table and would overlap across panels)
    data["setting"] = data["dataset"].str.replace(r"\[.*$", "", regex=True) + "\n" + data["objective"]
    data = data[np.isfinite(data[metric])]
    floor = 1e-16  # a solver at F* (in float arithmetic) would vanish from a log axis
    data[metric] = data[metric].clip(lower=floor)
    data["label"] = data["solver"].str.replace(r"\[.*\]$", "", regex=True) + data["solver"].str.extract(
        r"(\[.*\])$")[0].fillna("").str.slice(0, 40)
    settings = sorted(data["setting"].unique())
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(2, len(settings), figsize=(4.2 * len(settings), 6.5), squeeze=False)
    labels = sorted(data["label"].unique())
    palette = dict(zip(labels, sns.color_palette("tab10" if len(labels) <= 10 else "tab20", len(labels))))
    for j, setting in enumerate(settings):
        sub = data[data["setting"] == setting]
        for i, x in enumerate(["budget", "time_s"]):
            ax = axes[i, j]
            sns.lineplot(sub, x=x, y=metric, hue="label", palette=palette, marker="o", markersize=3,
                         ax=ax, legend=(i == 0 and j == len(settings) - 1))
            ax.set(xscale="symlog" if x == "budget" else "log", yscale="log",
                   xlabel="iterations" if x == "budget" else "time (s)",
                   ylabel=ylabel if j == 0 else "")
            if x == "budget":  # symlog shows budget 0 (the initial point); no negative side
                ax.set_xlim(left=0)
            if i == 0:
                ax.set_title(setting, fontsize=8)
    if axes[0, -1].get_legend() is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=8, title="solver")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def print_table(table):
    """Print a table with 4 significant digits, all rows and columns."""
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.max_rows", 1000,
                           "display.max_colwidth", 70, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))


def report(path, csv=None, figure=None, config=None, budgets=(16,), out=print):
    """Write the tidy table of ``path`` as CSV, print its summary and problems, draw a figure.

    Parameters
    ----------
    path : path-like
        benchopt result file.
    csv : path-like, optional
        Where to write the full table (default: the result file with suffix ``.csv``).
    figure : path-like, optional
        Convergence figure to draw (skipped with a message when the metric is absent).
    config : path-like, optional
        The run config, to report requested solvers that produced no row.
    budgets : sequence of int
        Budgets shown in the summary besides the last one.
    out : callable
        Where lines go (``print``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The table and its problems.

    Raises
    ------
    ResultsError
        When the result file is missing or unreadable.
    """
    path = Path(path)
    table = tidy(load_results(path))
    csv = Path(csv) if csv else path.with_suffix(".csv")
    table.to_csv(csv, index=False)
    print_table(summary(table, budgets))
    out(f"\nfull table ({len(table)} rows, {table.shape[1]} columns): {csv}")
    issues = problems(table, expected_from_config(config) if config else None)
    if len(issues):
        out(f"\nPROBLEMS in {path} ({len(issues)}); the rows above are still valid:")
        for row in issues.itertuples(index=False):
            out(f"  - {row.solver} | {row.dataset} | {row.objective}: {row.problem}")
    else:
        out("\nno problems: every solver ran, none diverged, no curve was cut by the timeout.")
    if figure:
        metric = "rel_suboptimality" if "rel_suboptimality" in table else "value"
        ylabel = "(F − F*) / F*" if metric == "rel_suboptimality" else "objective value"
        try:
            out(f"figure: {convergence_figure(table, figure, metric=metric, ylabel=ylabel)}")
        except (ResultsError, ValueError) as exc:
            out(f"figure not drawn: {exc}")
    return table, issues


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet", type=Path)
    parser.add_argument("--figure", type=Path, help="where to write the convergence figure (PNG/PDF)")
    parser.add_argument("--csv", type=Path, help="where to write the full table (default: next to the parquet)")
    parser.add_argument("--config", type=Path, help="run config, to report solvers that produced no result")
    parser.add_argument("--budgets", type=int, nargs="*", default=[16], help="iteration budgets to show")
    args = parser.parse_args(argv)
    try:
        report(args.parquet, csv=args.csv, figure=args.figure, config=args.config, budgets=args.budgets)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
