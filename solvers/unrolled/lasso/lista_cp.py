r"""LISTA-CP and LISTA-CPSS (Chen, Liu, Wang, Yin, NeurIPS 2018).

Coupled weights (the necessary condition :math:`W_2^k = I - W_1^k D` for convergence),
in row form with ``X`` (B, m), ``Z`` (B, n):

.. math:: z_{k+1} = \eta\big(z_k + (x - z_k D^\top) W^k,\ \lambda\theta_k\big),

:math:`W^k \in \mathbb{R}^{m\times n}` and :math:`\theta_k` learned per layer
(:math:`T(mn + 1)` parameters, 2.0 M at 250 × 500, T = 16). :math:`\eta` is soft-thresholding
(LISTA-CP) or, with ``support_selection=True`` (LISTA-CPSS), soft-thresholding in which the
largest :math:`p_k` % entries bypass the threshold, :math:`p_k = \min(1.2(k+1), 13)`.
Initialised at ISTA (:math:`W^k = D/L`, :math:`\theta_k = 1/L`, the papers' choice): with
``support_selection=False`` each untrained layer is an ISTA step. ``init='analytic'`` starts
instead from ALISTA's weight, :math:`W^k = \tilde W/\|\tilde W^\top D\|_2` (Liu et al. ICLR 2019),
so that the untrained model is the untrained ALISTA and training only learns what the 2 M free
weights add to it.
"""
import torch
from torch import nn

from l2obench.objectives.problem import residual_forward
from l2obench.objectives.validation import check_choice, check_real
from l2obench.solvers.classical.proximal_gradient import prox_grad_step
from l2obench.solvers.unrolled.base import Unrolled, per_layer_scalars

from .alista import analytic_weight
from .support_selection import support_selection_fraction, threshold_prox

INITS = ("ista", "analytic")


class LISTACP(Unrolled):
    """LISTA-CP, or LISTA-CPSS with ``support_selection=True``.

    Parameters
    ----------
    n_layers : int
        Depth T.
    support_selection : bool
        Let the largest entries bypass the threshold (CPSS).
    p_per_layer, p_max : float
        Support-selection schedule in percent (1.2 and 13 in Chen et al. 2018).
    init : {'ista', 'analytic'}
        Initial :math:`W^k`: ISTA's :math:`D/L` (Chen et al.) or ALISTA's scaled analytic weight.
    threshold_lr_scale : float
        Adam rate of the thresholds :math:`\theta_k` relative to that of the weights (1 in the
        papers).
    """

    def __init__(self, n_layers=16, support_selection=False, p_per_layer=1.2, p_max=13.0, init="ista",
                 threshold_lr_scale=1.0):
        super().__init__(n_layers)
        self.init = check_choice("init", init, INITS)
        self.threshold_lr_scale = check_real("threshold_lr_scale", threshold_lr_scale, low=0.0, low_open=True)
        self.support_selection = bool(support_selection)
        self.p_per_layer = check_real("p_per_layer", p_per_layer, low=0.0, high=100.0)
        self.p_max = check_real("p_max", p_max, low=0.0, high=100.0)

    def _init_params(self, problem):
        D = problem.A
        if self.init == "ista":
            W, alpha = D, 1.0 / self.lipschitz_
        else:  # ALISTA's initial step 1/||W^T D||_2
            W = analytic_weight(D)
            alpha = 1.0 / float(torch.linalg.matrix_norm(W.T.double() @ D.double(), ord=2))
        self.W_ = nn.ParameterList([nn.Parameter(alpha * W.clone()) for _ in range(self.n_layers)])
        self.theta_ = per_layer_scalars(alpha, self.n_layers, D.dtype)

    def _layer(self, k, Z, ctx):
        fraction = support_selection_fraction(k, self.p_per_layer, self.p_max) if self.support_selection else None
        return prox_grad_step(Z, residual_forward(ctx["X"], self.A_, self.W_[k]), threshold_prox(fraction),
                              ctx["lmbd"] * self.theta_[k].clamp_min(0))

    def lr_groups(self, params):
        thresholds = {id(t) for t in self.theta_}
        params = list(params)
        return [{"params": [p for p in params if id(p) not in thresholds], "lr_scale": 1.0},
                {"params": [p for p in params if id(p) in thresholds], "lr_scale": self.threshold_lr_scale}]

    def layer_parameters(self, k):
        return [self.W_[k], self.theta_[k]]
