"""The suite's benchopt stopping criteria: learned curves reach their trained depth whatever
``value`` does, then stop on the trained metric; every criterion records why a curve ended."""
import math
from pathlib import Path

import pytest
from benchopt.benchmark import Benchmark
from benchopt.stopping_criterion import SufficientProgressCriterion

from l2obench.solvers.benchopt_adapters import ClassicalSolver, LearnedSolver
from l2obench.solvers.stopping import (END_KEY, ClassicalCriterion, TrainedDepthCriterion, land_on,
                                       no_progress_past)

LASSO = Path(__file__).resolve().parents[2] / "benchmarks" / "lasso"


class Fake:
    """What a criterion reads from its solver."""

    sampling_strategy = "iteration"

    def __init__(self, depth=16, metric="nmse_db", classical_progress_key="value"):
        self.depth, self.metric, self.classical_progress_key = depth, metric, classical_progress_key

    def trained_depth(self):
        return self.depth

    def trained_metric(self):
        return self.metric


def supervised_curve(n):
    """A supervised network: the Lasso objective rises after layer 3, NMSE falls to layer 16 and
    stays flat after it (the classical continuation)."""
    return {"objective_value": 9.0 + (0.1 * (n - 3) if n > 3 else -0.5 * n),
            "objective_nmse_db": -2.0 * min(n, 16)}


def run(criterion, solver, curve, max_runs=25, timeout=None):
    """benchopt's loop (runner.run_one_to_cvg) on a synthetic curve."""
    crit = criterion.get_runner_instance(solver=solver, max_runs=max_runs, timeout=timeout)
    rows, stop_val, stop = [], crit.init_stop_val(), False
    while not stop:
        rows.append({"stop_val": stop_val, **curve(stop_val)})
        stop, status, stop_val = crit.should_stop(stop_val, rows)
    return rows, status


def test_learned_solver_reaches_its_trained_depth_although_value_rises():
    rows, status = run(LearnedSolver.stopping_criterion, Fake(depth=16), supervised_curve)
    budgets = [r["stop_val"] for r in rows]
    assert 16 in budgets, "the schedule lands on the trained depth"
    assert budgets[-1] > 16 and status == "done"
    # past the depth, three evaluations without NMSE progress: 24, 36, 54
    assert budgets[-4:] == [16, 24, 36, 54]
    assert rows[-1][END_KEY] == "no_progress:nmse_db"
    assert all(END_KEY not in r for r in rows[:-1])
    # benchopt's default, which the learned solvers used before, stops on value long before
    default, _ = run(SufficientProgressCriterion(strategy="iteration"), Fake(), supervised_curve)
    assert default[-1]["stop_val"] < 16


def test_no_stop_before_the_depth_even_without_any_progress():
    flat = lambda n: {"objective_value": 1.0, "objective_nmse_db": -3.0}  # noqa: E731
    rows, _ = run(TrainedDepthCriterion(), Fake(depth=40), flat)
    budgets = [r["stop_val"] for r in rows]
    assert 40 in budgets and budgets[-1] > 40 and rows[-1][END_KEY] == "no_progress:nmse_db"


def test_progress_past_the_depth_runs_to_max_runs_and_nan_is_no_progress():
    falling = lambda n: {"objective_value": 1.0, "objective_nmse_db": -float(n)}  # noqa: E731
    rows, status = run(TrainedDepthCriterion(), Fake(depth=4), falling, max_runs=8)
    assert status == "max_runs" and len(rows) == 9 and rows[-1][END_KEY] == "max_runs"
    blown = lambda n: {"objective_value": 1.0, "objective_nmse_db": -float(n) if n <= 4 else math.nan}  # noqa: E731
    rows, status = run(TrainedDepthCriterion(), Fake(depth=4), blown)
    assert status == "done" and rows[-1]["stop_val"] > 4  # kept (not benchopt's "diverged", which drops it)
    assert [r["stop_val"] for r in rows][-3:] == [6, 9, 13]


def test_the_timeout_is_recorded():
    rows, status = run(TrainedDepthCriterion(), Fake(depth=16), supervised_curve, timeout=0)
    assert status == "timeout" and rows[-1][END_KEY] == "timeout"


def test_classical_criterion_is_benchopts_default_and_records_why():
    curve = lambda n: {"objective_value": 1.0 + 1.0 / (1 + min(n, 9))}  # noqa: E731
    ours, status = run(ClassicalSolver.stopping_criterion, Fake(), curve)
    default, _ = run(SufficientProgressCriterion(strategy="iteration"), Fake(), curve)
    assert [r["stop_val"] for r in ours] == [r["stop_val"] for r in default]
    assert status == "done" and ours[-1][END_KEY] == "no_progress:value"
    # a benchmark whose value is not what its classical solvers minimise: max-runs only
    rows, status = run(ClassicalCriterion(), Fake(classical_progress_key=None), curve, max_runs=12)
    assert status == "max_runs" and len(rows) == 13 and rows[-1][END_KEY] == "max_runs"


def test_a_missing_metric_is_a_clear_error():
    with pytest.raises(ValueError, match="watches 'nmse_db'.*returns \\['value'\\]"):
        no_progress_past([{"stop_val": 0, "objective_value": 1.0}], "objective_nmse_db", 0)


def test_land_on_the_depth():
    assert land_on(13, 19, 16) == 16 and land_on(16, 24, 16) == 24 and land_on(4, 6, 16) == 6


def test_every_lasso_learned_adapter_uses_the_trained_depth_criterion():
    kinds = []
    for cls in Benchmark(LASSO).get_solvers():
        criterion = cls._stopping_criterion
        if issubclass(cls, LearnedSolver):
            assert isinstance(criterion, TrainedDepthCriterion), cls.name
            kinds.append("learned")
        elif issubclass(cls, ClassicalSolver):
            assert isinstance(criterion, ClassicalCriterion), cls.name
            kinds.append("classical")
    assert kinds.count("learned") >= 5 and kinds.count("classical") >= 3
