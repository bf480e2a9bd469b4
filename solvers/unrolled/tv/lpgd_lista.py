r"""LPGD-LISTA: unrolled PGD whose TV prox is an inner unrolled LISTA (Cherkaoui, Sulam &
Moreau, NeurIPS 2020, Sec. 3.2).

The outer layers are those of LPGD-Taut (learned :math:`W_k`, :math:`\theta_k`); the prox
:math:`\mathrm{prox}_{\mu TV}(y) = I\,\arg\min_u \tfrac12\|y - Iu\|^2 + \mu\sum_{j\ge1}|u_j|`
(:math:`I` the discrete integration) is replaced by ``n_inner`` LISTA layers on that synthesis
problem,

.. math:: u_{j+1} = \mathrm{ST}\big(u_j - \gamma_j (Iu_j - y)^\top V,\ \mu\,\beta_j w\big),
          \qquad w = (0, 1, \dots, 1),

started from :math:`u_0 = I^{-1}y` (the prox for :math:`\mu = 0`). The inner network (one
matrix :math:`V`, init :math:`I`, and per-inner-layer :math:`\gamma_j, \beta_j`, init
:math:`1/\|I\|^2`) is shared by all outer layers: with analytic weights it is ``n_inner`` ISTA
steps on the prox problem, so the model only approximates PGD, which is the paper's point.
Past the trained depth the model continues with exact PGD.

*Collapse to the constant solution.* At a large λ (0.8 λ_max on the paper's 8-sample setting) the
constant signal is already within a few 1e-2 of P*, far below the first PGD iterates, and the
loss averaged over the layers pulls every threshold up. Once the inner thresholds
:math:`\mu\beta_j` zero every increment of :math:`u` in every inner layer, each outer layer outputs a
constant and the gradients of :math:`\theta_k`, :math:`\beta_j` vanish: a plateau training does not
leave. Adam moves each scalar by about its rate per step whatever its gradient, and
:math:`\gamma_j, \beta_j` start at :math:`1/\|I\|^2` (0.034 for n = 8): at ``lr`` 1e-3 they move
3 % per step. ``scalar_lr_scale`` trains the scalars (:math:`\theta_k, \gamma_j, \beta_j`) at that
fraction of the rate (an Adam parameter group, as LISTA-CP's ``threshold_lr_scale``); the default
1.0 keeps the historical protocol (benchmarks/tv_deconvolution/README.md, *LPGD-LISTA at 0.8 λ_max*).
"""
import torch
from torch import nn

from l2obench.objectives.problem import residual_forward
from l2obench.objectives.tv_deconvolution import (integration_matrix, synthesis_problem, to_analysis,
                                                  to_synthesis)
from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.classical.proximal_gradient import prox_grad_step

from .lpgd import LPGDTaut


class InnerLISTAProx(nn.Module):
    r"""``n_inner`` LISTA layers approximating :math:`\mathrm{prox}_{\mu TV}` on signals of length n."""

    def __init__(self, n, n_inner, dtype=torch.float64):
        super().__init__()
        # the prox problem is the synthesis Lasso with H = identity: dictionary I, weights w
        self.prox_problem_ = synthesis_problem(torch.eye(n, dtype=dtype))
        alpha = 1.0 / self.prox_problem_.datafit.lipschitz
        self.register_buffer("integration_", integration_matrix(n, dtype), persistent=True)
        self.V_ = nn.Parameter(self.integration_.clone())
        self.gamma_ = nn.Parameter(torch.full((n_inner,), alpha, dtype=dtype))
        self.beta_ = nn.Parameter(torch.full((n_inner,), alpha, dtype=dtype))

    def forward(self, Y, mu):
        """Approximate prox of each row of ``Y`` (B, n) with thresholds ``mu`` (B, 1)."""
        U = to_synthesis(Y)
        prox = self.prox_problem_.penalty.prox
        for j in range(self.gamma_.shape[0]):
            U = prox_grad_step(U, residual_forward(Y, self.integration_, self.V_, self.gamma_[j]), prox,
                               mu * self.beta_[j].clamp_min(0))
        return to_analysis(U)


class LPGDLISTA(LPGDTaut):
    """LPGD-LISTA[n_inner]; see the module docstring.

    Parameters
    ----------
    n_layers : int
        Outer depth T.
    n_inner : int
        Inner LISTA layers per prox (20 and 50 in the paper).
    scalar_lr_scale : float
        Adam rate of the scalars (outer thresholds θ_k, inner steps γ_j and thresholds β_j) as a
        multiple of the training rate; the matrices W_k and V train at the rate itself.
    """

    def __init__(self, n_layers=10, n_inner=20, scalar_lr_scale=1.0):
        super().__init__(n_layers)
        self.n_inner = check_int("n_inner", n_inner, low=1)
        self.scalar_lr_scale = check_real("scalar_lr_scale", scalar_lr_scale, low=0.0, low_open=True)

    def _init_params(self, problem):
        super()._init_params(problem)
        self.prox_ = InnerLISTAProx(problem.A.shape[1], self.n_inner, problem.A.dtype)

    def _prox(self, U, thresh, out=None, state=None):
        return self.prox_(U, thresh)

    def lr_groups(self, params):
        if self.scalar_lr_scale == 1.0:  # one group: the historical protocol, operation for operation
            return list(params)
        scalars = {id(t) for t in (*self.theta_, self.prox_.gamma_, self.prox_.beta_)}
        params = list(params)
        return [{"params": [p for p in params if id(p) not in scalars], "lr_scale": 1.0},
                {"params": [p for p in params if id(p) in scalars], "lr_scale": self.scalar_lr_scale}]
