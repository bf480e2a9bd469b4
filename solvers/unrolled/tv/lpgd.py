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

``weight='step'`` is the structured variant (issue 15, the fMRI setting): :math:`W_k = s_k H`
with one learned step :math:`s_k` per layer (init :math:`1/\|H\|^2`), so :math:`2T` parameters
instead of :math:`T(mn + 1)` -- the TV counterpart of Ablin et al.'s (2019) step-size LISTA. On
250-frame signals a dense :math:`W_k` (62 500 entries per layer) over-fits a thousand training
series from depth ~12 on, while the learned steps, trained per depth by L-BFGS, keep beating PGD
(``benchmarks/tv_deconvolution/README.md``).
"""
import torch
from torch import nn

from l2obench.objectives.problem import gram_step_forward, residual_forward
from l2obench.objectives.validation import check_choice
from l2obench.solvers.classical.proximal_gradient import prox_grad_step
from l2obench.solvers.unrolled.base import Unrolled, per_layer_scalars


WEIGHTS = ("dense", "step")


class LPGDTaut(Unrolled):
    """LPGD-Taut; see the module docstring.

    Parameters
    ----------
    n_layers : int
        Depth T.
    weight : {'dense', 'step'}
        'dense': a learned matrix :math:`W_k` per layer (the paper); 'step': :math:`W_k = s_k H`,
        one learned step per layer.
    """

    def __init__(self, n_layers=16, weight="dense"):
        super().__init__(n_layers)
        self.weight = check_choice("weight", weight, WEIGHTS)

    def _init_params(self, problem):
        alpha = 1.0 / self.lipschitz_
        if self.weight == "dense":
            self.W_ = nn.ParameterList([nn.Parameter(alpha * problem.A.clone()) for _ in range(self.n_layers)])
        else:
            self.step_ = per_layer_scalars(alpha, self.n_layers, problem.A.dtype)
        m, n = problem.A.shape
        # learned steps in the Gram form when it is cheaper, as PGD's gradient_step: one (B, n) x (n, n)
        # product a layer instead of two
        self.gram_form_ = self.weight == "step" and n < 2 * m
        if self.gram_form_:
            self.register_buffer("gram_", problem.datafit.gram, persistent=False)
        self.theta_ = per_layer_scalars(alpha, self.n_layers, problem.A.dtype)

    def _context(self, X, lam):
        # inference on one batch: the prox reuses the jumps of the previous layer (warm start). Not
        # in training: with a warm start the active set may keep a zero-height jump, a different
        # (equally exact) segmentation whose Jacobian changes the gradient.
        state = None if torch.is_grad_enabled() else self.iterated_.penalty.prox_state()
        ctx = {"X": X, "lmbd": lam, "prox_state": state}
        if self.gram_form_:
            ctx.update(XA=X @ self.A_, eye=torch.eye(self.A_.shape[1], dtype=X.dtype, device=X.device))
        return ctx

    def _forward_map(self, k, ctx):
        if self.weight == "dense":
            return residual_forward(ctx["X"], self.A_, self.W_[k])
        step = self.step_[k]
        if self.gram_form_:  # z - s(zA^T - x)A = s xA + z(I - s A^T A)
            return gram_step_forward(step, ctx["XA"], self.gram_, ctx["eye"])
        return residual_forward(ctx["X"], self.A_, self.A_, step)

    def _layer(self, k, Z, ctx):
        return prox_grad_step(Z, self._forward_map(k, ctx), self._prox, ctx["lmbd"] * self.theta_[k].clamp_min(0),
                              state=ctx["prox_state"])

    def _prox(self, U, thresh, out=None, state=None):
        return self.iterated_.penalty.prox(U, thresh, out=out, state=state)
