"""Break-even: after how many problem instances does a learned solver repay its training?

For a learned solver L at its trained depth (the ``trained_depth`` column), with accuracy a_L on
the metric it was trained for, and a classical solver C on the same data set and objective::

    t_L = L's time at its trained depth / instances        (inference time per instance)
    t_C = C's time to first reach accuracy <= a_L / instances
    n*  = train_time_L / (t_C − t_L)

The metric is the one the training loss makes small (``loss=`` in the solver's name, mapped by
the benchmark's ``trained_metrics`` in :mod:`l2obench.results.registry`): in the lasso, a
supervised solver (ALISTA) is compared on NMSE to the ground truth, an unsupervised one (SLISTA)
on F − F*, a semi-supervised one on NMSE to the Lasso solution; without a ``loss`` parameter,
on the benchmark's ``accuracy``.

Times are benchopt's, one per repetition (``n-repetitions``); each time is an interval, from the
fastest to the slowest repetition. A single timing has no measured spread: it is taken as
uncertain by a factor ``SINGLE_TIMING_FACTOR`` either way, and the row says the spread is
assumed. Then

- the intervals of t_L and t_C overlap: "no measurable difference" (never a break-even claim
  from a gap inside the spread; ``break_even_instances`` = inf, nothing is repaid on this
  evidence);
- t_C's interval lies above t_L's: n* from the medians, with the range ``break_even_low`` –
  ``break_even_high`` the intervals allow;
- below it: "never: the learned solver is not faster" (C is faster beyond the spread);
- C never reaches a_L within its curve: "never: C does not reach this accuracy" (L is more
  accurate than C at any budget tried: a quality argument, not a cost one).

A learned curve that ends before its trained depth is not compared (it says so); a curve that
passes the trained depth without a point on it (result files written before the learned
solvers' schedule landed on it) is compared at the last budget below it, and the row says so.

Usage::

    python -m l2obench.results.breakeven lasso=benchmarks/lasso/outputs/main.parquet ... [--csv out.csv]
"""
import argparse
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from l2obench.results import registry
from l2obench.results.tables import KEYS, RENAME, ResultsError, load_results, tidy

# a lone timing t stands for [t / 2, 2 t]: on 2 shared cores, repetitions of one point differed by
# more than that (0.011 to 0.11 ms per instance for FISTA on digits in one 3-repetition run)
SINGLE_TIMING_FACTOR = 2.0

COLUMNS = ["benchmark", "dataset", "objective", "learned_solver", "budget", "trained_depth", "metric",
           "learned_accuracy", "train_time_s", "learned_s_per_instance", "learned_s_min", "learned_s_max",
           "classical_solver", "classical_accuracy_at_budget", "classical_budget_to_match",
           "classical_s_per_instance", "classical_s_min", "classical_s_max", "n_timings", "timing_spread",
           "break_even_instances", "break_even_low", "break_even_high", "status"]


def timing_spread(raw):
    """Fastest and slowest repetition of every point of a benchopt result table.

    Parameters
    ----------
    raw : pandas.DataFrame
        benchopt's rows (:func:`l2obench.results.tables.load_results`), one per repetition.

    Returns
    -------
    pandas.DataFrame
        ``solver``, ``dataset``, ``objective``, ``budget``, ``time_s_min``, ``time_s_max`` and
        ``n_timings`` (finite timings at that point).
    """
    df = raw.rename(columns=RENAME)
    time = df["time_s"].astype(float).where(np.isfinite(df["time_s"].astype(float)))
    groups = time.groupby([df[k] for k in KEYS], sort=True, dropna=False)
    out = pd.DataFrame({"time_s_min": groups.min(), "time_s_max": groups.max(), "n_timings": groups.count()})
    out = out.reset_index()
    if out["budget"].notna().all():
        out["budget"] = out["budget"].astype(int)
    return out


def load_table(path, benchmark=None):
    """The tidy table of a result file with the timing spread of every point (``time_s_min``,
    ``time_s_max``, ``n_timings``): what :func:`break_even` needs to tell a difference from noise."""
    raw = load_results(path)
    table = tidy(raw, benchmark)
    return table.merge(timing_spread(raw), on=KEYS, how="left")


