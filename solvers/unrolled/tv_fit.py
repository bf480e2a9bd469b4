"""Training the TV unrolled networks: the paper's unsupervised loss, the shared loop, the cache.

Every model trains through :func:`l2obench.solvers.training.train` on
:func:`~l2obench.solvers.unrolled.tv_lpgd.objective_loss` (the mean objective
:math:`P_x(z_T(x))`, or its mean over layers with ``all_layers=True`` so that every prefix of
the network is a good solver), and its weights are cached by
:func:`~l2obench.solvers.cache.cached_training` under a key covering the data, the model, the
loss and the budget.
"""
import sys
import time

import torch

from l2obench.objectives.validation import check_real
from l2obench.objectives import tv_deconvolution
from l2obench.solvers import prox, prox_tv, training
from l2obench.solvers.cache import cached_training, code_fingerprint, fingerprint
from l2obench.solvers.classical import tv_pgd, tv_synthesis_fista
from l2obench.solvers.prox_tv import torch_single_thread
from l2obench.solvers.training import TrainConfig, train

from . import tv_lista, tv_lpgd, tv_lpgd_lista
from .tv_lpgd import LPGDTaut, objective_loss
from .tv_lpgd_lista import LPGDLISTA
from .tv_lista import TVSynthesisLISTA

MODELS = {"lpgd_taut": LPGDTaut, "lpgd_lista": LPGDLISTA, "lista_synthesis": TVSynthesisLISTA}


def fit_tv_model(model, H, X, lmbd, *, config=None, all_layers=True, val_fraction=0.1, cache=None):
    """Build ``model`` on ``H`` and train it on signals ``X`` (N, m) with penalties ``lmbd`` (N,).

    A seeded ``val_fraction`` of X is held out for early stopping. Returns the training
    metadata (``train_time``, ``n_params``, ``trained_depth``, ``cache_hit``, ...).
    """
    check_real("val_fraction", val_fraction, low=0.0, high=0.5, low_open=True)
    config = config or TrainConfig()
    if X.shape[0] < 2:
        raise ValueError(f"X: need at least 2 training signals, got {X.shape[0]}.")
    model.build(H)
    lmbd = lmbd.reshape(-1).to(H.dtype) if isinstance(lmbd, torch.Tensor) else torch.full((X.shape[0],), float(lmbd), dtype=H.dtype)
    perm = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(config.seed))
    n_val = max(1, int(round(val_fraction * X.shape[0])))
    val, tr = perm[:n_val], perm[n_val:]

    def loss_fn(m, Xb, lb):
        return objective_loss(m, Xb, lb, all_layers=all_layers)

    def run():
        t0 = time.perf_counter()
        with torch_single_thread():
            hist = train(model, loss_fn, (X[tr], lmbd[tr]), (X[val], lmbd[val]), config, desc=type(model).__name__)
        return {"train_time": time.perf_counter() - t0, "best_val": hist.best_val,
                "n_steps": hist.n_steps_done, "diverged": hist.diverged}

    spec = {"model": type(model).__name__, "hyper": model.hyper_params(), "data": fingerprint(H, X, lmbd),
            "config": config.as_dict(), "loss": "objective", "all_layers": all_layers,
            "val_fraction": val_fraction, "dtype": str(H.dtype),
            # the code that computes the layers and the loss: a changed formula is a new key
            "code": code_fingerprint(tv_lpgd, tv_lpgd_lista, tv_lista, sys.modules[__name__], tv_pgd,
                                     tv_synthesis_fista, tv_deconvolution, prox_tv, prox, training)}
    meta = cached_training(spec, model, run, cache=cache)
    return {**meta, "n_params": model.n_params(), "trained_depth": model.n_layers}
