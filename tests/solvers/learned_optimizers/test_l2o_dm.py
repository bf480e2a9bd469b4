"""L2O-DM: the LogAndSign preprocessing of the composite gradient, the scaled additive update."""
import math

import pytest
import torch

from l2obench.solvers.learned_optimizers.base import l1_subgradient
from l2obench.solvers.learned_optimizers.l2o_dm import L2ODM, log_and_sign


def test_log_and_sign():
    """Andrychowicz et al. (appendix A), k = 5: (log|g|/k, sign g) for |g| ≥ e^−k, (−1, e^k g) below."""
    g = torch.tensor([[3.0, -0.5, 1e-4, -1e-9, 0.0]], dtype=torch.float64)
    out = log_and_sign(g)
    assert out.shape == (1, 5, 2)
    torch.testing.assert_close(out[0, :2, 0], torch.log(torch.tensor([3.0, 0.5], dtype=torch.float64)) / 5)
    torch.testing.assert_close(out[0, :2, 1], torch.tensor([1.0, -1.0], dtype=torch.float64))
    torch.testing.assert_close(out[0, 2:, 0], torch.full((3,), -1.0, dtype=torch.float64))
    torch.testing.assert_close(out[0, 2:, 1], g[0, 2:] * math.exp(5))


def test_the_lstm_sees_the_preprocessed_gradient_and_the_update_is_scaled(lasso):
    problem, X, lmbd = lasso
    torch.manual_seed(0)
    model = L2ODM().build(problem)
    seen = []
    core_forward = model.core_.forward

    def forward(features, state):
        seen.append(features)
        out, state = core_forward(features, state)
        return torch.full_like(out, 2.0), state
    model.core_.forward = forward
    X, lam, Z = problem.check_inputs(X, lmbd)
    state = model.init_state(problem, X, lam, Z)
    for k in range(3):
        Z_next, state = model.step(k, problem, X, lam, Z, state)
        torch.testing.assert_close(seen[-1], log_and_sign(l1_subgradient(problem, X, lam, Z)))
        assert not seen[-1].requires_grad
        torch.testing.assert_close(Z_next, Z + 0.01 * 2.0)
        Z = Z_next


def test_bad_hyper_parameters():
    assert L2ODM().get_params() == {"horizon": 100, "hidden": 20, "lstm_layers": 2, "scale": 0.01, "k": 5.0}
    with pytest.raises(ValueError, match="scale"):
        L2ODM(scale=-0.01)
    with pytest.raises(ValueError, match="k"):
        L2ODM(k=0)
