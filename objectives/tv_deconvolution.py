r"""1-D TV-regularised deconvolution, batched over many signals sharing one operator.

Cherkaoui, Sulam & Moreau, "Learning to solve TV regularised problems with unrolled
algorithms", NeurIPS 2020. For an operator :math:`H\in\mathbb R^{m\times n}` (a Toeplitz HRF
convolution or a Gaussian matrix) and signals :math:`x_i\in\mathbb R^m`,

.. math:: P_x(z) = \tfrac12\|x - Hz\|_2^2 + \lambda\|Dz\|_1, \qquad (Dz)_k = z_{k+1} - z_k .

**Synthesis form.** With :math:`L` the discrete integration (lower-triangular ones), :math:`z = Lu`
and :math:`\|Dz\|_1 = \sum_{k\ge1}|u_k|`, so :math:`P_x(Lu)` is a weighted Lasso in :math:`u` with
dictionary :math:`HL` and weight 0 on the first coefficient.

**λ_max.** The solution is constant, :math:`z = c\mathbf 1` with :math:`c = \langle H\mathbf1,x\rangle /
\|H\mathbf 1\|^2`, iff :math:`\lambda \ge \lambda_{\max}(x) = \|\mathrm{cumsum}(H^\top(x - cH\mathbf1))
_{1:n-1}\|_\infty`.

**Duality gap.** For :math:`v\in\mathbb R^m` with :math:`H^\top v = D^\top w`, :math:`\|w\|_\infty\le\lambda`,
the dual value :math:`\langle v,x\rangle - \tfrac12\|v\|^2` is a lower bound on :math:`P^*`. From an
iterate, :math:`v` is the residual :math:`x - Hz` made orthogonal to :math:`H\mathbf 1` (so that
:math:`H^\top v` sums to 0 and :math:`w = -\mathrm{cumsum}(H^\top v)`) and rescaled into the box.
"""
from dataclasses import dataclass

import torch

from l2obench.objectives.validation import check_tensor, lambda_column
from l2obench.solvers.prox_tv import ProxWarmStart, prox_tv, torch_single_thread


def check_tv_inputs(H, X, lmbd):
    """Validate (H, X, λ); returns tensors of H's dtype and λ as a (B, 1) column."""
    H = check_tensor("H", H, ndim=2)
    X = check_tensor("X", X, ndim=2, shape=(None, H.shape[0]), dtype=H.dtype)
    return H, X, as_column(lmbd, X.shape[0], H.dtype)


def as_column(lmbd, n_samples, dtype):
    """λ as a (B, 1) tensor (:func:`~l2obench.objectives.validation.lambda_column`); a (B, 1)
    tensor is accepted too."""
    if isinstance(lmbd, torch.Tensor) and lmbd.ndim > 1:
        lmbd = lmbd.reshape(-1)
    return lambda_column(lmbd, n_samples, dtype)


def lipschitz(H):
    r""":math:`\|H\|_2^2`, the Lipschitz constant of :math:`\nabla_z\tfrac12\|x - Hz\|^2`."""
    return torch.linalg.matrix_norm(H, ord=2) ** 2


def tv_norm(Z):
    r""":math:`\|Dz\|_1` per row, shape (B,)."""
    return torch.diff(Z, dim=1).abs().sum(dim=1)


def tv_value(H, X, Z, lmbd):
    """Per-sample objective P_x(z), shape (B,)."""
    lmbd = lmbd.reshape(-1) if isinstance(lmbd, torch.Tensor) else lmbd
    return 0.5 * ((X - Z @ H.T) ** 2).sum(dim=1) + lmbd * tv_norm(Z)


def tv_grad(H, X, Z):
    r"""Gradient of the data term, :math:`H^\top(Hz - x)`, shape (B, n)."""
    return (Z @ H.T - X) @ H


def lambda_max(H, X):
    r""":math:`\lambda_{\max}(x_i)` per signal, shape (B,): the smallest λ with a constant solution."""
    h1 = H.sum(dim=1)  # H 1
    c = (X @ h1) / (h1 @ h1)
    if H.shape[1] == 1:
        return torch.zeros(X.shape[0], dtype=X.dtype)
    g = (X - c[:, None] * h1[None, :]) @ H  # Hᵀ(x − cH1), sums to 0
    return torch.cumsum(g, dim=1)[:, :-1].abs().amax(dim=1)


