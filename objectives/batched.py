r"""Per-instance data terms: one operator per row of the batch (ARCHITECTURE.md, *The problem interface*).

A learned optimizer is trained on a *distribution of problems*, not of signals: every row
:math:`i` of a batch has its own operator :math:`A_i` (Liu et al., ICML 2023, "Towards
constituting mathematical structures for learning to optimize": a fresh Gaussian dictionary per
Lasso instance, fresh features per logistic regression). A problem stays a
:class:`~l2obench.objectives.problem.CompositeProblem`, batched over rows; its data term holds
``A`` of shape (B, m, n), says ``per_instance = True``, and gives its Lipschitz constants as a
(B, 1) tensor, one per row, so that the solvers' step :math:`\alpha = s / L` is a column.

:class:`BatchedQuadraticDatafit` is :math:`f_i(z) = \tfrac12\|x_i - A_i z\|_2^2`; the helpers
(:func:`check_operators`, :func:`select_instances`, :func:`step_column`) serve every per-instance
data term (:class:`~l2obench.objectives.l1_logistic.LogisticDatafit` too).
"""
import functools
from numbers import Integral, Real

import torch

from l2obench.objectives.problem import on_device
from l2obench.objectives.validation import check_tensor


def check_operators(name, A):
    """``A`` as a finite float32 / float64 tensor (B, m, n), no instance empty or all zero
    (``ValueError`` naming ``name``)."""
    A = check_tensor(name, A, ndim=3)
    if A.numel() == 0:
        raise ValueError(f"{name} must hold at least one non-empty operator, got shape {tuple(A.shape)}.")
    zero = ~(A != 0).flatten(1).any(dim=1)
    if bool(zero.any()):
        raise ValueError(f"{name} must have a non-zero entry in every instance; instance "
                         f"{int(zero.nonzero()[0, 0])} is all zero.")
    return A


def select_instances(datafit, idx):
    """``(A[idx], lipschitz[idx] or None)``: the operators of the rows ``idx`` (a slice, a 1-D
    integer or boolean tensor, a list) and their cached Lipschitz constants, if computed."""
    if isinstance(idx, (Integral, bool)) or (isinstance(idx, torch.Tensor) and idx.ndim != 1):
        raise ValueError(f"idx must select a batch of instances (a slice, a list or a 1-D tensor), got {idx!r}.")
    A = datafit.A[idx]
    if A.shape[0] == 0:
        raise ValueError("idx selects no instance.")
    cached = datafit.__dict__.get("lipschitz")
    return A, None if cached is None else cached[idx]


def squared_spectral_norms(A):
    r""":math:`\|A_i\|_2^2` per instance, (B, 1): the top eigenvalue of the smaller Gram matrix
    (:math:`A_iA_i^\top` or :math:`A_i^\top A_i`), 2–3 times faster than the SVD of ``matrix_norm(A, 2)``
    for the (64, 250, 500) batches a training step samples, and as accurate (~1e-15 relative in float64)."""
    m, n = A.shape[-2:]
    gram = A @ A.mT if m <= n else A.mT @ A
    return torch.linalg.eigvalsh(gram)[:, -1:]


def step_column(alpha, n_rows):
    """The step ``alpha`` (a float or a (B, 1) / (B,) tensor) as a (B, 1, 1) tensor or a float."""
    if isinstance(alpha, Real) and not isinstance(alpha, bool):
        return float(alpha)
    if isinstance(alpha, torch.Tensor) and alpha.numel() == n_rows:
        return alpha.reshape(n_rows, 1, 1)
    raise ValueError(f"alpha must be a float or one step per instance ({n_rows}), got {alpha!r}.")


