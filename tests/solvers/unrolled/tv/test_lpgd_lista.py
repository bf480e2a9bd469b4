"""LPGD-LISTA: the inner LISTA approaches the exact prox; exact PGD past the depth."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.tv_deconvolution import TVProblem, lambda_max
from l2obench.objectives.tv_prox import prox_tv
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.unrolled.tv.lpgd_lista import InnerLISTAProx, LPGDLISTA


@pytest.fixture(scope="module")
def data():
    d = make_tv_synthetic(300, 50, seed=0)
    return d.H, d.X_train, 0.1 * lambda_max(d.H, d.X_train), d.X_test, 0.1 * lambda_max(d.H, d.X_test)


def test_inner_lista_approaches_the_exact_prox():
    gen = torch.Generator().manual_seed(0)
    Y = torch.cumsum(torch.randn(20, 8, generator=gen, dtype=torch.float64), dim=1)
    mu = torch.full((20,), 0.5, dtype=torch.float64)
    exact = prox_tv(Y, mu)
    # the inner network takes the thresholds as a (B, 1) column, as the outer layers pass them
    errors = [float((InnerLISTAProx(8, k)(Y, mu[:, None]) - exact).abs().max().detach()) for k in (5, 50, 2000)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-6


def test_lpgd_lista_continues_with_exact_pgd(data):
    H, _, _, X, lam = data
    problem = TVProblem(H)
    model = LPGDLISTA(n_layers=2, n_inner=3).build(problem)
    Z2 = model.solve(X, lam, 2)
    assert torch.allclose(model.solve(X, lam, 5), ProximalGradient().solve(problem, X, lam, 3, z0=Z2), atol=1e-12)


def test_inner_network_is_shared_by_the_outer_layers(data):
    H, _, _, _, _ = data
    model = LPGDLISTA(n_layers=3, n_inner=4).build(TVProblem(H))
    m, n = H.shape
    assert model.n_params() == 3 * (m * n + 1) + n * n + 2 * 4
    assert model.get_params() == {"n_layers": 3, "n_inner": 4, "scalar_lr_scale": 1.0}


def test_scalar_lr_scale_groups_the_scalars(data):
    H, _, _, X, lam = data
    problem = TVProblem(H)
    default = LPGDLISTA(n_layers=3, n_inner=4).build(problem)
    assert default.lr_groups(default.parameters()) == list(default.parameters())  # one group: unchanged protocol
    model = LPGDLISTA(n_layers=3, n_inner=4, scalar_lr_scale=0.1).build(problem)
    mats, scalars = model.lr_groups(model.parameters())
    assert scalars["lr_scale"] == 0.1 and mats["lr_scale"] == 1.0
    assert {id(p) for p in scalars["params"]} == {id(t) for t in (*model.theta_, model.prox_.gamma_, model.prox_.beta_)}
    assert {id(p) for p in mats["params"]} == {id(t) for t in (*model.W_, model.prox_.V_)}
    # the scale changes the training only: the analytic model is the same
    assert torch.equal(model.solve(X, lam, 3), default.solve(X, lam, 3))


def test_bad_inner_depth_names_the_parameter():
    with pytest.raises(ValueError, match="n_inner"):
        LPGDLISTA(n_layers=2, n_inner=0)
    with pytest.raises(ValueError, match="scalar_lr_scale"):
        LPGDLISTA(n_layers=2, scalar_lr_scale=0.0)
