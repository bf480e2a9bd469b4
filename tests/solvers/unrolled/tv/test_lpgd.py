"""LPGD-Taut: analytic weights reproduce PGD (exact TV prox), bad input."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_fmri_like, make_tv_synthetic
from l2obench.objectives.tv_deconvolution import TVProblem, lambda_max
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.fit import fit
from l2obench.solvers.losses import Loss
from l2obench.solvers.params import get_params
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut


@pytest.fixture(scope="module")
def data():
    d = make_tv_synthetic(300, 50, seed=0)
    return d.H, d.X_train, 0.1 * lambda_max(d.H, d.X_train), d.X_test, 0.1 * lambda_max(d.H, d.X_test)


@pytest.mark.parametrize("weight", ["dense", "step"])
@pytest.mark.parametrize("n_iter", [1, 4, 9])  # 9 > depth: classical iterations after the network
def test_analytic_lpgd_taut_is_pgd(data, n_iter, weight):
    H, _, _, X, lam = data
    problem = TVProblem(H)
    model = LPGDTaut(n_layers=4, weight=weight).build(problem)
    expected = ProximalGradient(accelerated=False).solve(problem, X, lam, n_iter)
    assert torch.allclose(model.solve(X, lam, n_iter), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_analytic_lpgd_taut_layers_are_pgd_iterates(data, depth):
    H, _, _, X, lam = data
    problem = TVProblem(H)
    model = LPGDTaut(n_layers=depth).build(problem)
    pgd = ProximalGradient(accelerated=False)
    with torch.no_grad():
        layers = model(X, lam, all_layers=True)
    assert len(layers) == depth
    for k, Z in enumerate(layers, start=1):
        assert torch.allclose(Z, pgd.solve(problem, X, lam, k), atol=1e-12, rtol=0)
    for n_iter in (depth + 1, depth + 8):
        assert torch.allclose(model.solve(X, lam, n_iter), pgd.solve(problem, X, lam, n_iter), atol=1e-12, rtol=0)


def test_fmri_operator_equivalence():
    d = make_fmri_like(2, 4, n_times=30, seed=1)
    lam = 0.1 * lambda_max(d.H, d.X_test)
    problem = TVProblem(d.H)
    model = LPGDTaut(n_layers=3).build(problem)
    assert torch.allclose(model.solve(d.X_test, lam, 3), ProximalGradient().solve(problem, d.X_test, lam, 3), atol=1e-12)


@pytest.mark.parametrize("call, name", [
    (lambda: LPGDTaut(n_layers=0), "n_layers"),
    (lambda: LPGDTaut(2).build(TVProblem(torch.ones(3))), "H"),
    (lambda: LPGDTaut(2).build(TVProblem(torch.eye(3))).solve(torch.ones(2, 4), 0.1, 3), "X"),
    (lambda: LPGDTaut(2).build(TVProblem(torch.eye(3))).solve(torch.ones(2, 3), 0.1, -1), "n_iter"),
    (lambda: LPGDTaut(2).build(torch.eye(3)), "problem"),
    (lambda: LPGDTaut(2, weight="banded"), "weight"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_step_weight_learns_two_scalars_per_layer_and_beats_pgd(data):
    """W_k = s_k H: 2T parameters; trained per depth by L-BFGS it lowers the objective below PGD's."""
    H, X_tr, lam_tr, X, lam = data
    problem = TVProblem(H)
    model = LPGDTaut(n_layers=3, weight="step")
    meta = fit(model, problem, (X_tr, lam_tr), loss=Loss("unsupervised"),
               config=TrainConfig(n_steps=15, eval_every=5, optimizer="lbfgs"))
    assert model.n_params() == 6 and get_params(model)["weight"] == "step"
    assert not meta["diverged"]
    with torch.no_grad():
        learned = problem.value(X, model(X, lam), lam).mean()
        pgd = problem.value(X, ProximalGradient().solve(problem, X, lam, 3), lam).mean()
    assert learned < pgd


@pytest.mark.parametrize("n_measurements", [3, 5])  # n >= 2m: the residual form; n < 2m: the Gram form
def test_step_weight_both_forms_are_pgd(n_measurements):
    d = make_tv_synthetic(2, 20, n_dim=8, n_measurements=n_measurements, seed=3)
    problem = TVProblem(d.H)
    lam = 0.1 * lambda_max(d.H, d.X_test)
    model = LPGDTaut(n_layers=5, weight="step").build(problem)
    assert model.gram_form_ == (n_measurements == 5)
    with torch.no_grad():
        layers = model(d.X_test, lam, all_layers=True)
    for k, Z in enumerate(layers, start=1):
        assert torch.allclose(Z, ProximalGradient().solve(problem, d.X_test, lam, k), atol=1e-12, rtol=0)
