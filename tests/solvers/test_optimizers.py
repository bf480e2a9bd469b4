"""The optimizers of the one training loop: each lowers a loss, the line searches never accept an
increase nor a non-finite point, parameter groups scale the Armijo step, a refused step stops."""
import math

import pytest
import torch

from l2obench.solvers.optimizers import MAX_HALVINGS, OPTIMIZERS, AdamStep, LineSearchStep, full_batch_closure
from l2obench.solvers.training import TrainConfig, train


class Linear(torch.nn.Module):
    """y ≈ a·w: a tiny least-squares model (two tensors, for two parameter groups)."""

    def __init__(self, n=6):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(n - 1, dtype=torch.float64))
        self.b = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, a):
        return a[:, :-1] @ self.w + a[:, -1] * self.b


def _least_squares(n_train=96, n_val=32, n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n_train + n_val, n, generator=g, dtype=torch.float64) * torch.linspace(0.2, 3.0, n, dtype=torch.float64)
    y = A @ torch.randn(n, generator=g, dtype=torch.float64) + 0.01 * torch.randn(n_train + n_val, generator=g,
                                                                                   dtype=torch.float64)
    return (A[:n_train], y[:n_train]), (A[n_train:], y[n_train:])


def _mse(m, a, y):
    return ((m(a) - y) ** 2).mean()


def _optimum(train_data):
    A, y = train_data
    return float(_mse_of(torch.linalg.lstsq(A, y[:, None]).solution[:, 0], A, y))


def _mse_of(x, A, y):
    return ((A @ x - y) ** 2).mean()


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_lowers_a_least_squares_loss(optimizer):
    tr, val = _least_squares()
    model = Linear()
    initial = float(_mse(model, *val).detach())
    history = train(model, _mse, tr, val, TrainConfig(n_steps=60, lr=0.05, eval_every=5, patience=0,
                                                      optimizer=optimizer))
    assert not history.diverged and history.best_val < 0.2 * initial
    if optimizer == "lbfgs":  # a quadratic of 6 unknowns: L-BFGS reaches its minimum
        assert float(_mse(model, *tr).detach()) == pytest.approx(_optimum(tr), rel=1e-6)


@pytest.mark.parametrize("optimizer", ["lbfgs", "gd-linesearch"])
def test_the_line_searches_never_accept_an_increase(optimizer):
    tr, val = _least_squares(seed=1)
    model = Linear()
    history = train(model, _mse, tr, val, TrainConfig(n_steps=40, lr=10.0, eval_every=1, patience=0,
                                                      optimizer=optimizer))
    losses = history.train_loss  # the full training loss before each step
    assert len(losses) >= 5 and all(b <= a for a, b in zip(losses, losses[1:]))


def test_the_armijo_step_is_scaled_per_parameter_group_and_grows_after_acceptance():
    """f = ½‖x‖²: one accepted step t moves x₁ to (1 − t)x₁ and, at lr_scale ½, x₂ to (1 − t/2)x₂."""
    x1 = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    x2 = torch.nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
    groups = [{"params": [x1], "lr": 0.25}, {"params": [x2], "lr": 0.125}]
    step = LineSearchStep(groups, TrainConfig(lr=0.25, optimizer="gd-linesearch"))

    def closure(backward=True):
        with torch.set_grad_enabled(backward):
            loss = 0.5 * ((x1 ** 2).sum() + (x2 ** 2).sum())
            if backward:
                x1.grad = x2.grad = None
                loss.backward()
        return loss.detach()
    loss, moved = step(closure)
    assert moved and float(loss) == 7.0
    assert torch.allclose(x1.detach(), torch.tensor([0.75, -1.5], dtype=torch.float64))
    assert torch.allclose(x2.detach(), torch.tensor([3.0 * (1 - 0.125)], dtype=torch.float64))
    assert step.step_size == 0.5


