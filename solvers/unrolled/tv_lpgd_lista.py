r"""LPGD-LISTA: unrolled PGD whose TV prox is an inner unrolled LISTA (Cherkaoui, Sulam &
Moreau, NeurIPS 2020, Sec. 3.2).

The outer layers are those of LPGD-Taut (learned :math:`W_k`, :math:`\theta_k`); the prox
:math:`\mathrm{prox}_{\mu TV}(y) = L\,\arg\min_u \tfrac12\|y - Lu\|^2 + \mu\sum_{j\ge1}|u_j|` is
replaced by ``n_inner`` LISTA layers on that synthesis problem,

.. math:: u_{j+1} = \mathrm{ST}\big(u_j - \gamma_j (Lu_j - y)^\top V,\ \mu\,\beta_j w\big),
          \qquad w = (0, 1, \dots, 1),

started from :math:`u_0 = L^{-1}y` (the prox for :math:`\mu = 0`). The inner network (one
matrix :math:`V`, init :math:`L`, and per-inner-layer :math:`\gamma_j, \beta_j`, init
:math:`1/\|L\|^2`) is shared by all outer layers: with analytic weights it is ``n_inner`` ISTA
steps on the prox problem, so the model only approximates PGD, which is the paper's point.
Past the trained depth the model continues with exact PGD.
"""
import torch
from torch import nn

from l2obench.objectives.tv_deconvolution import (integration_matrix, lipschitz, synthesis_weights,
                                                 to_analysis, to_synthesis)
from l2obench.objectives.validation import check_int
from l2obench.solvers.prox import soft_threshold

from .tv_lpgd import LPGDTaut


class InnerLISTAProx(nn.Module):
    r"""``n_inner`` LISTA layers approximating :math:`\mathrm{prox}_{\mu TV}` on signals of length n."""

    def __init__(self, n, n_inner, dtype=torch.float64):
        super().__init__()
        L = integration_matrix(n, dtype)
        alpha = 1.0 / float(lipschitz(L))
        self.register_buffer("L_", L, persistent=True)
        self.register_buffer("weights_", synthesis_weights(n, dtype), persistent=True)
        self.V_ = nn.Parameter(L.clone())
        self.gamma_ = nn.Parameter(torch.full((n_inner,), alpha, dtype=dtype))
        self.beta_ = nn.Parameter(torch.full((n_inner,), alpha, dtype=dtype))

    def forward(self, Y, mu):
        """Approximate prox of each row of ``Y`` (B, n) with thresholds ``mu`` (B,)."""
        U = to_synthesis(Y)
        thresh = mu[:, None] * self.weights_
        for j in range(self.gamma_.shape[0]):
            U = soft_threshold(U - self.gamma_[j] * ((U @ self.L_.T - Y) @ self.V_),
                               thresh * self.beta_[j].clamp_min(0))
        return to_analysis(U)


class LPGDLISTA(LPGDTaut):
    """LPGD-LISTA[n_inner]; see the module docstring.

    Parameters
    ----------
    n_layers : int
        Outer depth T.
    n_inner : int
        Inner LISTA layers per prox (20 and 50 in the paper).
    """

    def __init__(self, n_layers=10, n_inner=20):
        super().__init__(n_layers)
        self.n_inner = check_int("n_inner", n_inner, low=1)

    def hyper_params(self):
        return {**super().hyper_params(), "n_inner": self.n_inner}

    def _init_params(self, H):
        super()._init_params(H)
        self.prox_ = InnerLISTAProx(H.shape[1], self.n_inner, H.dtype)

    def _layer(self, k, Z, X, lam):
        Y = Z - (Z @ self.H_.T - X) @ self.W_[k]
        return self.prox_(Y, lam * self.theta_[k].clamp_min(0))
