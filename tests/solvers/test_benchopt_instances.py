"""The adapters of solvers that run on new instances: learned optimizers train on the sampler's
training ids only and optimise the test instances; Adam's rate is tuned on training instances."""
from pathlib import Path

import pytest
import torch
from benchopt.benchmark import Benchmark

from l2obench.datasets.instances import split_ids
from l2obench.datasets.lasso_instances import LassoInstanceSampler
from l2obench.solvers import benchopt_adapters
from l2obench.solvers.benchopt_instances import training_instances
from l2obench.solvers.classical.adam import Adam

LASSO = Path(__file__).resolve().parents[2] / "benchmarks" / "lasso"


def instance_objective(n_test=6):
    sampler = LassoInstanceSampler(8, 16, 3, rho=0.1, seed=1)
    problem, X, lmbd = sampler.sample(split_ids("test", n_test))
    return dict(problem=problem, X_test=X, lmbd=lmbd, X_train=None, Z_train=None, lmbd_train=None, sampler=sampler)


def adapter(name, **params):
    cls = next(s for s in Benchmark(LASSO).get_solvers() if s.name == name)
    solver = cls.get_instance(**params)
    solver.get_seed = lambda **kwargs: 7  # outside a benchopt run there is no run context
    return solver


def test_training_instances_come_from_the_training_ids_or_rows():
    objective = instance_objective()
    problem, X, _ = training_instances(objective, 4)
    ref_problem, ref_X, _ = objective["sampler"].sample(split_ids("train", 4))
    assert torch.equal(X, ref_X) and torch.equal(problem.D, ref_problem.D)
    assert not torch.equal(X, objective["X_test"][:4])
    with pytest.raises(ValueError, match="no training instances"):
        training_instances({**objective, "sampler": None}, 4)


def test_adam_rate_is_tuned_on_training_instances(monkeypatch):
    seen = {}
    real = Adam.tune_rate

    def spy(self, problem, X, lmbd, n_iter, grid=None):
        seen["X"] = X
        return real(self, problem, X, lmbd, n_iter, grid=grid)
    monkeypatch.setattr(Adam, "tune_rate", spy)
    solver = adapter("Adam", lr="tuned")
    solver.tune_iter = 5
    objective = instance_objective()
    solver.set_objective(**objective)
    assert torch.equal(seen["X"], training_instances(objective, solver.tune_instances)[1])
    assert solver.solver_.lr == solver.tuned_lr_ and solver.tuned_lr_ > 0
    solver.run(3)
    assert solver.get_result()["Z"].shape == (6, 16)
    with pytest.raises(ValueError, match="lr"):
        adapter("Adam", lr=-1.0)


def test_learned_optimizer_trains_on_training_ids_and_runs_on_the_test_instances(monkeypatch, tmp_path):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    seen = {}
    real_fit = benchopt_adapters.fit

    def spy(model, problem, inputs, **kwargs):
        seen.update(kwargs, inputs=inputs, problem=problem)
        return real_fit(model, problem, inputs, **kwargs)
    monkeypatch.setattr(benchopt_adapters, "fit", spy)  # LearnedSolver.set_objective's fit
    objective = instance_objective()
    solver = adapter("L2O-PA", n_steps=2, batch_size=3, horizon=4, segment=2, safeguard=True)
    solver.set_objective(**objective)
    (ids,), ((val_ids,), _) = seen["inputs"], seen["val"]
    assert torch.equal(ids, split_ids("train", 6)) and torch.equal(val_ids, split_ids("val", solver.n_val))
    assert seen["loss"].sampler is objective["sampler"] and seen["config"].n_steps == 2
    solver.run(7)
    result = solver.get_result()
    assert result["Z"].shape == (6, 16) and result["trained_depth"] == 4 and 0 <= result["fallback_rate"] <= 1
    F = objective["problem"].value(objective["X_test"], result["Z"], objective["lmbd"])
    F0 = objective["problem"].value(objective["X_test"], torch.zeros_like(result["Z"]), objective["lmbd"])
    assert torch.all(F <= F0 + 1e-6)  # the safeguard never lets the objective rise


def test_a_learned_optimizer_without_training_instances_is_skipped():
    solver = adapter("L2O-PA", n_steps=2)
    skip, reason = solver.skip(**{**instance_objective(), "sampler": None})
    assert skip and "training instances" in reason
    assert adapter("SLISTA").skip(**instance_objective())[0]  # one operator per row: LISTA cannot run