def trained_loss(solver, row=None):
    """The training loss of a learned solver: ``loss=`` in its name, else its ``p_solver_loss``."""
    match = re.search(r"[\[,]\s*loss=([^,\]]+)", str(solver))
    if match:
        return match.group(1).strip().strip("'\"")
    if row is not None and "p_solver_loss" in row and isinstance(row["p_solver_loss"], str):
        return row["p_solver_loss"]
    return None


def compared_metric(solver, curve, default, trained_metrics):
    """The metric a learned solver is compared on: the one its loss makes small, else ``default``."""
    loss = trained_loss(solver, curve.iloc[0] if len(curve) else None)
    return (trained_metrics or {}).get(loss, default), loss


def _usable(curve, metric):
    ok = np.isfinite(curve[metric].astype(float))
    if "diverged" in curve:
        ok &= ~curve["diverged"].astype(bool)
    return curve[ok].sort_values("budget")


def operating_point(curve):
    """The row where a learned solver is compared, and a note (empty, or why it is not the depth).

    Its trained depth when the curve has that budget; the last budget below it when the curve
    passes the depth without a point on it; None when the curve ends before the depth (it was
    cut: comparing a prefix of the network would misreport it). Without a trained depth (0 or
    no column), the last budget.
    """
    positive = curve[curve["budget"] > 0].sort_values("budget")
    if positive.empty:
        return None, "not compared: no result at a positive budget"
    depths = positive["trained_depth"].dropna() if "trained_depth" in positive else []
    depth = int(depths.iloc[0]) if len(depths) else 0
    if depth <= 0:
        return positive.iloc[-1], ""
    at = positive[positive["budget"] == depth]
    if len(at):
        return at.iloc[0], ""
    last = int(positive["budget"].max())
    if last < depth:
        return None, (f"not compared: its curve ends at budget {last}, before its trained depth {depth} "
                      "(rerun it to the trained depth)")
    below = positive[positive["budget"] < depth]
    if below.empty:
        return positive.iloc[0], f"at budget {int(positive['budget'].iloc[0])}: no point at the trained depth {depth}"
    return below.iloc[-1], f"at budget {int(below['budget'].iloc[-1])}: no point at the trained depth {depth}"


def interval(row):
    """``(median, fastest, slowest, n, measured)`` time of one point for the whole batch (s)."""
    t = float(row["time_s"])
    n = int(row["n_timings"]) if "n_timings" in row and pd.notna(row["n_timings"]) else 1
    if n >= 2 and pd.notna(row.get("time_s_min")) and pd.notna(row.get("time_s_max")):
        return t, float(row["time_s_min"]), float(row["time_s_max"]), n, True
    return t, t / SINGLE_TIMING_FACTOR, t * SINGLE_TIMING_FACTOR, n, False


def _spread_text(n, measured):
    if measured:
        return f"measured: fastest to slowest of {n}+ repetitions"
    return (f"assumed: x{SINGLE_TIMING_FACTOR:g} either way for a point timed once (benchopt run "
            "--n-repetitions 3 measures it)")


def _verdict(train, learned, classical, name):
    """Break-even columns and status from times per instance ``(median, fastest, slowest)``."""
    (t_l, lo_l, hi_l), (t_c, lo_c, hi_c) = learned, classical
    if lo_c > hi_l:  # every classical timing slower than every learned one
        n_star, low, high = train / (t_c - t_l), train / (hi_c - lo_l), train / (lo_c - hi_l)
        return dict(break_even_instances=n_star, break_even_low=low, break_even_high=high,
                    status=f"repaid after ~{math.ceil(n_star):,} instances "
                           f"({math.ceil(low):,}-{math.ceil(high):,} within the timing spread)")
    if lo_l > hi_c:
        return dict(break_even_instances=math.inf,
                    status=f"never: the learned solver is not faster ({name.split('[')[0]} is faster "
                           "beyond the timing spread)")
    ratio = f"{t_c / t_l:.2g}x" if t_l > 0 else "n/a"
    return dict(break_even_instances=math.inf,
                status=f"no measurable difference: {name.split('[')[0]} takes {ratio} the learned solver's "
                       "time, inside the timing spread (not faster beyond noise)")


