"""ℓ1-logistic instances: synthetic (Liu et al. 2023) by id, and subsamples of scikit-learn's bundled sets."""
import pickle

import pytest
import torch

from l2obench.datasets.l1_logistic import (REAL_DATASETS, REAL_SETS, LogisticInstanceSampler, check_logistic_instances,
                                           check_real_logistic, logistic_instances, real_logistic)
from l2obench.objectives.l1_logistic import L1LogisticProblem


def test_synthetic_instances_follow_the_published_setting():
    data = logistic_instances(4, seed=0)
    F, y, w = data["F"], data["y"], data["w"]
    assert F.shape == (4, 1000, 50) and y.shape == (4, 1000) and w.shape == (4, 50) and F.dtype == torch.float32
    assert torch.equal((w != 0).sum(dim=1), torch.full((4,), 20))
    assert bool(((y == 1) | (y == -1)).all())
    margins = torch.einsum("bnp,bp->bn", F.double(), w.double())
    assert torch.equal(y, torch.where(margins >= 0, 1.0, -1.0).float())  # noiseless labels
    assert abs(float(F.double().mean())) < 0.01 and abs(float(F.double().std()) - 1) < 0.01
    # λ = 0.1 is below λ_max on these instances: non-trivial solutions
    assert bool((L1LogisticProblem(F.double()).lambda_max(y.double()) > 0.1).all())


def test_sampler_is_deterministic_in_seed_and_ids():
    sampler = LogisticInstanceSampler(n_samples=30, n_features=6, rho=0.05, seed=1, sparsity=2)
    problem, y, lmbd = sampler.sample(torch.tensor([5, 0]))
    assert isinstance(problem, L1LogisticProblem) and problem.shape == (30, 6) and problem.n_instances == 2
    assert torch.equal(lmbd, torch.full((2,), 0.05))
    problem.check_inputs(y, lmbd)  # labels in {−1, +1}
    again = pickle.loads(pickle.dumps(sampler)).sample([5, 0])
    assert torch.equal(again[0].F, problem.F) and torch.equal(again[1], y)
    assert not torch.equal(sampler.sample(torch.tensor([5, 1]))[0].F[1], problem.F[1])
    assert not torch.equal(LogisticInstanceSampler(30, 6, 0.05, seed=2, sparsity=2).sample([5, 0])[0].F, problem.F)
    assert sampler.get_params() == dict(n_samples=30, n_features=6, rho=0.05, seed=1, dtype="float32", sparsity=2)
    double = LogisticInstanceSampler(30, 6, 0.05, seed=1, dtype="float64", sparsity=2).sample([5, 0])
    assert torch.equal(double[0].F.float(), problem.F) and double[1].dtype == torch.float64
    # the default sparsity, 20, is capped at the number of features
    assert torch.equal((logistic_instances(2, 30, 6)["w"] != 0).sum(dim=1), torch.full((2,), 6))
    assert LogisticInstanceSampler().get_params()["sparsity"] is None
    assert REAL_DATASETS == tuple(REAL_SETS) and "breast-cancer" in REAL_DATASETS


@pytest.mark.parametrize("name", sorted(REAL_SETS))
def test_real_sets_are_standardised_subsamples(name):
    data = real_logistic(name, n_instances=3, n_samples=40, seed=0, dtype="float64")
    F, y = data["F"], data["y"]
    assert F.shape[:2] == (3, 40) and y.shape == (3, 40) and F.dtype == torch.float64
    assert bool(((y == 1) | (y == -1)).all()) and bool((y == 1).any()) and bool((y == -1).any())
    rows = {tuple(r.tolist()) for r in F[0]}
    assert len(rows) == 40 or name == "digits"  # without replacement (digits has duplicate images)
    assert not torch.equal(F[0], F[1])
    assert float(F.abs().max()) < 60  # standardised features
    again = real_logistic(name, n_instances=3, n_samples=40, seed=0, dtype="float64")
    assert torch.equal(again["F"], F) and torch.equal(again["y"], y)
    assert not torch.equal(real_logistic(name, 3, 40, seed=1, dtype="float64")["F"], F)


def test_full_set_is_standardised_and_labelled():
    data = real_logistic("wine", n_instances=1, n_samples=178, dtype="float64")
    F, y = data["F"][0], data["y"][0]
    torch.testing.assert_close(F.mean(dim=0), torch.zeros(13, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(F.std(dim=0, unbiased=False), torch.ones(13, dtype=torch.float64))
    assert int((y == 1).sum()) == 59  # class 0 of the wine set


@pytest.mark.parametrize("call, match", [
    (lambda: check_logistic_instances(0), "^n_instances"),
    (lambda: check_logistic_instances(2, n_features=5, sparsity=6), "^sparsity"),
    (lambda: check_logistic_instances(2, n_samples=0), "^n_samples"),
    (lambda: LogisticInstanceSampler(rho=float("nan")).sample([0]), "^rho"),
    (lambda: LogisticInstanceSampler(dtype="int8").sample([0]), "^dtype"),
    (lambda: check_real_logistic("mnist"), "^name"),
    (lambda: real_logistic("iris", n_samples=151), r"^n_samples=151 is too large: iris has 150 samples"),
    (lambda: check_real_logistic("digits", n_instances=0), "^n_instances"),
])
def test_bad_parameters_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()
