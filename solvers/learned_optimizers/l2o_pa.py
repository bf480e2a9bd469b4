r"""L2O-PA: a learned preconditioner and accelerator of proximal gradient (Liu et al., ICML 2023).

"Towards constituting mathematical structures for learning to optimize": the update keeps the
structure of a convergent method, proximal gradient with momentum, and the LSTM only chooses,
per coordinate, a diagonal preconditioner :math:`P_k` and an extrapolation weight :math:`A_k`
(their eqs. (18)-(19) with the bias terms off, the model the paper calls L2O-PA):

.. math:: (P_k, A_k) = \big(\phi_P(o_1), \phi_A(o_2)\big),\quad o = \mathrm{LSTM}_\theta\big(\nabla f(y_k), y_k\big),

.. math:: z_{k+1} = \mathrm{prox}_{\lambda \alpha P_k g}\big(y_k - \alpha P_k \odot \nabla f(y_k)\big), \qquad
          y_{k+1} = z_{k+1} + A_k \odot (z_{k+1} - z_k),

with :math:`\alpha = 0.9999/L` per row (:math:`L` = ``problem.datafit.lipschitz``, a float or
one per instance) and the prox of the penalty at per-coordinate thresholds. The activations are
those of their configurations: for the Lasso :math:`\phi_P = \phi_A = 2\sigma` (so
:math:`P, A \in (0, 2)`), for ℓ1-logistic regression :math:`\phi_P = 2\,\mathrm{softplus}`,
:math:`\phi_A = 0.3\,\mathrm{softplus}`. With :math:`P = 1, A = 0` it is ISTA at step
:math:`\alpha` (``tests/solvers/learned_optimizers/test_l2o_pa.py`` checks it).

The returned iterate is :math:`z_k` (where the objective is measured); :math:`y_k` lives in the
state, and :meth:`L2OPA.reset` sets :math:`y = z` on the rows a safeguard replaced.
"""
import torch
from torch.nn import functional as F

from l2obench.objectives.validation import check_choice, check_real
from l2obench.solvers.learned_optimizers.base import LearnedOptimizer

ACTIVATIONS = {"2sigmoid": lambda o: 2.0 * torch.sigmoid(o),
               "2softplus": lambda o: 2.0 * F.softplus(o),
               "0.3softplus": lambda o: 0.3 * F.softplus(o)}


class L2OPA(LearnedOptimizer):
    """L2O-PA (Liu et al. 2023); see the module docstring.

    Parameters
    ----------
    horizon, hidden, lstm_layers : int
        See :class:`~l2obench.solvers.learned_optimizers.base.LearnedOptimizer` (100, 20, 2).
    preconditioner, accelerator : {'2sigmoid', '2softplus', '0.3softplus'}
        Activations :math:`\\phi_P`, :math:`\\phi_A` ('2sigmoid' both for the Lasso; '2softplus' and
        '0.3softplus' for logistic regression).
    step_size : float
        :math:`\\alpha L` (0.9999; ``step`` is the protocol's method).
    """

    n_inputs, n_outputs = 2, 2

    def __init__(self, horizon=100, hidden=20, lstm_layers=2, preconditioner="2sigmoid", accelerator="2sigmoid",
                 step_size=0.9999):
        super().__init__(horizon, hidden, lstm_layers)
        self.preconditioner = check_choice("preconditioner", preconditioner, ACTIVATIONS)
        self.accelerator = check_choice("accelerator", accelerator, ACTIVATIONS)
        self.step_size = check_real("step_size", step_size, low=0.0, low_open=True)

    def _init_extra(self, problem, X, lam, Z):
        return {"y": Z}

    def _features(self, problem, X, lam, Z, state):
        y = state["y"]
        grad = problem.datafit.grad(X, y)
        return torch.stack([grad, y], dim=-1), grad

    def _update(self, problem, X, lam, Z, state, out, grad):
        P = ACTIVATIONS[self.preconditioner](out[..., 0])
        A = ACTIVATIONS[self.accelerator](out[..., 1])
        scaled = P * (self.step_size / problem.datafit.lipschitz)  # α P, (B, n)
        z = problem.penalty.prox(state["y"] - scaled * grad, lam * scaled)
        return z, {**state, "y": z + A * (z - Z)}

    def reset(self, state, Z, mask):
        """``y = z`` on the rows ``mask``: the momentum restarts from the safeguard's iterate."""
        state["y"] = torch.where(mask[:, None], Z, state["y"])
        return state
