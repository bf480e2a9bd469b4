"""L2O-PA: with P = 1, A = 0 it is ISTA at step 0.9999/L; the momentum, the activations, reset."""
import math

import pytest
import torch

from l2obench.datasets.lasso_instances import LassoInstanceSampler
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.learned_optimizers.l2o_pa import ACTIVATIONS, L2OPA


def _forced(model, p_logit, a_logit):
    """Replace the LSTM's outputs by constants (the state still advances)."""
    core_forward = model.core_.forward

    def forward(features, state):
        out, state = core_forward(features, state)
        return torch.stack([torch.full_like(out[..., 0], p_logit), torch.full_like(out[..., 1], a_logit)], -1), state
    model.core_.forward = forward
    return model


@pytest.mark.parametrize("per_instance", [False, True])
def test_with_unit_preconditioner_and_no_momentum_it_is_ista(per_instance, lasso):
    if per_instance:  # one dictionary per row: α = 0.9999 / L_i per row
        problem, X, lmbd = LassoInstanceSampler(m=12, n=20, sparsity=3, dtype="float64").sample(torch.arange(5))
    else:
        problem, X, lmbd = lasso
    model = _forced(L2OPA().build(problem), 0.0, -math.inf)  # 2σ(0) = 1, 2σ(−∞) = 0
    for n_iter in (1, 7):
        ista = ProximalGradient(step=0.9999).solve(problem, X, lmbd, n_iter)
        torch.testing.assert_close(model.solve(X, lmbd, n_iter), ista, rtol=1e-12, atol=1e-12)


def test_the_momentum_step(lasso):
    """z⁺ = prox_{λαP}(y − αP∇f(y)), y⁺ = z⁺ + A(z⁺ − z), with P = 2σ(1), A = 2σ(−1)."""
    problem, X, lmbd = lasso
    model = _forced(L2OPA().build(problem), 1.0, -1.0)
    P, A = 2 * torch.sigmoid(torch.tensor(1.0)), 2 * torch.sigmoid(torch.tensor(-1.0))
    alpha = 0.9999 / problem.datafit.lipschitz
    X, lam, z = problem.check_inputs(X, lmbd)
    y, state = z, model.init_state(problem, X, lam, z)
    for k in range(4):
        z_model, state = model.step(k, problem, X, lam, z, state)
        z_new = problem.penalty.prox(y - alpha * P * problem.datafit.grad(X, y), lam * alpha * P)
        y, z = z_new + A * (z_new - z), z_new
        torch.testing.assert_close(z_model, z)
        torch.testing.assert_close(state["y"], y)


def test_reset_realigns_the_extrapolated_point_on_the_masked_rows(lasso):
    problem, X, lmbd = lasso
    model = L2OPA().build(problem)
    X, lam, Z = problem.check_inputs(X, lmbd)
    state = model.init_state(problem, X, lam, Z)
    for k in range(2):
        Z, state = model.step(k, problem, X, lam, Z, state)
    y = state["y"].clone()
    Z_safe = torch.randn_like(Z)
    mask = torch.tensor([True, False, True, False, False])
    assert model.reset(state, Z_safe, mask) is state
    torch.testing.assert_close(state["y"][mask], Z_safe[mask], rtol=0, atol=0)
    torch.testing.assert_close(state["y"][~mask], y[~mask], rtol=0, atol=0)


def test_activations_and_bad_hyper_parameters():
    o = torch.tensor([-30.0, 0.0, 30.0])
    torch.testing.assert_close(ACTIVATIONS["2sigmoid"](o), torch.tensor([0.0, 1.0, 2.0]))
    torch.testing.assert_close(ACTIVATIONS["2softplus"](o), torch.tensor([0.0, 2 * math.log(2), 60.0]))
    torch.testing.assert_close(ACTIVATIONS["0.3softplus"](o), torch.tensor([0.0, 0.3 * math.log(2), 9.0]))
    model = L2OPA(preconditioner="2softplus", accelerator="0.3softplus")
    assert model.get_params()["accelerator"] == "0.3softplus" and model.n_outputs == 2
    with pytest.raises(ValueError, match="preconditioner"):
        L2OPA(preconditioner="sigmoid")
    with pytest.raises(ValueError, match="accelerator"):
        L2OPA(accelerator=None)
    with pytest.raises(ValueError, match="step_size"):
        L2OPA(step_size=0.0)
