"""benchopt result file → the tidy table (CSV), a readable summary, problems, a convergence figure.

Usage::

    python -m l2obench.results.report benchmarks/lasso/outputs/quick.parquet \
        --figure benchmarks/lasso/outputs/quick_convergence.png \
        [--config benchmarks/lasso/configs/quick.yml] [--csv table.csv] [--budgets 16]

prints, in at most 120 columns,

1. a first line answering the suite's question for this run (:func:`answer`): which learned
   solver beats which classical one at which budget, after how much training, on the metric it
   was trained for (or plainly that none does), then one line per learned solver and setting;
2. one table per data set × objective (:func:`setting_tables`): short solver labels (the family
   and the parameters that vary in the run), two main metrics at the ``--budgets`` and at the
   last budget, the training (time, steps, early stop, divergence) and why the curve ended
   (:func:`l2obench.results.tables.curve_ends`);
3. the problems of the run (:func:`l2obench.results.tables.problems`), only real ones,

and writes the full tidy table (see :mod:`l2obench.results.tables`) as CSV next to the result
file. Nothing is fetched from the network (benchopt's HTML report is not used). Exit status: 0
when a table was written (even with problems, which are printed), 2 when the result file is
missing or unreadable.
"""
import argparse
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from l2obench.results.figures import convergence_figure  # noqa: E402
from l2obench.results.tables import (ResultsError, curve_ends, expected_from_config, load_results,  # noqa: E402
                                     problems, run_limits, short_labels, tidy, training_problem)

WIDTH = 120  # characters of every printed line
# the tables show the first two of these a setting reports (the CSV has every metric)
TABLE_METRICS = ["rel_suboptimality", "nmse_db", "nmse_lasso_db", "rel_error", "constraint_violation", "value"]
METRIC_NAMES = {"nmse_db": "NMSE", "nmse_lasso_db": "NMSE to z*", "suboptimality": "F-F*",
                "rel_suboptimality": "(F-F*)/F*", "rel_error": "rel. error", "value": "value"}
HEADERS = {"rel_suboptimality": "(F-F*)/F*", "suboptimality": "F-F*", "nmse_db": "NMSE dB",
           "nmse_lasso_db": "NMSE z* dB", "rel_error": "rel.err", "constraint_violation": "|Ax-d|",
           "value": "value"}


def _fmt(value, metric=""):
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.1f}" if metric.endswith("_db") else f"{value:.3g}"


def _row_at(curve, budget, after=False):
    """The row at the largest budget <= ``budget`` (``after``: the smallest >= it, else the last)."""
    if after:
        later = curve[curve["budget"] >= budget]
        return later.iloc[0] if len(later) else curve.iloc[-1]
    below = curve[curve["budget"] <= budget]
    return below.iloc[-1] if len(below) else None


def _compared_metric(row, table):
    """The metric a learned solver is judged on: the one it was trained for (``value`` read as
    ``suboptimality`` where there is one: same order, readable differences)."""
    metric = row.get("trained_metric")
    if not isinstance(metric, str) or metric not in table:
        metric = next(m for m in ("suboptimality", "rel_error", "value") if m in table)
    return "suboptimality" if metric == "value" and "suboptimality" in table else metric


def _better(a, b, metric):
    """``a`` beats ``b`` by more than rounding: 0.01 dB, or 0.1 % relative."""
    return a < b - (0.01 if metric.endswith("_db") else 1e-3 * abs(b) + 1e-15)


