"""The learned CT baselines (FBP + U-Net, learned primal-dual): shapes, parameter counts, gradients,
a few training steps, batching, deterministic no-grad inference and hyper-parameter checks."""
from types import SimpleNamespace

import pytest
import torch

from l2obench.objectives.ct import CTProblem
from l2obench.solvers.ct.primal_dual import LearnedPrimalDual
from l2obench.solvers.ct.unet import FBPUNet

TINY = {"unet": lambda: FBPUNet(width=4), "lpd": lambda: LearnedPrimalDual(n_iterations=2, n_primal=3, n_dual=3, width=8)}


def built(name, problem, seed=0):
    torch.manual_seed(seed)
    return TINY[name]().build(problem)


@pytest.mark.parametrize("name", list(TINY))
def test_shapes_and_dtype(name, problem, data):
    model = built(name, problem)
    x, d = data
    out = model(d)
    assert out.shape == x.shape and out.dtype == torch.float32 and out.requires_grad
    assert model.solve(d).shape == x.shape
    assert model.lr_groups(model.parameters()) == list(model.parameters())
    p64 = CTProblem(problem.projector.to(dtype=torch.float64))
    model64 = TINY[name]().build(p64)
    assert all(p.dtype == torch.float64 for p in model64.parameters())
    assert model64.solve(d.double()).dtype == torch.float64


def test_parameter_counts(problem):
    # 533,593 in the paper is impossible for these widths (module docstring of unet.py): 533,601
    assert FBPUNet(width=32).build(problem).n_params() == 533_601
    # per iteration: dual 7→32→32→5 and primal 6→32→32→5 3×3 convolutions with biases, two PReLU(32) each
    per_iter = (7 * 32 * 9 + 32) + (32 * 32 * 9 + 32) + (32 * 5 * 9 + 5) + (6 * 32 * 9 + 32) \
        + (32 * 32 * 9 + 32) + (32 * 5 * 9 + 5) + 4 * 32
    assert LearnedPrimalDual().build(problem).n_params() == 10 * per_iter == 253_220
    assert FBPUNet().build(problem).trained_depth() == 1
    assert LearnedPrimalDual(n_iterations=3).build(problem).trained_depth() == 3


@pytest.mark.parametrize("name", list(TINY))
def test_gradient_reaches_every_parameter(name, problem, data):
    model = built(name, problem)
    x, d = data
    ((model(d) - x) ** 2).sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()), pname
        assert float(p.grad.abs().max()) > 0, pname


@pytest.mark.parametrize("name", list(TINY))
def test_adam_steps_lower_a_supervised_loss(name, problem, data):
    model = built(name, problem)
    x, d = data
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = ((model(d) - x) ** 2).sum(1).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize("name", list(TINY))
def test_solve_is_deterministic_batched_and_no_grad(name, problem, data):
    model = built(name, problem)
    model.train()
    _, d = data
    out = model.solve(d)
    assert not out.requires_grad and model.training    # eval inside solve, the mode restored
    assert torch.equal(out, model.solve(d))
    # eval mode: each image's reconstruction does not depend on the rest of the batch
    singles = torch.cat([model.solve(d[i:i + 1]) for i in range(d.shape[0])])
    torch.testing.assert_close(out, singles, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="d"):
        model.solve(d[:, :-1])


@pytest.mark.parametrize("make, name", [
    (lambda: FBPUNet(width=0), "width"), (lambda: FBPUNet(width=2.5), "width"),
    (lambda: FBPUNet(filter="shepp"), "filter"),
    (lambda: LearnedPrimalDual(n_iterations=0), "n_iterations"), (lambda: LearnedPrimalDual(n_primal=0), "n_primal"),
    (lambda: LearnedPrimalDual(n_dual=True), "n_dual"), (lambda: LearnedPrimalDual(width=-1), "width"),
])
def test_bad_hyper_parameters(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_unet_needs_a_size_divisible_by_four():
    fake = SimpleNamespace(image_shape=(30, 30), shape=(10, 900), projector=None, dtype=torch.float32)
    with pytest.raises(ValueError, match="divisible by 4"):
        FBPUNet(width=2).build(fake)


def test_hyper_parameters_round_trip():
    assert FBPUNet(width=8, filter="hann").get_params() == {"width": 8, "filter": "hann"}
    assert LearnedPrimalDual(3, 2, 4, 16).get_params() == {"n_iterations": 3, "n_primal": 2, "n_dual": 4, "width": 16,
                                                           "start": "fbp"}
