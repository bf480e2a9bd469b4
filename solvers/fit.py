r"""The one fit pipeline of every learned solver: split, threads, training, cache (ARCHITECTURE.md).

:func:`fit` builds a model on a problem of the problem interface, holds out a seeded validation
split (or takes the one given), and trains it with :func:`~l2obench.solvers.training.train` (or
its own ``grid_search``, HyperLISTA), on ``$L2OBENCH_TRAIN_THREADS`` torch threads, or loads the
weights from the on-disk cache (:func:`~l2obench.solvers.cache.cached_training`). The cache key
is derived, never hand-kept: the model's class and ``get_params()`` (from its ``__init__``), the
fingerprint of its initial weights and buffers (so the operator, the analytic initialisation and
a depth-continuation source all count), of the problem (its class and tensors) and of the training
data, the loss, the training configuration, and the code the model, the problem, the loss and this
pipeline can reach (:func:`~l2obench.solvers.cache.code_fingerprint`). A training that diverged
is reported (``diverged``) and never cached.

Protocols: plain training (every tensor at once) or stage-wise (Chen et al. NeurIPS 2018: layer
k = 1..T on the depth-k loss, first the new layer's tensors warm-started from layer k − 1, then
all of them), its phases per stage in :data:`STAGEWISE`: ``True`` fine-tunes at a fifth of the
rate, ``'chen'`` at a fifth then a fiftieth (the reference code's 5e-4 → 1e-4 → 1e-5), each phase
a :func:`~l2obench.solvers.training.train` run to its own validation plateau (``patience``) or
budget, from the best state of the phase before; :func:`fit_with_continuation` trains a sequence
of depths, each from the previous one (Ablin et al. 2019's per-depth networks).
"""
import dataclasses
import itertools
import sys
import time

import torch

from l2obench.objectives.validation import check_choice, check_real
from l2obench.solvers.cache import cached_training, code_fingerprint, fingerprint
from l2obench.solvers.device import default_device, device_key, resolve_device, to_device
from l2obench.solvers.losses import TrainingLoss
from l2obench.solvers.memory import SavedTensorMeter
from l2obench.solvers.threads import torch_threads, train_threads
from l2obench.solvers.training import TrainConfig, train

FINETUNE_LR_FACTOR = 0.2
# the phases of one stage of stage-wise training: which tensors ('layer': the new layer's, 'all':
# layers 1..k) at which multiple of ``config.lr``. True: the suite's protocol (fine-tuning at a
# fifth of the rate). 'chen': Chen et al. 2018's reference code (LISTA-CPSS utils/train.py:
# the new layer at init_lr, then all layers at init_lr × lr_decay = (0.2, 0.02))
STAGEWISE = {True: (("layer", 1.0), ("all", FINETUNE_LR_FACTOR)),
             "chen": (("layer", 1.0), ("all", 0.2), ("all", 0.02))}
STAGEWISE_CHOICES = (False, *STAGEWISE)


def check_stagewise(stagewise):
    """``stagewise`` as the cache key holds it: False, True or a name of :data:`STAGEWISE`."""
    check_choice("stagewise", stagewise, STAGEWISE_CHOICES)
    return stagewise if isinstance(stagewise, str) else bool(stagewise)


def split_train_val(n, val_fraction, seed):
    """Seeded permutation split of ``range(n)`` into (train, val) index tensors."""
    check_real("val_fraction", val_fraction, low=0.0, high=0.5, low_open=True)
    if n < 2:
        raise ValueError(f"need at least 2 training samples to hold out a validation split, got {n}.")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = max(1, int(round(val_fraction * n)))
    return perm[n_val:], perm[:n_val]


@torch.no_grad()
def _warm_start(model, k):
    """Start layer ``k`` from the trained layer ``k - 1`` (same shapes), not from the analytic weights."""
    if k == 0:
        return
    for new, old in zip(model.layer_parameters(k), model.layer_parameters(k - 1)):
        if new is not old and new.shape == old.shape:
            new.copy_(old)


