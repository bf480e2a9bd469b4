"""Tables from benchopt result files, and what the report says about bad or partial inputs."""
import numpy as np
import pandas as pd
import pytest

from l2obench.results import report as report_mod
from l2obench.results.tables import (ResultsError, curve_ends, expected_from_config, load_results, problems,
                                     run_limits, tidy)

OBJ = "lasso[dtype=float32,reg=0.1]"
DATA = "toy[n_test=4]"


def benchopt_rows(solvers=("ISTA[step=1.0]", "LISTA[n_layers=3]"), budgets=(0, 1, 2, 4), reps=1):
    """Rows shaped like benchopt's parquet: one per solver × budget × repetition."""
    rows = []
    for s in solvers:
        learned = "LISTA" in s
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


def test_problems_names_missing_solvers_not_curves_that_simply_ended(tmp_path):
    """A curve shorter than its neighbours is no problem when it ended for lack of progress;
    the old report blamed benchopt's timeout for it."""
    df = benchopt_rows()
    df = df[~((df["solver_name"] == "LISTA[n_layers=3]") & (df["stop_val"] > 1))]
    df["objective_end_reason"] = None
    df.loc[(df["solver_name"] == "LISTA[n_layers=3]") & (df["stop_val"] == 1), "objective_end_reason"] = \
        "no_progress:value"
    config = tmp_path / "quick.yml"
    config.write_text("max-runs: 3\ntimeout: 100\nsolver:\n  - ISTA[step=1.0]\n  - LISTA\n"
                      "  - FISTA[step=[1.0,0.5]]\ndataset:\n  - toy\n")
    expected = expected_from_config(config)
    assert expected == {"solver": ["ISTA", "LISTA", "FISTA"], "dataset": ["toy"]}
    assert run_limits(config) == {"max_runs": 3, "timeout": 100.0}
    found = problems(tidy(df), expected, run_limits(config), budgets=(16,))
    assert list(found["solver"]) == ["FISTA"] and "missing" in found["problem"].iloc[0]
    ends = curve_ends(tidy(df), run_limits(config)).set_index("solver")["end"]
    assert ends.to_dict() == {"ISTA[step=1.0]": "max-runs reached", "LISTA[n_layers=3]": "no progress on value"}


def ended_rows():
    """Four curves, each ended for another reason, as the suite's criteria record it."""
    solvers = {"ISTA[step=1.0]": "max_runs", "FISTA[step=1.0]": "no_progress:value",
               "LISTA[n_layers=16,n_steps=50]": "timeout", "SLISTA[n_layers=16,n_steps=50]": "no_progress:nmse_db"}
    df = benchopt_rows(solvers=list(solvers), budgets=(0, 1, 2, 4, 9, 13, 16, 24))
    df["objective_trained_depth"] = np.where(df["objective_n_params"] > 0, 16, 0)
    df["objective_train_steps"] = np.where(df["objective_n_params"] > 0, 50, 0)
    df["objective_train_diverged"] = False
    df["p_solver_n_steps"] = np.where(df["objective_n_params"] > 0, 50.0, np.nan)
    df = df[~((df["solver_name"] == "LISTA[n_layers=16,n_steps=50]") & (df["stop_val"] > 9))]  # cut at 9
    slista = df["solver_name"] == "SLISTA[n_layers=16,n_steps=50]"
    df.loc[slista, ["objective_train_diverged", "objective_train_steps"]] = [True, 1]
    df["objective_end_reason"] = None
    for solver, reason in solvers.items():
        last = df.index[df["solver_name"] == solver][-1]
        df.loc[last, "objective_end_reason"] = reason
    return df


def test_end_reasons_and_only_real_problems():
    table = tidy(ended_rows())
    ends = curve_ends(table).set_index("solver")
    assert ends["end"].to_dict() == {
        "FISTA[step=1.0]": "no progress on value", "ISTA[step=1.0]": "max-runs reached",
        "LISTA[n_layers=16,n_steps=50]": "timeout", "SLISTA[n_layers=16,n_steps=50]": "no progress on nmse_db"}
    assert ends.loc["LISTA[n_layers=16,n_steps=50]", "last_budget"] == 9
    found = problems(table, budgets=(16,)).set_index("solver")["problem"]
    assert set(found.index) == {"LISTA[n_layers=16,n_steps=50]", "SLISTA[n_layers=16,n_steps=50]"}
    assert found["LISTA[n_layers=16,n_steps=50]"] == "cut by the timeout at budget 9, before budget 16"
    assert found["SLISTA[n_layers=16,n_steps=50]"].startswith("training diverged after 1 step:")


