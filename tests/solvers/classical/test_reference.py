"""Certified reference solves (restarted FISTA until the duality gap certifies), on the Lasso and
on TV, and their on-disk cache that re-certifies what it loads."""
import pytest
import torch

from l2obench.objectives.lasso import BatchedLassoProblem, LassoProblem
from l2obench.objectives.tv_deconvolution import TVProblem, synthesis_problem
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.classical.admm import ADMM
from l2obench.solvers.classical.lasso_oracle_ista import OracleISTA
from l2obench.solvers.classical.lasso_sklearn import SklearnLasso
from l2obench.solvers.classical.pdhg import PDHG
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.classical.reference import Solution, cached_certified_solve, certified_solve, certify
from support import random_lasso as lasso

LASSO_SOLVERS = [
    (ProximalGradient(), 2_000), (ProximalGradient(accelerated=True), 1_000),
    (ProximalGradient(accelerated=True, form="residual"), 1_000), (ADMM(), 1_000), (PDHG(), 3_000),
    (OracleISTA(), 1_000), (SklearnLasso("cd"), 10_000), (SklearnLasso("lars"), 500),
]


@pytest.mark.parametrize("warm_start", [True, False])
def test_reference_is_certified_and_below_every_solver(lasso_reference, warm_start):
    problem, X, lmbd, F_sk = lasso_reference
    ref = certified_solve(problem, X, lmbd, tol=1e-13,
                          warm_start=SklearnLasso("cd", tol=1e-13) if warm_start else None)
    assert torch.all(ref.gap <= 1e-13 * ref.value)
    assert torch.all(problem.dual_value(X, ref.Z, lmbd) <= F_sk + 1e-12)
    for solver, n_iter in LASSO_SOLVERS:
        F = problem.value(X, solver.solve(problem, X, lmbd, min(n_iter, 200)), lmbd)
        assert torch.all(ref.value <= F + 1e-12 * F)


def test_tv_reference_is_certified(tv_problems):
    for problem, X, lam, ref in tv_problems:
        assert bool((ref.gap >= -1e-12 * ref.value).all())
        assert bool((ref.gap <= 1e-12 * ref.value).all())


def test_solution_is_its_own_certificate(tv_problems):
    problem, X, lam, ref = tv_problems[0]
    again = certify(problem, X, ref.Z, lam, ref.n_iter)
    torch.testing.assert_close(again.value, ref.value, rtol=0, atol=0)
    torch.testing.assert_close(again.gap, ref.gap, rtol=0, atol=0)
    assert again.certified(1e-12) and not certify(problem, X, torch.zeros_like(ref.Z), lam).certified(1e-12)


def test_stops_at_a_gap_check():
    problem, X, lmbd = lasso(1)
    ref = certified_solve(problem, X, lmbd, tol=1e-10, check_every=7)
    assert ref.certified(1e-10) and 0 < ref.n_iter and ref.n_iter % 7 == 0
    capped = certified_solve(problem, X, lmbd, tol=1e-15, max_iter=30)
    assert capped.n_iter == 30  # ran out of iterations: returned, not certified
    assert not capped.certified(1e-15)


def test_no_iterations_returns_the_start():
    problem, X, lmbd = lasso(1)
    start = certified_solve(problem, X, lmbd, max_iter=0)
    assert start.n_iter == 0 and torch.equal(start.Z, torch.zeros_like(start.Z))
    warm = certified_solve(problem, X, lmbd, tol=1e-10, max_iter=0, warm_start=SklearnLasso("cd", tol=1e-14))
    assert warm.certified(1e-10)


