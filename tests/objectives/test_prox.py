"""Separable proximal operators: soft-thresholding and the box projection."""
import pytest
import torch

from l2obench.objectives.prox import project_ball, project_box, soft_threshold


def reference(u, thresh):
    return torch.sign(u) * torch.clamp(u.abs() - thresh, min=0)


@pytest.mark.parametrize("thresh", [0.0, 0.3, torch.tensor([[0.1], [0.5], [2.0]], dtype=torch.float64),
                                    torch.linspace(0.0, 1.0, 4, dtype=torch.float64)])
def test_soft_threshold(thresh):
    u = torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(soft_threshold(u, thresh), reference(u, thresh))
    out = torch.empty_like(u)
    assert soft_threshold(u, thresh, out=out) is out
    torch.testing.assert_close(out, reference(u, thresh))


def test_zero_threshold_returns_a_copy_and_gradients_flow():
    u = torch.randn(2, 5, dtype=torch.float64)
    v = soft_threshold(u, 0)
    assert torch.equal(v, u) and v.data_ptr() != u.data_ptr()
    theta = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    u = torch.tensor([[1.0, -0.1, -2.0]], dtype=torch.float64, requires_grad=True)
    soft_threshold(u, theta).sum().backward()
    torch.testing.assert_close(u.grad, torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64))
    assert float(theta.grad) == pytest.approx(0.0)  # d/dθ = −sign(u) on the support: −1 (u = 1) + 1 (u = −2)


def test_project_box():
    u = torch.tensor([[-1.0, 0.5, 2.0]])
    assert torch.equal(project_box(u), torch.tensor([[0.0, 0.5, 1.0]]))
    low, high = torch.tensor([[-0.5]]), torch.tensor([[0.2]])
    assert torch.equal(project_box(u, low, high), torch.tensor([[-0.5, 0.2, 0.2]]))


def test_project_ball():
    g = torch.Generator().manual_seed(0)
    center, v = torch.randn(4, 5, generator=g, dtype=torch.float64), torch.randn(4, 5, generator=g, dtype=torch.float64)
    radius = torch.tensor([[0.0], [0.1], [1.0], [100.0]], dtype=torch.float64)
    p = project_ball(v, center, radius)
    dist = (v - center).norm(dim=1, keepdim=True)
    torch.testing.assert_close((p - center).norm(dim=1, keepdim=True), torch.minimum(dist, radius))
    torch.testing.assert_close(p[3], v[3])                       # inside: unchanged
    assert torch.equal(p[0], center[0])                           # radius 0: the centre, exactly
    # the projection is the closest point of the ball: no other point of it is closer to v
    other = center[1] + 0.1 * torch.nn.functional.normalize(torch.randn(5, generator=g, dtype=torch.float64), dim=0)
    assert float((v[1] - p[1]).norm()) <= float((v[1] - other).norm())
