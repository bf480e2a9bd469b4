r"""The Lasso, batched over signals that share one dictionary (or have one each).

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

:class:`BatchedLassoProblem` is the same problem with one dictionary per row, :math:`D_i`
(B, m, n): the instances of Liu et al. (ICML 2023), on which learned optimizers train; it shares
λ_max and the dual value with :class:`LassoProblem` (:class:`LassoDual`).
"""
import torch

from l2obench.objectives.batched import BatchedQuadraticDatafit, PerInstanceProblem
from l2obench.objectives.problem import CompositeProblem, L1Penalty, QuadraticDatafit, on_device
from l2obench.objectives.validation import lambda_column


class LassoDual:
    r"""λ_max and the dual value of the Lasso, written once for a shared dictionary and for one per row.

    A subclass gives the products :meth:`_apply` (:math:`D_i z_i`) and :meth:`_adjoint`
    (:math:`D_i^\top r_i`). The dual of :math:`\min_z \tfrac12\|x - Dz\|^2 + \lambda\|z\|_1` is
    :math:`\max_\nu \tfrac12\|x\|^2 - \tfrac12\|x - \nu\|^2` s.t. :math:`\|D^\top\nu\|_\infty \le \lambda`;
    the residual :math:`r = x - Dz`, scaled into the constraint, is a dual point whose value
    tends to :math:`F^*` as :math:`z \to z^*`.
    """

    def lambda_max(self, X):
        r""":math:`\|D_i^\top x_i\|_\infty` per signal, shape (B,) (unweighted Lasso)."""
        return self._adjoint(X).abs().amax(dim=1)

    def dual_value(self, X, Z, lmbd):
        """Dual objective at the rescaled residual of Z: a lower bound on F*, shape (B,)."""
        if not self.has_dual:
            raise NotImplementedError("The dual value is implemented for the unweighted Lasso only.")
        lam = lambda_column(lmbd, X.shape[0], X.dtype)
        residual = X - self._apply(Z)
        corr = self._adjoint(residual).abs().amax(dim=1, keepdim=True)
        scale = torch.where(corr > lam, lam / corr.clamp_min(torch.finfo(X.dtype).tiny), torch.ones_like(corr))
        nu = residual * scale
        return 0.5 * (X ** 2).sum(dim=1) - 0.5 * ((X - nu) ** 2).sum(dim=1)


class LassoProblem(LassoDual, CompositeProblem):
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

    def _apply(self, Z):
        return Z @ self.D.T

    def _adjoint(self, R):
        return R @ self.D


class BatchedLassoProblem(PerInstanceProblem, LassoDual, CompositeProblem):
    r""":math:`F_i(z) = \tfrac12\|x_i - D_i z\|_2^2 + \lambda_i\|z\|_1`: one dictionary per row.

    ``X`` must have exactly B rows, row :math:`i` being a signal of dictionary :math:`D_i`;
    :math:`\lambda_{\max}(x_i) = \|D_i^\top x_i\|_\infty`, :math:`L_i = \|D_i\|_2^2` (a (B, 1)
    tensor: ``datafit.lipschitz``), and the dual value of :class:`LassoDual` per row, so
    :func:`~l2obench.solvers.classical.reference.certified_solve` certifies it.

    Parameters
    ----------
    D : Tensor, shape (B, m, n)
        The dictionaries, float32 or float64.
    """

    has_dual = True

    def __init__(self, D):
        super().__init__(BatchedQuadraticDatafit(D, name="D"), L1Penalty())

    @property
    def D(self):
        return self.datafit.A

    def _apply(self, Z):
        return self.datafit.apply(Z)

    def _adjoint(self, R):
        return self.datafit.adjoint(R)


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
