"""Fitting an unrolled Lasso model: targets, validation split, (stage-wise) training, cache.

Every gradient-trained model goes through :func:`l2obench.solvers.training.train`; stage-wise
training (Chen et al. NeurIPS 2018) calls it once per layer k = 1..T on the depth-k loss,
first on the new layer's tensors (warm-started from layer k - 1), then on all of them at a
reduced rate. HyperLISTA is fitted
by its grid search instead. Weights are cached by :func:`~l2obench.solvers.cache.cached_training`
under a key covering the data, the model, the loss and the training budget.
"""
import dataclasses
import sys
import time

import torch

from l2obench.objectives.validation import check_real
from l2obench.solvers import prox, training
from l2obench.solvers.cache import cached_training, code_fingerprint, fingerprint
from l2obench.solvers.classical import ista
from l2obench.solvers.training import TrainConfig, train

from . import alista, base, hyperlista, lista, lista_cp, losses, slista, tilista
from .losses import make_loss, make_targets

FINETUNE_LR_FACTOR = 0.2


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
    """Start layer ``k`` from the trained layer ``k - 1`` (same shapes), not from ISTA's weights."""
    if k == 0:
        return
    for new, old in zip(model.layer_parameters(k), model.layer_parameters(k - 1)):
        if new is not old and new.shape == old.shape:
            new.copy_(old)


def _train_fn(model, loss, D, X, lmbd, Z_true, config, stagewise, val_fraction):
    def run():
        t0 = time.perf_counter()
        target = make_targets(loss, D, X, lmbd, Z_true)
        data = (X, lmbd) if target is None else (X, lmbd, target)
        idx_tr, idx_val = split_train_val(X.shape[0], val_fraction, config.seed)
        tr, val = tuple(t[idx_tr] for t in data), tuple(t[idx_val] for t in data)
        loss_fn = make_loss(loss)
        if hasattr(model, "grid_search"):
            best = model.grid_search(loss_fn, val)
            return {"train_time": time.perf_counter() - t0, "best_val": best, "n_steps": 0}
        histories = []
        if not stagewise:
            histories.append(train(model, loss_fn, tr, val, config, parameters=model.lr_groups(model.parameters()),
                                   desc=type(model).__name__))
        else:
            fine = dataclasses.replace(config, lr=config.lr * FINETUNE_LR_FACTOR)
            for k in range(1, model.n_layers + 1):
                _warm_start(model, k - 1)

                def loss_k(m, *batch, _k=k):
                    return loss_fn(m, *batch, n_layers=_k)
                histories.append(train(model, loss_k, tr, val, config,
                                       parameters=model.lr_groups(model.layer_parameters(k - 1)),
                                       desc=f"{type(model).__name__} layer {k}"))
                histories.append(train(model, loss_k, tr, val, fine, parameters=model.lr_groups(model.parameters()),
                                       desc=f"{type(model).__name__} 1..{k}"))
        return {"train_time": time.perf_counter() - t0, "best_val": histories[-1].best_val,
                "n_steps": int(sum(h.n_steps_done for h in histories)),
                "diverged": any(h.diverged for h in histories)}
    return run


def model_code():
    """Fingerprint of the code that determines an unrolled Lasso model's training: every model
    module (they share helpers such as ALISTA's weight), the losses, this fitting code, the
    training loop and the shared ISTA step and prox. Enters every cache key."""
    return code_fingerprint(base, lista, lista_cp, tilista, alista, hyperlista, slista, losses,
                            sys.modules[__name__], training, prox, ista)


def fit_unrolled(model, D, X, lmbd, *, loss="supervised", Z_true=None, config=None, stagewise=False,
                 val_fraction=0.1, cache=None, init_from=None):
    """Build ``model`` on ``D`` and train it on (X, lmbd[, Z_true]), or load it from the cache.

    Parameters
    ----------
    model : UnrolledLasso
        Unbuilt model (hyper-parameters only).
    D : Tensor (m, n)
    X : Tensor (N, m)
        Training signals; a seeded ``val_fraction`` of them is held out for early stopping.
    lmbd : float or Tensor (N,)
        Per-sample Lasso penalties.
    loss : {'supervised', 'semi-supervised', 'unsupervised'}
    Z_true : Tensor (N, n), optional
        Ground-truth codes, required by ``loss='supervised'``.
    config : TrainConfig, optional
    stagewise : bool
        Layer-by-layer training (Chen et al. 2018); the step budget applies per stage.
    cache : WeightCache, optional
    init_from : UnrolledLasso, optional
        A trained shallower model of the same class whose layers seed the first layers
        (:meth:`~.base.UnrolledLasso.init_from`; its weights enter the cache key).

    Returns
    -------
    meta : dict
        ``train_time`` (s, of the original training), ``n_steps``, ``best_val``, ``cache_hit``.
    """
    config = config if config is not None else TrainConfig()
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}.")
    make_loss(loss)  # validates the name before any work
    if not isinstance(lmbd, torch.Tensor) or lmbd.ndim == 0:
        lmbd = torch.full((X.shape[0],), float(lmbd), dtype=X.dtype)
    lmbd = lmbd.to(X.dtype)
    if loss == "supervised" and Z_true is None:
        make_targets(loss, D, X, lmbd, None)  # raises the explanatory ValueError
    model.build(D)
    if init_from is not None:
        model.init_from(init_from)
    spec = {"model": type(model).__name__, "hyper": model.hyper_params(), "loss": loss,
            "config": config.as_dict(), "stagewise": bool(stagewise), "val_fraction": val_fraction,
            "data": fingerprint(D, X, lmbd, Z_true if loss == "supervised" else None),
            "code": model_code()}
    if init_from is not None:
        spec["init_from"] = {"n_layers": init_from.n_layers,
                             "weights": fingerprint(*(t for _, t in sorted(init_from.state_dict().items())))}
    fn = _train_fn(model, loss, D, X, lmbd, Z_true, config, stagewise, val_fraction)
    return cached_training(spec, model, fn, cache=cache)
