r"""1-D TV-regularised deconvolution, batched over many signals sharing one operator.

Cherkaoui, Sulam & Moreau, "Learning to solve TV regularised problems with unrolled
algorithms", NeurIPS 2020. For an operator :math:`H\in\mathbb R^{m\times n}` (a Toeplitz HRF
convolution or a Gaussian matrix) and signals :math:`x_i\in\mathbb R^m`,

.. math:: P_x(z) = \tfrac12\|x - Hz\|_2^2 + \lambda\|\nabla z\|_1, \qquad (\nabla z)_k = z_{k+1} - z_k .

:class:`TVProblem` is the analysis form in the problem interface (:mod:`~l2obench.objectives.problem`):
:class:`TVPenalty` has :math:`K = \nabla` and the exact prox of :mod:`~l2obench.objectives.tv_prox`.

**Synthesis form.** With :math:`I` the discrete integration (lower-triangular ones), :math:`z = Iu`
and :math:`\|\nabla z\|_1 = \sum_{k\ge1}|u_k|`, so :math:`P_x(Iu)` is a weighted Lasso in :math:`u`
with dictionary :math:`HI` and weight 0 on the first coefficient (:func:`synthesis_problem`).

**λ_max.** The solution is constant, :math:`z = c\mathbf 1` with :math:`c = \langle H\mathbf1,x\rangle /
\|H\mathbf 1\|^2`, iff :math:`\lambda \ge \lambda_{\max}(x) = \|\mathrm{cumsum}(H^\top(x - cH\mathbf1))
_{1:n-1}\|_\infty`.

**Duality gap.** For :math:`v\in\mathbb R^m` with :math:`H^\top v = \nabla^\top w`, :math:`\|w\|_\infty\le\lambda`,
the dual value :math:`\langle v,x\rangle - \tfrac12\|v\|^2` is a lower bound on :math:`P^*`. From an
iterate, :math:`v` is the residual :math:`x - Hz` made orthogonal to :math:`H\mathbf 1` (so that
:math:`H^\top v` sums to 0 and :math:`w = -\mathrm{cumsum}(H^\top v)`) and rescaled into the box.
"""
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.problem import CompositeProblem, QuadraticDatafit, on_device
from l2obench.objectives.prox import soft_threshold
from l2obench.objectives.tv_prox import ProxWarmStart, prox_tv
from l2obench.objectives.validation import lambda_column


def difference_matrix(n, dtype=torch.float64):
    r"""First-difference matrix :math:`\nabla` (n-1, n), ``(∇z)_k = z_{k+1} - z_k``."""
    return torch.diff(torch.eye(n, dtype=dtype), dim=0)


class TVPenalty:
    r""":math:`g(z) = \|\nabla z\|_1`: :math:`K = \nabla` (:math:`\|\nabla\|_2^2 \le 4`), :math:`h = \|\cdot\|_1`.

    The prox is the exact one (:func:`~l2obench.objectives.tv_prox.prox_tv`, numpy/LAPACK):
    loops calling it run single-threaded (``single_threaded``) and pass the state of
    :meth:`prox_state` to reuse the jumps of the previous call.
    """

    K_norm2 = 4.0
    single_threaded = True

    def __init__(self, n, dtype=torch.float64):
        self.K = difference_matrix(n, dtype)

    def value(self, Z):
        return torch.diff(Z, dim=1).abs().sum(dim=1)

    def prox(self, U, thresh, out=None, state=None):
        """Exact :math:`\\mathrm{prox}_{\\theta TV}` of the rows of ``U``; ``thresh`` scalar, (B,) or (B, 1)."""
        thresh = thresh.reshape(-1) if isinstance(thresh, torch.Tensor) else thresh
        z = prox_tv(U, thresh, state)
        return z if out is None else out.copy_(z)

    def prox_state(self):
        return ProxWarmStart()

    def inner_prox(self, V, thresh):
        return soft_threshold(V, thresh)