def test_a_timeout_past_every_reported_budget_is_no_problem_and_the_fallback_uses_the_config():
    df = ended_rows()
    df = df[df["solver_name"] == "ISTA[step=1.0]"].assign(objective_end_reason="timeout")
    assert problems(tidy(df), budgets=(16,)).empty
    df["objective_end_reason"] = None  # an older result file: no record, the run's limits decide
    df = df[df["stop_val"] <= 4]
    limits = {"max_runs": 25, "timeout": float(df["time"].sum())}
    assert curve_ends(tidy(df), limits)["end"].tolist() == ["timeout"]
    assert "cut by the timeout at budget 4" in problems(tidy(df), limits=limits, budgets=(16,))["problem"].iloc[0]
    assert curve_ends(tidy(df), {"max_runs": 25, "timeout": 1e3})["end"].tolist() == ["not recorded"]
    assert curve_ends(tidy(df), {"max_runs": 3, "timeout": None})["end"].tolist() == ["max-runs reached"]


def test_a_learned_layer_before_the_trained_depth_overshooting_is_no_problem():
    """A continuation-trained network's first layers may blow F up (later layers correct them):
    not a problem of the run; a divergence at or past the trained depth is."""
    df = ended_rows()
    df = df[df["solver_name"] == "ISTA[step=1.0]"].assign(solver_name="SLISTA[n_layers=16,n_steps=50]",
                                                          objective_trained_depth=16, objective_n_params=16,
                                                          objective_train_steps=50, objective_end_reason=None)
    early = df["stop_val"] == 1
    df.loc[early, ["objective_diverged", "objective_value"]] = [True, np.nan]
    assert problems(tidy(df), budgets=(16,)).empty
    df.loc[df["stop_val"] == 24, ["objective_diverged", "objective_value"]] = [True, np.nan]
    found = problems(tidy(df), budgets=(16,))["problem"].tolist()
    assert found == ["diverged from budget 24 (1 of 8 budgets)"]


def test_an_untrained_model_is_a_problem():
    df = ended_rows()
    df.loc[df["solver_name"] == "SLISTA[n_layers=16,n_steps=50]", ["objective_train_diverged",
                                                                  "objective_train_steps"]] = [False, 0]
    found = problems(tidy(df), budgets=(16,)).set_index("solver")["problem"]
    assert found["SLISTA[n_layers=16,n_steps=50]"] == "untrained: 0 of 50 training steps done"


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
    assert "\nLISTA " in out                              # the healthy solvers are still reported
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


LONG = {"ISTA[accelerated=False,step=1.0]": (False, 0.9), "ISTA[accelerated=True,step=1.0]": (False, 0.8),
        "ADMM[rho=0.1]": (False, 0.85),
        "SLISTA[continuation=False,loss=unsupervised,lr=0.01,n_layers=16,n_steps=100,stagewise=False]": (True, 0.7),
        "ALISTA[loss=supervised,lr=0.01,n_layers=16,n_steps=100,stagewise=False,support_selection=True]": (True, 0.6)}


def lasso_like_rows(learned_rate=None, datasets=("compressed-sensing[n_atoms=500,n_measurements=250,n_test=256]",
                                                 "equiregularized[n_atoms=256,n_dim=64,n_test=256]")):
    """Two data sets, classical and learned curves at benchopt's budgets (learned: landing on 16)."""
    rows = []
    for d in datasets:
        for s, (learned, rate) in LONG.items():
            rate = learned_rate if learned and learned_rate is not None else rate
            budgets = (0, 1, 2, 3, 4, 6, 9, 13, 16, 24) if learned else (0, 1, 2, 3, 4, 6, 9, 13, 19, 28)
            for b in budgets:
                rows.append({"solver_name": s, "dataset_name": d, "objective_name": OBJ, "idx_rep": 0,
                             "stop_val": b, "time": 1e-3 * (b + 1), "objective_value": 1.0 + rate ** b,
                             "objective_suboptimality": rate ** b, "objective_rel_suboptimality": rate ** b,
                             "objective_nmse_db": 10 * np.log10(rate ** b + 1e-3), "objective_diverged": False,
                             "objective_train_time": 12.5 if learned else 0.0,
                             "objective_n_params": 32 if learned else 0,
                             "objective_trained_depth": 16 if learned else 0,
                             "objective_train_steps": 100 if learned else 0,
                             "objective_train_diverged": False, "objective_train_stopped_early": False,
                             "objective_trained_metric": ("nmse_db" if s.startswith("ALISTA") else "value")
                             if learned else "",
                             "objective_end_reason": "max_runs" if b == budgets[-1] else None})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("budgets", [(16,), (4, 16)])