def comparisons(table):
    """Each learned solver at its trained depth against every classical solver of its setting.

    The learned solver's row is at its trained depth (or the largest budget below it); each
    classical solver's at the first budget at or past that one (so it gets at least as many
    iterations), else its last (not when the timeout ended it there). The metric is the one the
    learned solver was trained for.

    Returns
    -------
    list of dict
        ``dataset, objective, solver, budget, metric, value, train_time, trained`` and
        ``beaten`` / ``not_beaten``: lists of ``(classical solver, its budget, its value)``.
    """
    out = []
    for (d, o), setting in table.groupby(["dataset", "objective"], sort=True):
        classical = {s: c.sort_values("budget") for s, c in setting[~setting["learned"]].groupby("solver")}
        for s, curve in setting[setting["learned"]].groupby("solver"):
            curve = curve.sort_values("budget")
            depth = curve["trained_depth"].iloc[-1] if "trained_depth" in curve else 0
            depth = int(depth) if pd.notna(depth) else 0
            row = _row_at(curve[curve["budget"] > 0], depth or int(curve["budget"].max()))
            if row is None:
                continue
            metric = _compared_metric(row, table)
            if not np.isfinite(row[metric]):
                continue
            result = dict(dataset=d, objective=o, solver=s, budget=int(row["budget"]), metric=metric,
                          value=float(row[metric]), train_time=float(row.get("train_time", np.nan)),
                          trained=training_problem(row) is None, beaten=[], not_beaten=[])
            for c, ccurve in classical.items():
                crow = _row_at(ccurve, row["budget"], after=True)
                if crow["budget"] < row["budget"] and crow.get("end_reason") == "timeout":
                    continue  # the timeout stopped it before that many iterations: no comparison
                if np.isfinite(crow[metric]):
                    key = "beaten" if _better(row[metric], crow[metric], metric) else "not_beaten"
                    result[key].append((c, int(crow["budget"]), float(crow[metric])))
            out.append(result)
    return out


def _quote(metric, *values):
    """``NMSE -27.7 vs -10.0 dB``: the metric's name, the values, the unit."""
    name = METRIC_NAMES.get(metric, metric)
    return f"{name} {' vs '.join(_fmt(v, metric) for v in values)}{' dB' if metric.endswith('_db') else ''}"


def _wrap(text, indent=""):
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_on_hyphens=False)


def answer(table):
    """The suite's question for this run, answered: a first line (wrapped at 120 characters),
    then one line per learned solver and setting (see :func:`comparisons`).

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table.

    Returns
    -------
    list of str
    """
    if not table["learned"].any() or table["learned"].all():
        kind = "learned" if not table["learned"].any() else "classical"
        return [f"ANSWER: nothing to compare: this run has no {kind} solver."]
    found = [r for r in comparisons(table) if r["beaten"] or r["not_beaten"]]
    labels, datasets = short_labels(table["solver"]), short_labels(table["dataset"])
    wins = [r for r in found if r["beaten"] and r["trained"]]
    if wins:
        # most classical solvers beaten, then the largest budget, then the best value (lower is better)
        best = max(wins, key=lambda r: (not r["not_beaten"], len(r["beaten"]), r["budget"], -r["value"]))
        c, cb, cv = min(best["beaten"], key=lambda x: x[2])
        whom = "all classical solvers" if not best["not_beaten"] else labels[c]
        first = (f"ANSWER: {labels[best['solver']]} beats {whom} at {best['budget']} iterations on "
                 f"{datasets[best['dataset']]} ({_quote(best['metric'], best['value'], cv)}"
                 f"{f', best: {labels[c]}' if not best['not_beaten'] else ''} at {cb}), "
                 f"trained {best['train_time']:.3g} s")
        more = len(wins) - 1
        first += f"; {more} more win{'s' * (more > 1)} below." if more else "."
    elif any(r["not_beaten"] for r in found):
        def gap(r):
            cv = min(v for _, _, v in r["not_beaten"])
            return (r["value"] - cv) / max(abs(cv), 1e-30)
        close = min((r for r in found if r["not_beaten"]), key=gap)
        c, cb, cv = min(close["not_beaten"], key=lambda x: x[2])
        first = (f"ANSWER: no learned solver beats a classical one at its trained depth in this run (closest: "
                 f"{labels[close['solver']]} at {close['budget']} on {datasets[close['dataset']]}, "
                 f"{_quote(close['metric'], close['value'], cv)} for {labels[c]} at {cb}).")
    elif found:
        first = "ANSWER: no learned solver beats a classical one in this run: only failed trainings do (see PROBLEMS)."
    else:
        first = "ANSWER: no learned solver has a finite result to compare with a classical one in this run."
    lines = _wrap(first)
    if found:
        lines.append("learned solvers at their trained depth vs classical ones at as many iterations or more, "
                     "on the trained metric:")
    for r in found:
        c, cb, cv = min(r["beaten"] + r["not_beaten"], key=lambda x: x[2])
        text = (f"{datasets[r['dataset']]}: {labels[r['solver']]} at {r['budget']} "
                f"({_quote(r['metric'], r['value'])}, trained {r['train_time']:.3g} s"
                f"{', TRAINING FAILED' if not r['trained'] else ''}) beats ")
        n = len(r["beaten"]) + len(r["not_beaten"])
        if not r["not_beaten"]:
            text += f"all {n} classical solvers (best: {labels[c]}, {_fmt(cv, r['metric'])} at {cb})"
        elif not r["beaten"]:
            text += f"none of {n} (best: {labels[c]}, {_fmt(cv, r['metric'])} at {cb})"
        else:
            text += f"{len(r['beaten'])} of {n}: {', '.join(labels[c] for c, _, _ in r['beaten'])}"
        lines += _wrap(text, "  ")
    return lines


