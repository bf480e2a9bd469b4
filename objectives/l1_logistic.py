r"""ℓ1-regularised logistic regression, one data set per row (Liu et al., ICML 2023, Sec. 5).

Instance :math:`i` has features :math:`F_i \in \mathbb{R}^{N \times p}` (rows :math:`f_{ij}`) and
labels :math:`y_i \in \{-1, +1\}^N`; the "signals" of the problem interface are the labels
(``X`` = ``y``, (B, N)) and the iterates the weights :math:`w` ((B, p)):

.. math:: F_i(w) = \underbrace{\frac1N\sum_{j=1}^N \log\big(1 + e^{-y_{ij}\langle f_{ij}, w\rangle}\big)}_{f_i(w)}
          + \lambda_i \|w\|_1 .

With :math:`\sigma(t) = 1/(1 + e^{-t})` and :math:`u_j = \sigma(-y_j\langle f_j, w\rangle) \in (0, 1)`,
:math:`\nabla f(w) = -\frac1N F^\top(y \odot u)`, whose Lipschitz constant is at most
:math:`L = \|F\|_2^2 / (4N)` (:math:`\sigma' \le 1/4`), and :math:`\lambda_{\max} = \|\nabla f(0)\|_\infty
= \|F^\top y\|_\infty / (2N)` (:math:`w^* = 0` iff :math:`\lambda \ge \lambda_{\max}`).

**Dual.** Write :math:`f(w) = \frac1N\sum_j \ell(y_j s_j)`, :math:`s = Fw`, :math:`\ell(t) = \log(1 + e^{-t})`,
whose conjugate is :math:`\ell^*(-u) = H(u) = u\log u + (1 - u)\log(1 - u)` on :math:`[0, 1]`
(:math:`0 \log 0 = 0`). Fenchel duality gives

.. math:: F^* = \max_{u \in [0, 1]^N} \; -\frac1N\sum_j H(u_j)
          \quad\text{s.t.}\quad \Big\|\frac1N F^\top(y \odot u)\Big\|_\infty \le \lambda ,

attained at the :math:`u` of :math:`w^*` (the optimality condition :math:`-\nabla f(w^*) \in
\lambda\,\partial\|w^*\|_1`). For any :math:`w`, its :math:`u` scaled by
:math:`s = \min(1, \lambda / \|\nabla f(w)\|_\infty)` is feasible (:math:`su \in [0, 1)`), so
:math:`D(w) = -\frac1N\sum_j H(s u_j) \le F^* \le F(w)`, with equality at :math:`w^*`: the duality
gap certifies :func:`~l2obench.solvers.classical.reference.certified_solve`. Everything is
computed without overflow: :math:`\log(1 + e^t)` by ``logaddexp``, and :math:`1 - su_j` as
:math:`(1 - s) + s\,\sigma(y_j\langle f_j, w\rangle)` (no cancellation when :math:`u_j \to 1`).
"""
import functools

import torch

from l2obench.objectives.batched import (PerInstanceProblem, check_operators, select_instances,
                                         squared_spectral_norms, step_column)
from l2obench.objectives.problem import CompositeProblem, L1Penalty
from l2obench.objectives.validation import lambda_column


def softplus(t):
    r""":math:`\log(1 + e^t)`, exact for every :math:`t` (torch's ``softplus`` drops
    :math:`\log(1 + e^{-t})` above its threshold, an error of ~2e-9 at t = 20)."""
    return torch.logaddexp(torch.zeros_like(t), t)


