r"""scikit-learn's Lasso solvers as independent references (coordinate descent and LARS).

scikit-learn minimises :math:`\frac{1}{2m}\|x - Dz\|^2 + a\|z\|_1`, so :math:`a = \lambda/m`.
One λ per signal is handled by rescaling: the Lasso solution is positively homogeneous,
:math:`z^*(cx, c\lambda) = c\,z^*(x, \lambda)`, so dividing each signal by its λ gives one
multi-target problem with a common :math:`a = 1/m`, solved in a single call.
"""
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LassoLars

from l2obench.objectives.validation import check_choice, check_int, check_real


class SklearnLasso:
    """scikit-learn's ``Lasso`` (coordinate descent) or ``LassoLars`` on a batch.

    Parameters
    ----------
    method : {'cd', 'lars'}
    tol : float
        Coordinate-descent tolerance (ignored by LARS).
    """

    def __init__(self, method="cd", tol=1e-12):
        self.method = method
        self.tol = tol

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_choice("method", self.method, ("cd", "lars"))
        check_real("tol", self.tol, low=0.0)
        return self

    def solve(self, problem, X, lmbd, n_iter, z0=None):
        """At most ``n_iter`` epochs (CD) or LARS steps (0 gives z = 0); returns Z (B, n) in D's dtype.

        ``problem`` is an unweighted :class:`~l2obench.objectives.lasso.LassoProblem`.
        """
        tol = self.check().tol
        n_iter = check_int("n_iter", n_iter, low=0)
        if getattr(problem.penalty, "weights", None) is not None or problem.penalty.K is not None:
            raise ValueError("SklearnLasso solves the unweighted Lasso only.")
        X, lam, _ = problem.check_inputs(X, lmbd)
        D = problem.A
        if n_iter == 0:  # benchopt's first evaluation: the initial point, as for the other solvers
            return torch.zeros(X.shape[0], D.shape[1], dtype=D.dtype)
        lam = lam[:, 0].double().numpy()
        Dn, Xn = D.double().numpy(), X.double().numpy()
        scale = np.where(lam > 0, lam, 1.0)
        Y = (Xn / scale[:, None]).T
        m = Dn.shape[0]
        if self.method == "cd":
            model = Lasso(alpha=1.0 / m, fit_intercept=False, tol=tol, max_iter=n_iter,
                          precompute=Dn.T @ Dn, selection="cyclic")
        else:
            model = LassoLars(alpha=1.0 / m, fit_intercept=False, max_iter=n_iter, precompute=Dn.T @ Dn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(Dn, Y)
        coef = np.atleast_2d(model.coef_) * scale[:, None]
        return torch.from_numpy(coef).to(D.dtype)
