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
:func:`~.support_selection.shrink_ss`). The three constants are chosen by grid search on a validation split
(:meth:`HyperLISTA.grid_search`, screened on a subset first, successive-halving style);
nothing is trained by gradient. ``lmbd`` is not used.
"""
import itertools

import numpy as np
import torch

from l2obench.objectives.validation import check_int

from l2obench.solvers.unrolled.base import Unrolled

from .alista import analytic_weight
from .support_selection import shrink_ss

DEFAULT_GRID = {"c1": np.geomspace(3e-3, 3e-1, 9), "c2": np.array([0.0, 1e-3, 3e-3, 6e-3, 1e-2, 2e-2]),
                "c3": np.array([0.0, 0.05, 0.1, 0.2, 0.4, 0.8])}


class HyperLISTA(Unrolled):
    """HyperLISTA with constants ``c1`` (threshold), ``c2`` (momentum), ``c3`` (support).

    Parameters
    ----------
    n_layers : int
        Depth T.
    n_screen : int
        Validation samples on which every grid point is scored first.
    n_keep : int
        Grid points rescored on the whole validation split.
    """

    def __init__(self, n_layers=16, n_screen=256, n_keep=16):
        super().__init__(n_layers)
        self.n_screen = check_int("n_screen", n_screen, low=1)
        self.n_keep = check_int("n_keep", n_keep, low=1)

    def _init_params(self, problem):
        D = problem.A
        self.register_buffer("W_", analytic_weight(D), persistent=False)
        self.register_buffer("Dpinv_", torch.linalg.pinv(D.double()).T.to(D.dtype), persistent=False)
        # R @ [D^+T | W] in one product: the error estimate and the gradient-like step share R
        self.register_buffer("PW_", torch.cat([self.Dpinv_, self.W_], dim=1), persistent=False)
        # constants are state (saved in the cache) but are not trained by gradient
        self.register_buffer("c_", torch.tensor([1e-2, 0.0, 0.0], dtype=D.dtype))

    def _context(self, X, lam):
        return {"X": X, "e0": (X @ self.Dpinv_).abs().sum(1, keepdim=True), "prev": None}

    def _layer(self, k, Z, ctx):
        c1, c2, c3 = self.c_
        R = Z @ self.A_.T - ctx["X"]
        RP, RW = (R @ self.PW_).split(Z.shape[1], dim=1)
        err = RP.abs().sum(1, keepdim=True)
        U = Z - RW
        if ctx["prev"] is not None:
            U = U + c2 * (Z != 0).sum(1, keepdim=True).to(Z.dtype) * (Z - ctx["prev"])
        ctx["prev"] = Z
        ratio = (ctx["e0"] + 1e-30) / (err + 1e-30)                  # 1 at z = 0 (and x = 0)
        frac = torch.clamp(c3 * torch.log(ratio), 0.0, 1.0)
        return shrink_ss(U, c1 * err, frac)

    def n_params(self):
        return 3

    def _losses(self, loss_fn, data, points):
        losses = []
        for c in points:
            self.c_.copy_(torch.tensor(c, dtype=self.c_.dtype))
            loss = float(loss_fn(self, *data))
            losses.append(loss if np.isfinite(loss) else np.inf)
        return np.array(losses)

    @torch.no_grad()
    def grid_search(self, loss_fn, data, grid=None):
        """Set ``c_`` to the grid point minimising ``loss_fn(self, *data)`` (a validation split).

        Every grid point is scored on the first ``n_screen`` samples of ``data``; the
        ``n_keep`` best are scored again on all of it and the best of those is kept (one round
        of successive halving: 3-4x cheaper than scoring the whole grid on everything, with the
        same optimum on the paper's setting). ``loss_fn`` is a :class:`~l2obench.solvers.losses.Loss`; ``grid`` maps 'c1', 'c2', 'c3' to value lists (default ``DEFAULT_GRID``, 324
        points). Returns the best validation loss.
        """
        grid = {**DEFAULT_GRID, **(grid or {})}
        points = list(itertools.product(grid["c1"], grid["c2"], grid["c3"]))
        n = data[0].shape[0]
        if n > self.n_screen and len(points) > self.n_keep:
            screen = self._losses(loss_fn, tuple(t[:self.n_screen] for t in data), points)
            points = [points[i] for i in np.argsort(screen, kind="stable")[:self.n_keep] if np.isfinite(screen[i])]
        losses = self._losses(loss_fn, data, points)
        if not points or not np.isfinite(losses).any():
            raise RuntimeError("HyperLISTA grid search: every grid point diverged.")
        best = int(np.argmin(losses))
        self.c_.copy_(torch.tensor(points[best], dtype=self.c_.dtype))
        return float(losses[best])