def _run_training(model, loss, tr, val, config, stagewise, meter=None):
    """Train in place; returns the training metadata (the outcome travels into result rows)."""
    t0 = time.perf_counter()
    val_fn = loss.validation  # the early-stopping criterion (a decision loss's is the regret)
    if meter is not None:
        loss = meter.wrap(loss)
    name = type(model).__name__
    if hasattr(model, "grid_search"):
        best = model.grid_search(loss, val)
        elapsed = time.perf_counter() - t0
        return {"train_time": elapsed, "time_to_best": elapsed, "best_step": 0, "best_val": best, "n_steps": 0,
                "diverged": False,
                "stopped_early": False}
    histories = []
    if not stagewise:
        histories.append(train(model, loss, tr, val, config, parameters=model.lr_groups(model.parameters()),
                               desc=name, val_fn=val_fn))
    else:
        # each phase a train() run from the best state the phase before restored
        phases = [(which, config if factor == 1.0 else dataclasses.replace(config, lr=config.lr * factor))
                  for which, factor in STAGEWISE[stagewise]]
        for k in range(1, model.n_layers + 1):
            _warm_start(model, k - 1)

            def loss_k(m, *batch, _k=k):
                return loss(m, *batch, n_layers=_k)
            for which, phase in phases:
                tensors = model.layer_parameters(k - 1) if which == "layer" else model.parameters()
                desc = f"{name} layer {k}" if which == "layer" else f"{name} 1..{k} lr={phase.lr:g}"
                histories.append(train(model, loss_k, tr, val, phase, parameters=model.lr_groups(tensors), desc=desc))
    meta = {"train_time": time.perf_counter() - t0, "best_val": histories[-1].best_val,
            "time_to_best": sum(h.train_time for h in histories[:-1]) + histories[-1].time_to_best,
            # 0 with n_steps > 0: no step improved on the initial weights (the model returned is its start)
            "best_step": sum(h.n_steps_done for h in histories[:-1]) + histories[-1].best_step,
            "n_steps": int(sum(h.n_steps_done for h in histories)),
            "diverged": any(h.diverged for h in histories),
            "stopped_early": any(h.stopped_early for h in histories)}
    return meta if meter is None else {**meta, "peak_memory": meter.peak_bytes_}


def _check_data(split, inputs, target):
    """Every input (and the target) a finite tensor: NaN or Inf would train on garbage."""
    named = [(f"input {i}", t) for i, t in enumerate(inputs)] + ([] if target is None else [("target", target)])
    for name, t in named:
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{split} data: {name} must be a tensor (one value per sample), got {type(t).__name__}.")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"{split} data: {name} is not finite (NaN or Inf entries).")


def _state_fingerprint(model):
    tensors = itertools.chain(model.named_parameters(), model.named_buffers())
    return fingerprint(*(t for _, t in sorted(tensors, key=lambda item: item[0])))


