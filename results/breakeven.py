"""Break-even: after how many problem instances does a learned solver repay its training?

For a learned solver L at its operating budget (its trained depth, or the largest budget below
it) with accuracy a_L, and a classical solver C on the same data set and objective::

    t_L = L's time at that budget / instances        (inference time per instance)
    t_C = C's time to first reach accuracy <= a_L / instances
    n*  = train_time_L / (t_C − t_L)

n* is infinite ("never") when C never reaches a_L within its curve (L is then more accurate than
C at any budget tried: a quality argument, not a cost one) or when L is not faster (t_C <= t_L).
Times are benchopt's (the median over repetitions of ``Solver.run`` for the whole batch), so
they carry the noise of the machine: read n* as an order of magnitude.

Usage::

    python -m l2obench.results.breakeven lasso=benchmarks/lasso/outputs/quick.parquet ... [--csv out.csv]
"""
import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from l2obench.results import registry
from l2obench.results.tables import ResultsError, load_results, tidy

COLUMNS = ["benchmark", "dataset", "objective", "learned_solver", "budget", "metric", "learned_accuracy",
           "train_time_s", "learned_s_per_instance", "classical_solver", "classical_accuracy_at_budget",
           "classical_budget_to_match", "classical_s_per_instance", "break_even_instances", "status"]


def _usable(curve, metric):
    ok = np.isfinite(curve[metric].astype(float))
    if "diverged" in curve:
        ok &= ~curve["diverged"].astype(bool)
    return curve[ok].sort_values("budget")


def operating_point(curve):
    """Row of a learned solver's curve where it is compared: its trained depth if reached."""
    positive = curve[curve["budget"] > 0]
    if positive.empty:
        return None
    depth = positive["trained_depth"].iloc[0] if "trained_depth" in positive else 0
    if depth and (positive["budget"] <= depth).any():
        return positive[positive["budget"] <= depth].iloc[-1]
    return positive.iloc[-1]


def break_even(table, metric, instances):
    """Break-even rows for every learned × classical pair of one benchmark's tidy table.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy table (:func:`l2obench.results.tables.tidy`), with a ``benchmark`` column or not.
    metric : str
        Accuracy column, lower is better (``suboptimality``, ``rel_error``...).
    instances : callable
        Row → number of problem instances in one solver run.

    Returns
    -------
    pandas.DataFrame
        One row per pair (columns ``COLUMNS``), ``break_even_instances`` = inf for "never".
    """
    if metric not in table:
        raise ResultsError(f"no accuracy column {metric!r} in the table; columns: {', '.join(table.columns)}")
    bench = table["benchmark"].iloc[0] if "benchmark" in table else ""
    rows = []
    for (dataset, objective), group in table.groupby(["dataset", "objective"], sort=True):
        classical = {s: _usable(c, metric) for s, c in group[~group["learned"]].groupby("solver")}
        for solver, curve in group[group["learned"]].groupby("solver"):
            op = operating_point(_usable(curve, metric))
            if op is None:
                rows.append(dict(benchmark=bench, dataset=dataset, objective=objective, learned_solver=solver,
                                 metric=metric, status="learned solver has no finite result"))
                continue
            n = instances(op)
            acc, t_l, train = float(op[metric]), float(op["time_s"]) / n, float(op["train_time"])
            for c_name, c in classical.items():
                at_budget = c[c["budget"] <= op["budget"]]
                reach = c[c[metric] <= acc]
                row = dict(benchmark=bench, dataset=dataset, objective=objective, learned_solver=solver,
                           budget=int(op["budget"]), metric=metric, learned_accuracy=acc, train_time_s=train,
                           learned_s_per_instance=t_l, classical_solver=c_name,
                           classical_accuracy_at_budget=float(at_budget[metric].iloc[-1]) if len(at_budget)
                           else np.nan)
                if reach.empty:
                    row.update(break_even_instances=math.inf,
                               status=f"never: {c_name.split('[')[0]} does not reach this accuracy "
                                      f"within its {int(c['budget'].max()) if len(c) else 0} iterations")
                else:
                    first = reach.iloc[0]
                    t_c = float(first["time_s"]) / instances(first)
                    row.update(classical_budget_to_match=int(first["budget"]), classical_s_per_instance=t_c)
                    if t_c <= t_l:
                        row.update(break_even_instances=math.inf, status="never: the learned solver is not faster")
                    else:
                        n_star = train / (t_c - t_l)
                        row.update(break_even_instances=n_star,
                                   status=f"repaid after {math.ceil(n_star):,} instances")
                rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(tables):
    """Break-even across benchmarks.

    Parameters
    ----------
    tables : dict
        ``{benchmark name: tidy table}`` (names from :mod:`l2obench.results.registry`).

    Returns
    -------
    pandas.DataFrame
    """
    parts = []
    for name, table in tables.items():
        bench = registry.BENCHMARKS[name]
        parts.append(break_even(table.assign(benchmark=name), bench.accuracy, bench.instances))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", metavar="NAME=PARQUET")
    parser.add_argument("--csv", type=Path, help="write the summary here")
    args = parser.parse_args(argv)
    tables = {}
    for item in args.results:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"expected NAME=PARQUET, got {item!r}")
        try:
            tables[name] = tidy(load_results(path))
        except ResultsError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
    out = summary(tables)
    if args.csv:
        out.to_csv(args.csv, index=False)
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_colwidth", 50,
                           "display.float_format", "{:.3g}".format):
        print(out.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
