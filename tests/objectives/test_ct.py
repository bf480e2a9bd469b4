"""CT problem: the gradient operator (adjoint, norm), the noise bound, TV-min by PDHG and linearized
ADMM against scipy's SLSQP, metrics, certificates and bad input."""
import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from l2obench.datasets.ct import make_ct
from l2obench.objectives import ct
from l2obench.objectives.ct_projector import ParallelBeamGeometry, Projector
from l2obench.solvers.classical.linearized_admm import LinearizedADMM
from l2obench.solvers.classical.pdhg import PDHG

DT = torch.float64


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 6 x 6 piecewise-constant image, 4 angles, 5 % noise (float64)."""
    projector = Projector(ParallelBeamGeometry(6, n_angles=4), dtype=DT, cache_dir=tmp_path_factory.mktemp("ct"))
    problem = ct.CTProblem(projector, noise_level=0.05)
    img = np.zeros((6, 6))
    img[1:4, 2:5] = 0.8
    img[3:5, 1:3] = 0.3
    x = torch.tensor(img.reshape(1, -1))
    ax = projector.apply(x)
    g = torch.Generator().manual_seed(0)
    d = ax + 0.05 * ax.abs().mean(1, keepdim=True) * torch.randn(ax.shape, generator=g, dtype=DT)
    return problem, x, d


def dense(fn, n):
    return fn(torch.eye(n, dtype=DT)).T


def test_image_gradient_adjoint_and_norm():
    shape = (5, 7)
    g = torch.Generator().manual_seed(0)
    x, v = torch.randn(3, 35, generator=g, dtype=DT), torch.randn(3, 70, generator=g, dtype=DT)
    lhs = (ct.image_gradient(x, shape) * v).sum()
    assert abs(float(lhs - (x * ct.image_gradient_adjoint(v, shape)).sum())) < 1e-12 * float(lhs.abs() + 1)
    G = dense(lambda e: ct.image_gradient(e, shape), 35)
    assert 7.0 < float(torch.linalg.matrix_norm(G, 2) ** 2) <= 8.0   # the bound the splittings divide by
    K, Kt = ct.ImageGradient(shape).operators()
    assert float(torch.linalg.matrix_norm(dense(K, 35), 2)) <= 1.0
    torch.testing.assert_close(dense(Kt, 70), dense(K, 35).T)
    torch.testing.assert_close(ct.total_variation(x, shape), (G @ x.T).abs().sum(0))


def test_noise_bound_holds_for_the_ground_truth_almost_always():
    data = make_ct(size=16, n_angles=10, n_train=400, n_val=4, n_test=4, seed=3)
    problem = ct.CTProblem(Projector(data["geometry"], dtype=DT))
    x, d = torch.from_numpy(data["x_train"]), torch.from_numpy(data["d_train"])
    keep = x.amax(1) > 0
    ratio = ct.fidelity(x[keep], d[keep], problem)
    assert 0.9 <= float((ratio <= 1).double().mean()) < 1.0     # delta is mean + 2 sd of the noise norm
    assert float(ratio.median()) > 0.8                          # and not loose


def slsqp_tv_min(problem, d):
    """TV-min of one measurement by scipy's SLSQP on the epigraph LP with the ball constraint."""
    n, shape = problem.shape[1], problem.image_shape
    G = dense(lambda e: ct.image_gradient(e, shape), n).numpy()
    A = dense(problem.projector.apply, n).numpy()
    k, delta, d = G.shape[0], float(problem.delta(d)[0]), d[0].numpy()
    cons = [{"type": "ineq", "fun": lambda v: np.r_[v[n:] - G @ v[:n], v[n:] + G @ v[:n]],
             "jac": lambda v: np.block([[-G, np.eye(k)], [G, np.eye(k)]])},
            {"type": "ineq", "fun": lambda v: delta ** 2 - np.sum((A @ v[:n] - d) ** 2),
             "jac": lambda v: np.r_[-2 * A.T @ (A @ v[:n] - d), np.zeros(k)]}]
    v0 = np.r_[np.full(n, 0.5), np.ones(k)]
    res = minimize(lambda v: v[n:].sum(), v0, jac=lambda v: np.r_[np.zeros(n), np.ones(k)], method="SLSQP",
                   bounds=[(0, 1)] * n + [(0, None)] * k, constraints=cons, options=dict(maxiter=2000, ftol=1e-14))
    x = np.clip(res.x[:n], 0, 1)
    # the reference is checked, not trusted (SLSQP may end on a line-search status next to the optimum)
    assert np.linalg.norm(A @ x - d) <= delta * (1 + 1e-8)
    return float(np.abs(G @ x).sum())


