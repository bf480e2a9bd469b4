"""Break-even on small synthetic tables whose answer is known by hand."""
import math

import numpy as np
import pandas as pd
import pytest

from l2obench.results import breakeven
from l2obench.results.breakeven import SINGLE_TIMING_FACTOR, break_even, load_table, operating_point, summary
from l2obench.results.tables import tidy

B = 100  # instances per run


def per_instance(row):
    return int(row["p_dataset_n_test"])


def curve(solver, points, learned=False, train_time=0.0, trained_depth=0, n_test=B, **metrics):
    """points: (budget, suboptimality, time for the whole batch in s[, {other metrics}])."""
    rows = []
    for b, acc, t, *more in points:
        row = dict(solver=solver, dataset="d", objective="o", budget=b, suboptimality=acc, time_s=t,
                   learned=learned, train_time=train_time, trained_depth=trained_depth, diverged=False,
                   p_dataset_n_test=n_test, **metrics)
        row.update(*more)
        rows.append(row)
    return rows


def table():
    rows = (curve("LISTA", [(0, 1.0, 0.0), (2, 0.1, 0.05), (5, 0.01, 0.1), (8, 0.001, 0.2)],
                  learned=True, train_time=10.0, trained_depth=5)
            # reaches 0.01 at budget 50 in 1.1 s: 0.011 s/instance vs LISTA's 0.001
            + curve("ISTA", [(0, 1.0, 0.0), (5, 0.3, 0.1), (20, 0.05, 0.4), (50, 0.009, 1.1), (80, 0.001, 1.7)])
            # never below 0.05
            + curve("slow", [(0, 1.0, 0.0), (5, 0.5, 0.2), (100, 0.05, 3.0)])
            # reaches 0.01 in 0.05 s: twice as fast as LISTA, within a single timing's uncertainty
            + curve("fast", [(0, 1.0, 0.0), (1, 0.01, 0.05)])
            # reaches 0.01 in 0.01 s: ten times faster than LISTA, beyond it
            + curve("faster", [(0, 1.0, 0.0), (1, 0.01, 0.01)]))
    return pd.DataFrame(rows)


def raw_rows(solver, points, reps_time, learned=False, train_time=0.0, trained_depth=0, n_test=B, **metrics):
    """benchopt-like rows, one per repetition: points (budget, suboptimality, time), reps_time
    multiplies the time of each repetition."""
    rows = []
    for rep, scale in enumerate(reps_time):
        for b, acc, t in points:
            row = {"solver_name": solver, "dataset_name": "d[n_test=100]", "objective_name": "lasso[reg=0.1]",
                   "idx_rep": rep, "stop_val": b, "time": t * scale, "objective_value": 1.0 + acc,
                   "objective_suboptimality": acc, "objective_diverged": False,
                   "objective_train_time": train_time, "objective_n_params": 16 if learned else 0,
                   "objective_trained_depth": trained_depth, "p_dataset_n_test": n_test}
            row.update({f"objective_{k}": v(b) if callable(v) else v for k, v in metrics.items()})
            rows.append(row)
    return rows


def test_operating_point_is_the_trained_depth():
    lista = pd.DataFrame(curve("LISTA", [(0, 1, 0), (3, .1, .1), (6, .01, .2), (7, .005, .25), (9, .001, .3)],
                               learned=True, trained_depth=7))
    op, note = operating_point(lista)
    assert op["budget"] == 7 and note == ""
    assert operating_point(lista.assign(trained_depth=0))[0]["budget"] == 9