def test_a_step_that_cannot_satisfy_armijo_is_refused_and_the_training_stops():
    """A loss whose descent direction is a lie (its gradient points uphill): every trial step is an
    increase, the search halves MAX_HALVINGS times, restores the start and the training stalls."""
    tr, val = _least_squares()

    class Uphill(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return -g

    def loss(m, a, y):
        return ((a[:, :-1] @ Uphill.apply(m.w) + a[:, -1] * Uphill.apply(m.b) - y) ** 2).mean()

    model = Linear()
    history = train(model, loss, tr, val, TrainConfig(n_steps=50, eval_every=10, patience=0,
                                                      optimizer="gd-linesearch"))
    assert history.stalled and history.stopped_early and not history.diverged
    assert history.n_steps_done == 1 and history.steps == [1]  # evaluated, then stopped
    assert torch.equal(model.w.detach(), torch.zeros(5, dtype=torch.float64))


@pytest.mark.parametrize("optimizer", ["lbfgs", "gd-linesearch"])
def test_a_flat_loss_stalls_and_stops(optimizer):
    tr, val = _least_squares()
    model = Linear()
    history = train(model, lambda m, a, y: 0 * m(a).sum() + 1.0, tr, val,
                    TrainConfig(n_steps=50, eval_every=10, patience=0, optimizer=optimizer))
    assert history.stalled and history.stopped_early and history.n_steps_done == 1 and history.steps == [1]


@pytest.mark.parametrize("optimizer", ["lbfgs", "gd-linesearch"])
def test_a_non_finite_trial_point_is_never_accepted(optimizer):
    """Past |w| = 2 the loss is NaN: the searches bisect back instead of extrapolating into it."""
    tr, val = _least_squares()

    def loss(m, a, y):
        value = _mse(m, a, y)
        return value + torch.where(m.w.abs().max() > 2.0, torch.tensor(math.nan, dtype=value.dtype), 0.0)

    model = Linear()
    history = train(model, loss, tr, val, TrainConfig(n_steps=30, lr=100.0, eval_every=5, patience=0,
                                                      optimizer=optimizer))
    assert not history.diverged and torch.isfinite(model.w).all() and float(model.w.detach().abs().max()) <= 2.0
    assert history.best_val < float(_mse(Linear(), *val).detach())


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_divergence_and_early_stopping_are_those_of_the_loop(optimizer):
    tr, val = _least_squares()
    calls = []

    def exploding(m, a, y):  # finite for the first evaluations, then NaN
        calls.append(1)
        return _mse(m, a, y) * (math.nan if len(calls) > 6 else 1.0)
    model = Linear()
    history = train(model, exploding, tr, val, TrainConfig(n_steps=50, lr=0.05, eval_every=2, patience=0,
                                                           optimizer=optimizer))
    assert history.diverged and history.n_steps_done < 50 and torch.isfinite(model.w).all()

    model = Linear()
    history = train(model, _mse, tr, val, TrainConfig(n_steps=100, lr=0.05, eval_every=2, patience=3,
                                                      optimizer=optimizer),
                    val_fn=lambda m, a, y: torch.tensor(1.0))  # never improves on the start
    assert history.stopped_early and history.n_steps_done == 6 and history.steps == [2, 4, 6]
    assert history.best_step == 0 and torch.equal(model.w.detach(), torch.zeros(5, dtype=torch.float64))


def test_the_full_batch_loss_is_the_mean_over_all_chunks():
    tr, _ = _least_squares(n_train=100)
    model = Linear()
    model.w.data.normal_(generator=torch.Generator().manual_seed(0))
    params = list(model.parameters())
    closure = full_batch_closure(model, _mse, tr, params, chunk=32)  # chunks of 32, 32, 32, 4
    loss = closure()
    grads = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    whole = _mse(model, *tr)
    whole.backward()
    assert float(loss) == pytest.approx(float(whole.detach()), rel=1e-12)
    assert all(torch.allclose(g, p.grad, rtol=1e-12) for g, p in zip(grads, params))
    assert float(closure(backward=False)) == pytest.approx(float(whole.detach()), rel=1e-12)


def test_optimizer_names_and_options_are_checked():
    with pytest.raises(ValueError, match=r"optimizer='sgd'.*adam.*gd-linesearch.*lbfgs"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="grad_clip"):
        TrainConfig(optimizer="lbfgs", grad_clip=1.0)
    assert TrainConfig.for_budget(100, lr=1e-2, optimizer="lbfgs").optimizer == "lbfgs"
    assert TrainConfig().optimizer == "adam" and MAX_HALVINGS >= 10


def _segmented(model, a, y, n_segments=3, log=None, nan_at=None):
    """A loss that returns segment losses (truncated back-propagation through time): the MSE on
    ``n_segments`` slices of the batch; ``log`` records the weights each segment starts from and
    its loss."""
    for k, (a_k, y_k) in enumerate(zip(a.chunk(n_segments), y.chunk(n_segments))):
        loss = _mse(model, a_k, y_k) * (math.nan if k == nan_at else 1.0)
        if log is not None:
            log.append((model.w.detach().clone(), loss.detach()))
        yield loss


def test_adam_takes_one_step_per_segment_and_the_schedule_one_per_batch():
    tr, _ = _least_squares()
    model = Linear()
    config = TrainConfig(n_steps=10, lr=0.05)  # cosine over 10 calls
    step = AdamStep([{"params": list(model.parameters()), "lr": config.lr}], config)
    log = []
    with torch.no_grad():
        before = [_mse(model, a, y) for a, y in zip(tr[0].chunk(3), tr[1].chunk(3))]
    loss, moved = step(lambda: _segmented(model, *tr, log=log))
    assert moved and loss.ndim == 0 and not loss.requires_grad
    assert len(log) == 3 and step.optimizer.state[model.w]["step"] == 3
    assert all(not torch.equal(w, w_next) for (w, _), (w_next, _) in zip(log, log[1:]))  # a step between segments
    assert float(log[0][1]) == float(before[0]) and float(log[2][1]) < float(before[2])  # later: updated weights
    assert float(loss) == pytest.approx(float(torch.stack([value for _, value in log]).mean()), rel=1e-12)
    assert step.optimizer.param_groups[0]["lr"] == pytest.approx(0.05 * (1 + math.cos(math.pi / 10)) / 2)


def test_a_non_finite_segment_stops_the_batch_without_a_step():
    tr, _ = _least_squares()
    model = Linear()
    step = AdamStep([{"params": list(model.parameters()), "lr": 0.05}], TrainConfig(lr=0.05))
    log = []
    loss, _ = step(lambda: _segmented(model, *tr, n_segments=4, log=log, nan_at=1))
    assert not torch.isfinite(loss) and len(log) == 2  # segments 3 and 4 never computed
    assert step.optimizer.state[model.w]["step"] == 1 and torch.isfinite(model.w).all()
    assert step.optimizer.param_groups[0]["lr"] == 0.05  # no schedule step for a diverged batch
    with pytest.raises(ValueError, match="segment"):
        step(lambda: iter([]))


def test_train_runs_on_segment_losses_and_the_full_batch_protocols_refuse_them():
    tr, val = _least_squares()
    model = Linear()
    history = train(model, _segmented, tr, val, TrainConfig(n_steps=40, lr=0.05, eval_every=10, patience=0),
                    val_fn=_mse)
    assert not history.diverged and history.best_val < 0.2 * float(_mse(Linear(), *val).detach())
    for optimizer in ("lbfgs", "gd-linesearch"):
        with pytest.raises(ValueError, match="truncated back-propagation"):
            train(Linear(), _segmented, tr, val, TrainConfig(n_steps=5, optimizer=optimizer), val_fn=_mse)
