"""CI regression: re-run every registered quick config and compare with committed baselines.

Usage::

    python -m l2obench.results.regression                  # check every benchmark
    python -m l2obench.results.regression --update         # rewrite results/baselines/*.csv
    python -m l2obench.results.regression -b lasso         # one benchmark
    python -m l2obench.results.regression --results lasso=run.parquet   # compare an existing run

A check runs ``benchopt run benchmarks/<name> --config <quick config> --no-cache`` into a
temporary folder with ``BENCHOPT_RAISE_ON_ERROR=1``, one thread and a fresh trained-weight cache
(training runs again), ``max-runs`` lowered to the registry's ``max_runs`` (the curves stop just past
the budgets the baseline keeps) and the timeout raised to its ``timeout`` (so a loaded machine does
not cut them; the rest is the quick config's), turns the result into the tidy table and compares
every deterministic metric with the baseline, within :mod:`l2obench.results.tolerances`.

benchopt's ``iteration`` sampling stops a curve at its timeout, so the budgets reached depend on the
machine: baselines keep small budgets only (``max_budget`` of the registry), compared on the budgets
in both; a baseline curve missing from the new run, or sharing fewer than ``MIN_OVERLAP`` budgets
with it, is a failure.

Exit status: 0 ok (or baselines written); 1 a regression (a value out of tolerance, a missing
curve, a failed benchopt run); 2 the check cannot start (unknown benchmark, missing or unreadable
baseline or result file, a ``--results`` file whose objective, data sets or solvers are not that
benchmark's), and then nothing is run or written.
"""
import argparse
import ast
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from l2obench.results import registry
from l2obench.results.tables import ResultsError, family, load_results, tidy
from l2obench.results.tolerances import NOT_COMPARED, tolerance

CURVE = ["solver", "dataset", "objective"]
KEYS = CURVE + ["budget"]
INFO = ["learned", "dtype"]          # baseline columns that are not compared, but set tolerances
MIN_OVERLAP = 3                      # budgets a curve must share with its baseline (fewer if it has fewer)
FLOAT_FORMAT = "%.12g"               # enough for rtol 1e-9, stable for diffs
REPORT_COLUMNS = ["benchmark", "solver", "dataset", "objective", "budget", "metric", "baseline", "new",
                  "tolerance"]


class RunError(RuntimeError):
    """benchopt failed to produce a result file."""


class InputError(Exception):
    """The check cannot start: a bad benchmark name or ``--results`` option (exit status 2)."""


def baseline_table(table, max_budget):
    """The deterministic part of a tidy table: small budgets, no times, sorted rows.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`l2obench.results.tables.tidy`.
    max_budget : int
        Largest budget kept.

    Returns
    -------
    pandas.DataFrame
        Columns ``solver, dataset, objective, budget, learned, dtype`` then the metrics, sorted.
    """
    out = table[table["budget"] <= max_budget].copy()
    out["dtype"] = out["p_obj_dtype"].fillna("float64") if "p_obj_dtype" in out else "float64"
    skip = set(KEYS) | set(INFO) | NOT_COMPARED
    metrics = sorted(c for c in out.columns if c not in skip and not c.startswith("p_")
                     and not c.endswith("_family") and c != "benchmark"
                     and (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c])))
    out = out[KEYS + INFO + metrics]
    for c in ["learned"] + [m for m in metrics if pd.api.types.is_bool_dtype(out[m])]:
        out[c] = out[c].astype(int)
    return out.sort_values(KEYS).reset_index(drop=True)


