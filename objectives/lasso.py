r"""The Lasso, batched over many signals sharing one dictionary.

For a dictionary :math:`D \in \mathbb{R}^{m \times n}` and signals :math:`x_i \in \mathbb{R}^m`,

.. math:: F_{x}(z) = \tfrac12 \|x - Dz\|_2^2 + \lambda \|z\|_1,

with :math:`\lambda_{\max}(x) = \|D^\top x\|_\infty` (:math:`z^* = 0` iff
:math:`\lambda \ge \lambda_{\max}`) and :math:`L = \|D\|_2^2` the Lipschitz constant of the
smooth part. Batches are rows: ``X`` is (B, m), ``Z`` is (B, n); ``lmbd`` is a float or a (B,)
tensor (one λ per signal). :class:`LassoProblem` is the problem interface
(:mod:`l2obench.objectives.problem`) for the Lasso; a weighted Lasso (``weights``) serves the
synthesis form of TV.

The dual certifies reference solves: for
:math:`\nu = (x - Dz)\min(1, \lambda / \|D^\top(x - Dz)\|_\infty)`, the dual value
:math:`\tfrac12\|x\|^2 - \tfrac12\|x - \nu\|^2 \le F^* \le F_x(z)`.
"""
import torch

from l2obench.objectives.problem import CompositeProblem, L1Penalty, QuadraticDatafit, on_device
from l2obench.objectives.validation import lambda_column


class LassoProblem(CompositeProblem):
    """:math:`\\tfrac12\\|x - Dz\\|^2 + \\lambda\\sum_i w_i|z_i|` (weights default to 1).

    Parameters
    ----------
    D : Tensor, shape (m, n)
        The dictionary.
    weights : Tensor of shape (n,), optional
        ℓ1 weights; the dual value is only defined without them.
    """

    def __init__(self, D, weights=None):
        super().__init__(QuadraticDatafit(D, name="D"), L1Penalty(weights))
        self.has_dual = weights is None

    def double(self):
        weights = self.penalty.weights
        return self if self.A.dtype == torch.float64 else \
            LassoProblem(self.A.double(), None if weights is None else weights.double())

    def to(self, device):
        weights = self.penalty.weights
        return self if on_device(self.A, device) else \
            LassoProblem(self.A.to(device), None if weights is None else weights.to(device))

    @property
    def D(self):
        return self.datafit.A

    def lambda_max(self, X):
        r""":math:`\|D^\top x_i\|_\infty` per signal, shape (B,) (unweighted Lasso)."""
        return (X @ self.D).abs().amax(dim=1)

    def dual_value(self, X, Z, lmbd):
        """Dual objective at the rescaled residual of Z: a lower bound on F*, shape (B,)."""
        if not self.has_dual:
            raise NotImplementedError("The dual value is implemented for the unweighted Lasso only.")
        lam = lambda_column(lmbd, X.shape[0], X.dtype)
        residual = X - Z @ self.D.T
        corr = (residual @ self.D).abs().amax(dim=1, keepdim=True)
        scale = torch.where(corr > lam, lam / corr.clamp_min(torch.finfo(X.dtype).tiny), torch.ones_like(corr))
        nu = residual * scale
        return 0.5 * (X ** 2).sum(dim=1) - 0.5 * ((X - nu) ** 2).sum(dim=1)


def lambda_max(D, X):
    r""":math:`\|D^\top x_i\|_\infty` per signal, shape (B,)."""
    return LassoProblem(D).lambda_max(X)


def lasso_value(D, X, Z, lmbd):
    """Per-sample Lasso objective F_x(z), shape (B,)."""
    return LassoProblem(D).value(X, Z, lmbd)


def support_metrics(Z, Z_true, tol=0.0):
    """Precision and recall of the estimated support {|z| > tol} against the true one."""
    est, true = Z.abs() > tol, Z_true != 0
    n_est, n_true = int(est.sum()), int(true.sum())
    hits = int((est & true).sum())
    precision = hits / n_est if n_est else 1.0
    recall = hits / n_true if n_true else 1.0
    return precision, recall
