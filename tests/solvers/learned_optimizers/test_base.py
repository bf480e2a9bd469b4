"""The learned-optimizer base: build, the protocol, any problem size, per-instance problems, input
checks, gradients through the iterations."""
import pytest
import torch

from l2obench.datasets.lasso_instances import LassoInstanceSampler
from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.tv_deconvolution import TVProblem
from l2obench.solvers.learned_optimizers.base import LearnedOptimizer, detach, l1_subgradient
from l2obench.solvers.learned_optimizers.l2o_dm import L2ODM
from l2obench.solvers.learned_optimizers.l2o_pa import L2OPA
from l2obench.solvers.learned_optimizers.rnnprop import RNNprop

MODELS = [L2ODM, RNNprop, L2OPA]


def _built(cls, problem, seed=0, **kwargs):
    torch.manual_seed(seed)
    return cls(**kwargs).build(problem)


@pytest.mark.parametrize("cls", MODELS)
def test_hyper_parameters_and_build(cls, lasso):
    problem, X, lmbd = lasso
    model = cls(horizon=30)
    params = model.get_params()
    assert params["horizon"] == 30 and params["hidden"] == 20 and params["lstm_layers"] == 2
    assert not hasattr(model, "core_") and not list(model.parameters())
    with pytest.raises(RuntimeError, match="build"):
        model.solve(X, lmbd, 3)
    assert model.build(problem) is model and model.problem_ is problem
    assert model.trained_depth() == 30 and model.n_params() == sum(p.numel() for p in model.parameters()) > 5000
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert model.lr_groups(model.parameters()) == list(model.parameters())
    torch.manual_seed(0)
    again = cls(horizon=30).build(LassoProblem(problem.D.float()))
    assert all(p.dtype == torch.float32 for p in again.parameters())
    torch.testing.assert_close(again.core_.output_layer.weight, _built(cls, problem).core_.output_layer.weight.float())


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("n", [1, 9, 40])
def test_runs_on_problems_of_any_size(cls, n):
    g = torch.Generator().manual_seed(n)
    model = _built(cls, LassoProblem(torch.randn(6, 10, generator=g, dtype=torch.float64)))
    problem = LassoProblem(torch.randn(7, n, generator=g, dtype=torch.float64))
    X = torch.randn(3, 7, generator=g, dtype=torch.float64)
    Z = model.optimize(problem, X, 0.1, 4)
    assert Z.shape == (3, n) and bool(torch.isfinite(Z).all())
    assert model.optimize(problem, X, 0.1, 0).abs().max() == 0  # no iteration: the start


@pytest.mark.parametrize("cls", MODELS)
def test_per_instance_problems(cls):
    """One dictionary per row (Lipschitz constants a (B, 1) tensor), float32 as trained."""
    problem, X, lmbd = LassoInstanceSampler(m=10, n=20, sparsity=3).sample(torch.arange(4))
    model = _built(cls, problem)
    Z = model.optimize(problem, X, lmbd, 5)
    assert Z.shape == (4, 20) and Z.dtype == torch.float32 and bool(torch.isfinite(Z).all())


@pytest.mark.parametrize("cls", MODELS)
def test_solve_is_deterministic_and_optimize_on_the_built_problem(cls, lasso):
    problem, X, lmbd = lasso
    model = _built(cls, problem)
    Z = model.solve(X, lmbd, 6)
    assert not Z.requires_grad
    torch.testing.assert_close(Z, model.solve(X, lmbd, 6), rtol=0, atol=0)
    torch.testing.assert_close(Z, model.optimize(problem, X, lmbd, 6).detach(), rtol=0, atol=0)
    z0 = torch.randn_like(Z)
    assert not torch.equal(model.solve(X, lmbd, 2), model.optimize(problem, X, lmbd, 2, z0=z0).detach())


@pytest.mark.parametrize("cls", MODELS)
def test_the_loop_and_the_protocol_agree(cls, lasso):
    """``iterate`` = ``step`` by ``step``; ``values`` holds F of every iterate; reset returns the state."""
    problem, X, lmbd = lasso
    model = _built(cls, problem)
    X, lam, Z = problem.check_inputs(X, lmbd)
    state = model.init_state(problem, X, lam, Z)
    values = []
    Z_loop, state_loop = model.iterate(problem, X, lam, Z, state, 3, values=values)
    for k in range(3):
        Z, state = model.step(k, problem, X, lam, Z, state)
    torch.testing.assert_close(Z_loop, Z, rtol=0, atol=0)
    assert len(values) == 3 and values[0].shape == (5,)
    torch.testing.assert_close(values[-1], problem.value(X, Z, lam))
    assert model.reset(state, Z, torch.zeros(5, dtype=torch.bool)) is state


@pytest.mark.parametrize("cls", MODELS)
def test_gradients_reach_every_weight(cls, lasso):
    problem, X, lmbd = lasso
    model = _built(cls, problem)
    problem.value(X, model.optimize(problem, X, lmbd, 3), lmbd).mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_detach_cuts_every_tensor_of_a_state():
    w = torch.ones(2, requires_grad=True)
    state = {"lstm": [(w * 2, w * 3)], "m": w + 1, "t": 3}
    cut = detach(state)
    assert cut["t"] == 3 and isinstance(cut["lstm"][0], tuple)
    assert not any(t.requires_grad for t in (cut["lstm"][0][0], cut["lstm"][0][1], cut["m"]))


def test_l1_subgradient_is_autograd_s_gradient_of_F(lasso):
    problem, X, lmbd = lasso
    _, lam, _ = problem.check_inputs(X, lmbd)
    Z = torch.randn(5, 20, dtype=torch.float64).requires_grad_()
    problem.value(X, Z, lam).sum().backward()
    torch.testing.assert_close(l1_subgradient(problem, X, lam, Z.detach()), Z.grad)


def test_bad_inputs(lasso):
    problem, X, lmbd = lasso
    model = _built(L2OPA, problem)
    with pytest.raises(ValueError, match="n_iter"):
        model.solve(X, lmbd, -1)
    with pytest.raises(ValueError, match="n_iter"):
        model.solve(X, lmbd, 2.5)
    with pytest.raises(ValueError, match="X"):
        model.solve(X[:, :5], lmbd, 2)
    with pytest.raises(ValueError, match="lmbd"):
        model.solve(X, -1.0, 2)
    with pytest.raises(ValueError, match="z0"):
        model.optimize(problem, X, lmbd, 2, z0=torch.zeros(5, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="problem"):  # built in float64
        model.optimize(LassoProblem(problem.D.float()), X.float(), lmbd.float(), 2)
    with pytest.raises(ValueError, match="problem"):
        L2ODM().build(problem.D)
    with pytest.raises(ValueError, match="ℓ1"):
        RNNprop().build(TVProblem(torch.eye(6, dtype=torch.float64)))
    with pytest.raises(ValueError, match="lam"):
        model.init_state(problem, X, 0.1, torch.zeros(5, 20, dtype=torch.float64))
    for kwargs, name in (({"horizon": 0}, "horizon"), ({"hidden": 1.5}, "hidden"), ({"lstm_layers": 0}, "lstm_layers")):
        with pytest.raises(ValueError, match=name):
            LearnedOptimizer(**kwargs)
