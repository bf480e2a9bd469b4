"""TV deconvolution objective, data generators and classical solvers."""
import numpy as np
import pytest
import torch

from l2obench.datasets.tv_deconvolution import canonical_hrf, make_fmri_like, make_tv_synthetic
from l2obench.objectives.tv_deconvolution import (lambda_max, reference_solve, synthesis_dictionary,
                                                 synthesis_weights, to_analysis, to_synthesis, tv_value)
from l2obench.solvers.classical.tv_admm import TVADMM
from l2obench.solvers.classical.tv_pdhg import TVPDHG
from l2obench.solvers.classical.tv_pgd import TVProximalGradient
from l2obench.solvers.classical.tv_synthesis_fista import TVSynthesisFISTA


@pytest.fixture(scope="module")
def problems():
    """Two small float64 problems (Gaussian and HRF operators) with certified references."""
    out = []
    for data, reg in ((make_tv_synthetic(5, 6, n_dim=8, n_measurements=10, seed=1), 0.3),
                      (make_fmri_like(5, 6, n_times=40, snr=15.0, seed=2), 0.1)):
        H, X = data.H, data.X_test
        lam = reg * lambda_max(H, X)
        out.append((H, X, lam, reference_solve(H, X, lam, tol=1e-13)))
    return out


def test_reference_is_certified(problems):
    for H, X, lam, ref in problems:
        assert bool((ref.gap >= -1e-12 * ref.value).all())
        assert bool((ref.gap <= 1e-12 * ref.value).all())


@pytest.mark.parametrize("solver, n_iter", [
    (TVProximalGradient(accelerated=False), 1500), (TVProximalGradient(accelerated=True), 600),
    (TVSynthesisFISTA(accelerated=True), 20000), (TVADMM(rho=3.0), 2000), (TVPDHG(tau=1.0), 3000)])
def test_classical_solvers_reach_reference(problems, solver, n_iter):
    for H, X, lam, ref in problems:
        P = tv_value(H, X, solver.solve(H, X, lam, n_iter), lam)
        rel = (P - ref.value) / ref.value
        assert float(rel.max()) < 1e-8, (type(solver).__name__, float(rel.max()))
        assert float(rel.min()) > -1e-10  # nobody beats a certified optimum


def test_lambda_max():
    data = make_tv_synthetic(2, 4, n_dim=10, n_measurements=12, seed=3)
    H, X = data.H, data.X_test
    lmax = lambda_max(H, X)
    above = reference_solve(H, X, 1.001 * lmax).Z
    assert float(torch.diff(above, dim=1).abs().max()) < 1e-9
    below = reference_solve(H, X, 0.9 * lmax).Z
    assert bool((torch.diff(below, dim=1).abs().amax(dim=1) > 1e-6).all())


def test_synthesis_form_is_the_same_problem():
    data = make_tv_synthetic(2, 5, n_dim=8, n_measurements=5, seed=4)
    H, X = data.H, data.X_test
    U = torch.randn(5, 8, dtype=torch.float64)
    lasso = 0.5 * ((X - U @ synthesis_dictionary(H).T) ** 2).sum(1) + 0.7 * (U.abs() * synthesis_weights(8)).sum(1)
    assert torch.allclose(tv_value(H, X, to_analysis(U), 0.7), lasso)
    assert torch.allclose(to_synthesis(to_analysis(U)), U)


def test_generators_are_seeded_and_shaped():
    a, b = make_fmri_like(7, 3, n_times=60, seed=5), make_fmri_like(7, 3, n_times=60, seed=5)
    assert torch.equal(a.X_train, b.X_train) and a.X_test.shape == (3, 60) and a.H.shape == (60, 60)
    assert not torch.equal(a.X_train, make_fmri_like(7, 3, n_times=60, seed=6).X_train)
    z = a.Z_train
    assert float((torch.diff(z, dim=1) != 0).float().mean()) < 0.3  # piecewise constant
    syn = make_tv_synthetic(4, 2, seed=0)
    assert syn.H.shape == (5, 8) and syn.X_train.shape == (4, 5)
    assert make_tv_synthetic(4, 2, seed=0, dtype="float32").X_train.dtype == torch.float32


def test_canonical_hrf():
    h = canonical_hrf()
    assert h.shape == (20,) and np.isclose(np.linalg.norm(h), 1.0)
    t_peak = np.argmax(h) * 0.735
    assert 4.0 < t_peak < 6.0  # gamma(6) density peaks at 5 s
    long = canonical_hrf(n_times=40)
    assert long.min() < 0 and 13.0 < np.argmin(long) * 0.735 < 17.0  # undershoot


@pytest.mark.parametrize("call, name", [
    (lambda: make_fmri_like(n_train=0), "n_train"),
    (lambda: make_fmri_like(design="blocks"), "design"),
    (lambda: make_tv_synthetic(p_jump=1.5), "p_jump"),
    (lambda: make_tv_synthetic(dtype="float16"), "dtype"),
    (lambda: canonical_hrf(tr=-1.0), "tr"),
    (lambda: TVProximalGradient(step=0.0).solve(torch.eye(3), torch.ones(1, 3), 0.1, 5), "step"),
    (lambda: TVProximalGradient().solve(torch.eye(3), torch.ones(1, 4), 0.1, 5), "X"),
    (lambda: TVADMM(rho=-1.0).solve(torch.eye(3), torch.ones(1, 3), 0.1, 5), "rho"),
    (lambda: TVPDHG().solve(torch.eye(3), torch.ones(1, 3), -0.1, 5), "lmbd"),
    (lambda: TVSynthesisFISTA().solve(torch.eye(3), torch.ones(1, 3), 0.1, -2), "n_iter"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize("solver", [TVProximalGradient(accelerated=True), TVSynthesisFISTA(), TVADMM(), TVPDHG()])
def test_callback_sees_the_iterates(solver):
    data = make_tv_synthetic(2, 4, seed=7)
    lam = 0.2 * lambda_max(data.H, data.X_test)
    seen = {}
    solver.solve(data.H, data.X_test, lam, 6, callback=lambda k, z: seen.setdefault(k, z.clone()))
    assert sorted(seen) == list(range(1, 7))
    assert torch.allclose(seen[4], solver.solve(data.H, data.X_test, lam, 4), atol=1e-13)
