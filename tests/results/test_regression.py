"""CI regression: fast checks of the comparison on small tables, and the end-to-end check.

The two ``slow`` tests run benchopt: every registered quick config against its committed
baseline (the CI regression itself), and a planted fault (a halved step size, a learned solver
whose training is cut to one step) that the check must catch while the unchanged solver passes.
"""
import re

import numpy as np
import pandas as pd
import pytest

from l2obench.results import registry, regression
from l2obench.results.regression import baseline_table, compare, read_baseline, write_baseline
from l2obench.results.tables import tidy

OBJ64, OBJ32 = "toy[dtype=float64]", "toy[dtype=float32]"


def tidy_table(objective=OBJ64, dtype="float64", budgets=(0, 1, 2, 4, 6, 9, 13)):
    rows = []
    for solver, learned in (("ISTA[step=1.0]", False), ("LISTA[n_steps=100]", True)):
        for b in budgets:
            rows.append({"solver_name": solver, "dataset_name": "data[n=3]", "objective_name": objective,
                         "idx_rep": 0, "stop_val": b, "time": 0.1 * b, "p_obj_dtype": dtype,
                         "objective_value": 1.0 + 1.0 / (b + 1), "objective_nmse_db": -3.0 * b,
                         "objective_support_recall": 0.5, "objective_diverged": False,
                         "objective_train_time": 3.0 if learned else 0.0,
                         "objective_n_params": 10 if learned else 0})
    return tidy(pd.DataFrame(rows))


def failed_metrics(comp):
    return sorted(set(zip(comp.failures["solver"], comp.failures["metric"])))


def test_baseline_keeps_small_budgets_and_no_times():
    base = baseline_table(tidy_table(), max_budget=10)
    assert sorted(base["budget"].unique()) == [0, 1, 2, 4, 6, 9]
    assert {"time_s", "train_time"}.isdisjoint(base.columns)
    assert {"value", "nmse_db", "n_params", "diverged", "learned", "dtype"} <= set(base.columns)


def test_unchanged_results_pass_and_written_baseline_reads_back(tmp_path):
    base = baseline_table(tidy_table(), 10)
    path = write_baseline(base.sample(frac=1, random_state=0), tmp_path / "toy.csv")
    text = path.read_text().splitlines()
    assert text[0].startswith("solver,dataset,objective,budget,learned,dtype")
    assert "1.33333333333" in path.read_text()           # fixed %.12g format
    assert [line.split(",")[0] for line in text[1:]] == sorted(line.split(",")[0] for line in text[1:])
    comp = compare(read_baseline(path), baseline_table(tidy_table(), 10), "toy")
    assert comp.ok and comp.n_compared > 0


def test_a_changed_value_fails_with_a_readable_table(capsys):
    base = baseline_table(tidy_table(), 10)
    new = base.copy()
    new.loc[(new["solver"] == "ISTA[step=1.0]") & (new["budget"] == 4), "value"] *= 1 + 1e-6
    comp = compare(base, new, "toy")
    assert failed_metrics(comp) == [("ISTA[step=1.0]", "value")]
    row = comp.failures.iloc[0]
    assert row["budget"] == 4 and row["baseline"] == pytest.approx(1.2) and "rtol=1e-09" in row["tolerance"]
    regression.print_failures(comp.failures)
    out = capsys.readouterr().out
    for column in ("benchmark", "solver", "dataset", "metric", "baseline", "new", "tolerance"):
        assert column in out


def test_tolerances_depend_on_precision_and_learning():
    base = baseline_table(tidy_table(OBJ32, "float32"), 10)
    new = base.copy()
    new["value"] *= 1 + 1e-5                               # float32 rounding-sized: passes
    assert compare(base, new).ok
    new = base.copy()
    learned = new["learned"] == 1
    new.loc[learned, "value"] *= 1.005                     # 0.5 % on a learned float32 model: passes
    assert compare(base, new).ok
    new.loc[learned, "value"] *= 1.05                      # 5 %: fails
    assert failed_metrics(compare(base, new)) == [("LISTA[n_steps=100]", "value")]
    new = base.copy()
    new.loc[learned, "n_params"] += 1                      # counts are exact
    assert failed_metrics(compare(base, new)) == [("LISTA[n_steps=100]", "n_params")]