def test_summary_tables_short_labels_one_per_dataset_within_120_columns(budgets):
    tables = report_mod.setting_tables(tidy(lasso_like_rows()), budgets)
    assert len(tables) == 2
    assert tables[0][0].startswith("== compressed-sensing · lasso ==")
    for lines in tables:
        assert max(len(line) for line in lines) <= 120, "\n".join(lines)
        body = "\n".join(lines)
        for label in ("ISTA[accelerated=False]", "ISTA[accelerated=True]", "ADMM ", "SLISTA ", "ALISTA "):
            assert "\n" + label in body, body
        assert "stagewise" not in body and "n_atoms" not in body
        assert "  100  " in body and "max-runs reached" in body
    wide = report_mod.setting_tables(tidy(lasso_like_rows()), (1, 2, 4, 8, 16))
    assert max(len(line) for lines in wide for line in lines) <= 120


def test_first_line_names_the_winner_its_budget_and_training_time():
    lines = report_mod.answer(tidy(lasso_like_rows()))
    assert " ".join(line.strip() for line in lines[:2]) == (
        "ANSWER: ALISTA beats all classical solvers at 16 iterations on compressed-sensing (NMSE -28.9 vs -18.1 dB, "
        "best: ISTA[accelerated=True] at 19), trained 12.5 s; 3 more wins below.")
    assert all(len(line) <= 120 for line in lines)
    assert any(line.startswith("  equiregularized: SLISTA at 16 (F-F* 0.00332, trained 12.5 s) beats all 3 "
                               "classical solvers") for line in lines)


def test_among_equal_wins_the_answer_names_the_most_accurate_learned_solver():
    """Two learned solvers beating the same classical ones at the same budget (the run-once
    predict-then-optimize rows): the answer names the one with the lower value, not the first name."""
    answers = []
    for slow, fast in (("lr=0.1", "lr=0.2"), ("lr=0.2", "lr=0.1")):  # either name order
        df = benchopt_rows(solvers=("ISTA[step=1.0]", "LISTA[lr=0.1]", "LISTA[lr=0.2]"), budgets=(3,))
        df.loc[df["solver_name"] == "ISTA[step=1.0]", "objective_value"] = 1.0
        df.loc[df["solver_name"] == f"LISTA[{slow}]", "objective_value"] = 0.5
        df.loc[df["solver_name"] == f"LISTA[{fast}]", "objective_value"] = 0.2
        df["objective_trained_depth"] = 3
        answers.append(report_mod.answer(tidy(df))[0])
        assert answers[-1].startswith(f"ANSWER: LISTA[{fast}] beats"), answers[-1]


def test_first_line_says_plainly_when_no_learned_solver_wins():
    lines = report_mod.answer(tidy(lasso_like_rows(learned_rate=0.95)))
    assert lines[0].startswith("ANSWER: no learned solver beats a classical one at its trained depth in this run")
    df = lasso_like_rows()
    df.loc[df["solver_name"].str.startswith(("ALISTA", "SLISTA")), "objective_train_diverged"] = True
    assert report_mod.answer(tidy(df))[0] == ("ANSWER: no learned solver beats a classical one in this run: only "
                                              "failed trainings do (see PROBLEMS).")
    classical = df[~df["solver_name"].str.startswith(("ALISTA", "SLISTA"))]
    assert report_mod.answer(tidy(classical)) == ["ANSWER: nothing to compare: this run has no learned solver."]


def test_a_classical_curve_the_timeout_cut_short_is_not_beaten():
    df = lasso_like_rows(datasets=("cs[n_test=4]",))
    cut = df["solver_name"].str.startswith("ADMM") & (df["stop_val"] > 9)
    df = df[~cut]
    df.loc[df["solver_name"].str.startswith("ADMM") & (df["stop_val"] == 9), "objective_end_reason"] = "timeout"
    found = {r["solver"].split("[")[0]: r for r in report_mod.comparisons(tidy(df))}
    beaten = [c.split("[")[0] for c, _, _ in found["ALISTA"]["beaten"]]
    assert beaten == ["ISTA", "ISTA"] and found["ALISTA"]["budget"] == 16
