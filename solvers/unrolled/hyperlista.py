r"""HyperLISTA: ALISTA with momentum and instance-adaptive thresholds from three constants
(Chen, Liu, Heaton, Yin, "Hyperparameter tuning is all you need for LISTA", NeurIPS 2021).

With ALISTA's analytic :math:`\tilde W` (:func:`~.alista.analytic_weight`), residual
:math:`r_k = z_k D^\top - x` and its pseudo-inverse image :math:`e_k = \|D^+ r_k\|_1` (an estimate
of :math:`\|z_k - z^\star\|_1`),

.. math::
    u_k &= z_k - r_k\tilde W + \beta_k (z_k - z_{k-1}), \qquad \beta_k = c_2 \|z_k\|_0, \\
    \theta_k &= c_1 e_k, \qquad p_k = \mathrm{clip}\big(c_3 \log(\|D^+x\|_1 / e_k), 0, 1\big), \\
    z_{k+1} &= \eta^{p_k}(u_k, \theta_k)

(:math:`\eta^{p}` keeps the largest fraction :math:`p` of entries, see
:func:`~.base.shrink_ss`). The three constants are chosen by grid search on a validation split
(:meth:`HyperLISTA.grid_search`); nothing is trained by gradient. ``lmbd`` is not used.
"""
import itertools

import numpy as np
import torch
from torch import nn

from .alista import analytic_weight
from .base import UnrolledLasso, shrink_ss

DEFAULT_GRID = {"c1": np.geomspace(3e-3, 3e-1, 9), "c2": np.array([0.0, 1e-3, 3e-3, 6e-3, 1e-2, 2e-2]),
                "c3": np.array([0.0, 0.05, 0.1, 0.2, 0.4, 0.8])}


class HyperLISTA(UnrolledLasso):
    """HyperLISTA with constants ``c1`` (threshold), ``c2`` (momentum), ``c3`` (support).

    Parameters
    ----------
    n_layers : int
        Depth T.
    """

    def _init_params(self, D):
        self.register_buffer("W_", analytic_weight(D), persistent=False)
        self.register_buffer("Dpinv_", torch.linalg.pinv(D.double()).T.to(D.dtype), persistent=False)
        # constants are state (saved in the cache) but are not trained by gradient
        self.register_buffer("c_", torch.tensor([1e-2, 0.0, 0.0], dtype=D.dtype))

    def _context(self, X, lmbd):
        return {"X": X, "e0": (X @ self.Dpinv_).abs().sum(1, keepdim=True), "prev": None}

    def _layer(self, k, Z, ctx):
        c1, c2, c3 = self.c_
        R = Z @ self.D_.T - ctx["X"]
        err = (R @ self.Dpinv_).abs().sum(1, keepdim=True)
        U = Z - R @ self.W_
        if ctx["prev"] is not None:
            U = U + c2 * (Z != 0).sum(1, keepdim=True).to(Z.dtype) * (Z - ctx["prev"])
        ctx["prev"] = Z
        ratio = (ctx["e0"] + 1e-30) / (err + 1e-30)                  # 1 at z = 0 (and x = 0)
        frac = torch.clamp(c3 * torch.log(ratio), 0.0, 1.0)
        return shrink_ss(U, c1 * err, frac)

    def n_params(self):
        return 3

    @torch.no_grad()
    def grid_search(self, loss_fn, data, grid=None):
        """Set ``c_`` to the grid point minimising ``loss_fn(self, *data)`` (a validation split).

        ``loss_fn`` is one of :func:`~.losses.make_loss` 's losses; ``grid`` maps 'c1', 'c2',
        'c3' to value lists (default ``DEFAULT_GRID``, 324 points). Returns the best loss.
        """
        grid = {**DEFAULT_GRID, **(grid or {})}
        best, best_c = np.inf, None
        for c in itertools.product(grid["c1"], grid["c2"], grid["c3"]):
            self.c_.copy_(torch.tensor(c, dtype=self.c_.dtype))
            loss = float(loss_fn(self, *data))
            if np.isfinite(loss) and loss < best:
                best, best_c = loss, c
        if best_c is None:
            raise RuntimeError("HyperLISTA grid search: every grid point diverged.")
        self.c_.copy_(torch.tensor(best_c, dtype=self.c_.dtype))
        return best
