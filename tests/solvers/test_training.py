"""The one training loop: parameter groups, divergence, configurations."""
import math

import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.training import TrainConfig, train
from l2obench.solvers.unrolled.lasso.registry import make_model
from support import sparse_coding_split as _sparse_problem


def _mse(m, X, lmbd, Z):
    return ((m(X, lmbd) - Z) ** 2).sum(1).mean()


def test_parameter_groups_train_at_their_own_rate():
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=128, seed=3)
    model = make_model("lista-cpss", n_layers=2, threshold_lr_scale=1e-6).build(LassoProblem(D))
    theta0 = [float(t.detach()) for t in model.theta_]
    W0 = model.W_[0].detach().clone()
    config = TrainConfig(n_steps=50, lr=1e-3, eval_every=10, patience=0)
    loss = _mse
    train(model, loss, (X[:96], lmbd[:96], Z[:96]), (X[96:], lmbd[96:], Z[96:]), config,
          parameters=model.lr_groups(model.parameters()))
    assert max(abs(float(t.detach()) - t0) for t, t0 in zip(model.theta_, theta0)) < 1e-6
    assert not torch.allclose(model.W_[0], W0)
    assert model.get_params()["threshold_lr_scale"] == 1e-6
    with pytest.raises(ValueError, match="lr_scale"):
        train(model, loss, (X, lmbd, Z), (X, lmbd, Z), config, parameters=[{"params": [model.W_[0]], "lr_scale": -1}])


def test_a_non_finite_loss_stops_training_and_restores_the_best_state():
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=64)
    model = make_model("slista", n_layers=2).build(LassoProblem(D))
    calls = []

    def loss(m, *batch):
        calls.append(1)
        value = _mse(m, *batch)
        return value * math.inf if len(calls) > 4 else value  # finite for the first evaluation and steps

    history = train(model, loss, (X[:48], lmbd[:48], Z[:48]), (X[48:], lmbd[48:], Z[48:]),
                    TrainConfig(n_steps=20, lr=1e-2, eval_every=2, patience=0))
    assert history.diverged and history.n_steps_done < 20
    assert bool(torch.isfinite(model.log_step_).all())
    assert history.best_val == pytest.approx(float(_mse(model, X[48:], lmbd[48:], Z[48:]).detach()), rel=1e-12)


def test_early_stopping_and_history():
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=64)
    model = make_model("slista", n_layers=2).build(LassoProblem(D))
    history = train(model, lambda m, *b: _mse(m, *b) * 0 + 1.0 + 0 * m.log_step_.sum(), (X[:48], lmbd[:48], Z[:48]),
                    (X[48:], lmbd[48:], Z[48:]), TrainConfig(n_steps=100, lr=1e-2, eval_every=2, patience=3))
    assert history.stopped_early and history.n_steps_done == 6 and history.steps == [2, 4, 6]
    assert not history.diverged and history.best_step == 0


def test_a_validation_criterion_of_its_own_decides_the_best_state_and_its_time():
    """``val_fn`` (a decision loss validates on the regret): the best state is the one it ranks
    best, not the training loss's, and ``time_to_best`` is when that state was reached."""
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=64)
    model = make_model("slista", n_layers=2).build(LassoProblem(D))
    evaluations = []

    def val_fn(m, *batch):  # ranks the 2nd evaluation best, whatever the training loss does
        evaluations.append(1)
        return torch.tensor(0.0 if len(evaluations) == 3 else 1.0 + len(evaluations))

    history = train(model, _mse, (X[:48], lmbd[:48], Z[:48]), (X[48:], lmbd[48:], Z[48:]),
                    TrainConfig(n_steps=8, lr=1e-2, eval_every=2, patience=0), val_fn=val_fn)
    assert history.val_loss[1] == 0.0 and history.best_step == 4 and history.best_val == 0.0
    assert 0.0 < history.time_to_best <= history.train_time


def test_configurations_name_the_bad_parameter():
    for name, kwargs in (("lr", {"lr": -1e-3}), ("n_steps", {"n_steps": 0}), ("batch_size", {"batch_size": 0}),
                         ("schedule", {"schedule": "linear"}), ("eval_every", {"eval_every": 0}),
                         ("patience", {"patience": -1}), ("grad_clip", {"grad_clip": 0.0})):
        with pytest.raises(ValueError, match=name):
            TrainConfig(**kwargs)
    with pytest.raises(ValueError, match="config"):
        train(None, None, (torch.ones(2),), (torch.ones(2),), {"lr": 1e-3})


