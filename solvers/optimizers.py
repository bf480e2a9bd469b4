"""One step of each optimizer of the one training loop (:func:`l2obench.solvers.training.train`).

``TrainConfig.optimizer`` selects the protocol; the loop (batches, validation, early stopping,
best state, divergence) is the same for all of them:

- ``'adam'``: Adam on mini-batches with parameter groups (``lr_scale``), an optional cosine or
  plateau schedule and gradient clipping (Chen et al. 2018; the default).
- ``'lbfgs'``: :class:`torch.optim.LBFGS` with the strong-Wolfe line search, one iteration per
  step, on the full training set. The step comes from the quasi-Newton direction and the line
  search (``lr`` = 1, ``config.lr`` unused); one parameter group (LBFGS has no per-group rates, its
  curvature estimate rescales the tensors), no schedule. For models with few parameters (SLISTA,
  ALISTA, HyperLISTA-like scalars).
- ``'gd-linesearch'``: full-batch gradient descent with a backtracking (Armijo) line search, the
  protocol of Ablin et al. 2019 and Cherkaoui et al. 2020: the trial step starts at ``config.lr``,
  doubles after every accepted step and halves until f(x − t·s_g·∇f) ≤ f(x) − c·t·Σ s_g‖∇_g f‖²
  (s_g the group's ``lr_scale``); after ``MAX_HALVINGS`` halvings the step is refused and the
  training has stalled (it stops). An increase of the training loss is never accepted.

The full-batch protocols compute the mean loss over the whole training set, its gradient
accumulated chunk by chunk (``chunk`` samples at a time, the validation's chunks), so memory
stays that of one chunk. They use the whole set rather than mini-batches because a line search
and L-BFGS's curvature pairs need one deterministic function: on a new mini-batch each step the
pairs mix different functions and the accepted steps follow the batch noise.

A step returns ``(loss, moved)``: the training loss before the update (NaN when the update made a
parameter non-finite), and whether the parameters moved (False: stalled).

*Truncated back-propagation through time.* A loss may return, instead of one tensor, an ITERATOR
of segment losses (a learned optimizer's trajectory cut into segments, the state detached between
them: :class:`~l2obench.solvers.learned_optimizers.loss.TrajectoryLoss`). :class:`AdamStep` then
takes one step per segment (zero the gradients, back-propagate the segment's loss, clip, Adam),
each segment computed with the weights the step before left, as Andrychowicz et al. (2016) and
Liu et al. (2023) train; it stops at the first non-finite segment loss and returns the mean of
the segment losses. The schedule (cosine) advances once per call, i.e. per batch. The full-batch
protocols need one deterministic function of the weights and refuse such losses.
"""
import collections.abc
import math

import torch

OPTIMIZERS = ("adam", "lbfgs", "gd-linesearch")
LBFGS_HISTORY = 10      # curvature pairs kept by L-BFGS
LBFGS_MAX_LS = 20       # function evaluations of one strong-Wolfe line search
ARMIJO_C = 1e-4         # sufficient-decrease constant of the backtracking search
GROWTH = 2.0            # the trial step after an accepted one
MAX_HALVINGS = 30       # halvings before a step is refused (2^-30: below float32's resolution of the loss)


def full_batch_closure(model, loss_fn, data, params, chunk):
    """``closure(backward=True)``: the mean of ``loss_fn`` over ``data`` as a 0-dim tensor; with
    ``backward`` the gradients of ``params`` are set to its gradient (accumulated chunk by chunk)."""
    n = data[0].shape[0]

    def closure(backward=True):
        total = 0.0
        if backward:
            for p in params:
                p.grad = None
        with torch.set_grad_enabled(backward):
            for start in range(0, n, chunk):
                part = tuple(t[start:start + chunk] for t in data)
                loss = _single(loss_fn(model, *part))
                if backward:
                    (loss * (part[0].shape[0] / n)).backward()
                total += float(loss.detach()) * part[0].shape[0]
        return torch.tensor(total / n, dtype=params[0].dtype)

    return closure


def _single(loss):
    """``loss`` if it is one tensor; a ``ValueError`` for an iterator of segment losses."""
    if not isinstance(loss, torch.Tensor):
        raise ValueError(f"the full-batch optimizers ('lbfgs', 'gd-linesearch') need a loss that returns one "
                         f"tensor, got {type(loss).__name__} (segment losses: truncated back-propagation "
                         f"through time); use optimizer='adam'.")
    return loss


def _finite(params):
    return all(bool(torch.isfinite(p).all()) for p in params)


