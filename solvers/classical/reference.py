r"""Certified reference solves, one implementation for every problem with a dual.

Restarted FISTA (:class:`~.proximal_gradient.ProximalGradient` with ``restart=True``) in float64
runs until every row's duality gap :math:`F(z) - \text{dual}(z)` is below ``tol`` relative to
:math:`F(z)`, or ``max_iter`` iterations. The certificate, not the path, makes the answer
trustworthy: a warm start (e.g. scikit-learn's coordinate descent on the Lasso, fast on the
correlated atoms of the digits dictionary where FISTA needs thousands of iterations) only
shortens the run. :func:`cached_certified_solve` stores the solution on disk and re-certifies
it on load, so a stale or foreign file can never pass for a certified solution.
"""
from dataclasses import dataclass

import torch

from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.cache import cached, fingerprint
from l2obench.solvers.classical.proximal_gradient import ProximalGradient


@dataclass
class Solution:
    """A certified reference solution: ``value`` - ``gap`` <= F* <= ``value``."""

    Z: torch.Tensor
    value: torch.Tensor
    gap: torch.Tensor
    n_iter: int

    def certified(self, tol):
        return bool((self.gap <= tol * self.value.abs().clamp_min(1e-300)).all())


def certify(problem, X, Z, lmbd, n_iter=0):
    """:class:`Solution` of ``Z``: its value and duality gap."""
    value = problem.value(X, Z, lmbd)
    return Solution(Z=Z, value=value, gap=value - problem.dual_value(X, Z, lmbd), n_iter=n_iter)


def certified_solve(problem, X, lmbd, *, tol=1e-12, max_iter=100_000, check_every=50, warm_start=None):
    """High-accuracy solve, certified by the duality gap (``problem`` must be float64).

    Parameters
    ----------
    problem : CompositeProblem with ``has_dual``
    X, lmbd : the batch
    tol : float
        Relative duality gap every row must reach.
    max_iter, check_every : int
        Iteration cap; iterations between two gap checks.
    warm_start : object with ``solve(problem, X, lmbd, n_iter)``, optional
        A solver run first (for 10,000 iterations); its answer starts FISTA.

    Returns
    -------
    Solution
        ``Z`` (B, n), ``value`` = F(Z), ``gap`` the final duality gaps, ``n_iter``.
    """
    if not problem.has_dual:
        raise ValueError(f"certified_solve: {type(problem).__name__} has no dual value to certify with.")
    if problem.A.dtype != torch.float64:
        raise ValueError("certified_solve: the problem must be float64 (build it on a float64 operator).")
    tol = check_real("tol", tol, low=0.0)
    max_iter = check_int("max_iter", max_iter, low=0)
    check_every = check_int("check_every", check_every, low=1)
    X, lam, z = problem.check_inputs(X, lmbd)
    if warm_start is not None:
        z = warm_start.solve(problem, X, lam[:, 0], 10_000)
    start = certify(problem, X, z, lam)
    if start.certified(tol) or max_iter == 0:
        return start
    n_done = [0]

    def check(k, Z):  # stops the solver once every row is certified
        n_done[0] = k
        return (k % check_every == 0 or k == max_iter) and certify(problem, X, Z, lam).certified(tol)

    Z = ProximalGradient(accelerated=True, restart=True).solve(problem, X, lam[:, 0], max_iter, z0=z,
                                                              callback=check)
    return certify(problem, X, Z, lam, n_done[0])


def cached_certified_solve(problem, X, lmbd, *, tol=1e-10, cache=None, **kwargs):
    """:func:`certified_solve`, stored on disk under a fingerprint of (problem, X, λ, tol).

    Only the solution tensor is stored; the value and the gap are recomputed on load.
    """
    X, lam, _ = problem.check_inputs(X, lmbd)
    spec = {"kind": "certified-solve", "problem": type(problem).__name__,
            "data": fingerprint(*problem.fingerprint_tensors(), X, lam), "tol": tol}

    def load(tensors, meta):
        Z = tensors.get("Z")
        if Z is None or Z.shape != (X.shape[0], problem.shape[1]):
            return None
        solution = certify(problem, X, Z.to(X.dtype), lam, meta.get("n_iter", 0))
        return solution if solution.certified(tol) else None

    def compute():
        solution = certified_solve(problem, X, lam[:, 0], tol=tol, **kwargs)
        return solution, {"Z": solution.Z}, {"n_iter": solution.n_iter}

    return cached(spec, compute, load, cache=cache)
