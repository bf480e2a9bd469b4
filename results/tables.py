"""benchopt result file → one tidy table per benchmark, and what went wrong in the run.

The table has one row per solver × dataset × objective × budget (benchopt's ``stop_val``:
the iteration count for ``sampling_strategy = "iteration"``). Its columns are

- ``solver``, ``dataset``, ``objective``: benchopt's bracketed names, which carry every
  parameter, so they identify a configuration; ``budget``;
- ``solver_family``, ``dataset_family``, ``objective_family``: the names before the bracket;
- ``p_solver_*``, ``p_dataset_*``, ``p_obj_*``: the parameters, one column each (empty where a
  component does not have that parameter);
- every metric of ``evaluate_result`` without its ``objective_`` prefix (``value``,
  ``suboptimality``, ``nmse_db``, ``train_time``, ``n_params``, ``diverged``, ...);
- ``time_s`` (median over repetitions, as benchopt does), ``n_repetitions`` and ``learned``
  (the solver reports a parameter count or a training time);
- the text columns ``end_reason`` (on a curve's last row: why the suite's stopping criterion
  ended it, see :mod:`l2obench.solvers.stopping`) and ``trained_metric`` (what a learned solver
  was trained to make small).

:func:`curve_ends` says why each curve ended, :func:`problems` what went wrong in the run.

Repetitions are averaged; a metric that is NaN in one repetition stays NaN (a diverged
repetition must not vanish in the mean) and ``diverged`` is true if any repetition diverged.
"""
from pathlib import Path

import numpy as np
import pandas as pd

KEYS = ["solver", "dataset", "objective", "budget"]
RENAME = {"solver_name": "solver", "dataset_name": "dataset", "objective_name": "objective",
          "stop_val": "budget", "time": "time_s", "idx_rep": "repetition"}
REQUIRED = ["solver_name", "dataset_name", "objective_name", "stop_val", "time"]
PARAM_PREFIXES = ("p_solver_", "p_dataset_", "p_obj_")
# benchopt bookkeeping columns that are not results
NOT_METRICS = {"repetition", "base_seed", "system-cpus", "system-ram (GB)"}
TEXT_METRICS = ["objective_end_reason", "objective_trained_metric"]  # strings: the first non-empty
FLAGS = ["objective_diverged", "objective_train_diverged", "objective_train_stopped_early"]  # any repetition


class ResultsError(Exception):
    """A result file that cannot be turned into a table (missing, unreadable, not benchopt's)."""