def fit(model, problem, inputs, *, loss, target=None, config=None, val=None, val_fraction=0.1, stagewise=False,
        init_from=None, measure_memory=False, cache=None, device="cpu"):
    """Build ``model`` on ``problem`` and train it on ``inputs``, or load it from the cache.

    Parameters
    ----------
    model : Unrolled or an implicit model
        Unbuilt model (hyper-parameters only), with ``build(problem)``.
    problem : a problem of :mod:`l2obench.objectives`
    inputs : tuple of Tensor
        The model's inputs, sharing their first (sample) dimension: ``(X, lmbd)`` for unrolled
        models, ``(d,)`` for the sparse-analysis model. Finite, at least 2 samples.
    loss : Loss
    target : Tensor, optional
        Ground truth (``loss.kind == 'supervised'``).
    config : TrainConfig, optional
    val : (inputs, target) tuple, optional
        A validation split of its own; otherwise a seeded ``val_fraction`` of ``inputs`` is held out.
    stagewise : {False, True, 'chen'}
        Layer-by-layer training (Chen et al. 2018), the phases of each stage in :data:`STAGEWISE`:
        True, the new layer at ``config.lr`` then all layers at a fifth of it; 'chen', the new layer
        at ``config.lr`` then all layers at ``lr / 5`` and ``lr / 50``. The step budget and early
        stopping apply per phase; part of the cache key.
    init_from : model, optional
        A trained shallower model of the same class whose layers seed the first layers
        (depth continuation); its weights enter the cache key through the initial state.
    measure_memory : bool
        Record the peak bytes autograd saves for backward (``peak_memory``,
        :class:`~l2obench.solvers.memory.SavedTensorMeter`).
    cache : WeightCache, optional
    device : str or torch.device
        Where the model is built and trained (``'cpu'``, ``'cuda'``): the problem and the data are
        moved there; part of the cache key (a GPU trains other weights; cached weights are stored on
        the CPU and loaded into the model on its device).

    Returns
    -------
    meta : dict
        ``train_time`` (s, of the original training), ``n_steps``, ``best_val``, ``diverged``,
        ``stopped_early``, ``cache_hit``, ``n_params``, ``trained_depth``.
    """
    config = config if config is not None else TrainConfig()
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}.")
    if not isinstance(loss, TrainingLoss):
        raise ValueError(f"loss must be a TrainingLoss (Loss, DecisionLoss), got {type(loss).__name__}.")
    stagewise = check_stagewise(stagewise)
    if stagewise and not hasattr(model, "layer_parameters"):
        raise ValueError(f"stagewise={stagewise!r} trains layer by layer: {type(model).__name__} has no layers "
                         "(use stagewise=False).")
    inputs = tuple(inputs)
    _check_data("training", inputs, target)
    if val is not None:
        _check_data("validation", tuple(val[0]), val[1])
    device = resolve_device(device)
    problem, inputs, target, val = to_device((problem, inputs, target, val), device)
    # a model that draws its initial weights (a cost network) draws them from the training's seed,
    # without touching torch's global generator
    with default_device(device), torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model.build(problem)
        if init_from is not None:
            model.init_from(init_from)
        target = to_device(loss.targets(problem, inputs, target), device)  # a cached target loads on the CPU
    data = inputs if target is None else inputs + (target,)
    if val is None:
        idx_tr, idx_val = split_train_val(data[0].shape[0], val_fraction, config.seed)
        tr, val_data = tuple(t[idx_tr] for t in data), tuple(t[idx_val] for t in data)
    else:
        val_inputs, val_target = val
        tr, val_data = data, tuple(val_inputs) + (() if val_target is None else (val_target,))
    # the problem's class and code count: its penalty's prox and its value are computed by the
    # layers and the loss (the exact TV prox is reachable from no model module)
    spec = {"model": type(model).__qualname__, "params": model.get_params(), "initial_state": _state_fingerprint(model),
            "problem": [type(problem).__qualname__, fingerprint(*problem.fingerprint_tensors())],
            "data": fingerprint(*tr), "val": fingerprint(*val_data),
            "loss": loss.get_params(), "config": config.as_dict(), "stagewise": stagewise,
            "measure_memory": bool(measure_memory), "device": device_key(device),
            # a loss that draws its instances (a sampler): the sampler's code makes the training data
            "code": code_fingerprint(type(model), type(problem), type(loss), sys.modules[__name__],
                                     *([type(loss.sampler)] if getattr(loss, "sampler", None) is not None else []))}

    def run():
        with torch_threads(train_threads()), default_device(device):
            return _run_training(model, loss, tr, val_data, config, stagewise,
                                 SavedTensorMeter() if measure_memory else None)

    meta = cached_training(spec, model, run, cache=cache)
    model.eval()
    return {**meta, "n_params": model.n_params(), "trained_depth": model.trained_depth()}


def fit_with_continuation(make_model, depths, problem, inputs, **fit_kwargs):
    """Train ``make_model(depth)`` for each of ``depths`` (increasing), each from the previous one.

    Returns the last model and its metadata, with ``train_time`` and ``n_steps`` summed over
    the depths and ``diverged`` / ``stopped_early`` if any depth did.
    """
    model, total = None, {"train_time": 0.0, "n_steps": 0, "diverged": False, "stopped_early": False}
    for depth in depths:
        model_d = make_model(depth)
        meta = fit(model_d, problem, inputs, init_from=model, **fit_kwargs)
        model = model_d
        total = {"train_time": total["train_time"] + float(meta["train_time"]),
                 "n_steps": total["n_steps"] + int(meta.get("n_steps", 0)),
                 "diverged": total["diverged"] or bool(meta.get("diverged")),
                 "stopped_early": total["stopped_early"] or bool(meta.get("stopped_early"))}
    return model, {**meta, **total}
