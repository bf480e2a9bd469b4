r"""LPGD-Taut: unrolled proximal gradient with the exact TV prox (Cherkaoui, Sulam & Moreau,
NeurIPS 2020, Sec. 3).

Layer :math:`k` of a depth-:math:`T` network maps :math:`z_k` to

.. math:: z_{k+1} = \mathrm{prox}_{\lambda\theta_k TV}\big(z_k - (Hz_k - x)^\top W_k\big),

with learned :math:`W_k\in\mathbb R^{m\times n}` and :math:`\theta_k > 0`. With the analytic
weights :math:`W_k = H/\|H\|^2`, :math:`\theta_k = 1/\|H\|^2` a layer *is* a PGD step: the same
:func:`~l2obench.solvers.classical.proximal_gradient.prox_grad_step` with the residual-form
forward map. The prox is the exact one, and its Jacobian (segment averaging,
:mod:`l2obench.objectives.tv_prox`) carries the gradient. Past the trained depth the model
continues with classical PGD from the last layer.
"""
import torch
from torch import nn

from l2obench.objectives.problem import residual_forward
from l2obench.solvers.classical.proximal_gradient import prox_grad_step
from l2obench.solvers.unrolled.base import Unrolled, per_layer_scalars


class LPGDTaut(Unrolled):
    """LPGD-Taut; see the module docstring. Parameters: ``n_layers`` (depth T)."""

    def _init_params(self, problem):
        alpha = 1.0 / self.lipschitz_
        self.W_ = nn.ParameterList([nn.Parameter(alpha * problem.A.clone()) for _ in range(self.n_layers)])
        self.theta_ = per_layer_scalars(alpha, self.n_layers, problem.A.dtype)

    def _context(self, X, lam):
        # inference on one batch: the prox reuses the jumps of the previous layer (warm start). Not
        # in training: with a warm start the active set may keep a zero-height jump, a different
        # (equally exact) segmentation whose Jacobian changes the gradient.
        state = None if torch.is_grad_enabled() else self.iterated_.penalty.prox_state()
        return {"X": X, "lmbd": lam, "prox_state": state}

    def _forward_map(self, k, ctx):
        return residual_forward(ctx["X"], self.A_, self.W_[k])

    def _layer(self, k, Z, ctx):
        return prox_grad_step(Z, self._forward_map(k, ctx), self._prox, ctx["lmbd"] * self.theta_[k].clamp_min(0),
                              state=ctx["prox_state"])

    def _prox(self, U, thresh, out=None, state=None):
        return self.iterated_.penalty.prox(U, thresh, out=out, state=state)