def test_a_curve_cut_before_the_trained_depth_is_not_compared():
    # the issue's case: SLISTA trained at depth 16, its curve cut at 13 by a stopping criterion;
    # the old code compared the 13-layer prefix as if it were the trained network
    cut = curve("SLISTA[loss=unsupervised]", [(0, 1.0, 0.0), (9, 0.1, 0.09), (13, 0.05, 0.13)],
                learned=True, train_time=30.0, trained_depth=16)
    fista = curve("FISTA", [(0, 1.0, 0.0), (13, 0.05, 0.14), (19, 0.01, 0.2)])
    out = break_even(pd.DataFrame(cut + fista), "suboptimality", per_instance)
    assert len(out) == 1 and pd.isna(out["classical_solver"].iloc[0])
    assert "ends at budget 13, before its trained depth 16" in out["status"].iloc[0]
    # a curve that passes the depth without a point on it: the last budget below, and it says so
    passed = curve("SLISTA[loss=unsupervised]", [(0, 1.0, 0.0), (13, 0.05, 0.13), (19, 0.001, 0.19)],
                   learned=True, train_time=30.0, trained_depth=16)
    out = break_even(pd.DataFrame(passed + fista), "suboptimality", per_instance)
    assert out["budget"].iloc[0] == 13 and "no point at the trained depth 16" in out["status"].iloc[0]


def test_break_even_known_answers():
    out = break_even(table(), "suboptimality", per_instance).set_index("classical_solver")
    ista = out.loc["ISTA"]
    assert ista["budget"] == 5 and ista["learned_accuracy"] == 0.01
    assert ista["learned_s_per_instance"] == pytest.approx(0.001)
    assert ista["classical_budget_to_match"] == 50
    assert ista["classical_s_per_instance"] == pytest.approx(0.011)
    assert ista["break_even_instances"] == pytest.approx(10.0 / (0.011 - 0.001))  # 1000 instances
    # the range the assumed single-timing spread allows: t/2 .. 2t on both sides
    f = SINGLE_TIMING_FACTOR
    assert ista["break_even_low"] == pytest.approx(10.0 / (0.011 * f - 0.001 / f))
    assert ista["break_even_high"] == pytest.approx(10.0 / (0.011 / f - 0.001 * f))
    assert ista["classical_accuracy_at_budget"] == 0.3
    assert "repaid after ~1,000 instances" in ista["status"] and "assumed" in ista["timing_spread"]
    assert math.isinf(out.loc["slow", "break_even_instances"])
    assert "does not reach" in out.loc["slow", "status"]
    assert math.isinf(out.loc["fast", "break_even_instances"])
    assert out.loc["fast", "status"].startswith("no measurable difference")
    assert math.isinf(out.loc["faster", "break_even_instances"])
    assert "not faster" in out.loc["faster", "status"] and "beyond the timing spread" in out.loc["faster", "status"]


def test_diverged_points_never_count_as_reaching():
    t = table()
    cheat = (t["solver"] == "slow") & (t["budget"] == 5)
    t.loc[cheat, ["suboptimality", "diverged"]] = [0.0, True]   # a flagged row must not "reach" anything
    out = break_even(t, "suboptimality", lambda row: B).set_index("classical_solver")
    assert math.isinf(out.loc["slow", "break_even_instances"])


def issue_case(n_reps_scales):
    """The issue's row: SLISTA and FISTA need the same 13 iterations on compressed sensing, their
    times differ by 7 %; the old code said "repaid after 1,116,678 instances"."""
    n_test, train = 2048, 3.8167
    t_fista, t_slista = 0.100, 0.093
    return (raw_rows("SLISTA[loss=unsupervised,n_layers=13]", [(0, 5.0, 0.0), (9, 0.1, 0.9 * t_slista),
                                                                (13, 0.002, t_slista)],
                     n_reps_scales, learned=True, train_time=train, trained_depth=13, n_test=n_test)
            + raw_rows("ISTA[accelerated=True]", [(0, 5.0, 0.0), (9, 0.3, 0.07), (13, 0.0019, t_fista),
                                                  (19, 1e-4, 0.146)],
                       n_reps_scales, n_test=n_test))


def old_claim(train=3.8167, n_test=2048):
    return train / ((0.100 - 0.093) / n_test)  # what the old code printed: ~1.1e6 instances


