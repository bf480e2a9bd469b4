r"""The Lasso, batched over many signals sharing one dictionary.

For a dictionary :math:`D \in \mathbb{R}^{m \times n}` and signals :math:`x_i \in \mathbb{R}^m`,

.. math:: F_{x}(z) = \tfrac12 \|x - Dz\|_2^2 + \lambda \|z\|_1,

with :math:`\lambda_{\max}(x) = \|D^\top x\|_\infty` (:math:`z^* = 0` iff
:math:`\lambda \ge \lambda_{\max}`) and :math:`L = \|D\|_2^2` the Lipschitz constant of the
smooth part. Batches are rows: ``X`` is (B, m), ``Z`` is (B, n); ``lmbd`` is a float or a (B,)
tensor (one λ per signal).

The reference solve certifies its answer with the duality gap: for
:math:`\nu = (x - Dz)\min(1, \lambda / \|D^\top(x - Dz)\|_\infty)`, the dual value
:math:`\tfrac12\|x\|^2 - \tfrac12\|x - \nu\|^2 \le F^* \le F_x(z)`.
"""
from dataclasses import dataclass

import torch

from l2obench.objectives.validation import check_tensor, lambda_column
from l2obench.solvers.prox import soft_threshold


def check_lasso_inputs(D, X, lmbd):
    """Validate (D, X, λ) and return them as tensors of D's dtype, λ as a (B, 1) column."""
    D = check_tensor("D", D, ndim=2)
    X = check_tensor("X", X, ndim=2, shape=(None, D.shape[0]), dtype=D.dtype)
    return D, X, lambda_column(lmbd, X.shape[0], D.dtype)


def lipschitz(D):
    r"""Lipschitz constant of :math:`z \mapsto \tfrac12\|x - Dz\|^2`: :math:`\|D\|_2^2`."""
    return torch.linalg.matrix_norm(D, ord=2) ** 2


def lambda_max(D, X):
    r""":math:`\|D^\top x_i\|_\infty` per signal, shape (B,)."""
    return (X @ D).abs().amax(dim=1)


def lasso_value(D, X, Z, lmbd):
    """Per-sample Lasso objective F_x(z), shape (B,)."""
    lmbd = lmbd[:, None] if isinstance(lmbd, torch.Tensor) and lmbd.ndim == 1 else lmbd
    residual = X - Z @ D.T
    return 0.5 * (residual ** 2).sum(dim=1) + (lmbd * Z.abs()).sum(dim=1)


def lasso_grad(D, X, Z):
    r"""Gradient of the smooth part, :math:`D^\top(Dz - x)`, shape (B, n)."""
    return (Z @ D.T - X) @ D


def dual_value(D, X, Z, lmbd):
    """Dual objective at the rescaled residual of Z: a lower bound on F*, shape (B,)."""
    lmbd = lmbd if isinstance(lmbd, torch.Tensor) and lmbd.ndim == 2 else lambda_column(lmbd, X.shape[0], X.dtype)
    residual = X - Z @ D.T
    corr = (residual @ D).abs().amax(dim=1, keepdim=True)
    scale = torch.where(corr > lmbd, lmbd / corr.clamp_min(torch.finfo(X.dtype).tiny), torch.ones_like(corr))
    nu = residual * scale
    return 0.5 * (X ** 2).sum(dim=1) - 0.5 * ((X - nu) ** 2).sum(dim=1)


@dataclass
class LassoSolution:
    """A certified reference solution: ``value`` - ``gap`` <= F* <= ``value``."""

    Z: torch.Tensor
    value: torch.Tensor
    gap: torch.Tensor
    n_iter: int