def load_results(path):
    """Read a benchopt result file (parquet, or CSV as benchopt can also write).

    Parameters
    ----------
    path : path-like
        The result file.

    Returns
    -------
    pandas.DataFrame
        The raw benchopt rows.

    Raises
    ------
    ResultsError
        When the file is missing, unreadable, empty or lacks benchopt's columns; the message
        names the file and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"no result file at {path}: run the benchmark first "
                           f"(benchopt run <benchmark> --output {path}).")
    try:
        df = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for truncated / non-parquet files
        raise ResultsError(f"{path} is not a readable result file ({type(exc).__name__}: {exc}); "
                           "it may be truncated by an interrupted run: run the benchmark again."
                           ) from exc
    df = df.rename(columns={"data_name": "dataset_name"})  # benchopt < 1.5 name
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ResultsError(f"{path} is not a benchopt result file: columns {missing} are missing.")
    if df.empty:
        raise ResultsError(f"{path} holds no result rows: every solver failed or none was run.")
    return df


def family(name):
    """``"ISTA[step=1.0]"`` → ``"ISTA"``."""
    return str(name).split("[", 1)[0]


def _metric_columns(df):
    out = []
    for c in df.columns:
        if c in KEYS or c in NOT_METRICS or c.startswith(PARAM_PREFIXES):
            continue
        if c.startswith("objective_") or c == "time_s":
            if pd.api.types.is_bool_dtype(df[c]) or pd.api.types.is_numeric_dtype(df[c]):
                out.append(c)
    return out


def _mean_keep_nan(s):
    return s.mean() if s.notna().all() else np.nan


def tidy(df, benchmark=None):
    """One row per solver × dataset × objective × budget, metrics without their prefix.

    Parameters
    ----------
    df : pandas.DataFrame
        benchopt's rows, as returned by :func:`load_results`.
    benchmark : str, optional
        Name put in a leading ``benchmark`` column (useful when tables are concatenated).

    Returns
    -------
    pandas.DataFrame
        The tidy table, sorted by its keys (see the module docstring for the columns).
    """
    df = df.rename(columns=RENAME)
    if "repetition" not in df:
        df["repetition"] = 0
    metrics = _metric_columns(df)
    texts = [c for c in TEXT_METRICS if c in df.columns]
    work = df[KEYS + ["repetition"] + metrics + texts].copy()
    for c in metrics:
        work[c] = work[c].astype(float)
    for c in texts:
        work[c] = work[c].where(work[c].notna() & (work[c].astype(str) != ""), None)
    groups = work.groupby(KEYS, sort=True, dropna=False)
    agg = {c: ("median" if c == "time_s" else _mean_keep_nan) for c in metrics}
    agg.update({c: "max" for c in FLAGS if c in agg})
    agg.update({c: "first" for c in texts})
    table = groups.agg(agg)
    table["n_repetitions"] = groups["repetition"].nunique()
    params = [c for c in df.columns if c.startswith(PARAM_PREFIXES)]
    if params:  # constant within a bracketed name; first() skips the empty cells
        table = table.join(df.groupby(KEYS, sort=True, dropna=False)[params].first())
    table = table.reset_index()
    table = table.rename(columns={c: c.removeprefix("objective_") for c in metrics + texts})
    for c in ("train_diverged", "train_stopped_early"):
        if c in table:
            table[c] = table[c].fillna(0) > 0
    if "diverged" in table:
        table["diverged"] = table["diverged"] > 0
        if "value" in table:  # objectives report a finite sentinel so that benchopt keeps the row
            table.loc[table["diverged"], "value"] = np.nan
    for c in ("n_params", "trained_depth", "train_steps"):
        if c in table and table[c].notna().all():
            table[c] = table[c].astype(int)
    table["budget"] = table["budget"].astype(int) if table["budget"].notna().all() else table["budget"]
    learned = np.zeros(len(table), dtype=bool)
    for c in ("n_params", "train_time"):
        if c in table:
            learned |= table[c].fillna(0).to_numpy() > 0
    table["learned"] = learned
    for c in ("solver", "dataset", "objective"):
        table[f"{c}_family"] = table[c].map(family)
    first = ["solver", "dataset", "objective", "budget", "solver_family", "dataset_family",
             "objective_family", "learned"]
    rest = [c for c in table.columns if c not in first and not c.startswith(PARAM_PREFIXES)]
    table = table[first + rest + [c for c in table.columns if c.startswith(PARAM_PREFIXES)]]
    if benchmark is not None:
        table.insert(0, "benchmark", benchmark)
    return table


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
    for fam in sorted({family(n) for n in names}):
        members = [n for n in names if family(n) == fam]
        params = [_params(n) for n in members]
        keys = sorted({k for p in params for k in p})
        varying = [k for k in keys if len({p.get(k) for p in params}) > 1]
        for n, p in zip(members, params):
            shown = ",".join(f"{k}={p[k]}" for k in varying if k in p)
            labels[n] = f"{fam}[{shown}]" if shown else fam
    return labels


def _read_config(config):
    if not isinstance(config, dict):
        import yaml
        config = yaml.safe_load(Path(config).read_text()) or {}
    return config


def expected_from_config(config):
    """Solver and dataset families a benchopt run config asks for.

    Parameters
    ----------
    config : path-like or dict
        A run config (``benchmarks/<name>/configs/quick.yml``) or its parsed content.

    Returns
    -------
    dict
        ``{"solver": [...], "dataset": [...]}`` family names, in config order.
    """
    config = _read_config(config)
    out = {}
    for key in ("solver", "dataset"):
        entries = config.get(key) or []
        entries = [entries] if isinstance(entries, str) else entries
        out[key] = list(dict.fromkeys(family(e) for e in entries))
    return out


def run_limits(config):
    """``{"max_runs": int or None, "timeout": float or None}`` of a run config (benchopt's keys)."""
    config = _read_config(config) if config is not None else {}
    max_runs, timeout = config.get("max-runs", config.get("max_runs")), config.get("timeout")
    return {"max_runs": None if max_runs is None else int(max_runs),
            "timeout": None if timeout is None else float(timeout)}


# end_reason codes written by l2obench.solvers.stopping → what the report says
END_TEXT = {"max_runs": "max-runs reached", "timeout": "timeout"}


def curve_ends(table, limits=None):
    """Why each curve ended, one row per solver × dataset × objective.

    The suite's stopping criteria record the reason in the curve's last row (``end_reason``):
    ``max-runs reached``, ``no progress on <metric>``, ``timeout``. A curve whose last row is
    flagged ``diverged`` says so instead. Without a record (an older result file, a solver
    outside the suite's bases), the run's limits decide: as many budgets as max-runs allows is
    the budget; run times adding up to the timeout (a lower bound of the time benchopt measured
    against it) is the timeout; a single budget is one run; anything else is ``not recorded``.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`tidy`.
    limits : dict, optional
        ``{"max_runs", "timeout"}`` of the run (see :func:`run_limits`).

    Returns
    -------
    pandas.DataFrame
        ``solver, dataset, objective, learned, n_budgets, last_budget, trained_depth, end`` and
        ``timeout`` (the timeout ended it) and ``diverged_from`` (NaN unless it diverged).
    """
    limits = limits or {}
    rows = []
    for (s, d, o), curve in table.groupby(["solver", "dataset", "objective"], sort=True):
        curve = curve.sort_values("budget")
        last = curve.iloc[-1]
        recorded = last.get("end_reason")
        recorded = recorded if isinstance(recorded, str) and recorded else None
        diverged = bool(curve["diverged"].iloc[-1]) if "diverged" in curve else False
        first_bad = curve.loc[curve["diverged"], "budget"].iloc[0] if diverged else np.nan
        timeout = recorded == "timeout"
        if diverged:
            end = f"diverged from {int(first_bad)}"
        elif recorded:
            end = END_TEXT.get(recorded) or recorded.replace("no_progress:", "no progress on ")
        elif len(curve) == 1:
            end = "single run"
        elif limits.get("max_runs") and len(curve) >= limits["max_runs"] + 1:
            end = END_TEXT["max_runs"]
        elif limits.get("timeout") and curve["time_s"].sum() >= limits["timeout"]:
            end, timeout = "timeout", True
        else:
            end = "not recorded"
        depth = last.get("trained_depth", 0)
        rows.append((s, d, o, bool(last.get("learned", False)), len(curve), int(last["budget"]),
                     int(depth) if pd.notna(depth) else 0, end, timeout, first_bad))
    return pd.DataFrame(rows, columns=["solver", "dataset", "objective", "learned", "n_budgets", "last_budget",
                                       "trained_depth", "end", "timeout", "diverged_from"])


def problems(table, expected=None, limits=None, budgets=()):
    """What went wrong in a run, one row per problem; the rest of the table is still usable.

    Problems are: a solver the config asked for with no result (it raised, or was skipped), a
    curve missing in one setting only (benchopt drops the curve of a solver that raised or whose
    value turned NaN), a diverged curve, a training that diverged or did no step, a curve the
    timeout cut before a budget the report shows (``budgets``) or before its trained depth, a
    learned curve that ended before its trained depth. A curve ended by max-runs, by lack of
    progress, or by the timeout past every reported budget is not a problem.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`tidy`.
    expected : dict, optional
        ``{"solver": families, "dataset": families}`` (see :func:`expected_from_config`).
    limits : dict, optional
        The run's max-runs and timeout (see :func:`run_limits`), for curves without a record.
    budgets : sequence of int
        Budgets the report shows: a timeout before the largest is a problem.

    Returns
    -------
    pandas.DataFrame
        Columns ``solver``, ``dataset``, ``objective``, ``problem`` (empty when all is well).
    """
    rows = []
    if expected:
        solvers, datasets = set(table["solver_family"]), set(table["dataset_family"])
        for s in expected.get("solver", []):
            for d in expected.get("dataset", []):
                if s not in solvers or d not in datasets:
                    rows.append((s, d, "", "missing: no result at all (failed with an error, or "
                                           "skipped: benchopt's log says which)"))
    settings = set(zip(table["dataset"], table["objective"]))
    for s, present in table.groupby("solver", sort=True):
        for d, o in sorted(settings - set(zip(present["dataset"], present["objective"]))):
            rows.append((s, d, o, "no result here but results elsewhere: failed (an error), skipped, or diverged "
                                  "(benchopt drops the curve of a solver whose value turns NaN)"))
    ends = curve_ends(table, limits).set_index(["solver", "dataset", "objective"])
    wanted = max(budgets, default=0)
    for (s, d, o), curve in table.groupby(["solver", "dataset", "objective"], sort=True):
        curve, end = curve.sort_values("budget"), ends.loc[(s, d, o)]
        # a learned network's layers before its trained depth are not a solver of their own (a
        # continuation-trained SLISTA's first steps overshoot, later layers correct them): only
        # a divergence at or past the trained depth is a problem of the run
        counted = curve[curve["budget"] >= end["trained_depth"]] if end["learned"] else curve
        if "diverged" in counted and counted["diverged"].any():
            first = counted.loc[counted["diverged"], "budget"].iloc[0]
            rows.append((s, d, o, f"diverged from budget {first} "
                                  f"({int(counted['diverged'].sum())} of {len(curve)} budgets)"))
        elif "value" in counted and counted["value"].isna().any():
            bad = counted.loc[counted["value"].isna(), "budget"].tolist()
            rows.append((s, d, o, f"value is NaN at budgets {bad} without a divergence flag"))
        if training_problem(curve.iloc[-1]):
            rows.append((s, d, o, training_problem(curve.iloc[-1])))
        needed = max(wanted, end["trained_depth"] if end["learned"] else 0)
        if end["timeout"] and end["last_budget"] < needed:
            rows.append((s, d, o, f"cut by the timeout at budget {end['last_budget']}, before budget {needed}"))
        elif end["learned"] and end["last_budget"] < end["trained_depth"] and not end["end"].startswith("diverged"):
            rows.append((s, d, o, f"ended at budget {end['last_budget']} ({end['end']}), before its "
                                  f"trained depth {end['trained_depth']}"))
    return pd.DataFrame(rows, columns=["solver", "dataset", "objective", "problem"])


def training_problem(row):
    """What went wrong in a learned solver's training (a row of :func:`tidy`), or None: it
    diverged, or did no step of those asked for (the model may be its untrained initial state)."""
    if not row.get("learned", False):
        return None
    steps = row.get("train_steps")
    if bool(row.get("train_diverged", False)):
        done = f" after {int(steps)} step{'s' * (int(steps) != 1)}" if pd.notna(steps) else ""
        return f"training diverged{done}: the weights are its last good state, maybe the untrained initial model"
    asked = row.get("p_solver_n_steps")
    if pd.notna(steps) and int(steps) == 0 and pd.notna(asked) and float(asked) > 0:
        return f"untrained: 0 of {int(float(asked))} training steps done"
    return None
