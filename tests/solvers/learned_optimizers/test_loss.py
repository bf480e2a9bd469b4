"""The trajectory loss: segment losses, truncated back-propagation, validation, bad input, and the
whole fit pipeline on a tiny instance sampler."""
import pytest
import torch

from l2obench.datasets.lasso_instances import LassoInstanceSampler
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.fit import fit
from l2obench.solvers.learned_optimizers.l2o_dm import L2ODM
from l2obench.solvers.learned_optimizers.l2o_pa import L2OPA
from l2obench.solvers.learned_optimizers.loss import TrajectoryLoss
from l2obench.solvers.learned_optimizers.rnnprop import RNNprop
from l2obench.solvers.training import TrainConfig


def _model(cls=L2OPA, problem=None, horizon=12, seed=0):
    torch.manual_seed(seed)
    return cls(horizon=horizon).build(problem)


def test_get_params_holds_the_sampler(fake_sampler):
    assert TrajectoryLoss().get_params() == {"horizon": 100, "segment": 20, "sampler": None}
    params = TrajectoryLoss(12, 4, fake_sampler(seed=3)).get_params()
    assert params["sampler"] == {"class": "FakeSampler", "params": fake_sampler(seed=3).get_params()}
    assert TrajectoryLoss().targets(None, (), torch.ones(2)) is None


def test_segment_losses_are_the_mean_objective_along_the_trajectory(fake_sampler):
    sampler = fake_sampler()
    ids = torch.arange(6)
    problem, X, lmbd = sampler.sample(ids)
    model = _model(problem=problem)
    segments = TrajectoryLoss(12, 4, sampler)(model, ids)
    assert not isinstance(segments, torch.Tensor)
    losses = list(segments)
    assert len(losses) == 3 and all(loss.ndim == 0 and loss.requires_grad for loss in losses)
    X, lam, Z = problem.check_inputs(X, lmbd)
    values = []
    with torch.no_grad():
        model.iterate(problem, X, lam, Z, model.init_state(problem, X, lam, Z), 12, values=values)
    expected = torch.stack(values).reshape(3, 4, 6).mean(dim=(1, 2))
    torch.testing.assert_close(torch.stack(losses).detach(), expected)
    val = TrajectoryLoss(12, 4, sampler).validation(model, ids)
    assert val.ndim == 0 and not val.requires_grad
    torch.testing.assert_close(val, expected.mean())
    # without a sampler: rows (X, lmbd) of the model's problem
    torch.testing.assert_close(TrajectoryLoss(12, 4).validation(model, X, lmbd), expected.mean())


@pytest.mark.parametrize("cls", [L2ODM, RNNprop, L2OPA])
def test_back_propagation_is_truncated_at_segment_boundaries(cls, fake_sampler, monkeypatch):
    """Each segment starts from a detached state, and its loss reaches every weight."""
    sampler = fake_sampler()
    model = _model(cls, sampler.problem)
    starts = []
    iterate = model.iterate

    def spy(problem, X, lam, Z, state, n_iter, start=0, values=None):
        tensors = [Z, *[t for pair in state["lstm"] for t in pair],
                   *[v for v in state.values() if isinstance(v, torch.Tensor)]]
        starts.append((start, any(t.requires_grad for t in tensors)))
        return iterate(problem, X, lam, Z, state, n_iter, start, values)
    monkeypatch.setattr(model, "iterate", spy)
    for loss in TrajectoryLoss(12, 4, sampler)(model, torch.arange(5)):
        model.zero_grad()
        loss.backward()  # fails if the graph reached back into a freed segment
        assert all(p.grad is not None for p in model.parameters())
        assert sum(float(p.grad.abs().sum()) for p in model.parameters()) > 0
    assert starts == [(0, False), (4, False), (8, False)]


