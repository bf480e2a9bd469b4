"""The shortest-path benchmark as benchopt loads it: metrics from the oracle, flagged divergence,
and the regret-vs-grid figure script on a benchopt-shaped result file."""
import math
from pathlib import Path

import pandas as pd
import pytest

from l2obench.datasets.shortest_path import make_shortest_path
from support import load_script

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "shortest_path"


@pytest.fixture(scope="module")
def objective():
    from benchopt.benchmark import Benchmark

    objective = Benchmark(BENCH).get_benchmark_objective().get_instance(dtype="float64")
    data = make_shortest_path(4, n_train=30, n_val=10, n_test=20, seed=3)
    objective.set_data(**{k: data[k] for k in ("grid", "u_train", "c_train", "u_val", "c_val", "u_test", "c_test")})
    return objective


def test_true_costs_have_zero_regret_and_full_accuracy(objective):
    row = objective.evaluate_result(costs=objective.c_test.clone())
    assert abs(row["value"]) < 1e-12 and row["path_accuracy"] == 1.0 and row["cost_mse"] == 0.0
    assert not row["diverged"]


def test_a_training_that_never_improved_on_its_initial_weights_is_flagged(objective):
    costs = objective.c_test.clone()
    assert objective.evaluate_result(costs=costs, train_steps=100, train_best_step=0)["train_no_improvement"]
    assert not objective.evaluate_result(costs=costs, train_steps=100, train_best_step=40)["train_no_improvement"]
    assert not objective.evaluate_result(costs=costs)["train_no_improvement"]  # a classical row


def test_worse_costs_have_positive_regret(objective):
    reversed_costs = objective.c_test.max() - objective.c_test  # prefers the most expensive arcs
    row = objective.evaluate_result(costs=reversed_costs)
    assert row["value"] > 0.1 and row["path_accuracy"] < 1.0


def test_non_finite_costs_are_a_flagged_row_not_a_crash(objective):
    costs = objective.c_test.clone()
    costs[2, 1] = math.nan
    row = objective.evaluate_result(costs=costs)
    assert row["diverged"] and row["value"] == 1.0 and math.isnan(row["regret"])
    with pytest.raises(ValueError, match="costs must have shape"):
        objective.evaluate_result(costs=costs[:, :3])


def _plot_module():
    return load_script("benchmarks/shortest_path/plot_regret_vs_grid.py", "plot_regret_vs_grid")


def test_regret_figure_reads_benchopt_rows_and_puts_published_numbers_beside(tmp_path):
    plot = _plot_module()
    rows = []
    for k in (5, 10):
        for solver, regret in (("dys-net[batch_size=256,loss=decision-mse,lr=0.01]", 0.1),
                               ("cost-network[batch_size=256,loss=perturbed,lr=0.01]", 0.2),
                               ("mean-cost", 0.5), ("true-costs", 0.0)):
            rows.append({"solver_name": solver, "p_dataset_grid": k, "objective_regret": regret + k / 100,
                         "objective_path_accuracy": 0.5, "objective_time_to_best": 1.0, "objective_train_time": 2.0})
    pd.DataFrame(rows).to_parquet(tmp_path / "run.parquet")
    table = plot.tidy(tmp_path / "run.parquet")
    assert set(table["method"]) == {"DYS-net (JFB)", "perturbed optimizer", "mean cost"}  # true costs: regret 0, left out
    dys10 = table[(table["method"] == "DYS-net (JFB)") & (table["k"] == 10)].iloc[0]
    assert dys10["regret"] == pytest.approx(0.2) and dys10["published_regret"] == 0.116
    assert table[table["method"] == "mean cost"]["published_regret"].isna().all()
    fig = plot.figure(table)
    assert len(fig.axes) == 2