def test_for_budget_spreads_the_evaluations():
    config = TrainConfig.for_budget(1000, lr=1e-3, seed=3)
    assert config.n_steps == 1000 and config.eval_every == 50 and config.seed == 3 and config.lr == 1e-3
    assert TrainConfig.for_budget(1000, lr=1e-3, max_eval_every=20).eval_every == 20
    assert TrainConfig.for_budget(5, lr=1e-3).eval_every == 1
    assert TrainConfig.for_budget(100, lr=1e-3, n_evals=5, patience=0).as_dict() == TrainConfig(
        n_steps=100, lr=1e-3, eval_every=20, patience=0).as_dict()


# --- the optimizers (TrainConfig.optimizer, l2obench.solvers.optimizers) ---

def _previous_adam_loop(model, loss_fn, train_data, config, groups):
    """The loop as it was before the optimizers became options (one evaluation, at the end, so
    the best state is the last one): 'adam' must give these weights bit for bit."""
    params = [p for g in groups for p in g["params"]]
    optimizer = torch.optim.Adam(groups, lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.n_steps)
    generator = torch.Generator().manual_seed(config.seed)
    n_train = train_data[0].shape[0]
    perm, cursor = torch.randperm(n_train, generator=generator), 0
    for _ in range(config.n_steps):
        if cursor + config.batch_size > n_train:
            perm, cursor = torch.randperm(n_train, generator=generator), 0
        idx = perm[cursor:cursor + config.batch_size]
        cursor += config.batch_size
        loss = loss_fn(model, *(t[idx] for t in train_data))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        if config.schedule == "cosine":
            scheduler.step()


@pytest.mark.parametrize("schedule, grad_clip", [("cosine", None), ("constant", 0.5)])
def test_adam_is_the_previous_loop_bit_for_bit(schedule, grad_clip):
    from l2obench.solvers.training import _param_groups

    D, (X, Z, lmbd), _ = _sparse_problem(n_train=160, seed=4)
    config = TrainConfig(n_steps=30, batch_size=32, lr=1e-3, eval_every=30, patience=0, schedule=schedule,
                         grad_clip=grad_clip, seed=2)
    assert config.optimizer == "adam" and TrainConfig.for_budget(30, lr=1e-3).optimizer == "adam"
    models = [make_model("lista-cpss", n_layers=3, threshold_lr_scale=10.0).build(LassoProblem(D)) for _ in range(2)]
    history = train(models[0], _mse, (X[:128], lmbd[:128], Z[:128]), (X[128:], lmbd[128:], Z[128:]), config,
                    parameters=models[0].lr_groups(models[0].parameters()))
    assert history.best_step == 30  # the final state is the one kept
    _previous_adam_loop(models[1], _mse, (X[:128], lmbd[:128], Z[:128]), config,
                        _param_groups(models[1].lr_groups(models[1].parameters()), config.lr))
    for (name, a), b in zip(models[0].state_dict().items(), models[1].state_dict().values()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs", "gd-linesearch"])
def test_each_optimizer_lowers_slistas_unsupervised_loss(optimizer):
    from l2obench.solvers.losses import Loss

    D, (X, _, lmbd), _ = _sparse_problem(n_train=256, seed=5)
    model = make_model("slista", n_layers=4).build(LassoProblem(D))
    loss = Loss("unsupervised")
    history = train(model, loss, (X[:192], lmbd[:192]), (X[192:], lmbd[192:]),
                    TrainConfig(n_steps=30, lr=1e-2, eval_every=5, patience=0, optimizer=optimizer))
    initial = float(loss(make_model("slista", n_layers=4).build(LassoProblem(D)), X[192:], lmbd[192:]).detach())
    assert not history.diverged and history.best_val < 0.97 * initial, (history.best_val, initial)


def test_the_optimizer_is_part_of_the_cache_key(tmp_path):
    from l2obench.solvers.cache import WeightCache
    from l2obench.solvers.fit import fit
    from l2obench.solvers.losses import Loss

    D, (X, _, lmbd), _ = _sparse_problem(n_train=128, seed=6)
    cache = WeightCache(tmp_path)
    metas = {}
    for optimizer in ("adam", "lbfgs", "adam"):
        model = make_model("slista", n_layers=2)
        metas.setdefault(optimizer, []).append(
            fit(model, LassoProblem(D), (X, lmbd), loss=Loss("unsupervised"), cache=cache,
                config=TrainConfig.for_budget(10, lr=1e-2, optimizer=optimizer)))
    assert len(list(tmp_path.glob("*.pt"))) == 2
    assert metas["adam"][0]["cache_key"] != metas["lbfgs"][0]["cache_key"]
    assert not metas["adam"][0]["cache_hit"] and not metas["lbfgs"][0]["cache_hit"] and metas["adam"][1]["cache_hit"]
