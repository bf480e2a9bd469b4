r"""RNNprop: the LSTM optimizer of Lv, Jiang & Li (ICML 2017) on Adam-normalised inputs.

"Learning gradient descent: better generalization and longer horizons": the LSTM sees, per
coordinate, Adam's normalised moments of the gradient,

.. math:: m_k = \beta_1 m_{k-1} + (1 - \beta_1) g_k,\quad v_k = \beta_2 v_{k-1} + (1 - \beta_2) g_k^2,
          \quad \hat m_k = \frac{m_k}{1 - \beta_1^k},\ \hat v_k = \frac{v_k}{1 - \beta_2^k},

.. math:: \text{inputs}\ \Big(\frac{\hat m_k}{\sqrt{\hat v_k} + \epsilon},\ \frac{g_k}{\sqrt{\hat v_k} + \epsilon}\Big),
          \qquad z_{k+1} = z_k - \alpha \tanh\big(\mathrm{LSTM}_\theta(\cdot)\big),

with :math:`g_k = \nabla f(z_k) + \lambda\,\mathrm{sign}(z_k)` (the gradient autograd gives of the
composite objective, as for L2O-DM), :math:`\beta_1 = \beta_2 = 0.95`, :math:`\epsilon = 10^{-8}`
and :math:`\alpha = 0.1` (Lv et al.; MS4L2O's ``optimizers/rnnprop.py``, Liu et al.'s baseline).
The normalisation makes the inputs invariant to the scale of the gradient; the bounded output
bounds every step by α per coordinate. (Lv et al. put a linear layer with ELU before the LSTM;
here every learned optimizer shares one core, whose extra layer sits after it.)
"""
import torch

from l2obench.objectives.validation import check_real
from l2obench.solvers.learned_optimizers.base import LearnedOptimizer, l1_subgradient

EPS = 1e-8


class RNNprop(LearnedOptimizer):
    """RNNprop (Lv et al. 2017); see the module docstring.

    Parameters
    ----------
    horizon, hidden, lstm_layers : int
        See :class:`~l2obench.solvers.learned_optimizers.base.LearnedOptimizer` (100, 20, 2).
    beta1, beta2 : float
        Decay rates of the moments, in [0, 1) (0.95, 0.95).
    alpha : float
        Largest step per coordinate (0.1).
    """

    n_inputs, n_outputs = 2, 1

    def __init__(self, horizon=100, hidden=20, lstm_layers=2, beta1=0.95, beta2=0.95, alpha=0.1):
        super().__init__(horizon, hidden, lstm_layers)
        self.beta1 = check_real("beta1", beta1, low=0.0, high=1.0)
        self.beta2 = check_real("beta2", beta2, low=0.0, high=1.0)
        for name, beta in (("beta1", self.beta1), ("beta2", self.beta2)):
            if beta >= 1.0:
                raise ValueError(f"{name} must be < 1, got {beta!r}.")
        self.alpha = check_real("alpha", alpha, low=0.0, low_open=True)

    def _init_extra(self, problem, X, lam, Z):
        zeros = torch.zeros_like(Z)
        return {"m": zeros, "v": zeros, "t": 0}

    def _features(self, problem, X, lam, Z, state):
        with torch.no_grad():  # a feature only: no graph
            g = l1_subgradient(problem, X, lam, Z)
        t = state["t"] + 1
        m = self.beta1 * state["m"] + (1 - self.beta1) * g
        v = self.beta2 * state["v"] + (1 - self.beta2) * g * g
        scale = torch.sqrt(v / (1 - self.beta2 ** t)) + EPS
        features = torch.stack([m / ((1 - self.beta1 ** t) * scale), g / scale], dim=-1)
        return features, {"m": m, "v": v, "t": t}

    def _update(self, problem, X, lam, Z, state, out, ctx):
        return Z - self.alpha * torch.tanh(out[..., 0]), {**state, **ctx}
