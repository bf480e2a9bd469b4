r"""TiLISTA: tied weights, learned step and threshold per layer (Liu et al., ICLR 2019).

.. math:: z_{k+1} = \eta\big(z_k - \gamma_k (z_k D^\top - x) W,\ \lambda\theta_k\big)

in row form (``X`` (B, m), ``Z`` (B, n)), with one :math:`W \in \mathbb{R}^{m\times n}` shared by
all layers and :math:`\gamma_k, \theta_k` per layer (:math:`mn + 2T` parameters).
Initialised at ISTA: :math:`W = D`, :math:`\gamma_k = \theta_k = 1/L`. ``support_selection``
as in LISTA-CPSS (Liu et al. use it by default).
"""
import torch
from torch import nn

from l2obench.solvers.prox import soft_threshold

from .base import UnrolledLasso, shrink_ss, support_selection_fraction


class TiLISTA(UnrolledLasso):
    """Tied LISTA. See the module docstring.

    Parameters
    ----------
    n_layers : int
        Depth T.
    support_selection : bool
        Largest entries bypass the threshold, :math:`p_k = \\min(1.2(k+1), 13)` %.
    """

    def __init__(self, n_layers=16, support_selection=False):
        super().__init__(n_layers)
        self.support_selection = bool(support_selection)

    def hyper_params(self):
        return {**super().hyper_params(), "support_selection": self.support_selection}

    def _init_params(self, D):
        alpha = 1.0 / float(self.L_)
        self.W_ = nn.Parameter(D.clone())
        self.gamma_ = nn.ParameterList(
            [nn.Parameter(torch.tensor(alpha, dtype=D.dtype)) for _ in range(self.n_layers)])
        self.theta_ = nn.ParameterList(
            [nn.Parameter(torch.tensor(alpha, dtype=D.dtype)) for _ in range(self.n_layers)])

    def _context(self, X, lmbd):
        return {"X": X, "lmbd": lmbd}

    def _layer(self, k, Z, ctx):
        U = Z - self.gamma_[k] * ((Z @ self.D_.T - ctx["X"]) @ self.W_)
        thresh = ctx["lmbd"] * self.theta_[k].clamp_min(0)
        if self.support_selection:
            return shrink_ss(U, thresh, support_selection_fraction(k))
        return soft_threshold(U, thresh)

    def layer_parameters(self, k):
        """Stage k trains its step and threshold (the shared W is tuned in the fine-tuning pass)."""
        return [self.gamma_[k], self.theta_[k]]
