"""The implicit CT model: exact adjoint and norm bound of the learned K, the fixed point inside the box
and the learned ball, JFB gradients reaching every tensor, a few fit steps lowering the loss, the
TV-min operator as the same step with K = grad, bad hyper-parameters."""
import numpy as np
import pytest
import torch

from l2obench.datasets.ct import random_ellipses
from l2obench.objectives.ct import CTProblem, ImageGradient
from l2obench.objectives.ct_projector import ParallelBeamGeometry, Projector
from l2obench.solvers.classical.linearized_admm import LinearizedADMM, LinearizedADMMOperator
from l2obench.solvers.fit import fit
from l2obench.solvers.implicit.ct import AveragedProx, ConvAnalysis, ImplicitCT, conv_norm_bound
from l2obench.solvers.implicit.fixed_point import FixedPointLayer
from l2obench.solvers.losses import Loss
from l2obench.solvers.training import TrainConfig

N = 16


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    problem = CTProblem(Projector(ParallelBeamGeometry(N, n_angles=8), cache_dir=tmp_path_factory.mktemp("ct")))
    x = torch.from_numpy(random_ellipses(24, N, np.random.default_rng(0)).reshape(24, -1)).float()
    ax = problem.projector.apply(x)
    d = ax + 0.015 * ax.abs().mean(1, keepdim=True) * torch.randn(ax.shape, generator=torch.Generator().manual_seed(1))
    return problem, x, d


def built(problem, seed=0, **kwargs):
    torch.manual_seed(seed)
    return ImplicitCT(**{"channels": 3, "n_blocks": 2, "depth": 20, **kwargs}).build(problem)


def test_conv_analysis_is_an_exact_adjoint_pair_of_norm_at_most_one():
    torch.manual_seed(0)
    op = ConvAnalysis(4, (6, 5)).double().requires_grad_(False)
    K, Kt = op.operators()
    eye = torch.eye(30, dtype=torch.float64)
    M = K(eye).T
    torch.testing.assert_close(Kt(torch.eye(120, dtype=torch.float64)).T, M.T)
    assert float(torch.linalg.matrix_norm(M, 2)) <= 1.0


def test_conv_norm_bound_bounds_the_operator_norm():
    torch.manual_seed(0)
    w = torch.randn(3, 2, 5, 5, dtype=torch.float64)
    eye = torch.eye(2 * 7 * 6, dtype=torch.float64).reshape(-1, 2, 7, 6)
    M = torch.nn.functional.conv2d(eye, w, padding=2).reshape(eye.shape[0], -1)
    norm = float(torch.linalg.matrix_norm(M, 2))
    assert norm <= float(conv_norm_bound(w)) and norm > 0.2 * float(conv_norm_bound(w))


def test_averaged_prox_is_firmly_nonexpansive_whatever_its_weights():
    torch.manual_seed(0)
    prox = AveragedProx(3, (6, 5), n_blocks=3).double().requires_grad_(False)
    for conv in prox.convs:   # far from the initialisation: the normalisation must hold the bound
        conv.weight.mul_(50.0)
        conv.bias.normal_()
    u, v = torch.randn(2, 200, 90, dtype=torch.float64)
    tu, tv = prox(u), prox(v)
    # ||Tu - Tv||^2 <= <Tu - Tv, u - v>: the resolvent of a monotone operator
    assert bool(((tu - tv).square().sum(1) <= ((tu - tv) * (u - v)).sum(1) + 1e-12).all())
    assert float((tu - tv).norm(dim=1).div((u - v).norm(dim=1)).max()) > 0.1   # not a trivial map


def test_averaged_prox_makes_the_untrained_operator_converge(setup):
    problem, _, d = setup
    model = built(problem, prox="averaged", log_delta0=-3.0)
    op = model.operator_
    f, z = op.step_fn(d), op.init_state(d)
    residuals = []
    with torch.no_grad():
        for _ in range(2000):
            z_new = f(z)
            residuals.append(float(((z_new - z).norm(dim=1) / z_new.norm(dim=1)).max()))
            z = z_new
    assert residuals[-1] < 1e-4 and residuals[-1] < 1e-2 * residuals[0]
    x = op.readout(z)
    assert bool(((problem.projector.apply(x) - d).norm(dim=1) <= model.delta(d) * 1.01).all())


def test_fixed_point_is_in_the_box_and_the_learned_ball(setup):
    problem, _, d = setup
    model = built(problem, depth=400, tol=1e-6, log_delta0=-3.0)
    x = model.solve(d)
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    residual = (problem.projector.apply(x) - d).norm(dim=1)
    assert bool((residual <= model.delta(d) * 1.05).all())   # the learned radius, to the solve's tolerance
    torch.testing.assert_close(model.delta(d), torch.exp(torch.tensor(-3.0)) * d.norm(dim=1))


def test_jfb_gradient_reaches_every_tensor(setup):
    problem, x, d = setup
    model = built(problem)
    ((model(d[:4]) - x[:4]) ** 2).sum().backward()
    names = [name for name, p in model.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert not names, f"no gradient reaches {names}"
    assert {"layer_.operator.analysis.weight", "layer_.operator.radius.log_delta"} <= dict(model.named_parameters()).keys()
    assert model.n_params() == 3 * 9 + 2 * (3 * 3 * 25 + 3) + 1


def test_fit_lowers_the_validation_loss(setup, tmp_path):
    from l2obench.solvers.cache import WeightCache

    problem, x, d = setup
    model = ImplicitCT(channels=3, n_blocks=2, depth=15)
    config = TrainConfig.for_budget(12, lr=3e-3, batch_size=8, n_evals=4, patience=0)
    meta = fit(model, problem, (d[:16],), loss=Loss("supervised"), target=x[:16], config=config,
               val=((d[16:],), x[16:]), cache=WeightCache(tmp_path))
    start = built(problem, depth=15)   # same seed, same initial weights (fit seeds with config.seed = 0)
    with torch.no_grad():
        before = float(((start(d[16:]) - x[16:]) ** 2).sum(1).mean())
    assert not meta["diverged"] and meta["best_val"] < before


def test_tv_min_is_the_same_step_with_the_image_gradient(setup):
    problem, _, d = setup
    op = LinearizedADMMOperator(problem, ImageGradient(problem.image_shape))
    layer = FixedPointLayer(op, max_iter=7, tol=0.0)
    torch.testing.assert_close(op.readout(layer.iterate(d, 7)), LinearizedADMM().solve(problem, d, 7), rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"channels": 0}, "channels"), ({"n_blocks": -1}, "n_blocks"), ({"prox": "unet"}, "prox"), ({"log_delta0": 1.0}, "log_delta0"),
    ({"backward": "exact"}, "backward"), ({"depth": 0}, "depth"), ({"tol": -1.0}, "tol"),
    ({"forward_solver": "newton"}, "forward_solver"),
])
def test_bad_hyper_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImplicitCT(**kwargs)


def test_step_sizes_are_checked_at_build(setup):
    with pytest.raises(ValueError, match="alpha\\*beta"):
        ImplicitCT(beta=0.6).build(setup[0])


def test_solve_is_capped_at_the_depth(setup):
    problem, _, d = setup
    model = built(problem, depth=6, tol=0.0)
    torch.testing.assert_close(model.solve(d, 50), model.solve(d, 6))
    assert not torch.allclose(model.solve(d, 3), model.solve(d, 6))
