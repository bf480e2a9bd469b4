"""Decision losses: every kind trains (finite loss and gradient), SPO+ is a non-negative surrogate
vanishing at the true costs, validation is the normalised regret, checks name what is wrong."""
import numpy as np
import pytest
import torch

from l2obench.objectives.shortest_path import GridShortestPath
from l2obench.solvers.decision.cost_model import CostNetwork, DYSNet
from l2obench.solvers.decision.losses import DECISION_KINDS, DecisionLoss

DT = torch.float64


def _batch(k=3, B=4, p=5, seed=0):
    rng = np.random.default_rng(seed)
    U = torch.from_numpy(rng.standard_normal((B, p)))
    C = torch.from_numpy(rng.uniform(0.5, 2.0, (B, 2 * k * (k - 1))))
    return GridShortestPath(k, n_features=p), U, C


def _model(problem, kind, seed=0):
    torch.manual_seed(seed)
    cls = DYSNet if kind == "decision-mse" else CostNetwork
    return cls(**({"alpha": 1.0, "gamma": 0.5, "tol": 1e-8} if cls is DYSNet else {})).build(problem)


@pytest.mark.parametrize("kind", DECISION_KINDS)
def test_every_kind_gives_a_finite_loss_and_gradient(kind):
    problem, U, C = _batch()
    model, loss = _model(problem, kind), DecisionLoss(kind)
    assert loss.targets(problem, (U,), C) is C
    value = loss(model, U, C)
    assert value.ndim == 0 and bool(torch.isfinite(value))
    value.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
    assert max(float(g.abs().max()) for g in grads) > 0
    # reproducible: a fresh loss (the perturbed optimizer's noise reseeded) gives the same value
    assert float(DecisionLoss(kind)(model, U, C).detach()) == pytest.approx(float(value.detach()), rel=1e-12)


def test_spo_plus_is_nonnegative_and_vanishes_at_the_true_costs(monkeypatch):
    problem, U, C = _batch(B=6, seed=1)
    model, loss = _model(problem, "spo-plus"), DecisionLoss("spo-plus")
    assert float(loss(model, U, C).detach()) >= 0.0
    monkeypatch.setattr(model, "costs", lambda U: C.clone().requires_grad_())
    assert abs(float(loss(model, U, C).detach())) < 1e-6
    assert abs(float(loss.validation(model, U, C))) < 1e-15                # and the regret is 0


@pytest.mark.parametrize("kind", ["cost-mse", "spo-plus"])
def test_validation_is_the_normalised_regret(kind):
    problem, U, C = _batch(B=8, seed=2)
    model, loss = _model(problem, kind), DecisionLoss(kind)
    val = loss.validation(model, U, C)
    assert isinstance(val, torch.Tensor) and val.ndim == 0
    with torch.no_grad():
        expected = problem.regret(model.costs(U), C)
    assert float(val) == pytest.approx(expected, rel=1e-6) and expected > 0   # val is float32 (torch.tensor(float))


def test_cost_mse_is_the_mean_squared_cost_error():
    problem, U, C = _batch()
    model = _model(problem, "cost-mse")
    with torch.no_grad():
        expected = ((model.costs(U) - C) ** 2).mean()
    torch.testing.assert_close(DecisionLoss("cost-mse")(model, U, C).detach(), expected)


def test_checks_name_what_is_wrong():
    with pytest.raises(ValueError, match="loss='mse' is not allowed"):
        DecisionLoss("mse")
    for kwargs, name in (({"n_samples": 0}, "n_samples"), ({"sigma": 0.0}, "sigma"), ({"lambd": -1.0}, "lambd"),
                         ({"seed": -1}, "seed")):
        with pytest.raises(ValueError, match=name):
            DecisionLoss("perturbed", **kwargs)
    problem, U, C = _batch()
    with pytest.raises(ValueError, match="decision-mse.*DYSNet.*CostNetwork"):
        DecisionLoss("decision-mse")(_model(problem, "cost-mse"), U, C)
    for kind in DECISION_KINDS:
        with pytest.raises(ValueError, match=f"loss='{kind}' needs the true costs"):
            DecisionLoss(kind).targets(problem, (U,), None)


def test_get_params_holds_only_the_kinds_hyper_parameters():
    assert DecisionLoss("cost-mse", n_samples=7, lambd=2.0).get_params() == {"kind": "cost-mse"}
    assert DecisionLoss("spo-plus").get_params() == {"kind": "spo-plus"}
    assert DecisionLoss("decision-mse", sigma=3.0).get_params() == {"kind": "decision-mse"}
    assert DecisionLoss("perturbed", n_samples=4, sigma=0.5, lambd=9.0, seed=3).get_params() == \
        {"kind": "perturbed", "n_samples": 4, "sigma": 0.5, "seed": 3}
    assert DecisionLoss("blackbox", n_samples=4, lambd=2.0).get_params() == {"kind": "blackbox", "lambd": 2.0}


def test_one_loss_reused_over_problems_that_come_and_go():
    """The PyEPO module is cached per problem: a problem that CPython allocates at a freed
    problem's address must not get the freed problem's module (a cache keyed by ``id(problem)``
    handed a 3 × 3 grid's 12-arc model to a 4 × 4 grid within a few of these rounds)."""
    loss = DecisionLoss("spo-plus")
    for trial in range(60):
        problem, U, C = _batch(k=3 + trial % 2, B=2, seed=trial)
        assert bool(torch.isfinite(loss(_model(problem, "spo-plus"), U, C)))
        del problem                                    # freed at once (no reference cycle)