@pytest.mark.parametrize("scales", [[1.0], [1.0, 1.1, 0.9]], ids=["one-timing", "three-repetitions-10pc"])
def test_a_gap_inside_the_timing_spread_claims_nothing(tmp_path, scales):
    path = tmp_path / "issue.parquet"
    pd.DataFrame(issue_case(scales)).to_parquet(path)
    assert 1.1e6 < old_claim() < 1.2e6
    out = break_even(load_table(path), "suboptimality", per_instance)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["budget"] == 13 and row["classical_budget_to_match"] == 13
    assert math.isinf(row["break_even_instances"]) and "repaid" not in row["status"]
    assert row["status"].startswith("no measurable difference")
    assert row["n_timings"] == len(scales)
    assert ("measured" if len(scales) > 1 else "assumed") in row["timing_spread"]


def test_a_difference_outside_the_measured_spread_gives_a_finite_break_even(tmp_path, capsys):
    # learned 2x faster than the classical solver at the same accuracy, three repetitions within
    # +-2 %: a measured difference, and a finite break-even with its range
    scales = [1.0, 1.02, 0.98]
    rows = (raw_rows("SLISTA[loss=unsupervised]", [(0, 5.0, 0.0), (13, 0.002, 0.05)], scales,
                     learned=True, train_time=10.0, trained_depth=13)
            + raw_rows("ISTA[accelerated=True]", [(0, 5.0, 0.0), (13, 0.01, 0.05), (28, 0.0019, 0.1)], scales))
    path = tmp_path / "run.parquet"
    pd.DataFrame(rows).to_parquet(path)
    table = load_table(path)
    assert {"time_s_min", "time_s_max", "n_timings"} <= set(table.columns)
    row = break_even(table, "suboptimality", per_instance).iloc[0]
    t_l, t_c = 0.05 / B, 0.1 / B
    assert row["classical_budget_to_match"] == 28 and row["n_timings"] == 3
    assert row["learned_s_min"] == pytest.approx(0.98 * t_l) and row["learned_s_max"] == pytest.approx(1.02 * t_l)
    assert row["break_even_instances"] == pytest.approx(10.0 / (t_c - t_l))   # 20,000
    assert row["break_even_low"] == pytest.approx(10.0 / (1.02 * t_c - 0.98 * t_l))
    assert row["break_even_high"] == pytest.approx(10.0 / (0.98 * t_c - 1.02 * t_l))
    assert row["status"].startswith("repaid after ~20,000 instances") and "measured" in row["timing_spread"]
    # the same gap with repetitions spread over +-60 %: no longer measurable
    wide = [1.0, 1.6, 0.4]
    rows = [dict(r, time=r["time"] * wide[r["idx_rep"]] / scales[r["idx_rep"]]) for r in rows]
    pd.DataFrame(rows).to_parquet(path)
    row = break_even(load_table(path), "suboptimality", per_instance).iloc[0]
    assert math.isinf(row["break_even_instances"]) and row["status"].startswith("no measurable difference")
    # the command line reads the spread from the file, prints it, writes the CSV
    assert breakeven.main([f"lasso={path}", "--csv", str(tmp_path / "be.csv")]) == 0
    printed = capsys.readouterr().out
    assert "no measurable difference" in printed and "measured" in printed
    assert max(len(line) for line in printed.splitlines()) <= 120
    assert pd.read_csv(tmp_path / "be.csv")["n_timings"].iloc[0] == 3