def write_baseline(table, path):
    """Write a baseline table as CSV with a fixed float format (reviewable diffs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.sort_values(KEYS).to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return path


def read_baseline(path):
    """Read a baseline written by :func:`write_baseline` (``ResultsError`` if missing or unreadable)."""
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"no baseline at {path}: create it with "
                           "`python -m l2obench.results.regression --update` (make baselines).")
    try:
        table = pd.read_csv(path)
    except Exception as exc:  # pandas raises several types for empty / malformed files
        raise ResultsError(f"{path} is not a readable baseline ({type(exc).__name__}: {exc}); "
                           "restore it with `git checkout` or rewrite it with --update.") from exc
    if missing := [c for c in KEYS + INFO if c not in table.columns]:
        raise ResultsError(f"{path} is not a baseline: columns {missing} are missing.")
    return table


@dataclass
class Comparison:
    """Outcome of comparing one benchmark's new table with its baseline."""

    benchmark: str
    failures: pd.DataFrame
    notes: list = field(default_factory=list)
    n_compared: int = 0

    @property
    def ok(self):
        return self.failures.empty


def _close(base, new, tol):
    both_nan = np.isnan(base) & np.isnan(new)
    with np.errstate(invalid="ignore"):
        within = np.abs(new - base) <= tol.atol + tol.rtol * np.abs(base)
    return both_nan | within


def compare(baseline, new, benchmark="", min_overlap=MIN_OVERLAP):
    """Compare a new baseline-shaped table with the baseline, metric by metric.

    Parameters
    ----------
    baseline, new : pandas.DataFrame
        Tables from :func:`baseline_table` (``new`` may hold more budgets, curves or metrics).
    benchmark : str
        Name shown in the failure table.
    min_overlap : int
        Budgets each baseline curve must share with the new run (capped by its own count).

    Returns
    -------
    Comparison
        ``failures`` has the columns of ``REPORT_COLUMNS``; ``notes`` lists what is new.
    """
    rows, notes = [], []
    metrics = [c for c in baseline.columns if c not in KEYS + INFO]
    new = new[new["budget"] <= baseline["budget"].max()] if len(baseline) else new

    def fail(curve, budget, metric, base, value, tol):
        rows.append(dict(zip(REPORT_COLUMNS, (benchmark, *curve, budget, metric, base, value, tol))))

    new_curves = set(map(tuple, new[CURVE].drop_duplicates().to_numpy()))
    base_curves = set(map(tuple, baseline[CURVE].drop_duplicates().to_numpy()))
    for curve in sorted(base_curves - new_curves):
        fail(curve, "", "(curve)", "present", "missing", "must exist")
    for curve in sorted(new_curves - base_curves):
        notes.append(f"new curve not in the baseline: {' | '.join(curve)}")
    for m in metrics:
        if m not in new:
            fail(("(all)", "", ""), "", m, "present", "missing", "must exist")
    extra = sorted(set(new.columns) - set(baseline.columns))
    if extra:
        notes.append(f"metrics not in the baseline (not compared): {', '.join(extra)}")

    merged = baseline.merge(new, on=KEYS, how="inner", suffixes=("_base", "_new"))
    counts = merged.groupby(CURVE).size()
    for curve, n_base in baseline.groupby(CURVE).size().items():
        if curve not in new_curves:
            continue
        need = min(min_overlap, n_base)
        have = int(counts.get(curve, 0))
        if have < need:
            fail(curve, "", "(budgets)", f"{n_base} budgets", f"{have} in common", f">= {need} in common")
    for m in metrics:
        if m not in new:
            continue
        base, value = merged[f"{m}_base"].astype(float), merged[f"{m}_new"].astype(float)
        for i in range(len(merged)):
            row = merged.iloc[i]
            tol = tolerance(m, bool(row["learned_base"]), row["dtype_base"])
            if not _close(np.float64(base.iloc[i]), np.float64(value.iloc[i]), tol):
                fail(tuple(row[CURVE]), int(row["budget"]), m, base.iloc[i], value.iloc[i], str(tol))
    failures = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    return Comparison(benchmark, failures, notes, n_compared=len(merged) * len(metrics))


def _seconds(value):
    """benchopt timeout (``30``, ``"10m"``, ``"2h"``) in seconds."""
    text = str(value).strip()
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], None)
    return int(float(text[:-1]) * scale) if scale else int(float(text or 0))