def test_a_learned_models_fidelity_ratio_has_the_wider_data_fit_tolerance():
    """ct's ||Ax - d|| / delta of a learned float32 model: 5.4 % drift between two CI machines passes,
    20 % fails; the same ratio of a classical float32 solver stays at rounding tolerance."""
    base = baseline_table(tidy_table(OBJ32, "float32"), 10)
    base["fidelity"] = 3.0
    learned = base["learned"] == 1
    new = base.copy()
    new.loc[learned, "fidelity"] *= 1.054
    assert compare(base, new).ok
    new.loc[learned, "fidelity"] *= 1.2
    assert failed_metrics(compare(base, new)) == [("LISTA[n_steps=100]", "fidelity")]
    new = base.copy()
    new.loc[~learned, "fidelity"] *= 1.001
    assert failed_metrics(compare(base, new)) == [("ISTA[step=1.0]", "fidelity")]


def test_nan_matches_nan_only():
    base = baseline_table(tidy_table(), 10)
    base.loc[base["budget"] == 9, "value"] = np.nan
    assert compare(base, base.copy()).ok
    new = base.copy()
    new.loc[new["budget"] == 9, "value"] = 1.0
    assert len(compare(base, new).failures) == 2


def test_budgets_compared_on_the_overlap_and_missing_curves_fail():
    base = baseline_table(tidy_table(), 10)
    short = base[base["budget"] <= 2]                      # a slower machine: timeout after budget 2
    assert compare(base, short).ok
    too_short = base[base["budget"] <= 1]
    comp = compare(base, too_short)
    assert failed_metrics(comp) == [("ISTA[step=1.0]", "(budgets)"), ("LISTA[n_steps=100]", "(budgets)")]
    gone = base[base["solver"] != "LISTA[n_steps=100]"]
    assert failed_metrics(compare(base, gone)) == [("LISTA[n_steps=100]", "(curve)")]
    no_metric = base.drop(columns="nmse_db")
    assert ("(all)", "nmse_db") in failed_metrics(compare(base, no_metric))


def test_every_registered_benchmark_has_a_config_and_a_baseline():
    for bench in registry.get():
        assert bench.config_path.exists(), bench.config
        assert bench.baseline_path.exists(), f"run `make baselines` to create {bench.baseline_path}"
        base = read_baseline(bench.baseline_path)
        assert len(base) and base["budget"].max() <= bench.max_budget
    with pytest.raises(ValueError, match="unknown benchmark"):
        registry.get(["nope"])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(registry.BENCHMARKS))
def test_quick_config_matches_its_baseline(tmp_path, name):
    # one test per benchmark, so that pytest's workers run them side by side
    lines = []
    comparisons = regression.check([name], out_dir=tmp_path, out=lines.append)
    assert [c.benchmark for c in comparisons] == [name]
    assert all(c.ok for c in comparisons), "\n".join(lines)


def _halve(match):
    return f"{match.group(1)}={float(match.group(2)) / 2:g}"


@pytest.mark.slow
def test_planted_faults_are_caught(tmp_path):
    """A halved step size and a training cut to one step fail; the same solver unchanged passes."""
    bench = registry.BENCHMARKS["tv_deconvolution"]
    base = read_baseline(bench.baseline_path)
    curves = base[["solver", "dataset", "objective"]].drop_duplicates()
    dataset = curves["dataset"].iloc[0]
    curves = curves[curves["dataset"] == dataset]
    classical = next(s for s in curves["solver"] if re.search(r"\bstep=", s))
    learned = next(s for s in base.loc[base["learned"] == 1, "solver"] if "n_steps=" in s)
    faults = {re.sub(r"\b(step)=([0-9.e-]+)", _halve, classical): classical,
              re.sub(r"n_steps=\d+", "n_steps=1", learned): learned}
    parquet = regression.run_benchmark(bench, tmp_path, solvers=[classical, *faults],
                                         datasets=[dataset], max_runs=bench.max_runs,
                                         timeout=bench.timeout)
    new = regression.new_table(bench, parquet)

    def against_baseline(run_name, base_name):
        rows = new[new["solver"] == run_name].assign(solver=base_name)
        assert len(rows), f"{run_name} produced no rows"
        return compare(base[(base["solver"] == base_name) & (base["dataset"] == dataset)], rows, bench.name)

    assert against_baseline(classical, classical).ok                   # unchanged code passes
    for fault, original in faults.items():
        comp = against_baseline(fault, original)
        assert not comp.ok, f"planted fault {fault} was not caught"
        assert "value" in set(comp.failures["metric"])


