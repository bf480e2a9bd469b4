r"""PDHG (Chambolle & Pock 2011) for a quadratic data term and a penalty :math:`g = \|K\cdot\|_1`.

Saddle-point form :math:`\min_z\max_{\|w\|_\infty\le\lambda} \tfrac12\|x-Az\|^2 + \langle Kz, w\rangle`:

.. math::
   w_{k+1} &= \Pi_{[-\lambda,\lambda]}(w_k + \sigma K\bar z_k) \\
   z_{k+1} &= (I + \tau A^\top A)^{-1}\big(z_k - \tau K^\top w_{k+1} + \tau A^\top x\big) \\
   \bar z_{k+1} &= 2z_{k+1} - z_k

with :math:`\sigma\tau\|K\|^2 \le 1` (:math:`\sigma = 1/(\|K\|^2\tau)`, using the penalty's bound
on :math:`\|K\|^2`: 1 for the identity, 4 for first differences). The inverse is formed once
for the batch. Returns the primal iterate ``z``.
"""
import torch

from l2obench.objectives.prox import project_box
from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.threads import torch_threads


class PDHG:
    """Chambolle–Pock primal-dual iterations on a batch of problems of the problem interface.

    Parameters
    ----------
    tau : float
        Primal step as a multiple of 1/‖A‖₂² (> 0); the dual step is σ = 1/(‖K‖²τ).
    """

    def __init__(self, tau=1.0):
        self.tau = tau

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_real("tau", self.tau, low=0.0, low_open=True)
        return self

    def solve(self, problem, X, lmbd, n_iter, z0=None, callback=None):
        """Run ``n_iter`` iterations from z = z0 (default 0), w = 0; returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter; returning
        ``True`` stops the solver.
        """
        self.check()
        n_iter = check_int("n_iter", n_iter, low=0)
        X, lam, z = problem.check_inputs(X, lmbd, z0)
        penalty, A = problem.penalty, problem.A
        n = A.shape[1]
        if getattr(penalty, "weights", None) is not None:
            raise ValueError("PDHG: a weighted ℓ1 penalty is not supported (use the analysis form).")
        K = problem.analysis_matrix()
        tau = self.tau / problem.datafit.lipschitz
        sigma = 1.0 / (penalty.K_norm2 * tau)
        inv = torch.linalg.inv(torch.eye(n, dtype=A.dtype) + tau * problem.datafit.gram)  # symmetric
        bias = tau * (X @ A)
        z_bar = z
        w = torch.zeros(X.shape[0], K.shape[0], dtype=A.dtype)
        with torch_threads(1 if penalty.single_threaded else None):
            for it in range(n_iter):
                w = project_box(w + sigma * (z_bar @ K.T), -lam, lam)
                z_new = (z - tau * (w @ K) + bias) @ inv
                z_bar = 2 * z_new - z
                z = z_new
                if callback is not None and callback(it + 1, z) is True:
                    break
        return z
