r"""TiLISTA: tied weights, learned step and threshold per layer (Liu et al., ICLR 2019).

.. math:: z_{k+1} = \eta\big(z_k - \gamma_k (z_k D^\top - x) W,\ \lambda\theta_k\big)

in row form (``X`` (B, m), ``Z`` (B, n)), with one :math:`W \in \mathbb{R}^{m\times n}` shared by
all layers and :math:`\gamma_k, \theta_k` per layer (:math:`mn + 2T` parameters).
Initialised at ISTA: :math:`W = D`, :math:`\gamma_k = \theta_k = 1/L`. ``support_selection``
as in LISTA-CPSS (Liu et al. use it by default).
"""
from torch import nn

from l2obench.objectives.problem import residual_forward
from l2obench.solvers.classical.proximal_gradient import prox_grad_step
from l2obench.solvers.unrolled.base import Unrolled, per_layer_scalars

from .support_selection import support_selection_fraction, threshold_prox


class TiLISTA(Unrolled):
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

    def _init_params(self, problem):
        alpha = 1.0 / self.lipschitz_
        self.W_ = nn.Parameter(problem.A.clone())
        self.gamma_ = per_layer_scalars(alpha, self.n_layers, problem.A.dtype)
        self.theta_ = per_layer_scalars(alpha, self.n_layers, problem.A.dtype)

    def _layer(self, k, Z, ctx):
        prox = threshold_prox(support_selection_fraction(k) if self.support_selection else None)
        return prox_grad_step(Z, residual_forward(ctx["X"], self.A_, self.W_, self.gamma_[k]), prox,
                              ctx["lmbd"] * self.theta_[k].clamp_min(0))

    def layer_parameters(self, k):
        """Stage k trains its step and threshold (the shared W is tuned in the fine-tuning pass)."""
        return [self.gamma_[k], self.theta_[k]]