def run_benchmark(bench, out_dir, *, solvers=None, datasets=None, seed=None, max_runs=None,
                  timeout=None, cache_dir=None, use_cache=False, log=None):
    """Run a benchmark's quick config with benchopt, by default without any cache.

    Parameters
    ----------
    bench : registry.Benchmark
        What to run.
    out_dir : path-like
        Folder for the result file, the config actually used and the log.
    solvers, datasets : list of str, optional
        Replace the config's solver / dataset lists (e.g. to plant a fault).
    seed, max_runs, timeout : int, optional
        Override the config's values (``max_runs`` only lowers it, ``timeout`` only raises it).
    cache_dir : path-like, optional
        Trained-weight cache (``L2OBENCH_CACHE``); default a fresh folder in ``out_dir``.
    use_cache : bool
        Keep benchopt's cache and the user's trained-weight cache (for figures, not for checks).
    log : callable, optional
        Receives progress lines.

    Returns
    -------
    pathlib.Path
        The parquet written.

    Raises
    ------
    RunError
        When benchopt fails (the message ends with the tail of its output).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(bench.config_path.read_text()) or {}
    if max_runs is not None:
        max_runs = min(max_runs, config.get("max-runs", max_runs))
    if timeout is not None:
        timeout = max(timeout, _seconds(config.get("timeout", 0)))
    for key, value in (("solver", solvers), ("dataset", datasets), ("seed", seed), ("max-runs", max_runs),
                       ("timeout", timeout)):
        if value is not None:
            config[key] = value
    config_path = out_dir / f"{bench.name}.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    output = out_dir / f"{bench.name}.parquet"
    output.unlink(missing_ok=True)  # benchopt would write <name>_1.parquet next to an old file
    env = {  # one thread: the same kernels on every machine; runs side by side (pytest -n) fit the cores
           **os.environ, "BENCHOPT_RAISE_ON_ERROR": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if not use_cache or cache_dir:
        env["L2OBENCH_CACHE"] = str(cache_dir or out_dir / "weights_cache")
    benchopt = Path(sys.executable).with_name("benchopt")
    cmd = [str(benchopt), "run", str(bench.path), "--config", str(config_path), "--no-plot",
           "--output", str(output)] + ([] if use_cache else ["--no-cache"])
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    (out_dir / f"{bench.name}.log").write_text(proc.stdout + proc.stderr)
    if log:
        log(f"{bench.name}: benchopt run took {time.perf_counter() - start:.0f} s")
    if proc.returncode != 0 or not output.exists():
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise RunError(f"benchopt run of {bench.name} failed (exit {proc.returncode}):\n{tail}")
    return output


def benchmark_names(bench, kind):
    """The class names (``name = "..."``) of ``kind`` (objective, dataset, solver) in the benchmark's
    folder, read from the source: nothing imported, templates skipped (as by benchopt)."""
    files = [bench.path / "objective.py"] if kind == "objective" else sorted((bench.path / f"{kind}s").glob("*.py"))
    return {item.value.value for path in files if not path.name.startswith("template_")
            for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)
            for item in node.body if isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant)
            and any(getattr(t, "id", None) == "name" for t in item.targets)}


def check_belongs(bench, df, path):
    """Raise ``ResultsError`` unless every row of ``df`` is from ``bench``'s objective, data sets and solvers."""
    wrong = []
    for kind in ("objective", "dataset", "solver"):
        found, declared = set(df[f"{kind}_name"].map(family)), benchmark_names(bench, kind)
        if not found <= declared:
            wrong.append(f"{kind}s {sorted(found - declared)} (the benchmark's: {sorted(declared)})")
    if wrong:
        raise ResultsError(f"{path} is not a result file of the {bench.name} benchmark: it holds "
                           + "; ".join(wrong) + ". Nothing was compared or written.")


def new_table(bench, parquet):
    """Baseline-shaped table of a result file of ``bench`` (``ResultsError``: missing, unreadable, not its)."""
    df = load_results(parquet)
    check_belongs(bench, df, parquet)
    return baseline_table(tidy(df), bench.max_budget)


