r"""LISTA with untied weights (Gregor & LeCun, ICML 2010; Chen et al., NeurIPS 2018).

Layer k, in the suite's row-vector convention (``X`` (B, m), ``Z`` (B, n), x = Dz):

.. math:: z_{k+1} = \mathrm{ST}(x W_1^k + z_k W_2^k,\ \lambda\theta_k),

with :math:`W_1^k \in \mathbb{R}^{m\times n}`, :math:`W_2^k \in \mathbb{R}^{n\times n}` and
:math:`\theta_k` learned per layer — :math:`T(mn + n^2 + 1)` parameters (6.0 M at 250 × 500,
T = 16). Initialised at ISTA: :math:`W_1 = D/L`, :math:`W_2 = I - D^\top D/L`,
:math:`\theta = 1/L`: each layer is then ISTA's step, computed by the same
:func:`~l2obench.solvers.classical.proximal_gradient.prox_grad_step` with the Gram-form forward map.
"""
import torch
from torch import nn

from l2obench.objectives.problem import GramForward
from l2obench.solvers.classical.proximal_gradient import prox_grad_step
from l2obench.solvers.unrolled.base import Unrolled, per_layer_scalars


class LISTA(Unrolled):
    """Untied LISTA. See the module docstring.

    Parameters
    ----------
    n_layers : int
        Depth T.
    """

    def _init_params(self, problem):
        alpha = 1.0 / self.lipschitz_
        W_x, W_z = problem.datafit.step_weights(alpha)
        self.W1_ = nn.ParameterList([nn.Parameter(W_x.clone()) for _ in range(self.n_layers)])
        self.W2_ = nn.ParameterList([nn.Parameter(W_z.clone()) for _ in range(self.n_layers)])
        self.theta_ = per_layer_scalars(alpha, self.n_layers, W_x.dtype)

    def _layer(self, k, Z, ctx):
        return prox_grad_step(Z, GramForward(ctx["X"] @ self.W1_[k], self.W2_[k]), self.iterated_.penalty.prox,
                              ctx["lmbd"] * self.theta_[k].clamp_min(0))

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
        D = self.A_
        eye = torch.eye(D.shape[1], dtype=D.dtype)
        return torch.stack([torch.linalg.matrix_norm(W2 + D.T @ W1 - eye) for W1, W2 in zip(self.W1_, self.W2_)])
