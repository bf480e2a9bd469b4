"""RNNprop: Adam's normalised moments as inputs (β₁ = β₂ = 0.95), the bounded update α·tanh."""
import pytest
import torch

from l2obench.solvers.learned_optimizers.base import l1_subgradient
from l2obench.solvers.learned_optimizers.rnnprop import EPS, RNNprop


def test_inputs_are_adam_s_normalised_moments_and_steps_are_bounded(lasso):
    problem, X, lmbd = lasso
    torch.manual_seed(0)
    model = RNNprop().build(problem)
    seen = []
    core_forward = model.core_.forward

    def forward(features, state):
        seen.append(features)
        return core_forward(features, state)
    model.core_.forward = forward
    X, lam, Z = problem.check_inputs(X, lmbd)
    state = model.init_state(problem, X, lam, Z)
    m = v = torch.zeros_like(Z)
    for k in range(1, 4):
        g = l1_subgradient(problem, X, lam, Z)
        m, v = 0.95 * m + 0.05 * g, 0.95 * v + 0.05 * g ** 2
        scale = torch.sqrt(v / (1 - 0.95 ** k)) + EPS
        Z_next, state = model.step(k - 1, problem, X, lam, Z, state)
        Z_next = Z_next.detach()
        torch.testing.assert_close(seen[-1][..., 0], m / (1 - 0.95 ** k) / scale)
        torch.testing.assert_close(seen[-1][..., 1], g / scale)
        assert state["t"] == k and 0 < float((Z_next - Z).abs().max()) <= 0.1
        Z = Z_next
    assert (seen[0][..., 0] - seen[0][..., 1]).abs().max() < 1e-12  # first step: m̂ = g


def test_bad_hyper_parameters():
    assert RNNprop(alpha=0.2).get_params()["alpha"] == 0.2
    with pytest.raises(ValueError, match="beta1"):
        RNNprop(beta1=1.0)
    with pytest.raises(ValueError, match="beta2"):
        RNNprop(beta2=-0.1)
    with pytest.raises(ValueError, match="alpha"):
        RNNprop(alpha=0)
