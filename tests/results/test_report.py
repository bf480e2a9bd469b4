"""Tables from benchopt result files, and what the report says about bad or partial inputs."""
import numpy as np
import pandas as pd
import pytest

from l2obench.results import report as report_mod
from l2obench.results.tables import ResultsError, expected_from_config, load_results, problems, tidy

OBJ = "lasso[dtype=float32,reg=0.1]"
DATA = "toy[n_test=4]"


def benchopt_rows(solvers=("ISTA[step=1.0]", "LISTA[n_layers=3]"), budgets=(0, 1, 2, 4), reps=1):
    """Rows shaped like benchopt's parquet: one per solver × budget × repetition."""
    rows = []
    for s in solvers:
        learned = s.startswith("LISTA")
        for rep in range(reps):
            for b in budgets:
                rows.append({
                    "solver_name": s, "dataset_name": DATA, "objective_name": OBJ, "idx_rep": rep,
                    "stop_val": b, "time": 0.01 * (b + 1) + 0.001 * rep,
                    "objective_value": 1.0 / (b + 1) + 0.1 * rep, "objective_diverged": False,
                    "objective_train_time": 2.0 if learned else 0.0,
                    "objective_n_params": 30 if learned else 0,
                    "p_solver_step": np.nan if learned else 1.0,
                    "p_solver_n_layers": 3.0 if learned else np.nan,
                    "p_dataset_n_test": 4, "p_obj_reg": 0.1, "p_obj_dtype": "float32",
                    "version-numpy": "2.0", "platform": "Linux",
                })
    return pd.DataFrame(rows)


def test_tidy_one_row_per_solver_dataset_objective_budget():
    table = tidy(benchopt_rows(reps=2), benchmark="toy")
    assert len(table) == 2 * 4
    assert not table.duplicated(["solver", "dataset", "objective", "budget"]).any()
    assert {"value", "time_s", "train_time", "n_params", "diverged", "learned", "p_solver_step",
            "p_dataset_n_test", "p_obj_dtype", "solver_family"} <= set(table.columns)
    assert "platform" not in table and "objective_value" not in table
    ista = table[table["solver"] == "ISTA[step=1.0]"].set_index("budget")
    assert ista.loc[1, "value"] == pytest.approx(0.5 + 0.05)          # mean of the two repetitions
    assert ista.loc[1, "time_s"] == pytest.approx(0.0205)              # median of the two
    assert ista.loc[1, "n_repetitions"] == 2
    assert table.set_index("solver_family")["learned"].groupby(level=0).all().to_dict() == {
        "ISTA": False, "LISTA": True}
    assert table["benchmark"].eq("toy").all()


def test_a_diverged_repetition_stays_visible():
    df = benchopt_rows(reps=2)
    bad = (df["solver_name"] == "ISTA[step=1.0]") & (df["idx_rep"] == 1) & (df["stop_val"] >= 2)
    df.loc[bad, "objective_value"] = np.nan
    df.loc[bad, "objective_diverged"] = True
    table = tidy(df)
    ista = table[table["solver"] == "ISTA[step=1.0]"].set_index("budget")
    assert ista.loc[[2, 4], "diverged"].all() and ista.loc[[2, 4], "value"].isna().all()
    assert not ista.loc[[0, 1], "diverged"].any()
    found = problems(table)
    assert list(found["solver"]) == ["ISTA[step=1.0]"]
    assert "diverged from budget 2" in found["problem"].iloc[0]


def test_problems_names_missing_solvers_and_cut_curves(tmp_path):
    df = benchopt_rows()
    df = df[~((df["solver_name"] == "LISTA[n_layers=3]") & (df["stop_val"] > 1))]  # timeout at 1
    config = tmp_path / "quick.yml"
    config.write_text("solver:\n  - ISTA[step=1.0]\n  - LISTA\n  - FISTA[step=[1.0,0.5]]\n"
                      "dataset:\n  - toy\n")
    expected = expected_from_config(config)
    assert expected == {"solver": ["ISTA", "LISTA", "FISTA"], "dataset": ["toy"]}
    found = problems(tidy(df), expected)
    text = "\n".join(found["solver"] + ": " + found["problem"])
    assert "FISTA: missing" in text
    assert "LISTA[n_layers=3]: reached 2 of 4 budgets" in text
    assert len(found) == 2


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="no result file at .*nothing.parquet"):
        load_results(tmp_path / "nothing.parquet")


def test_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.parquet"
    benchopt_rows().to_parquet(path)
    path.write_bytes(path.read_bytes()[:200])  # a run interrupted while writing
    with pytest.raises(ResultsError, match="broken.parquet is not a readable result file"):
        load_results(path)


def test_foreign_or_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1.0]}).to_parquet(path)
    with pytest.raises(ResultsError, match=r"not a benchopt result file: columns \['solver_name'"):
        load_results(path)
    benchopt_rows().iloc[:0].to_parquet(path)
    with pytest.raises(ResultsError, match="holds no result rows"):
        load_results(path)


def test_cli_reports_the_rest_of_a_partial_run(tmp_path, capsys):
    df = benchopt_rows(solvers=("ISTA[step=1.0]", "ISTA[step=3.0]", "LISTA[n_layers=3]"))
    blown = df["solver_name"] == "ISTA[step=3.0]"
    df.loc[blown & (df["stop_val"] >= 1), ["objective_value", "objective_diverged"]] = [np.nan, True]
    path = tmp_path / "run.parquet"
    df.to_parquet(path)
    config = tmp_path / "quick.yml"
    config.write_text("solver:\n  - ISTA\n  - LISTA\n  - ADMM\ndataset:\n  - toy\n")
    figure = tmp_path / "curves.png"
    assert report_mod.main([str(path), "--config", str(config), "--figure", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "ADMM | toy" in out and "missing" in out
    assert "ISTA[step=3.0]" in out and "diverged from budget 1" in out
    assert "LISTA[n_layers=3]" in out                      # the healthy solvers are still reported
    table = pd.read_csv(path.with_suffix(".csv"))
    assert len(table) == 12 and figure.stat().st_size > 0


def test_cli_exit_status_on_missing_file(tmp_path, capsys):
    assert report_mod.main([str(tmp_path / "absent.parquet")]) == 2
    assert "no result file" in capsys.readouterr().err


def test_a_curve_dropped_by_benchopt_is_reported_without_a_config():
    """benchopt drops the curve of a solver whose value turns NaN: the gap must show."""
    other = benchopt_rows().assign(dataset_name="toy[n_test=8]")
    df = pd.concat([benchopt_rows(), other[other["solver_name"] != "ISTA[step=1.0]"]])
    found = problems(tidy(df))
    assert list(zip(found["solver"], found["dataset"])) == [("ISTA[step=1.0]", "toy[n_test=8]")]
    assert "diverged" in found["problem"].iloc[0] and "failed" in found["problem"].iloc[0]
