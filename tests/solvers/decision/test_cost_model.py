"""Cost networks and DYS-net: the paper's architecture, checks, and the gradient of the
Davis–Yin decision (IFT against central finite differences; JFB finite and nonzero)."""
import pytest
import torch

from l2obench.objectives.shortest_path import GridShortestPath
from l2obench.solvers.decision.cost_model import CostNetwork, DYSNet

DT = torch.float64


def test_cost_network_is_the_papers():
    torch.manual_seed(0)
    problem = GridShortestPath(5, n_features=5)
    model = CostNetwork().build(problem)
    assert problem.n_costs == 40
    assert model.n_params() == 5 * 50 + 50 + 50 * 40 + 40
    assert sum(p.numel() for p in model.parameters()) == 2340
    first, act, last = model.net_
    assert (first.in_features, first.out_features, last.in_features, last.out_features) == (5, 50, 50, 40)
    assert act.negative_slope == 0.1 and first.weight.dtype == DT
    assert CostNetwork(hidden=7).build(problem).n_params() == 5 * 7 + 7 + 7 * 40 + 40
    U = torch.randn(3, 5, dtype=DT)
    C = model.costs(U)
    assert C.shape == (3, 40) and C.requires_grad
    torch.testing.assert_close(model(U), C)
    S = model.solve(U, n_iter=10)
    assert not S.requires_grad and torch.equal(S, C.detach()) and model.trained_depth() == 1
    assert model.get_params() == {"hidden": None, "negative_slope": 0.1}
    assert CostNetwork().build(problem.astype(torch.float32)).net_[0].weight.dtype == torch.float32


def test_cost_network_checks():
    with pytest.raises(ValueError, match="n_features"):
        CostNetwork().build(GridShortestPath(3))
    model = CostNetwork().build(GridShortestPath(3, n_features=4))
    for U in (torch.ones(2, 5, dtype=DT), torch.ones(4, dtype=DT)):
        with pytest.raises(ValueError, match=r"features must have shape \(B, 4\)"):
            model.costs(U)
    for kwargs, name in (({"hidden": 0}, "hidden"), ({"negative_slope": 1.5}, "negative_slope")):
        with pytest.raises(ValueError, match=name):
            CostNetwork(**kwargs)
    for kwargs, name in (({"alpha": 0.0}, "alpha"), ({"gamma": -1.0}, "gamma"), ({"gamma": 0.5, "alpha": 4.0}, "alpha"),
                         ({"tol": -1.0}, "tol"), ({"max_iter": 0}, "max_iter"), ({"backward": "adjoint"}, "backward")):
        with pytest.raises(ValueError, match=name):
            DYSNet(**kwargs)


def _dysnet(backward, seed=0):
    torch.manual_seed(seed)
    problem = GridShortestPath(3, n_features=5)
    model = DYSNet(alpha=1.0, gamma=0.5, tol=1e-13, max_iter=5000, backward=backward).build(problem)
    g = torch.Generator().manual_seed(seed + 1)
    return model, torch.randn(4, 5, generator=g, dtype=DT), torch.randn(4, 12, generator=g, dtype=DT)


def test_dysnet_decision_is_feasible_and_near_the_oracle_for_small_gamma():
    model, U, _ = _dysnet("jfb")
    with torch.no_grad():
        X = model.decide(U)
    assert X.dtype == DT and float(model.problem_.infeasibility(X).max()) < 1e-10
    assert model.get_params()["backward"] == "jfb" and model.get_params()["gamma"] == 0.5
    torch.manual_seed(0)
    problem = GridShortestPath(3, n_features=5)
    sharp = DYSNet(tol=1e-10, max_iter=20_000).build(problem)          # the paper's α, γ
    net = sharp.net_[2]
    with torch.no_grad():                                             # positive costs, clear winners
        net.weight.zero_()
        net.bias.copy_(torch.linspace(0.5, 2.0, 12, dtype=DT)[torch.randperm(12)])
        X = sharp.decide(U)
    X_oracle, _ = problem.solve(sharp.costs(U).detach())
    assert float((X - X_oracle).abs().max()) < 1e-5


def test_ift_gradient_matches_finite_differences():
    model, U, v = _dysnet("ift")
    bias = model.net_[2].bias
    grad, = torch.autograd.grad((v * model.decide(U)).sum(), bias)
    h, fd = 1e-6, torch.zeros_like(bias)
    with torch.no_grad():
        for i in range(bias.numel()):
            bias[i] += h
            f_plus = (v * model.decide(U)).sum()
            bias[i] -= 2 * h
            f_minus = (v * model.decide(U)).sum()
            bias[i] += h
            fd[i] = (f_plus - f_minus) / (2 * h)
    assert float(fd.abs().max()) > 0.1
    torch.testing.assert_close(grad, fd, rtol=1e-4, atol=1e-6 * float(fd.abs().max()))


@pytest.mark.parametrize("backward", ["jfb", "unrolled"])
def test_other_backwards_give_finite_nonzero_gradients(backward):
    model, U, v = _dysnet(backward)
    if backward == "unrolled":
        model.layer_.max_iter = 60
    (v * model.decide(U)).sum().backward()
    for p in model.parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all())
    assert float(model.net_[2].bias.grad.abs().max()) > 1e-3