def _render(groups, width=WIDTH):
    """Fixed-width lines of column groups ``(title, columns, droppable)``, each column
    ``(header, cells, align, drop_rank)``, within ``width``: columns with the highest rank go
    first, then droppable groups (first first), then the first column is shortened."""
    groups = [(title, list(cols), drop) for title, cols, drop in groups]

    def layout():
        widths = []
        for title, cols, _ in groups:
            ws = [max(len(h), *(len(c) for c in cells)) for h, cells, _, _ in cols]
            ws[0] += max(0, len(title) - sum(ws) - 2 * (len(ws) - 1))  # a group is as wide as its title
            widths.append(ws)
        return widths, sum(map(sum, widths)) + 2 * (sum(map(len, widths)) - 1)

    while layout()[1] > width:
        ranked = [(col[3], g, c) for g, (_, cols, _) in enumerate(groups) for c, col in enumerate(cols) if col[3]]
        if ranked:
            _, g, c = max(ranked)
            del groups[g][1][c]
        elif any(drop for *_, drop in groups):
            del groups[next(g for g, (*_, drop) in enumerate(groups) if drop)]
        else:
            break
    widths, total = layout()
    if total > width:  # shorten the labels (first column of the first group)
        head, cells, align, rank = groups[0][1][0]
        room = max(8, widths[0][0] - (total - width))
        groups[0][1][0] = (head, [c if len(c) <= room else c[:room - 1] + "…" for c in cells], align, rank)
        widths, total = layout()
    columns = [col for _, cols, _ in groups for col in cols]
    flat = [w for ws in widths for w in ws]
    top, start = "", 0
    for (title, _, _), ws in zip(groups, widths):
        top = top.ljust(start) + title
        start += sum(ws) + 2 * len(ws)

    def line(values):
        return "  ".join(v.ljust(w) if a == "<" else v.rjust(w)
                         for v, w, (_, _, a, _) in zip(values, flat, columns)).rstrip()
    lines = [top.rstrip()] if top.strip() else []
    lines.append(line([h for h, *_ in columns]))
    lines += [line([cells[i] for _, cells, _, _ in columns]) for i in range(len(columns[0][1]))]
    return lines


def _training_cell(row):
    if not row["learned"]:
        return ""
    steps = row.get("train_steps")
    text = str(int(steps)) if pd.notna(steps) else "?"
    if bool(row.get("train_diverged", False)):
        return text + " DIVERGED"
    if training_problem(row) is not None:
        return text + " UNTRAINED"
    text += " early stop" if bool(row.get("train_stopped_early", False)) else ""
    fallback = row.get("fallback_rate")  # a safeguarded solver: how often it took the classical step
    return text + (f", fell back {fallback:.0%}" if fallback is not None and pd.notna(fallback) else "")


