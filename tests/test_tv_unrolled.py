"""TV unrolled networks: analytic weights reproduce the classical iterates; training helps."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_fmri_like, make_tv_synthetic
from l2obench.objectives.tv_deconvolution import lambda_max, tv_value
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.classical.tv_pgd import TVProximalGradient
from l2obench.solvers.classical.tv_synthesis_fista import TVSynthesisFISTA
from l2obench.solvers.prox_tv import prox_tv
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.tv_fit import fit_tv_model
from l2obench.solvers.unrolled.tv_lista import TVSynthesisLISTA
from l2obench.solvers.unrolled.tv_lpgd import LPGDTaut
from l2obench.solvers.unrolled.tv_lpgd_lista import InnerLISTAProx, LPGDLISTA


@pytest.fixture(scope="module")
def data():
    d = make_tv_synthetic(300, 50, seed=0)
    return d.H, d.X_train, 0.1 * lambda_max(d.H, d.X_train), d.X_test, 0.1 * lambda_max(d.H, d.X_test)


@pytest.mark.parametrize("n_iter", [1, 4, 9])  # 9 > depth: classical iterations after the network
def test_analytic_lpgd_taut_is_pgd(data, n_iter):
    H, _, _, X, lam = data
    model = LPGDTaut(n_layers=4).build(H)
    expected = TVProximalGradient(accelerated=False).solve(H, X, lam, n_iter)
    assert torch.allclose(model.solve(X, lam, n_iter), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("n_iter", [1, 4, 9])
def test_analytic_synthesis_lista_is_ista(data, n_iter):
    H, _, _, X, lam = data
    model = TVSynthesisLISTA(n_layers=4).build(H)
    expected = TVSynthesisFISTA(accelerated=False).solve(H, X, lam, n_iter)
    assert torch.allclose(model.solve(X, lam, n_iter), expected, atol=1e-12, rtol=0)


def test_fmri_operator_equivalence():
    d = make_fmri_like(2, 4, n_times=30, seed=1)
    lam = 0.1 * lambda_max(d.H, d.X_test)
    model = LPGDTaut(n_layers=3).build(d.H)
    assert torch.allclose(model.solve(d.X_test, lam, 3), TVProximalGradient().solve(d.H, d.X_test, lam, 3), atol=1e-12)


def test_inner_lista_approaches_the_exact_prox():
    gen = torch.Generator().manual_seed(0)
    Y = torch.cumsum(torch.randn(20, 8, generator=gen, dtype=torch.float64), dim=1)
    mu = torch.full((20,), 0.5, dtype=torch.float64)
    exact = prox_tv(Y, mu)
    errors = [float((InnerLISTAProx(8, k)(Y, mu) - exact).abs().max().detach()) for k in (5, 50, 2000)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-6


def test_lpgd_lista_continues_with_exact_pgd(data):
    H, _, _, X, lam = data
    model = LPGDLISTA(n_layers=2, n_inner=3).build(H)
    Z2 = model.solve(X, lam, 2)
    assert torch.allclose(model.solve(X, lam, 5), TVProximalGradient().solve(H, X, lam, 3, z0=Z2), atol=1e-12)


@pytest.mark.parametrize("cls", [LPGDTaut, lambda n_layers: LPGDLISTA(n_layers, n_inner=5), TVSynthesisLISTA])
def test_training_lowers_the_objective_and_is_cached(data, cls, tmp_path):
    H, X_tr, lam_tr, X, lam = data
    config = TrainConfig(n_steps=40, batch_size=32, lr=2e-3, eval_every=20, patience=0, seed=0)
    base = cls(n_layers=3).build(H)
    before = float(tv_value(H, X, base.solve(X, lam, 3), lam).mean())
    model = cls(n_layers=3)
    info = fit_tv_model(model, H, X_tr, lam_tr, config=config, cache=WeightCache(tmp_path))
    after = float(tv_value(H, X, model.solve(X, lam, 3), lam).mean())
    assert after < before and not info["cache_hit"] and info["trained_depth"] == 3 and info["n_params"] > 0
    again = cls(n_layers=3)
    assert fit_tv_model(again, H, X_tr, lam_tr, config=config, cache=WeightCache(tmp_path))["cache_hit"]
    assert torch.equal(again.solve(X, lam, 3), model.solve(X, lam, 3))


@pytest.mark.parametrize("call, name", [
    (lambda: LPGDTaut(n_layers=0), "n_layers"),
    (lambda: LPGDLISTA(n_layers=2, n_inner=0), "n_inner"),
    (lambda: LPGDTaut(2).build(torch.ones(3)), "H"),
    (lambda: LPGDTaut(2).build(torch.eye(3)).solve(torch.ones(2, 4), 0.1, 3), "X"),
    (lambda: LPGDTaut(2).build(torch.eye(3)).solve(torch.ones(2, 3), 0.1, -1), "n_iter"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