@pytest.mark.parametrize("solver, n_iter", [(PDHG(), 4000), (LinearizedADMM(), 4000)])
def test_tv_min_matches_scipy(small, solver, n_iter):
    problem, _, d = small
    ref = slsqp_tv_min(problem, d)
    x = solver.solve(problem, d, n_iter)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0                  # the box, exactly
    assert float(ct.fidelity(x, d, problem)[0]) <= 1 + 1e-4                 # the ball, to the tolerance
    assert abs(float(problem.value(x)[0]) - ref) <= 1e-4 * ref


def test_pdhg_callback_and_start(small):
    problem, _, d = small
    seen = {}
    PDHG().solve(problem, d, 5, callback=lambda k, z: seen.setdefault(k, z.clone()))
    torch.testing.assert_close(seen[3], PDHG().solve(problem, d, 3))
    torch.testing.assert_close(PDHG().solve(problem, d, 0), problem.initial_estimate(d))
    with pytest.raises(TypeError, match="takes"):
        PDHG().solve(problem, d, 3, lmbd=0.1)


def test_evaluate_metrics_and_certificates(small):
    problem, x, d = small
    x_true = x.repeat(4, 1)
    d4 = d.repeat(4, 1)
    noisy = x_true + 0.05 * torch.randn(x_true.shape, generator=torch.Generator().manual_seed(1), dtype=DT)
    out = ct.evaluate(noisy, x_true, d4, problem, calibration=(x_true, d4))
    mse = ((noisy - x_true) ** 2).mean(1)
    assert not out["diverged"]
    assert out["psnr"] == pytest.approx(float((10 * torch.log10(1 / mse)).mean()), rel=1e-10)
    assert 0 < out["ssim"] < 1
    assert out["box_violation"] == pytest.approx(float(ct.box_violation(noisy).mean()))
    labels = (ct.box_violation(noisy) > 1e-3).double() + (ct.box_violation(noisy) > 1e-2).double()
    assert out["cert_box_fail"] == float((labels == 2).double().mean())   # fixed bounds, not percentiles
    # the clipped truth: inside the box (pass), its noise ball (pass), its TV in the calibration's range
    clean = ct.evaluate(x_true, x_true.clone(), d4, problem, calibration=(x_true, d4))
    assert clean["cert_box_pass"] == 1.0 and clean["cert_fidelity_pass"] == 1.0 and clean["cert_regulariser_fail"] == 0.0
    keys = set(ct.metric_names())
    assert keys <= set(out) and {f"cert_{p}_{lab}" for p in ct.PROPERTIES for lab in ("pass", "warning", "fail")} <= keys
    nan = ct.evaluate(noisy * math.nan, x_true, d4, problem, calibration=(x_true, d4), prefix="s_")
    assert nan["diverged"] and all(math.isnan(nan["s_" + k]) for k in ct.metric_names())


@pytest.mark.parametrize("call, match", [
    (lambda p, x, d: ct.CTProblem(p.projector, noise_level=0.0), "noise_level"),
    (lambda p, x, d: p.check_data(d[:, :-1]), "d must have shape"),
    (lambda p, x, d: p.check_data(d[:0]), "at least one"),
    (lambda p, x, d: p.check_data(d * math.nan), "d contains NaN"),
    (lambda p, x, d: ct.evaluate(x[:, :-1], x, d, p), "x must be a tensor of shape"),
    (lambda p, x, d: ct.evaluate(x, x, d.repeat(2, 1), p), "d has shape"),
    (lambda p, x, d: PDHG(tau=0.0).solve(p, d, 3), "tau"),
    (lambda p, x, d: PDHG().solve(p, d, -1), "n_iter"),
])
def test_bad_input(small, call, match):
    problem, x, d = small
    with pytest.raises(ValueError, match=match):
        call(problem, x, d)


def test_problem_moves_and_fingerprints(small):
    problem, _, _ = small
    assert problem.to("cpu") is problem
    assert len(problem.fingerprint_tensors()) == len(problem.projector.fingerprint_tensors()) + 1
    assert problem.constraint_norm() == 1.0