class LogisticDatafit:
    r""":math:`f_i(w) = \frac1N\sum_j \log(1 + e^{-y_{ij}\langle f_{ij}, w\rangle})` with labels ``X`` = ``y`` (B, N).

    Parameters
    ----------
    F : Tensor, shape (B, N, p)
        The features of each instance (float32 or float64), no instance all zero.
    """

    per_instance = True

    def __init__(self, F):
        self.A = check_operators("F", F)

    @property
    def F(self):
        return self.A

    @property
    def n_instances(self):
        return self.A.shape[0]

    @functools.cached_property
    def lipschitz(self):
        r""":math:`\|F_i\|_2^2 / (4N)` per instance, a (B, 1) tensor."""
        return squared_spectral_norms(self.A) / (4 * self.A.shape[1])

    def apply(self, W):
        r""":math:`F_i w_i` per row, (B, N)."""
        return torch.bmm(W[:, None], self.A.mT)[:, 0]

    def adjoint(self, R):
        r""":math:`F_i^\top r_i` per row, (B, p)."""
        return torch.bmm(R[:, None], self.A)[:, 0]

    def margins(self, y, W):
        r""":math:`y_{ij}\langle f_{ij}, w_i\rangle`, (B, N)."""
        return y * self.apply(W)

    def value(self, y, W):
        return softplus(-self.margins(y, W)).mean(dim=1)

    def grad(self, y, W):
        r""":math:`-\frac1N F_i^\top(y_i \odot \sigma(-y_i \odot F_i w_i))` per row, (B, p)."""
        return self.adjoint(y * torch.sigmoid(-self.margins(y, W))) / (-self.A.shape[1])

    def index(self, idx):
        """The data term of the rows ``idx`` (its cached Lipschitz constants carried over)."""
        F, lipschitz = select_instances(self, idx)
        sub = LogisticDatafit(F)
        if lipschitz is not None:
            sub.lipschitz = lipschitz
        return sub

    def gradient_step(self, y, alpha, form="auto"):
        r"""The map :math:`w_i \mapsto w_i - \alpha_i\nabla f_i(w_i)` as ``forward(w, out=None)``; ``alpha``
        a float or one step per row ((B, 1) tensor). ``form`` is accepted for the interface (the
        logistic gradient has one form)."""
        a = step_column(alpha, self.A.shape[0])
        a = a if isinstance(a, float) else a[:, 0]

        def forward(w, out=None):
            step = self.grad(y, w)
            if out is None:
                return w - a * step
            return torch.addcmul(w, step, a, value=-1, out=out) if isinstance(a, torch.Tensor) else \
                torch.add(w, step, alpha=-a, out=out)
        return forward


def entropy(t, rest):
    r""":math:`H(t) = t\log t + (1 - t)\log(1 - t)`, given :math:`t` and ``rest`` :math:`= 1 - t` computed
    separately (:math:`0\log 0 = 0`)."""
    return torch.xlogy(t, t) + torch.xlogy(rest, rest)


class L1LogisticProblem(PerInstanceProblem, CompositeProblem):
    r""":math:`F_i(w) = \frac1N\sum_j \log(1 + e^{-y_{ij}\langle f_{ij}, w\rangle}) + \lambda_i\|w\|_1`, one
    data set per row.

    The batch's ``X`` are the labels, (B, N) in {−1, +1}, exactly one row per instance; the
    iterates are the weights (B, p). λ_max, the certified dual value and the Lipschitz constants
    are in the module's docstring.

    Parameters
    ----------
    F : Tensor, shape (B, N, p)
        Features of each instance.
    """

    has_dual = True

    def __init__(self, F):
        super().__init__(LogisticDatafit(F), L1Penalty())

    @property
    def F(self):
        return self.datafit.A

    def check_inputs(self, X, lmbd, z0=None):
        """:meth:`CompositeProblem.check_inputs`, and the labels ``X`` must be −1 or +1."""
        X, lam, Z = super().check_inputs(X, lmbd, z0)
        if not bool(((X == 1) | (X == -1)).all()):
            raise ValueError("X must hold the labels, -1 or +1, of every sample.")
        return X, lam, Z

    def lambda_max(self, X):
        r""":math:`\|F_i^\top y_i\|_\infty / (2N)` per instance, shape (B,)."""
        return self.datafit.adjoint(X).abs().amax(dim=1) / (2 * self.F.shape[1])

    def dual_value(self, X, Z, lmbd):
        r""":math:`-\frac1N\sum_j H(s u_j)` at the :math:`u` of ``Z`` scaled into the dual constraint: a
        lower bound on :math:`F^*`, shape (B,)."""
        lam = lambda_column(lmbd, X.shape[0], X.dtype)
        margins = self.datafit.margins(X, Z)
        u = torch.sigmoid(-margins)
        corr = self.datafit.adjoint(X * u).abs().amax(dim=1, keepdim=True) / self.F.shape[1]
        s = torch.where(corr > lam, lam / corr.clamp_min(torch.finfo(X.dtype).tiny), torch.ones_like(corr))
        su, rest = s * u, (1 - s) + s * torch.sigmoid(margins)  # rest = 1 − su without cancellation
        return -entropy(su, rest).mean(dim=1)