def _pair_rows(base, op, classical, instances):
    """One row per classical solver for the learned solver's operating point ``op``."""
    metric = base["metric"]
    n = instances(op)
    acc, train = float(op[metric]), float(op["train_time"])
    t_l, lo_l, hi_l, n_l, meas_l = interval(op)
    base.update(learned_accuracy=acc, train_time_s=train, learned_s_per_instance=t_l / n,
                learned_s_min=lo_l / n, learned_s_max=hi_l / n)
    rows = []
    for c_name, full in classical.items():
        c = _usable(full, metric) if metric in full else full.iloc[0:0]
        row = dict(base, classical_solver=c_name)
        at_budget = c[c["budget"] <= op["budget"]]
        row["classical_accuracy_at_budget"] = float(at_budget[metric].iloc[-1]) if len(at_budget) else np.nan
        reach = c[c[metric] <= acc]
        if reach.empty:
            top = int(full["budget"].max()) if len(full) else 0
            row.update(break_even_instances=math.inf,
                       status=f"never: {c_name.split('[')[0]} does not reach this {metric} within its "
                              f"{top} iterations (a quality argument, not a cost one)")
            rows.append(row)
            continue
        first = reach.iloc[0]
        m = instances(first)
        t_c, lo_c, hi_c, n_c, meas_c = interval(first)
        row.update(classical_budget_to_match=int(first["budget"]), classical_s_per_instance=t_c / m,
                   classical_s_min=lo_c / m, classical_s_max=hi_c / m, n_timings=min(n_l, n_c),
                   timing_spread=_spread_text(min(n_l, n_c), meas_l and meas_c))
        row.update(_verdict(train, (t_l / n, lo_l / n, hi_l / n), (t_c / m, lo_c / m, hi_c / m), c_name))
        rows.append(row)
    return rows


def break_even(table, metric, instances, trained_metrics=None):
    """Break-even rows for every learned × classical pair of one benchmark's table.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy table (:func:`l2obench.results.tables.tidy`), with a ``benchmark`` column or not;
        with ``time_s_min``, ``time_s_max``, ``n_timings`` (:func:`load_table`) the timing
        spread is measured, without them every timing gets the assumed one.
    metric : str
        Accuracy column (lower is better) for learned solvers whose loss has no entry in
        ``trained_metrics``.
    instances : callable
        Row → number of problem instances in one solver run.
    trained_metrics : dict, optional
        ``{loss: metric}`` (the benchmark's ``trained_metrics``).

    Returns
    -------
    pandas.DataFrame
        One row per pair (columns ``COLUMNS``), ``break_even_instances`` = inf when training is
        never repaid on this evidence (see the module docstring), NaN when not compared.
    """
    if metric not in table:
        raise ResultsError(f"no accuracy column {metric!r} in the table; columns: {', '.join(table.columns)}")
    bench = table["benchmark"].iloc[0] if "benchmark" in table else ""
    rows = []
    for (dataset, objective), group in table.groupby(["dataset", "objective"], sort=True):
        classical = {s: c.sort_values("budget") for s, c in group[~group["learned"]].groupby("solver")}
        for solver, curve in group[group["learned"]].groupby("solver"):
            used, loss = compared_metric(solver, curve, metric, trained_metrics)
            base = dict(benchmark=bench, dataset=dataset, objective=objective, learned_solver=solver, metric=used)
            if "trained_depth" in curve:
                base["trained_depth"] = int(curve["trained_depth"].iloc[0])
            if used not in curve or not np.isfinite(curve[used].astype(float)).any():
                rows.append(dict(base, status=f"not compared: no finite {used} (the metric its loss "
                                              f"{loss!r} is compared on) in this setting"))
                continue
            op, note = operating_point(curve)
            if op is None:
                rows.append(dict(base, status=note))
                continue
            if not np.isfinite(float(op[used])) or bool(op.get("diverged", False)):
                rows.append(dict(base, budget=int(op["budget"]),
                                 status=f"not compared: its {used} at budget {int(op['budget'])} is not finite "
                                        "(diverged)"))
                continue
            base["budget"] = int(op["budget"])
            pairs = _pair_rows(base, op, classical, instances)
            for row in pairs:
                if note:
                    row["status"] = f"{row['status']} [{note}]"
            rows += pairs
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(tables):
    """Break-even across benchmarks.

    Parameters
    ----------
    tables : dict
        ``{benchmark name: table}`` (names from :mod:`l2obench.results.registry`), tidy tables,
        with the timing spread where they come from :func:`load_table`.

    Returns
    -------
    pandas.DataFrame
    """
    parts = []
    for name, table in tables.items():
        bench = registry.BENCHMARKS[name]
        parts.append(break_even(table.assign(benchmark=name), bench.accuracy, bench.instances,
                                bench.trained_metrics))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def _label(name):
    """``"SLISTA[continuation=True,loss=unsupervised,lr=0.01,...]"`` → family and a few parameters."""
    family, _, inside = str(name).partition("[")
    keep = [kv for kv in inside.rstrip("]").split(",") if kv.split("=")[0] in {"accelerated", "method"}]
    return f"{family}[{','.join(keep)}]" if keep else family