def test_bad_input(fake_sampler, lasso):
    problem, X, lmbd = lasso
    model = _model(problem=problem)
    for kwargs, name in (({"horizon": 0}, "horizon"), ({"segment": 0}, "segment"), ({"segment": 5}, "segment"),
                         ({"segment": 200}, "segment"), ({"segment": 4, "sampler": object()}, "sampler")):
        with pytest.raises(ValueError, match=name):
            TrajectoryLoss(**{"horizon": 12, **kwargs})
    with pytest.raises(ValueError, match="horizon"):
        TrajectoryLoss(10, 5)(model, X, lmbd)
    with pytest.raises(ValueError, match="n_layers"):
        TrajectoryLoss(12, 4)(model, X, lmbd, n_layers=3)
    with pytest.raises(ValueError, match=r"\(ids,\)"):
        TrajectoryLoss(12, 4, fake_sampler())(model, X, lmbd)
    with pytest.raises(ValueError, match=r"\(X, lmbd\)"):
        TrajectoryLoss(12, 4)(model, torch.arange(3))
    with pytest.raises(ValueError, match="X"):
        TrajectoryLoss(12, 4)(model, X[:, :3], lmbd)
    batched, Xb, lb = LassoInstanceSampler(m=12, n=20, sparsity=3, dtype="float64").sample(torch.arange(5))
    with pytest.raises(ValueError, match="sampler"):
        TrajectoryLoss(12, 4)(_model(problem=batched), Xb, lb)


def test_fit_trains_on_fresh_instances_and_caches(fake_sampler, tmp_path):
    """The whole pipeline: a fresh batch per step, validation lowered, cached; the key tells the
    models and the sampler's parameters apart."""
    sampler = fake_sampler()
    config = TrainConfig(n_steps=30, batch_size=16, lr=1e-2, schedule="constant", eval_every=10, patience=0)
    ids, val = torch.arange(1000, 1000 + 30 * 16), ((torch.arange(32),), None)
    loss = TrajectoryLoss(10, 5, sampler)
    cache = WeightCache(tmp_path)
    model = L2OPA(horizon=10)
    meta = fit(model, sampler.problem, (ids,), loss=loss, config=config, val=val, cache=cache)
    start = _model(problem=sampler.problem, horizon=10, seed=config.seed)  # fit's initial weights
    initial = float(loss.validation(start, *val[0]))
    assert not meta["diverged"] and meta["n_steps"] == 30 and meta["trained_depth"] == 10
    assert meta["best_val"] < 0.95 * initial, (meta["best_val"], initial)
    torch.testing.assert_close(loss.validation(model, *val[0]), torch.tensor(meta["best_val"], dtype=torch.float64))
    again = fit(L2OPA(horizon=10), sampler.problem, (ids,), loss=loss, config=config, val=val, cache=cache)
    assert again["cache_hit"] and again["cache_key"] == meta["cache_key"]
    short = TrainConfig(n_steps=1, batch_size=16, eval_every=1, patience=0)
    keys = {fit(cls(horizon=10), sampler.problem, (ids,), loss=TrajectoryLoss(10, 5, fake_sampler(rho=rho)),
                config=short, val=val, cache=cache)["cache_key"]
            for cls in (L2ODM, RNNprop, L2OPA) for rho in (0.05, 0.1)}
    assert len(keys) == 6


def test_fit_on_per_instance_problems(tmp_path):
    """Liu et al.'s protocol in miniature: a fresh dictionary per instance (LassoInstanceSampler)."""
    sampler = LassoInstanceSampler(m=8, n=16, sparsity=3, rho=0.05)
    prototype = sampler.sample(torch.arange(1))[0]
    loss, val = TrajectoryLoss(10, 5, sampler), (torch.arange(10 ** 6, 10 ** 6 + 32),)
    config = TrainConfig(n_steps=20, batch_size=16, lr=1e-2, schedule="constant", eval_every=10, patience=0)
    model = RNNprop(horizon=10)
    meta = fit(model, prototype, (torch.arange(20 * 16),), loss=loss, config=config, val=(val, None),
               cache=WeightCache(tmp_path))
    initial = float(loss.validation(_model(RNNprop, prototype, horizon=10, seed=config.seed), *val))
    assert not meta["diverged"] and meta["best_val"] < 0.95 * initial, (meta["best_val"], initial)