class TVProblem(CompositeProblem):
    """Analysis TV deconvolution :math:`\\tfrac12\\|x - Hz\\|^2 + \\lambda\\|\\nabla z\\|_1`.

    Parameters
    ----------
    H : Tensor, shape (m, n)
    """

    has_dual = True

    def __init__(self, H):
        datafit = QuadraticDatafit(H, name="H")
        if not bool(datafit.A.sum(dim=1).abs().sum() > 0):
            raise ValueError("H must not annihilate constant signals (H 1 = 0): λ_max and the dual are undefined.")
        super().__init__(datafit, TVPenalty(H.shape[1], datafit.A.dtype))

    def double(self):
        return self if self.A.dtype == torch.float64 else TVProblem(self.H.double())

    def to(self, device):
        if on_device(self.A, device):
            return self
        with torch.device(device):  # the difference matrix K is built on the device too
            return TVProblem(self.H.to(device))

    @property
    def H(self):
        return self.datafit.A

    def lambda_max(self, X):
        r""":math:`\lambda_{\max}(x_i)` per signal, shape (B,): the smallest λ with a constant solution."""
        H = self.H
        h1 = H.sum(dim=1)  # H 1
        c = (X @ h1) / (h1 @ h1)
        if H.shape[1] == 1:
            return torch.zeros(X.shape[0], dtype=X.dtype)
        g = (X - c[:, None] * h1[None, :]) @ H  # Hᵀ(x − cH1), sums to 0
        return torch.cumsum(g, dim=1)[:, :-1].abs().amax(dim=1)

    def dual_value(self, X, Z, lmbd):
        """Dual objective at a feasible point built from Z's residual; a lower bound on P*, (B,)."""
        H = self.H
        lam = lambda_column(lmbd, X.shape[0], X.dtype)
        h1 = H.sum(dim=1)
        v = X - Z @ H.T
        v = v - ((v @ h1) / (h1 @ h1))[:, None] * h1[None, :]
        if H.shape[1] > 1:
            w = torch.cumsum(v @ H, dim=1)[:, :-1].abs().amax(dim=1, keepdim=True)
            v = v * torch.where(w > lam, lam / w.clamp_min(torch.finfo(X.dtype).tiny), torch.ones_like(w))
        return (v * X).sum(dim=1) - 0.5 * (v ** 2).sum(dim=1)


def integration_matrix(n, dtype=torch.float64):
    """The discrete integration I (n, n): lower-triangular ones, ``z = I u = cumsum(u)``."""
    return torch.tril(torch.ones(n, n, dtype=dtype))


def synthesis_weights(n, dtype=torch.float64):
    """Per-coefficient ℓ1 weights of the synthesis Lasso: 0 on u_0, 1 elsewhere, shape (n,)."""
    w = torch.ones(n, dtype=dtype)
    w[0] = 0.0
    return w


class TVSynthesisProblem(LassoProblem):
    """The synthesis form: the weighted Lasso in u with dictionary ``H I`` (m, n) and weights
    (0, 1, …, 1); its iterates map to signals by :meth:`to_output` (z = I u)."""

    def __init__(self, H):
        H = QuadraticDatafit(H, name="H").A  # checked under the name the caller knows
        n = H.shape[1]
        super().__init__(H @ integration_matrix(n, H.dtype), weights=synthesis_weights(n, H.dtype))
        self.H = H

    def double(self):
        return self if self.A.dtype == torch.float64 else TVSynthesisProblem(self.H.double())

    def to(self, device):
        if on_device(self.A, device):
            return self
        with torch.device(device):  # the integration matrix and the weights are built on the device too
            return TVSynthesisProblem(self.H.to(device))

    def to_output(self, U):
        return to_analysis(U)

    def from_output(self, Z):
        return to_synthesis(Z)


def synthesis_problem(H):
    """:class:`TVSynthesisProblem` of the operator ``H``."""
    return TVSynthesisProblem(H)


def to_synthesis(Z):
    """u with z = I u: ``(z_0, z_1 - z_0, ...)``."""
    return torch.cat([Z[:, :1], torch.diff(Z, dim=1)], dim=1)


def to_analysis(U):
    """z = I u = cumsum(u)."""
    return torch.cumsum(U, dim=1)


def tv_value(H, X, Z, lmbd):
    """Per-sample objective P_x(z), shape (B,)."""
    return TVProblem(H).value(X, Z, lmbd)


def lambda_max(H, X):
    """:meth:`TVProblem.lambda_max` for the operator ``H``."""
    return TVProblem(H).lambda_max(X)