# --- the command line: exit 1 is a regression, exit 2 an input the check cannot use (issue 16) ---

LASSO = ("lasso[dtype=float64,reg=0.1]", "compressed-sensing[n_train=64]", "ISTA[step=1.0]")
TV = ("tv-deconvolution[dtype=float64,reg=0.1]", "tv-synthetic[n_train=40]", "PGD-analysis[step=1.0]")


def result_file(path, names, scale=1.0):
    """A small benchopt-shaped parquet with the given objective, dataset and solver names."""
    objective, dataset, solver = names
    rows = [{"solver_name": solver, "dataset_name": dataset, "objective_name": objective, "idx_rep": 0,
             "stop_val": b, "time": 0.1 * b, "p_obj_dtype": "float64", "objective_diverged": False,
             "objective_value": scale * (1.0 + 1.0 / (b + 1))} for b in (0, 1, 2, 4, 6, 9)]
    pd.DataFrame(rows).to_parquet(path)
    return path


@pytest.fixture
def baselines(tmp_path, monkeypatch):
    """The baselines folder, moved to a temporary one (the committed baselines are never touched)."""
    folder = tmp_path / "baselines"
    monkeypatch.setattr(registry, "BASELINE_DIR", folder)
    return folder


def test_update_refuses_another_benchmarks_results(tmp_path, baselines, capsys):
    tv = result_file(tmp_path / "tv.parquet", TV)
    assert regression.main(["--update", "--results", f"lasso={tv}"]) == 2
    err = capsys.readouterr().err
    assert "not a result file of the lasso benchmark" in err and "'tv-deconvolution'" in err
    assert "'tv-synthetic'" in err and "'PGD-analysis'" in err
    assert not baselines.exists(), "nothing is written from another benchmark's results"
    lasso = result_file(tmp_path / "lasso.parquet", LASSO)       # the same file shape, lasso's names
    assert regression.main(["--update", "--results", f"lasso={lasso}"]) == 0
    assert read_baseline(baselines / "lasso.csv")["solver"].unique().tolist() == ["ISTA[step=1.0]"]


def test_check_refuses_another_benchmarks_results_instead_of_reporting_a_regression(tmp_path, baselines,
                                                                                      capsys):
    regression.main(["--update", "--results", f"lasso={result_file(tmp_path / 'lasso.parquet', LASSO)}"])
    tv = result_file(tmp_path / "tv.parquet", TV)
    assert regression.main(["--results", f"lasso={tv}"]) == 2      # not 1: nothing was compared
    assert "not a result file of the lasso benchmark" in capsys.readouterr().err


@pytest.mark.parametrize("update", [False, True], ids=["check", "update"])
def test_missing_or_unreadable_results_file_exits_2_with_a_message(tmp_path, baselines, capsys, update):
    regression.main(["--update", "--results", f"lasso={result_file(tmp_path / 'lasso.parquet', LASSO)}"])
    capsys.readouterr()
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 cut short by an interrupted run")
    for path, message in ((tmp_path / "nothing.parquet", "no result file at"),
                          (broken, "is not a readable result file")):
        assert regression.main(["--update"] * update + ["--results", f"lasso={path}"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_missing_baseline_exits_2_and_a_changed_value_exits_1(tmp_path, baselines, capsys):
    lasso = result_file(tmp_path / "lasso.parquet", LASSO)
    assert regression.main(["--results", f"lasso={lasso}"]) == 2   # no baseline yet: not a regression
    assert "no baseline at" in capsys.readouterr().err
    assert regression.main(["--update", "--results", f"lasso={lasso}"]) == 0
    assert regression.main(["--results", f"lasso={lasso}"]) == 0
    changed = result_file(tmp_path / "changed.parquet", LASSO, scale=1.01)
    assert regression.main(["--results", f"lasso={changed}"]) == 1  # a real regression
    (baselines / "lasso.csv").write_text("not,a\nbaseline,file\n")
    assert regression.main(["--results", f"lasso={lasso}"]) == 2
    assert "is not a baseline" in capsys.readouterr().err


def test_unknown_benchmark_or_stray_results_exit_2(tmp_path, baselines, capsys):
    assert regression.main(["-b", "nope"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err
    tv = result_file(tmp_path / "tv.parquet", TV)
    assert regression.main(["-b", "lasso", "--results", f"tv_deconvolution={tv}"]) == 2  # nothing is run
    assert "add -b tv_deconvolution" in capsys.readouterr().err
