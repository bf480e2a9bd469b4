r"""LISTA with untied weights (Gregor & LeCun, ICML 2010; Chen et al., NeurIPS 2018).

Layer k, in the suite's row-vector convention (``X`` (B, m), ``Z`` (B, n), x = Dz):

.. math:: z_{k+1} = \mathrm{ST}(x W_1^k + z_k W_2^k,\ \lambda\theta_k),

with :math:`W_1^k \in \mathbb{R}^{m\times n}`, :math:`W_2^k \in \mathbb{R}^{n\times n}` and
:math:`\theta_k` learned per layer — :math:`T(mn + n^2 + 1)` parameters (6.0 M at 250 × 500,
T = 16). Initialised at ISTA: :math:`W_1 = D/L`, :math:`W_2 = I - D^\top D/L`,
:math:`\theta = 1/L`, so each layer is exactly :func:`~l2obench.solvers.classical.ista.ista_step`.
"""
import torch
from torch import nn

from l2obench.solvers.classical.ista import ista_step, ista_weights

from .base import UnrolledLasso


class LISTA(UnrolledLasso):
    """Untied LISTA. See the module docstring.

    Parameters
    ----------
    n_layers : int
        Depth T.
    """

    def _init_params(self, D):
        W_x, W_z = ista_weights(D, step=1.0)
        alpha = 1.0 / float(self.L_)
        self.W1_ = nn.ParameterList([nn.Parameter(W_x.clone()) for _ in range(self.n_layers)])
        self.W2_ = nn.ParameterList([nn.Parameter(W_z.clone()) for _ in range(self.n_layers)])
        self.theta_ = nn.ParameterList(
            [nn.Parameter(torch.tensor(alpha, dtype=D.dtype)) for _ in range(self.n_layers)])

    def _context(self, X, lmbd):
        return {"X": X, "lmbd": lmbd}

    def _layer(self, k, Z, ctx):
        bias = ctx["X"] @ self.W1_[k]
        return ista_step(Z, bias, self.W2_[k], ctx["lmbd"] * self.theta_[k].clamp_min(0))

    def layer_parameters(self, k):
        return [self.W1_[k], self.W2_[k], self.theta_[k]]

    @torch.no_grad()
    def coupling(self):
        r"""Weight coupling per layer (Ablin et al. 2019; Liu et al. 2019).

        In column form the coupling is :math:`\|W_2^k + W_1^k D - I\|_F`; in the row form
        used here it reads :math:`\|W_2^k + D^\top W_1^k - I\|_F`. It is 0 for a layer that
        is a gradient step and tends to 0 along layers of a network that converges.
        Returns a (T,) tensor.
        """
        eye = torch.eye(self.D_.shape[1], dtype=self.D_.dtype)
        return torch.stack([torch.linalg.matrix_norm(W2 + self.D_.T @ W1 - eye)
                            for W1, W2 in zip(self.W1_, self.W2_)])