class BatchedQuadraticDatafit:
    r""":math:`f_i(z) = \tfrac12\|x_i - A_i z\|_2^2`: row :math:`i` of ``X`` (B, m), ``Z`` (B, n) with its own
    operator :math:`A_i`.

    The gradient is :math:`A_i^\top(A_i z_i - x_i)` and its Lipschitz constant
    :math:`L_i = \|A_i\|_2^2` (a (B, 1) tensor); every product is one batched matrix product
    (``torch.bmm``, which never broadcasts one row against many), never a Python loop over the rows.

    Parameters
    ----------
    A : Tensor, shape (B, m, n)
        One operator per instance, float32 or float64, none all zero.
    name : str
        The operator's name in error messages (``D`` for dictionaries).
    """

    per_instance = True

    def __init__(self, A, name="A"):
        self.A = check_operators(name, A)
        self.name = name

    @property
    def n_instances(self):
        return self.A.shape[0]

    @functools.cached_property
    def lipschitz(self):
        r""":math:`\|A_i\|_2^2` per instance, a (B, 1) tensor (the squared largest singular value)."""
        return squared_spectral_norms(self.A)

    @functools.cached_property
    def gram(self):
        r""":math:`A_i^\top A_i`, (B, n, n)."""
        return self.A.mT @ self.A

    def apply(self, Z):
        r""":math:`A_i z_i` per row, (B, m)."""
        return torch.bmm(Z[:, None], self.A.mT)[:, 0]  # row form: faster than A @ z[:, :, None]

    def adjoint(self, R):
        r""":math:`A_i^\top r_i` per row, (B, n)."""
        return torch.bmm(R[:, None], self.A)[:, 0]

    def value(self, X, Z):
        return 0.5 * ((X - self.apply(Z)) ** 2).sum(dim=1)

    def grad(self, X, Z):
        r""":math:`A_i^\top(A_i z_i - x_i)` per row, (B, n)."""
        return self.adjoint(self.apply(Z) - X)

    def index(self, idx):
        """The data term of the rows ``idx`` (its cached Lipschitz constants carried over)."""
        A, lipschitz = select_instances(self, idx)
        sub = BatchedQuadraticDatafit(A, self.name)
        if lipschitz is not None:
            sub.lipschitz = lipschitz
        return sub

    def gradient_step(self, X, alpha, form="auto"):
        r"""The map :math:`y_i \mapsto y_i - \alpha_i\nabla f_i(y_i)` as ``forward(y, out=None)``.

        ``alpha`` is a float or one step per row ((B, 1) tensor). As for
        :meth:`~l2obench.objectives.problem.QuadraticDatafit.gradient_step`, the Gram form
        :math:`\alpha_i A_i^\top x_i + y_i(I - \alpha_i A_i^\top A_i)` (one batched (n, n) product,
        weights cached for the last α) is used when :math:`n < 2m`, else the residual form
        :math:`y_i - \alpha_i A_i^\top(A_i y_i - x_i)` (two batched thin products). With ``out`` the
        products write into preallocated buffers (the classical solvers); without, the map is
        out-of-place and differentiable.
        """
        B, m, n = self.A.shape
        a = step_column(alpha, B)
        if form == "gram" or (form == "auto" and n < 2 * m):
            W_z = self._gram_weights(a)
            bias = (a if isinstance(a, float) else a[:, 0]) * self.adjoint(X)

            def forward(y, out=None):
                result = torch.baddbmm(bias[:, None], y[:, None], W_z, out=None if out is None else out[:, None])
                return result[:, 0] if out is None else out
            return forward
        X3, At, r = X[:, None], self.A.mT, torch.empty(B, 1, m, dtype=X.dtype, device=X.device)

        def forward(y, out=None):
            if out is None:
                return y - (a if isinstance(a, float) else a[:, 0]) * self.grad(X, y)
            torch.baddbmm(X3, y[:, None], At, beta=-1, out=r)  # r = A y − x
            if isinstance(a, float):
                torch.baddbmm(y[:, None], r, self.A, alpha=-a, out=out[:, None])
            else:
                r.mul_(a)
                torch.baddbmm(y[:, None], r, self.A, alpha=-1, out=out[:, None])
            return out
        return forward

    def _gram_weights(self, a):
        """:math:`I - \\alpha_i A_i^\\top A_i` (B, n, n), kept for the last step ``a`` (never for a step that
        requires grad: its graph changes with every call)."""
        eye = torch.eye(self.A.shape[2], dtype=self.A.dtype, device=self.A.device)
        if isinstance(a, torch.Tensor) and a.requires_grad:
            return eye - a * self.gram
        cached = getattr(self, "_step_cache", None)
        if cached is not None and type(a) is type(cached[0]) and (
                a == cached[0] if isinstance(a, float) else torch.equal(a, cached[0])):
            return cached[1]
        W_z = eye - a * self.gram
        self._step_cache = (a if isinstance(a, float) else a.clone(), W_z)
        return W_z


class PerInstanceProblem:
    """Mixin of the problems built from their per-row operator alone (``type(self)(A)``): the
    problem of some rows (:meth:`index`), its float64 and device copies, the cached Lipschitz
    constants carried over (they cost an eigenvalue per instance)."""

    def _rebuild(self, A, lipschitz=None):
        problem = type(self)(A)
        if lipschitz is not None:
            problem.datafit.lipschitz = lipschitz
        return problem

    def index(self, idx):
        """The problem of the rows ``idx`` (a slice, a list or a 1-D tensor), for chunked evaluation."""
        return self._rebuild(*select_instances(self.datafit, idx))

    def double(self):
        return self if self.A.dtype == torch.float64 else type(self)(self.A.double())

    def to(self, device):
        if on_device(self.A, device):
            return self
        cached = self.datafit.__dict__.get("lipschitz")
        return self._rebuild(self.A.to(device), None if cached is None else cached.to(device))