def reference_solve(D, X, lmbd, *, tol=1e-12, max_iter=100_000, check_every=50, warm_start=True):
    r"""High-accuracy Lasso solve in float64, certified by the duality gap.

    Coordinate descent (scikit-learn, which is fast on these small dense problems, even with
    the correlated atoms of the digits dictionary where FISTA needs thousands of iterations)
    gives a warm start; FISTA with O'Donoghue–Candès gradient restarts then runs until every
    sample's duality gap is below ``tol * max(F, 1e-300)`` (relative) or ``max_iter``
    iterations. The certificate, not the warm start, is what makes the answer trustworthy.

    Returns
    -------
    LassoSolution
        ``Z`` (B, n) float64, ``value`` = F(Z), ``gap`` the final duality gaps.
    """
    D, X, lam = check_lasso_inputs(D, X, lmbd)
    D, X, lam = D.double(), X.double(), lam.double()
    alpha = 1.0 / lipschitz(D)
    W_z = torch.eye(D.shape[1], dtype=D.dtype) - alpha * (D.T @ D)
    bias = alpha * (X @ D)
    z = torch.zeros(X.shape[0], D.shape[1], dtype=D.dtype)
    if warm_start:
        from l2obench.solvers.classical.sklearn_lasso import SklearnLasso  # it imports this module

        z = SklearnLasso("cd", tol=max(tol, 1e-13)).solve(D, X, lam[:, 0], 10_000)
    y, t = z.clone(), torch.ones(X.shape[0], 1, dtype=D.dtype)
    it = 0
    while it < max_iter:
        primal = lasso_value(D, X, z, lam)
        if bool((primal - dual_value(D, X, z, lam) <= tol * primal.clamp_min(1e-300)).all()):
            break
        for _ in range(min(check_every, max_iter - it)):
            it += 1
            z_new = soft_threshold(torch.addmm(bias, y, W_z), lam * alpha)
            # restart the momentum of a sample when it points uphill
            restart = ((y - z_new) * (z_new - z)).sum(dim=1, keepdim=True) > 0
            t = torch.where(restart, torch.ones_like(t), t)
            t_new = (1 + torch.sqrt(1 + 4 * t ** 2)) / 2
            y = z_new + torch.where(restart, torch.zeros_like(t), (t - 1) / t_new) * (z_new - z)
            z, t = z_new, t_new
    primal = lasso_value(D, X, z, lam)
    return LassoSolution(Z=z, value=primal, gap=primal - dual_value(D, X, z, lam), n_iter=it)


def cached_reference_solve(D, X, lmbd, *, tol=1e-10, cache=None):
    """:func:`reference_solve`, stored on disk under a fingerprint of (D, X, λ, tol).

    Only the solution tensor is stored; the value and the gap are recomputed on load, so
    a stale or foreign file cannot pass for a certified solution.
    """
    from l2obench.solvers.cache import WeightCache, cache_key, fingerprint

    D, X, lam = check_lasso_inputs(D, X, lmbd)
    D, X, lam = D.double(), X.double(), lam.double()
    cache = cache if cache is not None else WeightCache()
    key = cache_key({"kind": "lasso-reference", "data": fingerprint(D, X, lam), "tol": tol})
    hit = cache.load(key)
    if hit is not None and hit[0].get("Z") is not None and hit[0]["Z"].shape == (X.shape[0], D.shape[1]):
        Z = hit[0]["Z"].double()
        value = lasso_value(D, X, Z, lam)
        gap = value - dual_value(D, X, Z, lam)
        if bool((gap <= tol * value.clamp_min(1e-300)).all()):
            return LassoSolution(Z=Z, value=value, gap=gap, n_iter=hit[1]["n_iter"])
    solution = reference_solve(D, X, lam[:, 0], tol=tol)
    cache.save(key, {"Z": solution.Z}, {"n_iter": solution.n_iter})
    return solution


def nmse_db(Z, Z_true):
    r"""NMSE in dB over a set, ratio of sums: :math:`10\log_{10}(\sum\|\hat z - z^\star\|^2 / \sum\|z^\star\|^2)`."""
    err = ((Z - Z_true) ** 2).sum()
    ref = (Z_true ** 2).sum()
    return float(10 * torch.log10(err / ref))


def support_metrics(Z, Z_true, tol=0.0):
    """Precision and recall of the estimated support {|z| > tol} against the true one."""
    est, true = Z.abs() > tol, Z_true != 0
    n_est, n_true = int(est.sum()), int(true.sum())
    hits = int((est & true).sum())
    precision = hits / n_est if n_est else 1.0
    recall = hits / n_true if n_true else 1.0
    return precision, recall
