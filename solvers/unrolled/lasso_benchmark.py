"""The library side of the learned-solver adapters in ``benchmarks/lasso/solvers/``.

An adapter calls :func:`fit_for_benchmark` in ``set_objective`` (outside benchopt's timed
``run``), then ``model.solve(X_test, lmbd, n_iter)`` in ``run`` and returns ``info`` with the
iterate from ``get_result``. Training uses the objective's TRAIN split only.
"""
import os
from contextlib import contextmanager

import torch

from l2obench.objectives.validation import check_int
from l2obench.solvers.training import TrainConfig

from .fit import fit_unrolled
from .registry import make_model

CONTINUATION_DEPTHS = (1, 2, 3, 5, 8, 12, 16)  # Ablin et al.'s depths; then the model's own
N_EVALS = 20  # validation evaluations per training run (5 per stage when stage-wise)
VAL_MAX = 1024  # held-out training samples for early stopping / HyperLISTA's grid search


@contextmanager
def _train_threads():
    """Train with ``$L2OBENCH_TRAIN_THREADS`` (default 1) torch threads, then restore.

    The mini-batches are small: on a shared machine, OpenMP threads spinning against other
    processes made training up to 20x slower than one thread (measured on this 2-core box).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("L2OBENCH_TRAIN_THREADS", "1")))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def skip_reason(loss, objective_dict):
    """``(True, reason)`` when ``loss`` cannot be trained on this dataset, else ``(False, None)``."""
    if loss == "supervised" and objective_dict.get("Z_train") is None:
        return True, "loss='supervised' needs ground-truth codes; this dataset has none"
    return False, None


def fit_for_benchmark(name, objective_dict, *, seed, n_layers=16, loss="supervised", n_steps=1000,
                      lr=1e-3, batch_size=64, stagewise=False, continuation=False, cache=None, **model_kwargs):
    """Build and train (or load from the cache) the model ``name`` on the objective's train split.

    Parameters
    ----------
    name : str
        Key of :data:`~.registry.MODELS`.
    objective_dict : dict
        ``Objective.get_objective()``: ``D``, ``X_train``, ``Z_train``, ``lmbd_train``, ...
    seed : int
        Seed of the training run (benchopt's ``get_seed(use_repetition=True)``).
    n_layers, loss, n_steps, lr, batch_size, stagewise
        Depth, training loss and budget (``n_steps`` per stage when ``stagewise``).
    continuation : bool
        Depth continuation: train at the depths of ``CONTINUATION_DEPTHS`` below ``n_layers``,
        then at ``n_layers``, each run starting from the previous one (``n_steps`` each;
        ``train_time`` is the sum). Trained directly at depth 20, SLISTA's last steps grew too
        large and it lost to FISTA on digits; with continuation it wins at every depth.
    **model_kwargs
        Extra hyper-parameters of the model (e.g. ``support_selection``).

    Returns
    -------
    model : UnrolledLasso
        Trained model, ready for ``model.solve(X, lmbd, n_iter)``.
    info : dict
        ``train_time`` (s; of the original run on a cache hit), ``n_params``, ``trained_depth``.
    """
    n_steps = check_int("n_steps", n_steps, low=1)
    n_evals = 5 if stagewise else N_EVALS
    config = TrainConfig(n_steps=n_steps, batch_size=batch_size, lr=lr, seed=seed,
                         eval_every=max(1, n_steps // n_evals), patience=N_EVALS // 2)
    X = objective_dict["X_train"]
    depths = [d for d in CONTINUATION_DEPTHS if d < n_layers] if continuation else []
    model, train_time = None, 0.0
    with _train_threads():
        for depth in depths + [n_layers]:
            shallower, model = model, make_model(name, n_layers=depth, **model_kwargs)
            meta = fit_unrolled(model, objective_dict["D"], X, objective_dict["lmbd_train"],
                                loss=loss, Z_true=objective_dict.get("Z_train"), config=config,
                                stagewise=stagewise, val_fraction=min(0.1, VAL_MAX / X.shape[0]),
                                cache=cache, init_from=shallower)
            train_time += float(meta["train_time"])
    model.eval()
    info = {"train_time": train_time, "n_params": model.n_params(), "trained_depth": model.n_layers}
    return model, info