def test_each_learned_solver_is_compared_on_the_metric_it_was_trained_for():
    # ALISTA (supervised) is far better in NMSE, worse in F - F*; FISTA solves the Lasso
    nmse = {"ALISTA[loss=supervised,n_layers=16]": [(16, 2.0, 0.01, {"nmse_db": -35.0, "nmse_lasso_db": -5.0})],
            "LISTA[loss=semi-supervised,n_layers=16]": [(16, 0.5, 0.01, {"nmse_db": -8.0, "nmse_lasso_db": -20.0})],
            "SLISTA[loss=unsupervised,n_layers=16]": [(16, 1e-3, 0.01, {"nmse_db": -9.0, "nmse_lasso_db": -12.0})]}
    rows = []
    for name, pts in nmse.items():
        rows += curve(name, [(0, 5.0, 0.0, {"nmse_db": 0.0, "nmse_lasso_db": 0.0})] + pts,
                      learned=True, train_time=5.0, trained_depth=16)
    rows += curve("FISTA", [(0, 5.0, 0.0, {"nmse_db": 0.0, "nmse_lasso_db": 0.0}),
                            (13, 0.4, 0.5, {"nmse_db": -8.5, "nmse_lasso_db": -15.0}),
                            (19, 1e-4, 0.8, {"nmse_db": -9.8, "nmse_lasso_db": -40.0})])
    out = summary({"lasso": pd.DataFrame(rows)}).set_index("learned_solver")
    alista = out.loc["ALISTA[loss=supervised,n_layers=16]"]
    assert alista["metric"] == "nmse_db" and alista["learned_accuracy"] == -35.0
    assert math.isinf(alista["break_even_instances"]) and "does not reach this nmse_db" in alista["status"]
    # on F - F* (the old comparison) FISTA would have "matched" it at budget 13
    assert break_even(pd.DataFrame(rows), "suboptimality", per_instance).set_index(
        "learned_solver").loc["ALISTA[loss=supervised,n_layers=16]", "classical_budget_to_match"] == 13
    semi = out.loc["LISTA[loss=semi-supervised,n_layers=16]"]
    assert semi["metric"] == "nmse_lasso_db" and semi["classical_budget_to_match"] == 19
    unsup = out.loc["SLISTA[loss=unsupervised,n_layers=16]"]
    assert unsup["metric"] == "suboptimality" and unsup["classical_budget_to_match"] == 19
    # a learned solver with no finite value of its metric here says so instead of comparing
    rows_nan = [dict(r, nmse_db=np.nan) for r in rows]
    out = summary({"lasso": pd.DataFrame(rows_nan)}).set_index("learned_solver")
    assert "no finite nmse_db" in out.loc["ALISTA[loss=supervised,n_layers=16]", "status"]


def test_timing_spread_and_the_tidy_table_agree(tmp_path):
    rows = raw_rows("ISTA[accelerated=True]", [(0, 1.0, 0.0), (5, 0.1, 0.2)], [1.0, 1.5, 0.5])
    spread = breakeven.timing_spread(pd.DataFrame(rows))
    at5 = spread[spread["budget"] == 5].iloc[0]
    assert (at5["time_s_min"], at5["time_s_max"], at5["n_timings"]) == pytest.approx((0.1, 0.3, 3))
    assert tidy(pd.DataFrame(rows)).query("budget == 5")["time_s"].iloc[0] == pytest.approx(0.2)


def test_command_line_errors(tmp_path, capsys):
    assert breakeven.main([f"lasso={tmp_path / 'absent.parquet'}"]) == 2
    assert "no result file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        breakeven.main(["nope=x.parquet"])


def test_a_diverged_trained_depth_is_not_compared():
    rows = (curve("SLISTA[loss=unsupervised]", [(0, 1.0, 0.0), (9, 0.1, 0.09), (16, np.nan, 0.16), (19, 0.01, 0.2)],
                  learned=True, train_time=30.0, trained_depth=16)
            + curve("FISTA", [(0, 1.0, 0.0), (13, 0.05, 0.14), (19, 0.01, 0.2)]))
    t = pd.DataFrame(rows)
    t.loc[t["suboptimality"].isna(), "diverged"] = True
    out = break_even(t, "suboptimality", per_instance)
    assert len(out) == 1 and out["budget"].iloc[0] == 16
    assert "not finite" in out["status"].iloc[0] and pd.isna(out["classical_solver"].iloc[0])
