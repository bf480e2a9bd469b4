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
  (the solver reports a parameter count or a training time).

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
    work = df[KEYS + ["repetition"] + metrics].copy()
    for c in metrics:
        work[c] = work[c].astype(float)
    groups = work.groupby(KEYS, sort=True, dropna=False)
    agg = {c: ("median" if c == "time_s" else _mean_keep_nan) for c in metrics}
    if "objective_diverged" in agg:
        agg["objective_diverged"] = "max"
    table = groups.agg(agg)
    table["n_repetitions"] = groups["repetition"].nunique()
    params = [c for c in df.columns if c.startswith(PARAM_PREFIXES)]
    if params:  # constant within a bracketed name; first() skips the empty cells
        table = table.join(df.groupby(KEYS, sort=True, dropna=False)[params].first())
    table = table.reset_index()
    table = table.rename(columns={c: c.removeprefix("objective_") for c in metrics})
    if "diverged" in table:
        table["diverged"] = table["diverged"] > 0
        if "value" in table:  # objectives report a finite sentinel so that benchopt keeps the row
            table.loc[table["diverged"], "value"] = np.nan
    for c in ("n_params", "trained_depth"):
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
    if not isinstance(config, dict):
        import yaml
        config = yaml.safe_load(Path(config).read_text()) or {}
    out = {}
    for key in ("solver", "dataset"):
        entries = config.get(key) or []
        entries = [entries] if isinstance(entries, str) else entries
        out[key] = list(dict.fromkeys(family(e) for e in entries))
    return out


def problems(table, expected=None):
    """What went wrong in a run, one row per problem; the rest of the table is still usable.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`tidy`.
    expected : dict, optional
        ``{"solver": families, "dataset": families}`` (see :func:`expected_from_config`): a
        pair with no row at all is reported as missing (benchopt drops the rows of a solver
        that raised, unless ``BENCHOPT_RAISE_ON_ERROR=1`` stops the whole run).

    Returns
    -------
    pandas.DataFrame
        Columns ``solver``, ``dataset``, ``objective``, ``problem`` (empty when all is well).
    """
    rows = []
    if expected:
        # a solver or data set absent from the whole table (partial gaps are reported below)
        solvers, datasets = set(table["solver_family"]), set(table["dataset_family"])
        for s in expected.get("solver", []):
            for d in expected.get("dataset", []):
                if s not in solvers or d not in datasets:
                    rows.append((s, d, "", "missing: no result at all (failed or not run)"))
    # benchopt drops the whole curve of a solver that raised or whose value turned NaN
    # ("diverged" status): a solver with rows in some settings but not in others says so
    settings = set(zip(table["dataset"], table["objective"]))
    for s, present in table.groupby("solver", sort=True):
        for d, o in sorted(settings - set(zip(present["dataset"], present["objective"]))):
            rows.append((s, d, o, "no result here but results elsewhere: failed, skipped, or diverged "
                                  "(benchopt drops the curve of a solver whose value turns NaN)"))
    curves = table.groupby(["solver", "dataset", "objective"], sort=True)
    n_budgets = curves["budget"].nunique()
    for (s, d, o), curve in curves:
        curve = curve.sort_values("budget")
        if "diverged" in curve and curve["diverged"].any():
            first = curve.loc[curve["diverged"], "budget"].iloc[0]
            rows.append((s, d, o, f"diverged from budget {first} "
                                  f"({int(curve['diverged'].sum())} of {len(curve)} budgets)"))
        elif "value" in curve and curve["value"].isna().any():
            bad = curve.loc[curve["value"].isna(), "budget"].tolist()
            rows.append((s, d, o, f"value is NaN at budgets {bad} without a divergence flag"))
        # a curve much shorter than its neighbours hit benchopt's timeout
        others = n_budgets.xs((d, o), level=("dataset", "objective"))
        longest = int(others.max())
        if 1 < len(curve) < longest:
            rows.append((s, d, o, f"reached {len(curve)} of {longest} budgets (last "
                                  f"{int(curve['budget'].iloc[-1])}): benchopt's timeout stopped it"))
    return pd.DataFrame(rows, columns=["solver", "dataset", "objective", "problem"])
