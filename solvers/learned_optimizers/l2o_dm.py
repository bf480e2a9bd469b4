r"""L2O-DM: the coordinate-wise LSTM optimizer of Andrychowicz et al. (NeurIPS 2016).

"Learning to learn by gradient descent by gradient descent": the LSTM sees, per coordinate, the
gradient of the objective and proposes the update itself,

.. math:: z_{k+1} = z_k + s\,\mathrm{LSTM}_\theta\big(\mathrm{LogAndSign}_\kappa(g_k)\big), \qquad
          g_k = \nabla f(z_k) + \lambda\,\mathrm{sign}(z_k),

with :math:`g_k` the gradient autograd gives of the composite objective (a subgradient of the ℓ1
term; Liu et al.'s runs feed L2O-DM that gradient, MS4L2O ``--grad-method bp_grad``), the
preprocessing of the paper's appendix A (Open-L2O's implementation, :math:`\kappa = 5`)

.. math:: \mathrm{LogAndSign}_\kappa(g) = \Big(\max\big(\tfrac{\log(|g| + \epsilon)}{\kappa}, -1\big),\
          \mathrm{clip}(e^\kappa g, -1, 1)\Big)

(:math:`\epsilon` the dtype's machine epsilon), which makes the input scale-free over many
orders of magnitude, and the output scale :math:`s = 0.01` (Open-L2O). The iterate is not
projected nor thresholded: the proposal is a black box (the model Liu et al. call L2O-DM).
"""
import math

import torch

from l2obench.objectives.validation import check_real
from l2obench.solvers.learned_optimizers.base import LearnedOptimizer, l1_subgradient


def log_and_sign(g, k=5.0):
    r"""Andrychowicz et al.'s gradient preprocessing: (B, n) -> (B, n, 2) (module docstring)."""
    eps = torch.finfo(g.dtype).eps
    log = (torch.log(g.abs() + eps) / k).clamp_min(-1.0)
    sign = (g * math.exp(k)).clamp(-1.0, 1.0)
    return torch.stack([log, sign], dim=-1)


class L2ODM(LearnedOptimizer):
    """L2O-DM (Andrychowicz et al. 2016); see the module docstring.

    Parameters
    ----------
    horizon, hidden, lstm_layers : int
        See :class:`~l2obench.solvers.learned_optimizers.base.LearnedOptimizer` (100, 20, 2).
    scale : float
        Output scale :math:`s` (0.01, Open-L2O).
    k : float
        :math:`\\kappa` of the LogAndSign preprocessing (5).
    """

    n_inputs, n_outputs = 2, 1

    def __init__(self, horizon=100, hidden=20, lstm_layers=2, scale=0.01, k=5.0):
        super().__init__(horizon, hidden, lstm_layers)
        self.scale = check_real("scale", scale, low=0.0, low_open=True)
        self.k = check_real("k", k, low=0.0, low_open=True)

    def _features(self, problem, X, lam, Z, state):
        with torch.no_grad():  # a feature only: no graph
            return log_and_sign(l1_subgradient(problem, X, lam, Z), self.k), None

    def _update(self, problem, X, lam, Z, state, out, ctx):
        return Z + self.scale * out[..., 0], state