def integration_matrix(n, dtype=torch.float64):
    """The discrete integration L (n, n): lower-triangular ones, ``z = L u = cumsum(u)``."""
    return torch.tril(torch.ones(n, n, dtype=dtype))


def synthesis_dictionary(H):
    """Dictionary of the synthesis Lasso, ``H L`` (m, n)."""
    return H @ integration_matrix(H.shape[1], H.dtype)


def synthesis_weights(n, dtype=torch.float64):
    """Per-coefficient ℓ1 weights of the synthesis Lasso: 0 on u_0, 1 elsewhere, shape (n,)."""
    w = torch.ones(n, dtype=dtype)
    w[0] = 0.0
    return w


def to_synthesis(Z):
    """u with z = L u: ``(z_0, z_1 - z_0, ...)``."""
    return torch.cat([Z[:, :1], torch.diff(Z, dim=1)], dim=1)


def to_analysis(U):
    """z = L u = cumsum(u)."""
    return torch.cumsum(U, dim=1)


def dual_value(H, X, Z, lmbd):
    """Dual objective at a feasible point built from Z's residual; a lower bound on P*, (B,)."""
    lam = as_column(lmbd, X.shape[0], X.dtype)
    h1 = H.sum(dim=1)
    v = X - Z @ H.T
    v = v - ((v @ h1) / (h1 @ h1))[:, None] * h1[None, :]
    if H.shape[1] > 1:
        w = torch.cumsum(v @ H, dim=1)[:, :-1].abs().amax(dim=1, keepdim=True)
        v = v * torch.where(w > lam, lam / w.clamp_min(torch.finfo(X.dtype).tiny), torch.ones_like(w))
    return (v * X).sum(dim=1) - 0.5 * (v ** 2).sum(dim=1)


@dataclass
class TVSolution:
    """A certified reference solution: ``value - gap <= P* <= value``."""

    Z: torch.Tensor
    value: torch.Tensor
    gap: torch.Tensor
    n_iter: int


def reference_solve(H, X, lmbd, *, tol=1e-11, max_iter=20_000, check_every=50):
    r"""High-accuracy solve in float64, certified by the duality gap.

    Accelerated proximal gradient on the analysis form with the exact TV prox
    (:func:`l2obench.solvers.prox_tv.prox_tv`) and O'Donoghue–Candès gradient restarts, until
    every relative gap is below ``tol`` or ``max_iter`` iterations.
    """
    H, X, lam = check_tv_inputs(H, X, lmbd)
    H, X, lam = H.double(), X.double(), lam.double()
    step = 1.0 / float(lipschitz(H))
    z = torch.zeros(X.shape[0], H.shape[1], dtype=H.dtype)
    y, t = z.clone(), torch.ones(X.shape[0], 1, dtype=H.dtype)
    it, warm = 0, ProxWarmStart()
    with torch_single_thread():
        for it in range(1, max_iter + 1):
            z_new = prox_tv(y - step * tv_grad(H, X, y), (lam * step)[:, 0], warm)
            restart = ((y - z_new) * (z_new - z)).sum(dim=1, keepdim=True) > 0
            t = torch.where(restart, torch.ones_like(t), t)
            t_new = (1 + torch.sqrt(1 + 4 * t ** 2)) / 2
            y = z_new + torch.where(restart, torch.zeros_like(t), (t - 1) / t_new) * (z_new - z)
            z, t = z_new, t_new
            if it % check_every == 0:
                primal = tv_value(H, X, z, lam)
                gap = primal - dual_value(H, X, z, lam)
                if bool((gap <= tol * primal.abs().clamp_min(1e-300)).all()):
                    break
    primal = tv_value(H, X, z, lam)
    return TVSolution(Z=z, value=primal, gap=primal - dual_value(H, X, z, lam), n_iter=it)


def nmse(Z, Z_true):
    r"""Normalised MSE over a set (ratio of sums) :math:`\sum\|\hat z - z^\star\|^2 / \sum\|z^\star\|^2`."""
    return float(((Z - Z_true) ** 2).sum() / (Z_true ** 2).sum())


def nmse_db(Z, Z_true):
    """:func:`nmse` in dB."""
    return float(10 * torch.log10(torch.tensor(nmse(Z, Z_true))))
