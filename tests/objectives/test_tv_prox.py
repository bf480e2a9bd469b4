"""The exact 1-D TV prox: slow reference, optimality conditions, Jacobian, input checks."""
import numpy as np
import pytest
import torch
from scipy.optimize import lsq_linear

from l2obench.objectives.tv_prox import ProxWarmStart, prox_tv, prox_tv_numpy


def reference_prox(y, lam):
    """Dual box-constrained least squares solved by BVLS: z = y − Dᵀw."""
    D = np.diff(np.eye(y.size), axis=0)
    w = lsq_linear(D.T, y, bounds=(-lam, lam), method="bvls", tol=1e-15, max_iter=10_000).x
    return y - D.T @ w


def signals(rng, batch, n):
    """Piecewise-constant-ish signals plus noise, so that both jumps and plateaus occur."""
    return np.cumsum(rng.standard_normal((batch, n)) * (rng.random((batch, n)) < 0.3), 1) + \
        0.5 * rng.standard_normal((batch, n))


@pytest.mark.parametrize("n", [2, 5, 17, 64])
@pytest.mark.parametrize("lam", [0.01, 0.2, 1.0, 20.0])
def test_matches_reference(n, lam):
    rng = np.random.default_rng(n)
    y = signals(rng, 4, n)
    z = prox_tv_numpy(y, lam)
    for b in range(4):
        np.testing.assert_allclose(z[b], reference_prox(y[b], lam), atol=1e-10, rtol=0)


def test_optimality_conditions_large_batch():
    rng = np.random.default_rng(0)
    y = signals(rng, 300, 120)
    lam = rng.uniform(0.05, 3.0, size=300)  # one threshold per signal
    z = prox_tv_numpy(y, lam)
    w = -np.cumsum(y - z, axis=1)  # Dᵀw = y − z, (Dᵀw)_j = w_{j-1} − w_j, w_0 = w_n = 0
    np.testing.assert_allclose(w[:, -1], 0, atol=1e-10)
    w = w[:, :-1]
    assert np.all(np.abs(w) <= lam[:, None] * (1 + 1e-10) + 1e-12)
    dz = np.diff(z, axis=1)
    jumps = np.abs(dz) > 1e-12
    np.testing.assert_allclose(w[jumps], (lam[:, None] * np.sign(dz))[jumps], atol=1e-10)
    # exactly piecewise constant between jumps
    assert np.all((np.abs(dz) == 0) | jumps)


def test_edge_cases():
    y = torch.randn(3, 6, dtype=torch.float64)
    assert torch.equal(prox_tv(y, 0.0), y)
    big = prox_tv(y, 1e6)  # constant at the mean
    assert torch.allclose(big, y.mean(dim=1, keepdim=True).expand_as(y), atol=1e-12)
    assert torch.equal(prox_tv(y[:, :1], 1.0), y[:, :1])
    one = prox_tv(y[0], 0.3)
    assert one.shape == (6,) and torch.allclose(one, prox_tv(y, 0.3)[0])


def test_float32_and_per_sample_lam():
    y = torch.randn(5, 10)
    lam = torch.linspace(0.1, 1.0, 5)
    z = prox_tv(y, lam)
    assert z.dtype == torch.float32
    z64 = prox_tv_numpy(y.double().numpy(), lam.double().numpy())
    np.testing.assert_allclose(z.numpy(), z64, atol=1e-5)


def test_gradcheck():
    gen = torch.Generator().manual_seed(0)
    y = (torch.randn(3, 7, generator=gen, dtype=torch.float64) * 2).requires_grad_()
    lam = torch.tensor([0.3, 0.5, 0.8], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(prox_tv, (y, lam), eps=1e-7, atol=1e-6)
    lam_scalar = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(prox_tv, (y, lam_scalar), eps=1e-7, atol=1e-6)


@pytest.mark.parametrize("lam, match", [(-1.0, "lam"), (float("nan"), "lam"), (torch.ones(4), "lam")])
def test_bad_lam(lam, match):
    with pytest.raises(ValueError, match=match):
        prox_tv(torch.randn(3, 5), lam)


def test_bad_y():
    with pytest.raises(ValueError, match="y"):
        prox_tv(torch.tensor([[1.0, float("inf")]]), 0.1)
    with pytest.raises(ValueError, match="y"):
        prox_tv(torch.randn(2, 3, 4), 0.1)


def test_warm_start_gives_the_same_answer():
    rng = np.random.default_rng(3)
    y = torch.from_numpy(signals(rng, 50, 40))
    warm = ProxWarmStart()
    warm.signs = rng.integers(-1, 2, size=(50, 39)).astype(np.int8)  # an arbitrary, wrong guess
    assert torch.allclose(prox_tv(y, 0.4, warm), prox_tv(y, 0.4), atol=1e-13, rtol=0)
    assert warm.signs.shape == (50, 39)
    assert torch.allclose(prox_tv(y + 1e-3, 0.4, warm), prox_tv(y + 1e-3, 0.4), atol=1e-13, rtol=0)


@pytest.mark.parametrize("y, match", [
    (torch.ones(3, 5, dtype=torch.float16), "y must be float32 or float64"),   # was computed in float64, cast back
    (torch.ones(3, 5, dtype=torch.int64), "y must be float32 or float64"),     # was an integer (truncated) prox
])
def test_low_precision_and_integer_y_are_rejected(y, match):
    with pytest.raises(ValueError, match=match):
        prox_tv(y, 0.1)


def test_empty_batch_names_y():
    with pytest.raises(ValueError, match="^y must hold at least one signal"):
        prox_tv(torch.zeros(0, 5), 0.1)
