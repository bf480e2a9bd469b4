r"""LISTA on the synthesis form of TV deconvolution (Gregor & LeCun 2010; the synthesis baseline
of Cherkaoui, Sulam & Moreau, NeurIPS 2020).

With :math:`A = HL` and weights :math:`w = (0, 1, \dots, 1)`, layer :math:`k` is

.. math:: u_{k+1} = \mathrm{ST}\big(xW_x^k + u_kW_u^k,\ \lambda\theta_k w\big), \qquad z = Lu,

with untied learned :math:`W_x^k` (m, n), :math:`W_u^k` (n, n), :math:`\theta_k`. The analytic
weights :math:`W_x = \alpha A`, :math:`W_u = I - \alpha A^\top A`, :math:`\theta = \alpha`
(:func:`l2obench.solvers.classical.tv_synthesis_fista.synthesis_ista_weights`) make a layer a
synthesis ISTA step; past the trained depth the model continues with synthesis ISTA.
"""
import torch
from torch import nn

from l2obench.objectives.tv_deconvolution import synthesis_weights, to_analysis, to_synthesis
from l2obench.solvers.classical.tv_synthesis_fista import (TVSynthesisFISTA, synthesis_ista_weights,
                                                          synthesis_layer)

from .tv_lpgd import TVUnrolled


class TVSynthesisLISTA(TVUnrolled):
    """Synthesis LISTA; see the module docstring. Parameters: ``n_layers`` (depth T)."""

    def _init_params(self, H):
        W_x, W_u, alpha = synthesis_ista_weights(H)
        self.register_buffer("weights_", synthesis_weights(H.shape[1], H.dtype), persistent=True)
        self.W_x_ = nn.ParameterList([nn.Parameter(W_x.clone()) for _ in range(self.n_layers)])
        self.W_u_ = nn.ParameterList([nn.Parameter(W_u.clone()) for _ in range(self.n_layers)])
        self.theta_ = nn.ParameterList(
            [nn.Parameter(torch.tensor(alpha, dtype=H.dtype)) for _ in range(self.n_layers)])

    def _start(self, X):
        return torch.zeros(X.shape[0], self.H_.shape[1], dtype=X.dtype)

    def _layer(self, k, U, X, lam):
        thresh = lam[:, None] * self.theta_[k].clamp_min(0) * self.weights_
        return synthesis_layer(U, X @ self.W_x_[k], self.W_u_[k], thresh)

    def _output(self, U):
        return to_analysis(U)

    def _classical(self, H, X, lam, n_iter, U):
        return TVSynthesisFISTA(accelerated=False).solve(H, X, lam, n_iter, z0=to_analysis(U))
