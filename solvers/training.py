"""The one training loop of the suite, used by every learned solver.

Adam with an optional learning-rate schedule on mini-batches drawn from a seeded generator, or a
full-batch protocol (L-BFGS, gradient descent with a backtracking line search:
:mod:`l2obench.solvers.optimizers`), early stopping on a validation split (the best validation
state is restored), a tqdm progress bar that is quiet in CI, and a loss that is a callable so
supervised, semi-supervised and unsupervised objectives all go through the same code.
"""
import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field

import torch
from tqdm.auto import tqdm

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.optimizers import OPTIMIZERS, full_batch_closure, make_step

SCHEDULES = ("constant", "cosine", "plateau")
# a validation loss this many times its starting value is a blown-up training, not a slow one
# (in float64 a diverging LISTA reaches 1e57 without overflowing)
DIVERGENCE_FACTOR = 1e6


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and so enters the cache key).

    Parameters
    ----------
    n_steps : int
        Maximum number of optimizer steps (mini-batches; full-batch iterations for 'lbfgs' and
        'gd-linesearch').
    batch_size : int
        Mini-batch size (64 in Chen et al. 2018); the full-batch protocols and the validation
        compute the loss in chunks of ``16 * batch_size`` samples.
    lr : float
        Adam learning rate (5e-4 in Chen et al. 2018); the first trial step of 'gd-linesearch';
        unused by 'lbfgs' (its step is 1 along the quasi-Newton direction, then the line search).
    schedule : {'constant', 'cosine', 'plateau'}
        'cosine' anneals to 0 over ``n_steps``; 'plateau' divides the rate by 10 when the
        validation loss stops improving for ``patience // 2`` evaluations (Adam only: the line
        searches set the step of the full-batch protocols).
    eval_every : int
        Steps between two validation evaluations.
    patience : int
        Evaluations without improvement before stopping; 0 disables early stopping.
    grad_clip : float or None
        Clip the global gradient norm to this value.
    seed : int
        Seed of the mini-batch sampler.
    optimizer : {'adam', 'lbfgs', 'gd-linesearch'}
        Adam on mini-batches (the default); L-BFGS with a strong-Wolfe line search, or gradient
        descent with a backtracking (Armijo) line search, on the full training set
        (:mod:`l2obench.solvers.optimizers`).
    """

    n_steps: int = 2000
    batch_size: int = 64
    lr: float = 5e-4
    schedule: str = "cosine"
    eval_every: int = 50
    patience: int = 10
    grad_clip: float | None = None
    seed: int = 0
    optimizer: str = "adam"

    def __post_init__(self):
        check_int("n_steps", self.n_steps, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_real("lr", self.lr, low=0.0, low_open=True)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_int("eval_every", self.eval_every, low=1)
        check_int("patience", self.patience, low=0)
        if self.grad_clip is not None:
            check_real("grad_clip", self.grad_clip, low=0.0, low_open=True)
        check_int("seed", self.seed)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.grad_clip is not None and self.optimizer != "adam":
            raise ValueError(f"grad_clip applies to optimizer='adam' only (a line search sets the step of "
                             f"optimizer={self.optimizer!r}).")

    def as_dict(self):
        return asdict(self)

    @classmethod
    def for_budget(cls, n_steps, *, lr, batch_size=64, seed=0, n_evals=20, max_eval_every=None, patience=10,
                   schedule="cosine", optimizer="adam", grad_clip=None):
        """The configuration of a budget of ``n_steps`` with ``n_evals`` validation evaluations
        (at most every ``max_eval_every`` steps): the one place the suite builds a TrainConfig."""
        eval_every = max(1, n_steps // n_evals) if isinstance(n_steps, int) and n_steps > 0 else 1
        if max_eval_every is not None:
            eval_every = min(eval_every, max_eval_every)
        return cls(n_steps=n_steps, batch_size=batch_size, lr=lr, seed=seed, eval_every=eval_every,
                   patience=patience, schedule=schedule, optimizer=optimizer, grad_clip=grad_clip)


@dataclass
class TrainHistory:
    """What happened during training; ``train_time`` is wall-clock seconds."""

    steps: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    best_val: float = math.inf
    best_step: int = 0
    time_to_best: float = 0.0
    n_steps_done: int = 0
    train_time: float = 0.0
    stopped_early: bool = False
    diverged: bool = False
    stalled: bool = False  # a line search refused the step (stopped early)

    def as_dict(self):
        return asdict(self)


def progress_disabled():
    """Progress bars are off in CI and when stderr is not a terminal (tqdm's ``None``)."""
    return True if os.environ.get("CI") else None


def _evaluate(model, loss_fn, data, batch_size):
    """Mean loss over ``data`` in chunks, without building a graph."""
    n = data[0].shape[0]
    total = 0.0
    with torch.no_grad():
        for start in range(0, n, batch_size):
            chunk = tuple(t[start:start + batch_size] for t in data)
            total += float(loss_fn(model, *chunk)) * chunk[0].shape[0]
    return total / n


def _param_groups(parameters, lr):
    """Adam parameter groups from tensors and/or ``{"params", "lr_scale"}`` dicts."""
    groups, plain = [], []
    for item in parameters:
        if isinstance(item, dict):
            scale = check_real("lr_scale", item.get("lr_scale", 1.0), low=0.0, low_open=True)
            trainable = [p for p in item["params"] if p.requires_grad]
            if trainable:
                groups.append({"params": trainable, "lr": lr * scale})
        elif item.requires_grad:
            plain.append(item)
    return ([{"params": plain, "lr": lr}] if plain else []) + groups


def train(model, loss_fn, train_data, val_data, config, *, parameters=None, desc="training", val_fn=None):
    """Train ``model`` in place to minimise ``loss_fn`` and return a :class:`TrainHistory`.

    Parameters
    ----------
    model : torch.nn.Module
    loss_fn : callable
        ``loss_fn(model, *batch) -> scalar tensor``, the mean loss over the batch.
    train_data, val_data : tuple of Tensor
        Tensors sharing their first (sample) dimension; mini-batches slice all of them.
    config : TrainConfig
    parameters : iterable of Parameter or of dict, optional
        Parameters to optimise (default: all of ``model`` that require grad). Stage-wise
        training passes the parameters of the current stage only. Dicts are parameter groups
        ``{"params": [...], "lr_scale": s}`` trained at ``s * config.lr`` (tensors of very
        different scales, e.g. a weight matrix and a threshold, need different Adam rates; the
        Armijo search scales the group's step by ``s``; L-BFGS uses one group).
    desc : str
        Label of the progress bar.
    val_fn : callable, optional
        ``val_fn(model, *batch)``, the validation criterion of early stopping and of the best state
        (default: ``loss_fn``; a decision-focused model validates on its regret).
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}.")
    n_train = train_data[0].shape[0]
    if n_train == 0 or val_data[0].shape[0] == 0:
        raise ValueError("train_data and val_data must each hold at least one sample.")
    groups = _param_groups(model.parameters() if parameters is None else parameters, config.lr)
    params = [p for g in groups for p in g["params"]]
    if not params:
        raise ValueError("parameters: nothing to train (no tensor requires grad).")

    optimizer = make_step(groups, config)
    if optimizer.full_batch:
        full_loss = full_batch_closure(model, loss_fn, train_data, params, config.batch_size * 16)
    generator = torch.Generator().manual_seed(config.seed)

    history = TrainHistory()
    best_state = copy.deepcopy(model.state_dict())
    val_fn = loss_fn if val_fn is None else val_fn
    history.best_val = initial_val = _evaluate(model, val_fn, val_data, config.batch_size * 16)
    bad_evals, running, n_running = 0, 0.0, 0
    perm, cursor = torch.randperm(n_train, generator=generator), 0
    t_start = time.perf_counter()
    bar = tqdm(range(1, config.n_steps + 1), desc=desc, disable=progress_disabled(), leave=False)
    for step in bar:
        if optimizer.full_batch:
            loss, moved = optimizer(full_loss)
        else:
            if cursor + config.batch_size > n_train:
                perm, cursor = torch.randperm(n_train, generator=generator), 0
            idx = perm[cursor:cursor + config.batch_size]
            cursor += config.batch_size
            loss, moved = optimizer(lambda: loss_fn(model, *(t[idx] for t in train_data)))
        if not torch.isfinite(loss):
            history.diverged = True
            break
        running += float(loss.detach())
        n_running += 1
        history.n_steps_done = step
        history.stalled = not moved  # a refused step: evaluate this state, then stop

        if step % config.eval_every == 0 or step == config.n_steps or history.stalled:
            val = _evaluate(model, val_fn, val_data, config.batch_size * 16)
            history.steps.append(step)
            history.train_loss.append(running / n_running)
            history.val_loss.append(val)
            running, n_running = 0.0, 0
            bar.set_postfix(val=f"{val:.3e}", best=f"{history.best_val:.3e}")
            optimizer.validated(val)
            if not math.isfinite(val) or val > DIVERGENCE_FACTOR * max(abs(initial_val), 1e-30):
                history.diverged = True
                break
            if val < history.best_val:
                history.best_val, history.best_step, bad_evals = val, step, 0
                history.time_to_best = time.perf_counter() - t_start
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad_evals += 1
                if config.patience and bad_evals >= config.patience:
                    history.stopped_early = True
                    break
            if history.stalled:
                history.stopped_early = True
                break
    bar.close()
    model.load_state_dict(best_state)
    history.train_time = time.perf_counter() - t_start
    return history