@pytest.mark.parametrize("make, match", [
    (lambda: synthesis_problem(torch.randn(5, 8, dtype=torch.float64)), "dual"),
    (lambda: LassoProblem(torch.randn(5, 8, dtype=torch.float64), weights=torch.ones(8, dtype=torch.float64)), "dual"),
    (lambda: LassoProblem(torch.randn(5, 8)), "float64"),
    (lambda: TVProblem(torch.randn(5, 8)), "float64"),
])
def test_uncertifiable_problems_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        certified_solve(make(), torch.ones(2, 5, dtype=torch.float64), 0.1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(tol=-1.0), "tol"), (dict(max_iter=-1), "max_iter"), (dict(check_every=0), "check_every"),
    (dict(lmbd=-0.1), "lmbd"), (dict(X=torch.zeros(0, 20, dtype=torch.float64)), "X"),
])
def test_bad_input_names_the_parameter(kwargs, match):
    problem, X, lmbd = lasso(2)
    args = dict(X=X, lmbd=lmbd) | kwargs
    with pytest.raises(ValueError, match=match):
        certified_solve(problem, **args)


def test_cache_stores_and_recertifies(tmp_path):
    problem, X, lmbd = lasso(3)
    cache = WeightCache(tmp_path)
    first = cached_certified_solve(problem, X, lmbd, tol=1e-11, cache=cache)
    assert isinstance(first, Solution) and first.certified(1e-11)
    (path,) = tmp_path.glob("*.pt")
    again = cached_certified_solve(problem, X, lmbd, tol=1e-11, cache=cache)
    assert torch.equal(again.Z, first.Z) and again.n_iter == first.n_iter
    # another λ is another entry
    cached_certified_solve(problem, X, 0.5 * lmbd, tol=1e-11, cache=cache)
    assert len(list(tmp_path.glob("*.pt"))) == 2
    # a file whose solution does not certify is recomputed, never trusted
    torch.save({"state": {"Z": torch.zeros_like(first.Z)}, "meta": {"n_iter": 0}}, path)
    with pytest.warns(RuntimeWarning, match="does not fit"):
        fixed = cached_certified_solve(problem, X, lmbd, tol=1e-11, cache=cache)
    assert fixed.certified(1e-11)
    torch.testing.assert_close(fixed.value, first.value, rtol=1e-11, atol=0)


def test_cache_serves_tv(tmp_path, tv_problems):
    problem, X, lam, ref = tv_problems[1]
    cache = WeightCache(tmp_path)
    first = cached_certified_solve(problem, X, lam, tol=1e-11, cache=cache, max_iter=20_000)
    again = cached_certified_solve(problem, X, lam, tol=1e-11, cache=cache)
    assert torch.equal(again.Z, first.Z) and again.certified(1e-11)
    assert torch.all(again.value - ref.value <= 1e-11 * ref.value)


def test_certifies_per_instance_lasso_and_logistic(tmp_path):
    from l2obench.datasets.l1_logistic import LogisticInstanceSampler
    from l2obench.datasets.lasso_instances import LassoInstanceSampler

    problem, X, lmbd = LassoInstanceSampler(m=15, n=30, sparsity=4, rho=0.05, dtype="float64").sample(torch.arange(6))
    ref = certified_solve(problem, X, lmbd, tol=1e-10)
    assert ref.certified(1e-10) and 0 < ref.n_iter
    for i in range(6):  # each row is the Lasso of its own dictionary
        row = certified_solve(LassoProblem(problem.D[i]), X[i:i + 1], lmbd[i:i + 1], tol=1e-12)
        torch.testing.assert_close(ref.value[i:i + 1], row.value, rtol=1e-9, atol=0)
    cache = WeightCache(tmp_path)
    first = cached_certified_solve(problem, X, lmbd, tol=1e-10, cache=cache)
    assert torch.equal(cached_certified_solve(problem, X, lmbd, tol=1e-10, cache=cache).Z, first.Z)
    logistic, y, lam = LogisticInstanceSampler(n_samples=80, n_features=10, sparsity=3, rho=0.02,
                                               dtype="float64").sample(torch.arange(3))
    ref = certified_solve(logistic, y, lam, tol=1e-10)
    assert ref.certified(1e-10) and bool((ref.Z != 0).any(dim=1).all())
    with pytest.raises(ValueError, match="float64"):
        certified_solve(BatchedLassoProblem(problem.D.float()), X, lmbd)
