r"""The implicit sparse-analysis model :math:`N_\Theta(d)`: build, train (cached), infer.

:math:`N_\Theta(d) = \operatorname{argmin}_x \|\Theta x\|_1` s.t. :math:`Ax = d`, evaluated by
the linearized ADMM operator of :mod:`.sparse_analysis_admm` inside a :class:`FixedPointLayer`,
and trained on pairs :math:`(d, x^\star)` to minimise :math:`\mathbb E\|N_\Theta(d) - x^\star\|^2`
(Heaton & Wu Fung, Sci. Rep. 2023) with JFB, IFT or unrolled backprop. With a fixed analytic
:math:`\Theta` the same layer's :meth:`~FixedPointLayer.iterate` is the classical solver.
"""
import sys

import torch

from l2obench.solvers import prox, training
from l2obench.solvers.cache import cached_training, code_fingerprint, fingerprint
from l2obench.solvers.implicit import anderson, fixed_point, sparse_analysis_admm
from l2obench.solvers.implicit.fixed_point import FixedPointLayer
from l2obench.solvers.implicit.memory import SavedTensorMeter
from l2obench.solvers.implicit.sparse_analysis_admm import SparseAnalysisADMM, analytic_transform
from l2obench.solvers.training import TrainConfig, train


def build_model(A, *, init="identity", backward="jfb", depth=100, tol=1e-4, alpha=1.0,
                beta=0.45, lam=1.0, forward_solver="plain", learn_theta=True):
    """A :class:`FixedPointLayer` around :class:`SparseAnalysisADMM` with :math:`\\Theta_0` = ``init``.

    ``depth`` is the iteration cap of the forward solve (JFB, IFT) or the unrolled depth.
    """
    theta0 = analytic_transform(A.shape[1], init, dtype=A.dtype)
    operator = SparseAnalysisADMM(A, theta0, alpha=alpha, beta=beta, lam=lam, learn_theta=learn_theta)
    return FixedPointLayer(operator, backward=backward, max_iter=depth, tol=tol,
                           forward_solver=forward_solver)


def mse_loss(model, d, x_true):
    """Mean over the batch of :math:`\\|N_\\Theta(d) - x^\\star\\|^2`."""
    return ((model.operator.readout(model(d)) - x_true) ** 2).sum(1).mean()


def infer(model, d, n_iter=None):
    """Primal output after ``n_iter`` plain iterations, or solved to the model's tolerance."""
    with torch.no_grad():
        z = model.solve(d)[0] if n_iter is None else model.iterate(d, n_iter)
    return model.operator.readout(z)


def train_model(model, train_data, val_data, config, *, cache=None):
    """Train ``model`` (in place, cached on disk) and return its training metadata.

    The cache key holds a fingerprint of ``A`` and of the data, the architecture (initial
    transform, step sizes, depth, tolerance, backward mode) and the whole ``config``.

    Returns
    -------
    meta : dict
        ``train_time`` (s), ``peak_memory`` (bytes saved for backward, largest step),
        ``n_steps_done``, ``best_val``, ``diverged``, ``cache_hit``.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}.")
    op = model.operator
    spec = {"model": "implicit_sparse_analysis_admm", "data": fingerprint(op.A, *train_data, *val_data),
            "theta0": fingerprint(op.theta.detach()), "steps": [op.alpha, op.beta, op.lam],
            "backward": model.backward, "depth": model.max_iter, "tol": model.tol,
            "forward_solver": model.forward_solver, "train": config.as_dict(),
            # the code that computes the operator, the solves and the loss: a changed formula is a new key
            "code": code_fingerprint(sparse_analysis_admm, fixed_point, anderson, sys.modules[__name__], prox,
                                     training)}

    def train_fn():
        meter = SavedTensorMeter()
        history = train(model, meter.wrap(mse_loss), train_data, val_data, config,
                        desc=f"sparse-analysis {model.backward}")
        return {"train_time": history.train_time, "peak_memory": meter.peak_bytes_,
                "n_steps_done": history.n_steps_done, "best_val": history.best_val,
                "diverged": history.diverged}
    return cached_training(spec, model, train_fn, cache=cache)