def _selection(names, results):
    """The benchmarks to handle, and the given result files read into tables, before any work."""
    try:
        benches = registry.get(names or None)
    except ValueError as exc:  # an unknown name
        raise InputError(str(exc)) from exc
    if stray := sorted(set(results) - {b.name for b in benches}):
        raise InputError(f"--results for {stray}, not among the benchmarks handled: add -b {stray[0]}.")
    return benches, {b.name: new_table(b, results[b.name]) for b in benches if b.name in results}


def print_failures(failures, out=print):
    """Print the failure table: benchmark, solver, dataset, metric, baseline, new, tolerance."""
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_colwidth", 60,
                           "display.float_format", "{:.8g}".format):
        out(failures.to_string(index=False))


def check(names=None, results=None, out_dir=None, out=print):
    """Run (or read) each benchmark's quick results and compare them with the baselines.

    Parameters
    ----------
    names : list of str, optional
        Benchmarks to check (default: all registered).
    results : dict, optional
        ``{name: parquet}`` to compare existing result files instead of running benchopt.
    out_dir : path-like, optional
        Where runs go (default: a temporary folder, removed afterwards).
    out : callable
        Where lines go.

    Returns
    -------
    list of Comparison
    """
    benches, given = _selection(names, results or {})
    baselines = {bench.name: read_baseline(bench.baseline_path) for bench in benches}
    comparisons = []
    with tempfile.TemporaryDirectory(prefix="l2obench-regression-") as tmp:
        for bench in benches:
            try:
                table = given.get(bench.name)
                if table is None:
                    table = new_table(bench, run_benchmark(bench, Path(out_dir or tmp), max_runs=bench.max_runs,
                                                           timeout=bench.timeout, log=out))
                comp = compare(baselines[bench.name], table, bench.name)
            except (RunError, ResultsError) as exc:  # the run itself failed: a regression
                failures = pd.DataFrame([dict(zip(REPORT_COLUMNS, (bench.name, "(run)", "", "", "", "",
                                                                   "", str(exc), "")))])
                comp = Comparison(bench.name, failures)
            comparisons.append(comp)
            status = "ok" if comp.ok else f"FAILED ({len(comp.failures)} values)"
            out(f"{bench.name}: {comp.n_compared} values compared: {status}")
            for note in comp.notes:
                out(f"  note: {note}")
    failed = [c.failures for c in comparisons if not c.ok]
    if failed:
        out("\nREGRESSION: values outside their tolerance (see l2obench/results/tolerances.py)")
        print_failures(pd.concat(failed, ignore_index=True), out)
    return comparisons


def update(names=None, results=None, out_dir=None, out=print):
    """Rewrite the named (default: all) baselines from fresh quick runs or from checked ``results``."""
    benches, given = _selection(names, results or {})
    written = []
    with tempfile.TemporaryDirectory(prefix="l2obench-baseline-") as tmp:
        for bench in benches:
            table = given.get(bench.name)
            if table is None:
                table = new_table(bench, run_benchmark(bench, Path(out_dir or tmp), max_runs=bench.max_runs,
                                                       timeout=bench.timeout, log=out))
            path = write_baseline(table, bench.baseline_path)
            shown = path.relative_to(registry.ROOT) if path.is_relative_to(registry.ROOT) else path
            out(f"{bench.name}: wrote {path} (review with `git diff {shown}`)")
            written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baselines instead of checking")
    parser.add_argument("-b", "--benchmark", action="append", help="benchmark name (repeatable; default all)")
    parser.add_argument("--results", action="append", default=[], metavar="NAME=PARQUET",
                        help="use an existing result file instead of running benchopt")
    parser.add_argument("--out-dir", type=Path, help="keep the runs (parquet, config, log) in this folder")
    args = parser.parse_args(argv)
    results = {}
    for item in args.results:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"--results expects NAME=PARQUET, got {item!r}")
        results[name] = Path(path)
    names = args.benchmark or (list(results) if results else None)
    try:
        if args.update:
            update(names, results, args.out_dir)
            return 0
        comparisons = check(names, results, args.out_dir)
    except (InputError, ResultsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if all(c.ok for c in comparisons) else 1


if __name__ == "__main__":
    sys.exit(main())
