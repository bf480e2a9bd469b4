r"""Step-size LISTA, SLISTA (Ablin, Moreau, Massias, Gramfort, NeurIPS 2019).

Only the step sizes are learned; the dictionary is fixed:

.. math:: z_{k+1} = \mathrm{ST}\big(z_k - \alpha_k D^\top(Dz_k - x),\ \lambda\alpha_k\big),

i.e. :func:`~l2obench.solvers.classical.ista.ista_step` with :math:`W_x = \alpha_k D`,
:math:`W_z = I - \alpha_k D^\top D` (T parameters, learned as :math:`s_k = L\alpha_k`, initialised at 1). With
:math:`\alpha_k = 1/L` it is ISTA; the
paper shows the learned :math:`\alpha_k` approach :math:`1/L_S`, with :math:`L_S` the
Lipschitz constant of :math:`D` restricted to the support, in the later layers.
"""
import torch
from torch import nn

from l2obench.solvers.classical.ista import ista_step

from .base import UnrolledLasso


class SLISTA(UnrolledLasso):
    """Step-size-only LISTA. See the module docstring.

    Parameters
    ----------
    n_layers : int
        Depth T.
    """

    def _init_params(self, D):
        self.register_buffer("gram_", D.T @ D, persistent=False)
        # learned in units of 1/L (alpha_k = s_k / L), so that Adam's steps are relative ones
        self.step_ = nn.Parameter(torch.ones(self.n_layers, dtype=D.dtype))

    def _context(self, X, lmbd):
        return {"XD": X @ self.D_, "lmbd": lmbd,
                "eye": torch.eye(self.D_.shape[1], dtype=X.dtype, device=X.device)}

    def _layer(self, k, Z, ctx):
        alpha = self.step_[k].clamp_min(0) / self.L_
        return ista_step(Z, alpha * ctx["XD"], ctx["eye"] - alpha * self.gram_, ctx["lmbd"] * alpha)

    @torch.no_grad()
    def steps(self):
        """Learned steps :math:`\\alpha_k` as a float64 numpy array (T,)."""
        return (self.step_.detach().clamp_min(0) / self.L_).double().cpu().numpy()
