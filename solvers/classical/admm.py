r"""ADMM for a quadratic data term and a penalty :math:`g = h\circ K` (Boyd et al. 2011, Sec. 6.4).

Splitting :math:`v = Kz` (:math:`K = I` for the Lasso, first differences for TV), with scaled
dual :math:`q` and penalty :math:`\rho`:

.. math::
    z_{k+1} &= (A^\top A + \rho K^\top K)^{-1}\big(A^\top x + \rho K^\top(v_k - q_k)\big) \\
    v_{k+1} &= \mathrm{prox}_{(\lambda/\rho) h}(Kz_{k+1} + q_k) \\
    q_{k+1} &= q_k + Kz_{k+1} - v_{k+1}

The inverse comes from one Cholesky factorisation per operator (``cholesky_inverse``) and is
then applied to the whole batch as one matrix product per iteration; it exists as soon as
:math:`\ker A \cap \ker K = \{0\}`. With :math:`K = I` the returned iterate is :math:`v`
(exactly sparse), else :math:`z`.
"""
import torch

from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.threads import torch_threads


class ADMM:
    """ADMM on a batch of problems of the problem interface (quadratic data term, ``penalty.K``).

    Parameters
    ----------
    rho : float
        Penalty parameter as a multiple of :math:`\\|A\\|_2^2 / \\|K\\|_2^2` (> 0), which
        balances the two blocks of the linear system; scale-free, so one default serves
        operators of any norm.
    """

    def __init__(self, rho=0.1):
        self.rho = rho

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_real("rho", self.rho, low=0.0, low_open=True)
        return self

    def solve(self, problem, X, lmbd, n_iter, z0=None, callback=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0); returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter; returning
        ``True`` stops the solver.
        """
        self.check()
        n_iter = check_int("n_iter", n_iter, low=0)
        X, lam, w = problem.check_inputs(X, lmbd, z0)
        penalty, A = problem.penalty, problem.A
        rho = self.rho * problem.datafit.lipschitz / penalty.K_norm2
        K = problem.analysis_matrix()
        inv = torch.cholesky_inverse(torch.linalg.cholesky(problem.datafit.gram + rho * (K.T @ K)))
        q = X @ A @ inv
        identity = penalty.K is None
        if identity:  # v = z: the split variable starts at z0
            v, KtW = w, inv
        else:
            v = w @ K.T
            KtW = K @ inv  # (v − u) Kᵀ inv = (v − u) (K inv)
        u = torch.zeros_like(v)
        thresh = lam / rho
        z = w
        with torch_threads(1 if penalty.single_threaded else None):
            for it in range(n_iter):
                z = torch.addmm(q, v - u, KtW, alpha=rho)
                Kz_u = (z if identity else z @ K.T) + u
                v = penalty.inner_prox(Kz_u, thresh)
                u = Kz_u - v
                if callback is not None and callback(it + 1, v if identity else z) is True:
                    break
        return v if identity else z