class AdamStep:
    """Adam on a mini-batch (the suite's historical loop, operation for operation); one step per
    segment for a loss that returns segment losses (module docstring)."""

    full_batch = False

    def __init__(self, groups, config):
        self.params = [p for g in groups for p in g["params"]]
        self.config = config
        self.optimizer = torch.optim.Adam(groups, lr=config.lr)
        self.scheduler = None
        if config.schedule == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=config.n_steps)
        elif config.schedule == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, factor=0.1, patience=max(config.patience // 2, 1))

    def __call__(self, batch_loss):
        loss = batch_loss()
        if isinstance(loss, collections.abc.Iterator):
            return self._segments(loss)
        if not torch.isfinite(loss):
            return loss, True
        self._update(loss)
        if self.config.schedule == "cosine":
            self.scheduler.step()
        return loss, True

    def _update(self, loss):
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        self.optimizer.step()

    def _segments(self, segments):
        """One Adam step per segment loss; the mean of the segment losses (0-dim)."""
        losses = []
        for loss in segments:
            losses.append(loss.detach())
            if not torch.isfinite(loss):  # diverged: the loop stops; a generator is closed
                getattr(segments, "close", lambda: None)()
                return torch.stack(losses).mean(), True
            self._update(loss)
        if not losses:
            raise ValueError("the loss returned no segment loss (an empty iterator).")
        if self.config.schedule == "cosine":
            self.scheduler.step()
        return torch.stack(losses).mean(), True

    def validated(self, val):
        if self.config.schedule == "plateau":
            self.scheduler.step(val)


class LBFGSStep:
    """One L-BFGS iteration (strong-Wolfe line search) on the full training set.

    The loss and gradient at the accepted point, computed by the line search, are reused by the
    next step instead of being evaluated again (LBFGS evaluates f(x) at the start of every call).
    """

    full_batch = True

    def __init__(self, groups, config):
        self.params = [p for g in groups for p in g["params"]]
        self.optimizer = torch.optim.LBFGS(self.params, lr=1.0, max_iter=1, max_eval=1 + LBFGS_MAX_LS,
                                           history_size=LBFGS_HISTORY, line_search_fn="strong_wolfe")
        self._last = None  # (flat parameters, loss, gradients) of the last evaluation

    def _flat(self):
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def __call__(self, closure):
        def memo():
            flat = self._flat()
            if self._last is not None and torch.equal(flat, self._last[0]):
                for p, g in zip(self.params, self._last[2]):
                    p.grad = None if g is None else g.clone()
                return self._last[1]
            loss = closure(backward=True)
            if not torch.isfinite(loss):  # the strong-Wolfe search extrapolates through NaN: make it
                loss = torch.tensor(math.inf, dtype=loss.dtype)  # a point to bracket and bisect away from
                for p in self.params:
                    p.grad = torch.full_like(p, math.nan)
            self._last = (flat, loss, [None if p.grad is None else p.grad.clone() for p in self.params])
            return loss

        before = self._flat()
        loss = self.optimizer.step(memo)
        if not _finite(self.params):
            return torch.tensor(math.nan), True
        return loss, not torch.equal(before, self._flat())

    def validated(self, val):
        pass


class LineSearchStep:
    """Full-batch gradient descent with a backtracking (Armijo) line search."""

    full_batch = True

    def __init__(self, groups, config):
        # each group's lr is lr_scale · config.lr (training._param_groups)
        self.groups = [(g["params"], g["lr"] / config.lr) for g in groups]
        self.params = [p for g in groups for p in g["params"]]
        self.step_size = config.lr

    @torch.no_grad()
    def _move(self, start, grads, t):
        for (params, scale), x0, g0 in zip(self.groups, start, grads):
            for p, x, g in zip(params, x0, g0):
                p.copy_(x - (t * scale) * g)

    def __call__(self, closure):
        loss = closure(backward=True)
        if not torch.isfinite(loss):
            return loss, True
        f0 = float(loss)
        start = [[p.detach().clone() for p in params] for params, _ in self.groups]
        grads = [[torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]
                 for params, _ in self.groups]
        slope = sum(scale * sum(float((g * g).sum()) for g in g0) for (_, scale), g0 in zip(self.groups, grads))
        if not math.isfinite(slope):
            return torch.tensor(math.nan), True
        t = self.step_size
        for _ in range(MAX_HALVINGS + 1):
            if slope == 0.0:
                break
            self._move(start, grads, t)
            f = float(closure(backward=False))
            if math.isfinite(f) and f <= f0 - ARMIJO_C * t * slope:
                self.step_size = t * GROWTH
                return loss, True
            t /= 2
        with torch.no_grad():  # refused: back to the start
            for (params, _), x0 in zip(self.groups, start):
                for p, x in zip(params, x0):
                    p.copy_(x)
        return loss, False

    def validated(self, val):
        pass


STEPS = {"adam": AdamStep, "lbfgs": LBFGSStep, "gd-linesearch": LineSearchStep}


def make_step(groups, config):
    """The step function of ``config.optimizer`` on the parameter ``groups`` (``{"params", "lr"}``)."""
    return STEPS[config.optimizer](groups, config)
