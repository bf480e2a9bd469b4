"""Learned primal-dual specifics: the iteration cap and the operator scaled to norm 1 (the tests
shared with the U-Net, shapes, gradients, training, determinism, are in test_unet.py)."""
import pytest
import torch

from l2obench.solvers.ct.primal_dual import LearnedPrimalDual


def built(problem, seed=0, start="zero"):
    torch.manual_seed(seed)
    return LearnedPrimalDual(n_iterations=2, n_primal=3, n_dual=3, width=8, start=start).build(problem)


def test_primal_dual_runs_the_requested_iterations(problem, data):
    model = built(problem).eval()
    _, d = data
    with torch.no_grad():
        torch.testing.assert_close(model.solve(d, n_iter=1), model(d, n_iter=1))
        assert not torch.allclose(model.solve(d, n_iter=1), model.solve(d))
    assert torch.equal(model.solve(d, n_iter=10), model.solve(d))
    with pytest.raises(ValueError, match="n_iter"):
        model.solve(d, n_iter=-1)


def test_primal_dual_scales_the_operator(problem, data):
    # the first dual block sees [h0 = 0, K f0 = 0, d / ||A||] on the (n_angles, n_detectors) sinogram
    model = built(problem)
    _, d = data
    seen = []
    model.dual_[0][0].register_forward_hook(lambda mod, inputs, out: seen.append(inputs[0]))
    model(d)
    geom = problem.projector.geometry
    assert seen[0].shape == (d.shape[0], 3 + 2, geom.n_angles, geom.n_detectors)
    assert not seen[0][:, :-1].any()
    torch.testing.assert_close(seen[0][:, -1].reshape(d.shape), d / problem.projector.norm())


def test_fbp_start_puts_the_fbp_image_in_every_primal_channel(problem, data):
    model = built(problem, start="fbp")
    _, d = data
    torch.testing.assert_close(model.solve(d, n_iter=0), problem.projector.fbp(d))   # no iteration: the start
    seen = []
    model.primal_[0][0].register_forward_hook(lambda mod, inputs, out: seen.append(inputs[0]))
    model(d, n_iter=1)
    fbp = problem.projector.fbp(d).reshape(d.shape[0], 1, *problem.image_shape)
    torch.testing.assert_close(seen[0][:, :3], fbp.expand(-1, 3, -1, -1))
    with pytest.raises(ValueError, match="start"):
        LearnedPrimalDual(start="ones")
