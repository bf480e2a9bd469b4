r"""Step-size LISTA, SLISTA (Ablin, Moreau, Massias, Gramfort, NeurIPS 2019).

Only the step sizes are learned; the dictionary is fixed:

.. math:: z_{k+1} = \mathrm{ST}\big(z_k - \alpha_k D^\top(Dz_k - x),\ \lambda\alpha_k\big),

i.e. ISTA's step (:func:`~l2obench.solvers.classical.proximal_gradient.prox_grad_step`, Gram form)
with :math:`W_x = \alpha_k D`, :math:`W_z = I - \alpha_k D^\top D` (T parameters, learned as
:math:`\log(L\alpha_k)`, initialised at 0). With :math:`\alpha_k = 1/L` it is ISTA; the paper
shows the learned :math:`\alpha_k` approach :math:`1/L_S`, with :math:`L_S` the Lipschitz
constant of :math:`D` restricted to the support, in the later layers.
"""
import torch
from torch import nn

from l2obench.objectives.problem import gram_step_forward
from l2obench.solvers.classical.proximal_gradient import prox_grad_step
from l2obench.solvers.unrolled.base import Unrolled


class SLISTA(Unrolled):
    """Step-size-only LISTA. See the module docstring.

    Parameters
    ----------
    n_layers : int
        Depth T.
    """

    def _init_params(self, problem):
        self.register_buffer("gram_", problem.datafit.gram, persistent=False)
        # learned as log(L alpha_k): Adam's updates are then relative (multiplicative) ones,
        # and the steps can grow from 1/L to 1/L_S (25x larger on digits) within a short budget
        self.log_step_ = nn.Parameter(torch.zeros(self.n_layers, dtype=problem.A.dtype))

    def _context(self, X, lam):
        return {"XD": X @ self.A_, "lmbd": lam, "eye": torch.eye(self.A_.shape[1], dtype=X.dtype, device=X.device)}

    def _layer(self, k, Z, ctx):
        alpha = torch.exp(self.log_step_[k]) / self.lipschitz_
        return prox_grad_step(Z, gram_step_forward(alpha, ctx["XD"], self.gram_, ctx["eye"]),
                              self.iterated_.penalty.prox, ctx["lmbd"] * alpha)

    @torch.no_grad()
    def steps(self):
        """Learned steps :math:`\\alpha_k` as a float64 numpy array (T,)."""
        return (torch.exp(self.log_step_.detach()) / self.lipschitz_).double().cpu().numpy()
