r"""ALISTA: analytic weight, learned step sizes and thresholds (Liu, Chen, Wang, Yin, ICLR 2019).

Stage 1 (no learning): the weight solves the convex quadratic problem

.. math:: \tilde W = \arg\min_W \|W^\top D\|_F^2 \quad \text{s.t.}\quad w_i^\top d_i = 1,

which separates over columns: :math:`w_i \propto (DD^\top)^+ d_i`, i.e. the columns of the
pseudo-inverse :math:`(D^+)^\top` rescaled so that :math:`w_i^\top d_i = 1` (a closed form by
the Lagrange conditions, computed with ``torch.linalg.pinv``). Stage 2: only :math:`\gamma_k,
\theta_k` are learned (2T parameters):

.. math:: z_{k+1} = \eta\big(z_k - \gamma_k (z_k D^\top - x)\tilde W,\ \lambda\theta_k\big),

with support selection in :math:`\eta` by default, as in the paper. ``weight='dictionary'``
uses :math:`\tilde W = D` instead. Initialisation: :math:`\gamma_k = \theta_k =
1/\|\tilde W^\top D\|_2`, which is ISTA's 1/L for :math:`\tilde W = D`.
"""
import torch

from l2obench.objectives.validation import check_choice
from l2obench.solvers.unrolled.base import per_layer_scalars

from .tilista import TiLISTA

WEIGHTS = ("analytic", "dictionary")


def analytic_weight(D):
    r"""ALISTA's :math:`\tilde W` (m, n): columns of :math:`(D^+)^\top` with :math:`w_i^\top d_i = 1`.

    Computed in float64 and returned in ``D``'s dtype.
    """
    D64 = D.detach().double()
    P = torch.linalg.pinv(D64).T                     # (m, n), column i = (D D^T)^+ d_i
    scale = (P * D64).sum(dim=0, keepdim=True)       # d_i^T (D D^T)^+ d_i > 0
    return (P / scale).to(D.dtype)


class ALISTA(TiLISTA):
    """Analytic LISTA. See the module docstring.

    TiLISTA's layer with the weight fixed (a buffer, not learned) instead of tied and learned.

    Parameters
    ----------
    n_layers : int
        Depth T.
    weight : {'analytic', 'dictionary'}
        :math:`\\tilde W` from the analytic problem, or D itself (ISTA's weight).
    support_selection : bool
        Largest entries bypass the threshold, :math:`p_k = \\min(1.2(k+1), 13)` %.
    """

    def __init__(self, n_layers=16, weight="analytic", support_selection=True):
        super().__init__(n_layers, support_selection=support_selection)
        self.weight = check_choice("weight", weight, WEIGHTS)

    def _init_params(self, problem):
        D = problem.A
        W = analytic_weight(D) if self.weight == "analytic" else D.clone()
        self.register_buffer("W_", W, persistent=False)
        # 1/||W^T D||_2: the usual 1/L for W = D (ISTA), about 1/2 for the analytic weight
        alpha = 1.0 / float(torch.linalg.matrix_norm(W.T.double() @ D.double(), ord=2))
        self.gamma_ = per_layer_scalars(alpha, self.n_layers, D.dtype)
        self.theta_ = per_layer_scalars(alpha, self.n_layers, D.dtype)