def setting_tables(table, budgets=(16,), limits=None, width=WIDTH):
    """One fixed-width table per data set × objective: metrics at the budgets and at the last one.

    Returns
    -------
    list of list of str
        The lines of each table, its title first.
    """
    ends = curve_ends(table, limits).set_index(["solver", "dataset", "objective"])
    labels, datasets, objectives = (short_labels(table[c]) for c in ("solver", "dataset", "objective"))
    out = []
    for (d, o), setting in table.groupby(["dataset", "objective"], sort=True):
        metrics = [m for m in TABLE_METRICS if m in setting and np.isfinite(setting[m]).any()][:2]
        curves = sorted(setting.groupby("solver"), key=lambda kv: (bool(kv[1]["learned"].iloc[0]), labels[kv[0]]))
        groups = [("", [("solver", [labels[s] for s, _ in curves], "<", None)], False)]
        for j, b in enumerate(list(budgets) + [None]):
            rows = [c.sort_values("budget").iloc[-1] if b is None else _row_at(c.sort_values("budget"), b)
                    for _, c in curves]
            columns = [("it", ["" if r is None else str(int(r["budget"])) for r in rows], ">", None)]
            for k, m in enumerate(metrics):
                # too wide: the second metrics go first (the earliest budgets first)
                columns.append((HEADERS.get(m, m), ["" if r is None else _fmt(r[m], m) for r in rows], ">",
                                len(budgets) + 1 - j if k else None))
            # then the budgets between the first and the last
            groups.append(("last budget" if b is None else f"<= {b} iterations", columns, 0 < j < len(budgets)))
        lasts = [c.sort_values("budget").iloc[-1] for _, c in curves]
        groups.append(("training", [
            ("time", [f"{_fmt(r.get('train_time', np.nan))} s" if r["learned"] else "" for r in lasts], ">", None),
            ("steps", [_training_cell(r) for r in lasts], "<", None)], False))
        groups.append(("", [("ended by", [ends.loc[(s, d, o), "end"] for s, _ in curves], "<", None)], False))
        title = f"== {datasets[d]} · {objectives[o]} "
        out.append([title.ljust(min(width, 100), "=")] + _render(groups, width))
    return out


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
    limits = run_limits(config) if config else None
    for line in answer(table):
        out(line)
    for lines in setting_tables(table, budgets, limits):
        out("")
        for line in lines:
            out(line)
    ends = curve_ends(table, limits)["end"].value_counts()
    out("\ncurves ended by: " + ", ".join(f"{reason} ({n})" for reason, n in ends.items()))
    out(f"full table ({len(table)} rows, {table.shape[1]} columns): {csv}")
    issues = problems(table, expected_from_config(config) if config else None, limits, budgets)
    if len(issues):
        out(f"\nPROBLEMS in {path.name} ({len(issues)}); the rows above are still valid:")
        labels = {k: v for c in ("solver", "dataset", "objective") for k, v in short_labels(table[c]).items()}
        for row in issues.itertuples(index=False):
            where = " | ".join(labels.get(x, x) for x in (row.solver, row.dataset, row.objective) if x)
            out(textwrap.fill(f"- {where}: {row.problem}", WIDTH, subsequent_indent="    "))
    else:
        out("\nno problems: every solver ran and trained, none diverged, no curve was cut short by the timeout.")
    if figure:
        metric = next(m for m in ("rel_suboptimality", "rel_error", "value") if m in table)
        ylabel = {"rel_suboptimality": "(F − F*) / F*", "rel_error": "‖x − x★‖ / ‖x★‖"}.get(metric)
        fig = convergence_figure(table, metric, ylabel=ylabel)
        if fig is None:
            out(f"figure not drawn: no finite {metric}")
        else:
            fig.savefig(figure, dpi=120, bbox_inches="tight")
            plt.close(fig)
            out(f"figure: {figure}")
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