def _ms(x):
    return "-" if x is None or not np.isfinite(x) else f"{1e3 * x:.2g}"


def _span(lo, hi):
    return f"[{_ms(lo)}-{_ms(hi)}]"


def _short_verdict(row):
    """One pair's verdict in a few words (the CSV's ``status`` has the full sentence)."""
    status = str(row.status)
    if pd.isna(row.classical_budget_to_match):
        return f"never reaches it in {status.split('within its ')[-1].split(' iterations')[0]} it"
    head = (f"at {int(row.classical_budget_to_match)} it, {_ms(row.classical_s_per_instance)} ms "
            f"{_span(row.classical_s_min, row.classical_s_max)}: ")
    if status.startswith("repaid"):
        return head + (f"repaid after ~{math.ceil(row.break_even_instances):,} instances "
                       f"({math.ceil(row.break_even_low):,}-{math.ceil(row.break_even_high):,})")
    if status.startswith("no measurable"):
        return head + "no measurable difference"
    return head + f"{str(row.classical_solver).split('[')[0]} is faster: never repaid"


def format_summary(out):
    """The summary as text lines of at most about 110 characters (the CSV keeps every column)."""
    lines = ["BREAK-EVEN: instances after which a learned solver's training is repaid by faster inference",
             "(the learned solver at its trained depth, on the metric it was trained for)"]
    for (bench, dataset, objective), group in out.groupby(["benchmark", "dataset", "objective"], sort=False):
        lines.append(f"{bench} · {dataset.split('[')[0]} · {objective}")
        for solver, pairs in group.groupby("learned_solver", sort=False):
            first = pairs.iloc[0]
            if pd.isna(first["classical_solver"]):
                lines.append(f"  {_label(solver)}: {first['status']}")
                continue
            lines.append(f"  {_label(solver)} at {int(first['budget'])} layers: {first['metric']} "
                         f"{first['learned_accuracy']:.3g}, trained {first['train_time_s']:.1f} s, "
                         f"{_ms(first['learned_s_per_instance'])} ms/instance "
                         f"{_span(first['learned_s_min'], first['learned_s_max'])}")
            if str(first["status"]).startswith(("repaid", "no measurable", "never")) and "[" in str(first["status"]):
                lines.append(f"    ({first['status'].rsplit('[', 1)[-1].rstrip(']')})")
            width = max(len(_label(c)) for c in pairs["classical_solver"])
            for row in pairs.itertuples():
                lines.append(f"    {_label(row.classical_solver):<{width}}  {_short_verdict(row)}")
    spreads = out["timing_spread"].dropna().unique()
    lines += ["ms: inference time per instance [fastest-slowest]; \"never reaches it\": the learned solver is",
              "  more accurate than that solver's whole curve (a quality argument, not a cost one).",
              *(f"timing spread {s}" for s in spreads)]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", metavar="NAME=PARQUET")
    parser.add_argument("--csv", type=Path, help="write the full summary (every column) here")
    args = parser.parse_args(argv)
    tables = {}
    for item in args.results:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"expected NAME=PARQUET, got {item!r}")
        if name not in registry.BENCHMARKS:
            parser.error(f"unknown benchmark {name!r}; registered: {sorted(registry.BENCHMARKS)}")
        try:
            tables[name] = load_table(path)
        except ResultsError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
    if not tables:
        print("error: no readable result file; nothing compared.", file=sys.stderr)
        return 2
    out = summary(tables)
    if args.csv:
        out.to_csv(args.csv, index=False)
    print("\n".join(format_summary(out)) if len(out) else "no learned solver in these results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
