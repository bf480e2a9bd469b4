"""Break-even on a small synthetic table whose answer is known by hand."""
import math

import pandas as pd
import pytest

from l2obench.results.breakeven import break_even, operating_point

B = 100  # instances per run


def curve(solver, points, learned=False, train_time=0.0, trained_depth=0):
    """points: (budget, suboptimality, time for the whole batch in s)."""
    return [dict(solver=solver, dataset="d", objective="o", budget=b, suboptimality=acc, time_s=t,
                 learned=learned, train_time=train_time, trained_depth=trained_depth, diverged=False,
                 p_dataset_n_test=B) for b, acc, t in points]


def table():
    rows = (curve("LISTA", [(0, 1.0, 0.0), (2, 0.1, 0.05), (5, 0.01, 0.1), (8, 0.001, 0.2)],
                  learned=True, train_time=10.0, trained_depth=5)
            # reaches 0.01 at budget 50 in 1.1 s: 0.011 s/instance vs LISTA's 0.001
            + curve("ISTA", [(0, 1.0, 0.0), (5, 0.3, 0.1), (20, 0.05, 0.4), (50, 0.009, 1.1), (80, 0.001, 1.7)])
            # never below 0.05
            + curve("slow", [(0, 1.0, 0.0), (5, 0.5, 0.2), (100, 0.05, 3.0)])
            # reaches 0.01 in 0.05 s: faster than LISTA
            + curve("fast", [(0, 1.0, 0.0), (1, 0.01, 0.05)]))
    return pd.DataFrame(rows)


def test_operating_point_is_the_trained_depth():
    lista = pd.DataFrame(curve("LISTA", [(0, 1, 0), (3, .1, .1), (6, .01, .2), (9, .001, .3)],
                               learned=True, trained_depth=7))
    assert operating_point(lista)["budget"] == 6
    assert operating_point(lista.assign(trained_depth=0))["budget"] == 9


def test_break_even_known_answers():
    out = break_even(table(), "suboptimality", lambda row: int(row["p_dataset_n_test"])).set_index("classical_solver")
    ista = out.loc["ISTA"]
    assert ista["budget"] == 5 and ista["learned_accuracy"] == 0.01
    assert ista["learned_s_per_instance"] == pytest.approx(0.001)
    assert ista["classical_budget_to_match"] == 50
    assert ista["classical_s_per_instance"] == pytest.approx(0.011)
    assert ista["break_even_instances"] == pytest.approx(10.0 / (0.011 - 0.001))  # 1000 instances
    assert ista["classical_accuracy_at_budget"] == 0.3
    assert "repaid after 1,000 instances" in ista["status"]
    assert math.isinf(out.loc["slow", "break_even_instances"])
    assert "does not reach" in out.loc["slow", "status"]
    assert math.isinf(out.loc["fast", "break_even_instances"])
    assert "not faster" in out.loc["fast", "status"]


def test_diverged_points_never_count_as_reaching():
    t = table()
    cheat = (t["solver"] == "slow") & (t["budget"] == 5)
    t.loc[cheat, ["suboptimality", "diverged"]] = [0.0, True]   # a flagged row must not "reach" anything
    out = break_even(t, "suboptimality", lambda row: B).set_index("classical_solver")
    assert math.isinf(out.loc["slow", "break_even_instances"])
