"""Condat's direct TV prox: exact against BVLS, the same point and active set as the active-set method."""
import numpy as np
import pytest
import torch

pytest.importorskip("numba")

from l2obench.objectives.tv_prox import ProxWarmStart, prox_tv, prox_tv_numpy  # noqa: E402
from l2obench.objectives.tv_prox_condat import prox_tv_condat  # noqa: E402

from .test_tv_prox import reference_prox, signals  # noqa: E402


@pytest.mark.parametrize("n", [2, 3, 5, 17, 64])
@pytest.mark.parametrize("lam", [0.01, 0.2, 1.0, 20.0])
def test_matches_reference(n, lam):
    rng = np.random.default_rng(n)
    y = signals(rng, 4, n)
    z, signs = prox_tv_condat(y, np.full(4, lam))
    for b in range(4):
        np.testing.assert_allclose(z[b], reference_prox(y[b], lam), atol=1e-10, rtol=0)
    np.testing.assert_array_equal(signs, np.sign(np.diff(z, axis=1)).astype(np.int8))


def test_same_point_and_jumps_as_the_active_set_method():
    rng = np.random.default_rng(0)
    y = signals(rng, 300, 120)
    lam = rng.uniform(0.05, 3.0, size=300)
    z, signs = prox_tv_condat(y, lam)
    z_as, signs_as = prox_tv_numpy(y, lam, return_signs=True)
    np.testing.assert_allclose(z, z_as, atol=1e-10, rtol=0)
    np.testing.assert_array_equal(signs, signs_as)
    assert np.all(np.diff(z, axis=1)[signs == 0] == 0)  # exactly piecewise constant


def test_default_method_gradients_and_state():
    gen = torch.Generator().manual_seed(0)
    y = (torch.randn(3, 7, generator=gen, dtype=torch.float64) * 2).requires_grad_()
    lam = torch.tensor([0.3, 0.5, 0.8], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: prox_tv(a, b, method="condat"), (y, lam), eps=1e-7, atol=1e-6)
    warm = ProxWarmStart()
    z = prox_tv(y.detach(), 0.4, warm, method="condat")
    assert torch.allclose(z, prox_tv(y.detach(), 0.4, method="active_set"), atol=1e-12, rtol=0)
    assert warm.signs.shape == (3, 6) and warm.signs.dtype == np.int8


def test_edge_cases_and_bad_method():
    y = torch.randn(3, 6, dtype=torch.float64)
    assert torch.equal(prox_tv(y, 0.0, method="condat"), y)
    assert torch.allclose(prox_tv(y, 1e6, method="condat"), y.mean(dim=1, keepdim=True).expand_as(y), atol=1e-12)
    assert torch.equal(prox_tv(y[:, :1], 1.0, method="condat"), y[:, :1])
    with pytest.raises(ValueError, match="method"):
        prox_tv(y, 0.1, method="taut")
