"""Tiny problems for the learned-optimizer tests: a shared-dictionary Lasso and a fake instance
sampler (``get_params()``, ``sample(ids) -> (LassoProblem, X, lmbd)``), seeded from the ids."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem


class FakeSampler:
    """Lasso instances on one shared dictionary (m, n); the signals are drawn from (seed, ids)."""

    def __init__(self, m=8, n=16, sparsity=3, rho=0.05, seed=0, dtype=torch.float64):
        self.m, self.n, self.sparsity, self.rho, self.seed, self.dtype = m, n, sparsity, rho, seed, dtype
        g = torch.Generator().manual_seed(1000 + seed)
        D = torch.randn(m, n, generator=g, dtype=torch.float64)
        self.problem = LassoProblem((D / D.norm(dim=0)).to(dtype))

    def get_params(self):
        return {"m": self.m, "n": self.n, "sparsity": self.sparsity, "rho": self.rho, "seed": self.seed}

    def sample(self, ids):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + int((ids * (ids + 7)).sum()) + 31 * ids.numel())
        Z = torch.randn(ids.numel(), self.n, generator=g, dtype=torch.float64)
        support = torch.rand(ids.numel(), self.n, generator=g, dtype=torch.float64).argsort(dim=1) < self.sparsity
        X = ((Z * support) @ self.problem.D.double().T).to(self.dtype)
        return self.problem, X, torch.full((ids.numel(),), self.rho, dtype=self.dtype)


@pytest.fixture
def fake_sampler():
    return FakeSampler


@pytest.fixture
def lasso():
    """``(LassoProblem, X, lmbd)``: 5 float64 signals of a 12 x 20 dictionary, λ = 0.1 λ_max."""
    g = torch.Generator().manual_seed(0)
    D = torch.randn(12, 20, generator=g, dtype=torch.float64)
    problem = LassoProblem(D / D.norm(dim=0))
    X = torch.randn(5, 12, generator=g, dtype=torch.float64)
    return problem, X, 0.1 * problem.lambda_max(X)
