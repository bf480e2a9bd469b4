"""Lasso instances of Liu et al. (2023), one dictionary each, drawn by instance id."""
import pickle

import numpy as np
import pytest
import torch

from l2obench.datasets.instances import check_instance_ids, instance_generator
from l2obench.datasets.lasso_instances import LassoInstanceSampler, check_lasso_instances, lasso_instances
from l2obench.objectives.lasso import BatchedLassoProblem


def test_instances_follow_the_published_setting():
    data = lasso_instances(3, seed=0)
    D, Z, X = data["D"], data["Z"], data["X"]
    assert D.shape == (3, 250, 500) and Z.shape == (3, 500) and X.shape == (3, 250)
    assert D.dtype == Z.dtype == X.dtype == torch.float32
    torch.testing.assert_close(D.norm(dim=1), torch.ones(3, 500))
    assert torch.equal((Z != 0).sum(dim=1), torch.full((3,), 50))
    torch.testing.assert_close(X, torch.einsum("bmn,bn->bm", D.double(), Z.double()).float())  # noiseless
    assert not torch.equal(D[0], D[1])  # one dictionary per instance
    values = Z[Z != 0].double()
    assert abs(float(values.mean())) < 0.15 and abs(float(values.std()) - 1) < 0.1


def test_sampler_is_deterministic_in_seed_and_ids():
    sampler = LassoInstanceSampler(m=20, n=40, sparsity=5, rho=0.1, seed=3)
    problem, X, lmbd = sampler.sample(torch.tensor([7, 2, 9]))
    assert isinstance(problem, BatchedLassoProblem) and problem.n_instances == 3 and problem.shape == (20, 40)
    assert X.shape == (3, 20) and torch.equal(lmbd, torch.full((3,), 0.1))
    again = pickle.loads(pickle.dumps(sampler)).sample([7, 2, 9])  # picklable; lists accepted
    assert torch.equal(again[0].D, problem.D) and torch.equal(again[1], X)
    for other in (LassoInstanceSampler(20, 40, 5, seed=4).sample(torch.tensor([7, 2, 9])),
                  sampler.sample(torch.tensor([7, 2, 10])), sampler.sample(torch.tensor([2, 7, 9]))):
        assert not torch.equal(other[1], X) and not torch.equal(other[0].D[2], problem.D[2])
    assert sampler.get_params() == dict(m=20, n=40, sparsity=5, rho=0.1, seed=3, dtype="float32")
    # float32 instances are the float64 ones, rounded
    double = LassoInstanceSampler(20, 40, 5, seed=3, dtype="float64").sample(torch.tensor([7, 2, 9]))
    assert torch.equal(double[0].D.float(), problem.D) and torch.equal(double[1].float(), X)
    assert torch.equal(lasso_instances(3, 20, 40, 5, seed=3)["X"], sampler.draw(torch.arange(3))["X"])


def test_generator_hashes_seed_and_ids():
    ids = torch.arange(4)
    draw = lambda seed, ids: torch.rand(3, generator=instance_generator(seed, ids))  # noqa: E731
    assert torch.equal(draw(0, ids), draw(0, ids.clone()))
    assert not torch.equal(draw(0, ids), draw(1, ids)) and not torch.equal(draw(0, ids), draw(0, ids + 1))
    assert torch.equal(check_instance_ids(np.array([3, 1], dtype=np.int32)), torch.tensor([3, 1]))


@pytest.mark.parametrize("call, name", [
    (lambda: check_lasso_instances(0), "n_instances"),
    (lambda: check_lasso_instances(2, m=0), "m"),
    (lambda: check_lasso_instances(2, n=10, sparsity=11), "sparsity"),
    (lambda: check_lasso_instances(2, seed=-1), "seed"),
    (lambda: check_lasso_instances(2, dtype="float16"), "dtype"),
    (lambda: lasso_instances(2, n=10, sparsity=20), "sparsity"),
    (lambda: LassoInstanceSampler(rho=-0.1).sample(torch.arange(2)), "rho"),
    (lambda: LassoInstanceSampler().sample(torch.zeros(0, dtype=torch.int64)), "ids"),
    (lambda: LassoInstanceSampler().sample(torch.ones(2)), "ids"),
    (lambda: LassoInstanceSampler().sample(torch.ones(2, 2, dtype=torch.int64)), "ids"),
])
def test_bad_parameters_name_themselves(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()
